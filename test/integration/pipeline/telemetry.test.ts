import type { AuditRecord } from '../../../lib/audit';
import { ingestInstanceId } from '../../../lib/events/blobCreated';
import {
  installTelemetry,
  memoryTelemetry,
  parseTraceparent,
  type RecordedEvent,
  type RecordedSpan,
} from '../../../lib/telemetry';
import {
  type EmulatedWorld,
  headendCsv,
  landingPath,
  type PipelineWorld,
  startEmulatedWorld,
} from './support';

/*
 * One file's trace on the local pipeline: event, validation, its batch's Databricks run on the real Jobs API
 * emulator (a fixture job that outlives a one-minute deadline, so the run is cancelled and the file fails
 * without Spark), audit record. Telemetry is recorded in memory by the same process the host runs in.
 */

jest.setTimeout(120_000);

let emulated: EmulatedWorld;
let world: PipelineWorld;
let memory: ReturnType<typeof memoryTelemetry>;
let restore: () => void;

beforeAll(async () => {
  memory = memoryTelemetry();
  restore = installTelemetry(memory);
  emulated = await startEmulatedWorld({
    DATABRICKS_SILVER_JOB: 'fixture-slow-silver',
    JOB_DEADLINE_MINUTES: '1',
    JOB_POLL_MIN_SECONDS: '5',
    JOB_POLL_MAX_SECONDS: '20',
  });
  world = emulated.world;
});

afterAll(async () => {
  await emulated?.close();
  restore?.();
});

const spansOf = (traceId: string): RecordedSpan[] =>
  memory.records.filter((r): r is RecordedSpan => r.kind === 'span' && r.traceId === traceId);
const eventsNamed = (name: string): RecordedEvent[] =>
  memory.records.filter((r): r is RecordedEvent => r.kind === 'event' && r.name === name);

it('when a file goes from its event to its audit record, then one trace holds its activities and its Databricks run, and the run’s job parameters name that trace', async () => {
  const path = landingPath('meter_readings', 'headend_utc', '2025-10-26', 'traced.csv');
  const { etag } = await world.drop(path, headendCsv('M-TRACED', '2025-10-26'));
  const instanceId = ingestInstanceId({ container: 'bronze', path, etag, dataset: 'meter_readings' });
  await world.run(5 * 60_000);
  const status = await world.api<{ audit: AuditRecord | null }>('GET', `/api/runs/${instanceId}`);
  const audit = status.body.audit!;
  const traceId = parseTraceparent(audit.traceparent!)!.traceId;

  const spans = spansOf(traceId);
  const names = new Set(spans.map((s) => s.name));
  expect([...names].sort()).toEqual(
    [
      'activity cancelJobRun',
      'activity getJobRun',
      'activity notifyBatch',
      'activity startBatch',
      'activity startJobRun',
      'activity validateAndStage',
      'activity writeAudit',
      'databricks.run',
      'ingest.start',
    ].sort(),
  );
  // One tree: the start span is the root, every other span's parent is a span of the same trace.
  const ids = new Set(spans.map((s) => s.spanId));
  expect(spans.filter((s) => s.parentSpanId === null).map((s) => s.name)).toEqual(['ingest.start']);
  expect(spans.filter((s) => s.parentSpanId !== null && !ids.has(s.parentSpanId))).toEqual([]);

  const runId = audit.databricksRuns[0]!.runId!;
  const run = await emulated.jobs.getRun(runId);
  const submit = spans.find((s) => s.name === 'activity startJobRun')!;
  expect(parseTraceparent(run.jobParameters.traceparent ?? '')).toMatchObject({
    traceId,
    spanId: submit.spanId,
  });
  expect(spans.find((s) => s.name === 'databricks.run')).toMatchObject({
    status: 'ERROR',
    attributes: { run_id: runId, outcome: 'Canceled', instance_id: instanceId },
  });
});

it('when the run ended, then its structured events name the instance, dataset, source and verdict', () => {
  const ended = eventsNamed('IngestRunEnded');

  expect(ended).toHaveLength(1);
  expect(ended[0]!.dimensions).toMatchObject({
    dataset: 'meter_readings',
    source: 'headend_utc',
    verdict: 'accepted',
    status: 'failed',
    error_stage: 'silver',
    error_code: 'JOB_DEADLINE_EXCEEDED',
    trace_id: ended[0]!.traceId,
  });
  expect(ended[0]!.dimensions.instance_id).toMatch(/^ingest-/);
  expect(eventsNamed('IngestStarted').map((e) => e.traceId)).toEqual([ended[0]!.traceId]);
  expect(eventsNamed('DatabricksRunEnded').map((e) => e.dimensions.outcome)).toEqual(['Canceled']);
});
