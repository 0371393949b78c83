import * as otel from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';

import { INSTRUMENTATION_NAME } from './names';
import {
  consoleTelemetry,
  type EventRecord,
  fileTelemetry,
  installTelemetry,
  type OtelApi,
  telemetry,
  telemetryOff,
  type TelemetryRuntime,
} from './runtime';
import { parseTraceparent } from './traceContext';

/**
 * Start-up of the process's telemetry from the validated configuration (lib/config.ts `telemetry`).
 * Azure: the Azure Monitor OpenTelemetry distro, loaded only then (it is large and patches modules), with
 * fixed-percentage sampling by trace id so every span of a file's trace is kept or dropped together, and
 * events never sampled. Locally: off (the default: quiet, no network), or JSON lines on stderr or in a file.
 */

export interface TelemetrySettings {
  exporter: 'off' | 'console' | 'file' | 'azure-monitor';
  /** The JSON-lines file of the 'file' exporter. */
  file: string;
  /** Share of traces kept, 0-100 (Azure Monitor only; locally every span is recorded). */
  samplingPercentage: number;
  /** APPLICATIONINSIGHTS_CONNECTION_STRING: endpoint and component; required for 'azure-monitor'. */
  connectionString: string | undefined;
  /** Client id of the user-assigned identity that sends telemetry (the component accepts Entra ID only). */
  clientId: string | undefined;
}

// OpenTelemetry log severity numbers (INFO, WARN, ERROR).
const SEVERITY = { info: [9, 'INFO'], warn: [13, 'WARN'], error: [17, 'ERROR'] } as const;
// The exporter turns a log record with this attribute into a customEvents row named by its value.
const CUSTOM_EVENT_NAME = 'microsoft.custom_event.name';

async function azureMonitorTelemetry(settings: TelemetrySettings): Promise<TelemetryRuntime> {
  const distro = await import('@azure/monitor-opentelemetry');
  const credential = settings.clientId
    ? new (await import('@azure/identity')).ManagedIdentityCredential({ clientId: settings.clientId })
    : undefined;
  distro.useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString: settings.connectionString,
      ...(credential ? { credential } : {}),
    },
    // Fixed percentage by trace id (not the default 5 traces/s rate limit, which decides per span and would
    // break a file's trace apart across the invocations that make it).
    tracesPerSecond: 0,
    samplingRatio: settings.samplingPercentage / 100,
    // Events drive alerts: none may be dropped because its trace was not sampled.
    enableTraceBasedSamplingForLogs: false,
    enableLiveMetrics: false,
    instrumentationOptions: {
      // The Functions worker already forwards console output to the host; collecting it here would double it.
      console: { enabled: false },
      bunyan: { enabled: false },
      winston: { enabled: false },
      mongoDb: { enabled: false },
      mySql: { enabled: false },
      postgreSql: { enabled: false },
      redis: { enabled: false },
      redis4: { enabled: false },
    },
  });
  // The distro registers its providers through the global API of its own @opentelemetry/api version; package.json
  // pins ours to that version (a newer minor would not see them and would record nothing).
  const api: OtelApi = otel;
  const logger = logs.getLogger(INSTRUMENTATION_NAME);
  const emit = (event: EventRecord): void => {
    const [severityNumber, severityText] = SEVERITY[event.severity];
    const traced = event.traceparent === undefined ? undefined : parseTraceparent(event.traceparent);
    const attributes: Record<string, string | number | boolean> = { [CUSTOM_EVENT_NAME]: event.name };
    for (const [key, value] of Object.entries(event.dimensions)) if (value !== null) attributes[key] = value;
    logger.emit({
      body: event.name,
      timestamp: event.time,
      severityNumber,
      severityText,
      attributes,
      // The event's operation id is the file's trace id: from an event, the portal opens its transaction.
      ...(traced ? { context: api.trace.setSpanContext(api.ROOT_CONTEXT, traced) } : {}),
    });
  };
  return {
    exporter: 'azure-monitor',
    api,
    tracer: api.trace.getTracer(INSTRUMENTATION_NAME),
    emit,
    flush: () => Promise.resolve(),
    shutdown: () => distro.shutdownAzureMonitor(),
  };
}

let started: Promise<TelemetryRuntime> | undefined;

/**
 * Starts the process's telemetry once (later calls get the first start's runtime). A start that fails leaves
 * telemetry off and rethrows: the caller decides whether that stops the app.
 */
export function startTelemetry(settings: TelemetrySettings): Promise<TelemetryRuntime> {
  started ??= (async () => {
    const runtime =
      settings.exporter === 'azure-monitor'
        ? await azureMonitorTelemetry(settings)
        : settings.exporter === 'file'
          ? fileTelemetry(settings.file)
          : settings.exporter === 'console'
            ? consoleTelemetry()
            : telemetryOff();
    installTelemetry(runtime);
    return runtime;
  })();
  started.catch(() => (started = undefined));
  return started;
}

/** Flushes and stops the telemetry started here (app shutdown); telemetry is off afterwards. */
export async function stopTelemetry(): Promise<void> {
  if (!started) return;
  started = undefined;
  const runtime = telemetry();
  installTelemetry(telemetryOff());
  await runtime.shutdown();
}
