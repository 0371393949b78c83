import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

import * as otel from '@opentelemetry/api';

import { localTracerProvider, type RecordedSpan } from './localExporter';
import { type DimensionValue, INSTRUMENTATION_NAME } from './names';

/**
 * The telemetry the process uses: a tracer, the OpenTelemetry API copy that goes with it, and where
 * structured events go. One per process, chosen at start-up (setup.ts); until then, and whenever telemetry
 * is off, spans are not recorded and events go nowhere, at the cost of a few object allocations.
 */

/** The parts of the OpenTelemetry API the helpers use (the distro's own copy in Azure, see setup.ts). */
export type OtelApi = Pick<typeof otel, 'trace' | 'context' | 'ROOT_CONTEXT'>;

export type TelemetryExporter = 'off' | 'console' | 'file' | 'azure-monitor' | 'memory';

export interface EventRecord {
  name: string;
  time: Date;
  severity: 'info' | 'warn' | 'error';
  dimensions: Record<string, DimensionValue>;
  /** The trace the event belongs to, when known. */
  traceparent: string | undefined;
}

export interface RecordedEvent {
  kind: 'event';
  name: string;
  time: string;
  severity: EventRecord['severity'];
  traceId: string | null;
  dimensions: Record<string, DimensionValue>;
}

export type TelemetryRecord = RecordedSpan | RecordedEvent;

export interface TelemetryRuntime {
  readonly exporter: TelemetryExporter;
  readonly api: OtelApi;
  readonly tracer: otel.Tracer;
  emit(event: EventRecord): void;
  /** Sends what is buffered (Azure Monitor batches); locally spans are written as they end. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const OFF: TelemetryRuntime = {
  exporter: 'off',
  api: otel,
  // Nothing registers a global provider in this mode: the API hands out its no-op tracer.
  tracer: otel.trace.getTracer(INSTRUMENTATION_NAME),
  emit: () => undefined,
  flush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

let current: TelemetryRuntime = OFF;

export function telemetry(): TelemetryRuntime {
  return current;
}

/** Makes `runtime` the process's telemetry; returns a function that puts the previous one back. */
export function installTelemetry(runtime: TelemetryRuntime): () => void {
  const previous = current;
  current = runtime;
  return () => {
    current = previous;
  };
}

export function telemetryOff(): TelemetryRuntime {
  return OFF;
}

function recordedEvent(event: EventRecord): RecordedEvent {
  const traceId = event.traceparent?.split('-')[1] ?? null;
  return {
    kind: 'event',
    name: event.name,
    time: event.time.toISOString(),
    severity: event.severity,
    traceId,
    dimensions: event.dimensions,
  };
}

/** A runtime that records every span and event and hands each to `sink` as one plain record. */
export function recordingTelemetry(
  exporter: Extract<TelemetryExporter, 'console' | 'file' | 'memory'>,
  sink: (record: TelemetryRecord) => void,
): TelemetryRuntime {
  const write = (record: TelemetryRecord): void => {
    try {
      sink(record);
    } catch {
      // A full disk or a closed stderr must not fail the activity whose span just ended.
    }
  };
  const provider = localTracerProvider(write);
  return {
    exporter,
    api: otel,
    tracer: provider.getTracer(INSTRUMENTATION_NAME),
    emit: (event) => write(recordedEvent(event)),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/** Records kept in memory, for tests: `records` fills as spans end and events are emitted. */
export function memoryTelemetry(): TelemetryRuntime & { records: TelemetryRecord[] } {
  const records: TelemetryRecord[] = [];
  return { ...recordingTelemetry('memory', (record) => records.push(record)), records };
}

/** One JSON line per record, appended to `file` (its folder is created). */
export function fileTelemetry(file: string): TelemetryRuntime {
  mkdirSync(path.dirname(file), { recursive: true });
  return recordingTelemetry('file', (record) => appendFileSync(file, `${JSON.stringify(record)}\n`));
}

/** One JSON line per record on stderr, so a command's own output on stdout stays parseable. */
export function consoleTelemetry(
  write: (line: string) => void = (line) => process.stderr.write(line),
): TelemetryRuntime {
  return recordingTelemetry('console', (record) => write(`telemetry ${JSON.stringify(record)}\n`));
}
