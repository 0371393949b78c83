import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';

import {
  inSpan,
  installTelemetry,
  localTracerProvider,
  memoryTelemetry,
  type RecordedSpan,
} from '../../../lib/telemetry';

const PARENT = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED };
const LINKED = { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: TraceFlags.SAMPLED };

describe('the record of a span ended in the SDK', () => {
  test('when a span has a parent, a kind, a link, an event and a failed status, then each is a field of its record', () => {
    const records: RecordedSpan[] = [];
    const tracer = localTracerProvider((record) => records.push(record)).getTracer('test');
    const start = new Date('2026-03-01T08:00:00.000Z');
    const eventAt = new Date('2026-03-01T08:00:01.250Z');
    const end = new Date('2026-03-01T08:00:02.500Z');

    const span = tracer.startSpan(
      'databricks.submit',
      { kind: SpanKind.CLIENT, startTime: start, attributes: { run_id: 42 }, links: [{ context: LINKED }] },
      trace.setSpanContext(ROOT_CONTEXT, PARENT),
    );
    span.addEvent('retry', { attempt: 2 }, eventAt);
    span.setStatus({ code: SpanStatusCode.ERROR, message: '[JOB_SUBMIT_FAILED] 503' });
    span.end(end);

    expect(records).toEqual([
      {
        kind: 'span',
        name: 'databricks.submit',
        spanKind: 'CLIENT',
        traceId: PARENT.traceId,
        spanId: span.spanContext().spanId,
        parentSpanId: PARENT.spanId,
        start: start.toISOString(),
        end: end.toISOString(),
        durationMs: end.getTime() - start.getTime(),
        status: 'ERROR',
        statusMessage: '[JOB_SUBMIT_FAILED] 503',
        attributes: { run_id: 42 },
        links: [{ traceId: LINKED.traceId, spanId: LINKED.spanId }],
        events: [{ name: 'retry', time: eventAt.toISOString(), attributes: { attempt: 2 } }],
      },
    ]);
  });

  test('when a span has no parent, then it gets ids of its own and a null parent', () => {
    const records: RecordedSpan[] = [];
    const tracer = localTracerProvider((record) => records.push(record)).getTracer('test');

    tracer.startSpan('ingest.start').end();

    expect(records[0]).toMatchObject({
      traceId: expect.stringMatching(/^(?!0{32})[0-9a-f]{32}$/) as unknown,
      spanId: expect.stringMatching(/^(?!0{16})[0-9a-f]{16}$/) as unknown,
      parentSpanId: null,
      status: 'UNSET',
      statusMessage: null,
    });
  });
});

describe('sampling of the local modes', () => {
  test('when the parent traceparent is not marked sampled, then the child span is still recorded', async () => {
    const memory = memoryTelemetry();
    const restore = installTelemetry(memory);
    const unsampled = `00-${PARENT.traceId}-${PARENT.spanId}-00`;

    try {
      await inSpan('activity validateAndStage', { parent: unsampled }, () => Promise.resolve());
    } finally {
      restore();
    }

    expect(memory.records).toEqual([
      expect.objectContaining({ kind: 'span', traceId: PARENT.traceId, parentSpanId: PARENT.spanId }),
    ]);
  });
});
