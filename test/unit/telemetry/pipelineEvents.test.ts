import type { AuditRecord, DatabricksRunRecord } from '../../../lib/audit';
import {
  ingestRunEnded,
  installTelemetry,
  memoryTelemetry,
  recordBatchRuns,
  type RecordedEvent,
  type RecordedSpan,
} from '../../../lib/telemetry';

const TRACE_A = '00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a1a1a1a1a1a1a1a1-01';
const TRACE_B = '00-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b1b1b1b1b1b1b1b1-01';

function audit(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    schemaVersion: 1,
    kind: 'ingestFile',
    instanceId: 'ingest-meter_readings-0123',
    generation: 1,
    trigger: 'replay',
    requestedAt: '2026-01-01T09:00:00.000Z',
    startedAt: '2026-01-01T09:00:01.000Z',
    endedAt: '2026-01-01T09:00:09.500Z',
    file: {
      container: 'bronze',
      path: 'landing/meter_readings/headend_utc/2025/10/26/a.csv',
      etag: '0x1',
      size: 10,
      sha256: null,
      sequencer: null,
      eventId: null,
    },
    sourceContract: { dataset: 'meter_readings', source: 'headend_utc' },
    outputs: { staging: null, quarantine: null },
    verdict: 'accepted_with_rejections',
    status: 'failed',
    // Only the counts matter here.
    validation: { counts: { rowsRead: 120, rowsValid: 113, rowsRejected: 7 } } as AuditRecord['validation'],
    reasons: [],
    databricksRuns: [],
    stages: [],
    error: { stage: 'silver', code: 'JOB_FAILED', message: 'the run failed' },
    ...overrides,
  };
}

function run(overrides: Partial<DatabricksRunRecord> = {}): DatabricksRunRecord {
  return {
    step: 'silver',
    job: 'lakewatt-silver',
    runId: 41,
    runPageUrl: 'https://adb-1.azuredatabricks.net/#job/1/run/41',
    idempotencyToken: 'batch-1:0:silver',
    sharedWith: null,
    batch: {
      id: 'batch-1',
      queue: 'silver.meter_readings',
      size: 3,
      members: ['file-a', 'file-b', 'file-c'],
    },
    parameters: {},
    outcome: 'Succeeded',
    lifeCycleState: 'TERMINATED',
    resultState: 'SUCCESS',
    stateMessage: null,
    submittedAt: '2026-01-01T09:01:00.000Z',
    endedAt: '2026-01-01T09:06:00.000Z',
    durationMs: 240_000,
    polls: 5,
    commits: [],
    ...overrides,
  };
}

describe('IngestRunEnded', () => {
  test('when a run ends, then its event names the run, the file and how it ended as separate dimensions', () => {
    expect(ingestRunEnded(audit())).toEqual({
      instance_id: 'ingest-meter_readings-0123',
      generation: 1,
      dataset: 'meter_readings',
      source: 'headend_utc',
      verdict: 'accepted_with_rejections',
      status: 'failed',
      trigger: 'replay',
      error_code: 'JOB_FAILED',
      error_stage: 'silver',
      rows_read: 120,
      rows_rejected: 7,
      duration_ms: 8_500,
    });
  });

  test('when a file never got a report (no contract), then its verdict is none and it has no rows', () => {
    const dimensions = ingestRunEnded(
      audit({ verdict: null, validation: null, status: 'rejected', error: null }),
    );

    expect(dimensions).toMatchObject({ verdict: 'none', rows_read: 0, rows_rejected: 0, error_code: null });
  });
});

describe('a batch reports its runs', () => {
  let memory: ReturnType<typeof memoryTelemetry>;
  let restore: () => void;
  beforeEach(() => {
    memory = memoryTelemetry();
    restore = installTelemetry(memory);
  });
  afterEach(() => restore());

  const files = [
    { instanceId: 'file-a', traceparent: TRACE_A },
    { instanceId: 'file-b', traceparent: TRACE_B },
    // Queued before traces existed: no span, and no failure either.
    { instanceId: 'file-c' },
  ];

  test('when a run ended, then each traced file of it gets a databricks.run span in its own trace, timed by the run', () => {
    recordBatchRuns(files, [run()]);

    const spans = memory.records.filter((r): r is RecordedSpan => r.kind === 'span');
    expect(spans.map((s) => [s.name, s.traceId, s.parentSpanId, s.attributes.instance_id])).toEqual([
      ['databricks.run', 'a'.repeat(32), 'a1'.repeat(8), 'file-a'],
      ['databricks.run', 'b'.repeat(32), 'b1'.repeat(8), 'file-b'],
    ]);
    expect(spans[0]).toMatchObject({
      spanKind: 'CLIENT',
      start: '2026-01-01T09:01:00.000Z',
      end: '2026-01-01T09:06:00.000Z',
      status: 'OK',
      attributes: { run_id: 41, job: 'lakewatt-silver', batch_id: 'batch-1', batch_size: 3 },
    });
  });

  test('when a run ended, then one DatabricksRunEnded event says so, in the trace of its first file', () => {
    recordBatchRuns(files, [run({ outcome: 'Failed' })]);

    const events = memory.records.filter((r): r is RecordedEvent => r.kind === 'event');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      name: 'DatabricksRunEnded',
      traceId: 'a'.repeat(32),
      severity: 'warn',
      dimensions: {
        run_id: 41,
        job: 'lakewatt-silver',
        step: 'silver',
        queue: 'silver.meter_readings',
        outcome: 'Failed',
        duration_ms: 240_000,
        batch_id: 'batch-1',
        batch_size: 3,
        polls: 5,
      },
    });
  });

  test('when a run was never submitted, then it leaves no event and no span', () => {
    recordBatchRuns(files, [run({ runId: null, endedAt: null })]);

    expect(memory.records).toEqual([]);
  });
});
