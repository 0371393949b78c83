import { type DimensionValue, EVENT_DIMENSIONS, type EventDimensions, type EventName } from './names';
import { telemetry } from './runtime';
import { traceIdOf } from './traceContext';

/**
 * Structured events: a name and dimensions, never an interpolated sentence, so the workbook and the alert
 * rules can filter and group on them. In Application Insights each is a `customEvents` row.
 */

export interface EmitOptions {
  /** The trace the event belongs to; its trace id is also a dimension (`trace_id`) where the event lists it. */
  traceparent?: string | undefined;
  severity?: 'info' | 'warn' | 'error';
  time?: Date;
}

/** Emits one event. Undefined dimensions are dropped; a failure to emit is swallowed (telemetry never fails work). */
export function emitEvent<E extends EventName>(
  name: E,
  dimensions: EventDimensions<E>,
  options: EmitOptions = {},
): void {
  const allowed: readonly string[] = EVENT_DIMENSIONS[name];
  const clean: Record<string, DimensionValue> = {};
  for (const [key, value] of Object.entries<DimensionValue | undefined>(dimensions)) {
    if (value !== undefined && allowed.includes(key)) clean[key] = value;
  }
  const traceId = traceIdOf(options.traceparent);
  if (traceId !== undefined && allowed.includes('trace_id') && clean.trace_id === undefined) {
    clean.trace_id = traceId;
  }
  try {
    telemetry().emit({
      name,
      time: options.time ?? new Date(),
      severity: options.severity ?? 'info',
      dimensions: clean,
      traceparent: options.traceparent,
    });
  } catch {
    // An exporter that throws must not turn a finished activity into a failed one.
  }
}
