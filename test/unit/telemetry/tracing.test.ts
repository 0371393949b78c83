import {
  emitEvent,
  inSpan,
  installTelemetry,
  memoryTelemetry,
  parseTraceparent,
  type RecordedEvent,
  type RecordedSpan,
  recordingTelemetry,
  recordSpan,
} from '../../../lib/telemetry';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const OTHER = '00-11111111111111111111111111111111-2222222222222222-01';

let memory: ReturnType<typeof memoryTelemetry>;
let restore: () => void;

beforeEach(() => {
  memory = memoryTelemetry();
  restore = installTelemetry(memory);
});
afterEach(() => restore());

const spans = (): RecordedSpan[] => memory.records.filter((r): r is RecordedSpan => r.kind === 'span');
const events = (): RecordedEvent[] => memory.records.filter((r): r is RecordedEvent => r.kind === 'event');

describe('spans of an activity', () => {
  test('when work runs in a span under a traceparent, then the span is a child of it, in the same trace', async () => {
    await inSpan('activity validateAndStage', { parent: PARENT, attributes: { dataset: 'prices' } }, () =>
      Promise.resolve(),
    );

    expect(spans()).toHaveLength(1);
    expect(spans()[0]).toMatchObject({
      name: 'activity validateAndStage',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentSpanId: '00f067aa0ba902b7',
      status: 'OK',
      attributes: { dataset: 'prices' },
    });
  });

  test('when the work hands its span on, then the traceparent names that span', async () => {
    const handed = await inSpan('activity startJobRun', { parent: PARENT }, (span) =>
      Promise.resolve(span.traceparent),
    );

    const recorded = spans()[0]!;
    expect(parseTraceparent(handed)).toMatchObject({ traceId: recorded.traceId, spanId: recorded.spanId });
  });

  test('when the work throws, then the span ends failed with the message and the error reaches the caller unchanged', async () => {
    const failure = new Error('[LAKE_UNAVAILABLE] the lake did not answer\nstack');

    await expect(
      inSpan('activity writeAudit', { parent: PARENT }, () => Promise.reject(failure)),
    ).rejects.toBe(failure);
    expect(spans()[0]).toMatchObject({
      status: 'ERROR',
      statusMessage: '[LAKE_UNAVAILABLE] the lake did not answer',
      events: [{ name: 'exception' }],
    });
  });

  test('when spans are given links, then each link names the other trace', async () => {
    await inSpan('ingest.start', { links: [OTHER, 'not-a-traceparent'] }, () => Promise.resolve());

    expect(spans()[0]!.links).toEqual([{ traceId: '1'.repeat(32), spanId: '2'.repeat(16) }]);
  });

  test('when a span has no parent and nothing is active, then it starts a new trace', async () => {
    await inSpan('ingest.start', {}, () => Promise.resolve());

    expect(spans()[0]!.parentSpanId).toBeNull();
    expect(parseTraceparent(`00-${spans()[0]!.traceId}-${spans()[0]!.spanId}-01`)).toBeDefined();
  });
});

describe('a span that already happened', () => {
  test('when it is recorded under a traceparent, then it keeps its own start and end', () => {
    const start = new Date('2026-01-01T10:00:00Z');
    const end = new Date('2026-01-01T10:07:30Z');

    recordSpan('databricks.run', { parent: PARENT, start, end, ok: false, attributes: { run_id: 7 } });

    expect(spans()[0]).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      start: start.toISOString(),
      end: end.toISOString(),
      durationMs: 450_000,
      status: 'ERROR',
      attributes: { run_id: 7 },
    });
  });

  test('when it has no valid parent, then nothing is recorded (it would be a trace of its own)', () => {
    recordSpan('databricks.run', { parent: undefined, start: new Date(), end: new Date(), ok: true });
    recordSpan('databricks.run', { parent: 'garbage', start: new Date(), end: new Date(), ok: true });

    expect(spans()).toEqual([]);
  });
});

describe('telemetry off (the local default)', () => {
  test('when a span runs under a traceparent, then nothing is recorded and the span hands on the parent itself', async () => {
    restore();
    const handed = await inSpan('activity startJobRun', { parent: PARENT }, (span) =>
      Promise.resolve(span.traceparent),
    );
    restore = installTelemetry(memory);

    expect(memory.records).toEqual([]);
    expect(handed).toBe(PARENT);
  });

  test('when a span has no parent, then it still hands on a valid trace context of its own', async () => {
    restore();
    const handed = await inSpan('ingest.start', {}, (span) => Promise.resolve(span.traceparent));
    restore = installTelemetry(memory);

    expect(parseTraceparent(handed)).toBeDefined();
  });
});

describe('structured events', () => {
  test('when an event is emitted, then its dimensions are separate fields, not a sentence', () => {
    emitEvent(
      'IngestRunEnded',
      { instance_id: 'ingest-1', dataset: 'meter_readings', source: 'headend_utc', verdict: 'accepted' },
      { traceparent: PARENT },
    );

    expect(events()).toEqual([
      expect.objectContaining({
        name: 'IngestRunEnded',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        dimensions: {
          instance_id: 'ingest-1',
          dataset: 'meter_readings',
          source: 'headend_utc',
          verdict: 'accepted',
          trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        },
      }),
    ]);
  });

  test('when an event is given a key it does not list, then the key is dropped', () => {
    const dimensions = { source: 's', dataset: 'prices', whatever: 'x' } as unknown as Parameters<
      typeof emitEvent<'FreshnessBreach'>
    >[1];

    emitEvent('FreshnessBreach', dimensions);

    expect(events()[0]!.dimensions).toEqual({ source: 's', dataset: 'prices' });
  });

  test('when the exporter throws, then emitting does not', () => {
    restore();
    restore = installTelemetry({
      ...memory,
      emit: () => {
        throw new Error('exporter down');
      },
    });

    expect(() => emitEvent('ActivityFailed', { activity: 'writeAudit' })).not.toThrow();
  });
});

describe('a failing exporter', () => {
  test('when the telemetry file cannot be written, then the work inside the span still succeeds', async () => {
    restore();
    restore = installTelemetry(
      recordingTelemetry('file', () => {
        throw new Error('ENOSPC: no space left on device');
      }),
    );

    await expect(
      inSpan('activity writeAudit', { parent: PARENT }, () => Promise.resolve('written')),
    ).resolves.toBe('written');
  });
});
