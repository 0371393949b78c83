import type { AuditRecord } from '../../../lib/audit';
import { ingestInstanceId } from '../../../lib/events/blobCreated';
import {
  type EmulatedWorld,
  headendCsv,
  landingPath,
  type PipelineWorld,
  startEmulatedWorld,
} from './support';

/*
 * A Databricks run that outlives JOB_DEADLINE_MINUTES: the orchestration cancels it and fails the stage.
 * The silver job is a fixture that sleeps for ten minutes on the real Jobs API emulator; the host's clock is
 * manual, so the one-minute deadline passes in virtual time while the run is still running.
 */

jest.setTimeout(120_000);

let emulated: EmulatedWorld;
let world: PipelineWorld;

beforeAll(async () => {
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
});

it('when a Databricks run outlives the deadline, then it is cancelled and the run fails with JOB_DEADLINE_EXCEEDED in its audit record', async () => {
  const path = landingPath('meter_readings', 'headend_utc', '2025-10-26', 'slow.csv');
  const { etag } = await world.drop(path, headendCsv('M-DEADLINE', '2025-10-26'));
  const instanceId = ingestInstanceId({ container: 'bronze', path, etag, dataset: 'meter_readings' });
  // Poll after poll in virtual time until the deadline: 5 + 10 + 20 + 20 s..., then the cancel.
  await world.run(5 * 60_000);

  const status = await world.api<{ runtimeStatus: string; audit: AuditRecord | null }>(
    'GET',
    `/api/runs/${instanceId}`,
  );
  expect(status.body.runtimeStatus).toBe('Failed');
  const audit = status.body.audit!;
  expect(audit.error).toMatchObject({ stage: 'silver', code: 'JOB_DEADLINE_EXCEEDED' });
  expect(audit.databricksRuns).toHaveLength(1);
  expect(audit.databricksRuns[0]!.polls).toBeGreaterThanOrEqual(3);

  const client = emulated.jobs;
  const runId = audit.databricksRuns[0]!.runId!;
  let run = await client.getRun(runId);
  for (let i = 0; i < 100 && !run.outcome.terminal; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    run = await client.getRun(runId);
  }
  expect(run.outcome.kind).toBe('Canceled');
});

it('when a run waits in the Jobs queue longer than the deadline, then the wait does not count: it is cancelled only a deadline after it started', async () => {
  const client = emulated.jobs;
  const blocker = await client.runJob('fixture-slow-silver', { queue: true });
  const path = landingPath('meter_readings', 'headend_utc', '2025-10-27', 'queued.csv');
  const { etag } = await world.drop(path, headendCsv('M-QUEUED', '2025-10-27'));
  const instanceId = ingestInstanceId({ container: 'bronze', path, etag, dataset: 'meter_readings' });
  // Three deadlines of virtual time while the file's run waits behind the blocker.
  await world.run(3 * 60_000);

  const queued = await world.api<{ runtimeStatus: string }>('GET', `/api/runs/${instanceId}`);
  expect(queued.body.runtimeStatus).toBe('Running');
  const active = await client.listActiveRuns(await client.resolveJobId('fixture-slow-silver'));
  const waiting = active.find((run) => run.runId !== blocker.runId);
  expect(waiting?.outcome.raw.lifeCycleState ?? waiting?.outcome.raw.statusState).toBe('QUEUED');

  await client.cancelRun(blocker.runId);
  let started = await client.getRun(waiting!.runId);
  const isQueued = (run: typeof started): boolean =>
    (run.outcome.raw.lifeCycleState ?? run.outcome.raw.statusState) === 'QUEUED';
  for (let i = 0; i < 100 && isQueued(started); i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    started = await client.getRun(waiting!.runId);
  }
  await world.run(5 * 60_000);

  const status = await world.api<{ runtimeStatus: string; audit: AuditRecord | null }>(
    'GET',
    `/api/runs/${instanceId}`,
  );
  expect(status.body.runtimeStatus).toBe('Failed');
  expect(status.body.audit!.error).toMatchObject({ stage: 'silver', code: 'JOB_DEADLINE_EXCEEDED' });
});
