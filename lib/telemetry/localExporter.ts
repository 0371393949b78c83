import { type AttributeValue, type HrTime, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode, hrTimeToMilliseconds } from '@opentelemetry/core';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

/**
 * The local modes' tracing (file, console, memory): the OpenTelemetry SDK, whose every ended span becomes one
 * plain record handed to a sink (a JSON-lines file, stderr, an array) as it ends. No batching, no network.
 */

export interface RecordedSpan {
  kind: 'span';
  name: string;
  spanKind: keyof typeof SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  start: string;
  end: string;
  durationMs: number;
  status: 'UNSET' | 'OK' | 'ERROR';
  statusMessage: string | null;
  attributes: Record<string, AttributeValue>;
  links: Array<{ traceId: string; spanId: string }>;
  events: Array<{ name: string; time: string; attributes: Record<string, AttributeValue> }>;
}

const isoTime = (time: HrTime): string => new Date(hrTimeToMilliseconds(time)).toISOString();

function definedAttributes(
  attributes: Readonly<Record<string, AttributeValue | undefined>> | undefined,
): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(attributes ?? {})) if (value !== undefined) out[key] = value;
  return out;
}

/** The record of one ended span, as the local sinks write it. */
export function recordedSpan(span: ReadableSpan): RecordedSpan {
  const { traceId, spanId } = span.spanContext();
  return {
    kind: 'span',
    name: span.name,
    spanKind: SpanKind[span.kind] as RecordedSpan['spanKind'],
    traceId,
    spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    start: isoTime(span.startTime),
    end: isoTime(span.endTime),
    durationMs: Math.round(hrTimeToMilliseconds(span.duration)),
    status: SpanStatusCode[span.status.code] as RecordedSpan['status'],
    statusMessage: span.status.message ?? null,
    attributes: definedAttributes(span.attributes),
    links: span.links.map(({ context }) => ({ traceId: context.traceId, spanId: context.spanId })),
    events: span.events.map((event) => ({
      name: event.name,
      time: isoTime(event.time),
      attributes: definedAttributes(event.attributes),
    })),
  };
}

/** Hands each exported span to `sink` as its record; with a SimpleSpanProcessor, synchronously in `end()`. */
export class RecordExporter implements SpanExporter {
  constructor(private readonly sink: (span: RecordedSpan) => void) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    try {
      for (const span of spans) this.sink(recordedSpan(span));
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
      return;
    }
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * A provider that records every span. Not registered globally: lib/telemetry's runtime holds it, so a test can
 * swap runtimes, which the global API (one provider per process) would not allow.
 */
export function localTracerProvider(sink: (span: RecordedSpan) => void): BasicTracerProvider {
  return new BasicTracerProvider({
    // Not the default parent-based sampler: a parent whose traceparent is not marked sampled (one handed on
    // while telemetry was off) would drop the whole trace. Locally every span is recorded.
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new SimpleSpanProcessor(new RecordExporter(sink))],
  });
}
