import { randomBytes } from 'node:crypto';

import { type SpanContext, TraceFlags } from '@opentelemetry/api';
import { z } from 'zod';

/**
 * W3C Trace Context (`traceparent`, https://www.w3.org/TR/trace-context/): how one file's trace travels
 * through the orchestration input, the activities, the Databricks job parameters and the Delta commit
 * metadata. Version 00 only: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, lower case.
 */

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

export const traceparentSchema = z
  .string()
  .regex(TRACEPARENT, 'a W3C traceparent 00-<32 hex>-<16 hex>-<2 hex>')
  .refine((value) => parseTraceparent(value) !== undefined, 'the trace id and span id must not be all zeros');

/** The span context a traceparent names (remote: it was created elsewhere), or undefined when malformed. */
export function parseTraceparent(value: string): SpanContext | undefined {
  const match = TRACEPARENT.exec(value);
  if (!match) return undefined;
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string];
  if (traceId === ZERO_TRACE_ID || spanId === ZERO_SPAN_ID) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true };
}

export function formatTraceparent(context: SpanContext): string {
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${context.traceId}-${context.spanId}-${flags}`;
}

/** The trace id of a traceparent (what Application Insights calls the operation id), or undefined. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent === undefined ? undefined : parseTraceparent(traceparent)?.traceId;
}

/** A fresh, unsampled trace context: a run gets one even when no exporter records its spans. */
export function newSpanContext(random: (size: number) => Buffer = randomBytes): SpanContext {
  const id = (size: number, zero: string): string => {
    for (;;) {
      const hex = random(size).toString('hex');
      if (hex !== zero) return hex;
    }
  };
  return {
    traceId: id(16, ZERO_TRACE_ID),
    spanId: id(8, ZERO_SPAN_ID),
    traceFlags: TraceFlags.NONE,
  };
}

/** The traceparent carried by an untyped input (an activity's, an orchestration's), if it has a valid one. */
export function traceparentIn(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const value = (input as { traceparent?: unknown }).traceparent;
  return typeof value === 'string' && parseTraceparent(value) ? value : undefined;
}
