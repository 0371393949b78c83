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
 * A Jobs API outage (#18, proof): the real Jobs API emulator answers 503 to every request; the host's clock is
 * manual, so the outage lasts minutes of virtual time. The silver job is a fixture that runs for minutes, so a
 * file that gets its run stays Running with it.
 */

jest.setTimeout(120_000);

const OUTAGE_LIMIT_MINUTES = 15;
let emulated: EmulatedWorld;
let world: PipelineWorld;

beforeAll(async () => {
  emulated = await startEmulatedWorld({
    DATABRICKS_SILVER_JOB: 'fixture-slow-silver',
    JOBS_API_OUTAGE_MINUTES: String(OUTAGE_LIMIT_MINUTES),
  });
  world = emulated.world;
});

afterAll(async () => {
  await emulated?.close();
});

function jobsApiDown(): void {
  emulated.emulator.faults.set({ http: [{ status: 503, count: 1_000_000, retryAfterSeconds: 0 }] });
}

async function drop(meter: string): Promise<string> {
  const path = landingPath('meter_readings', 'headend_utc', '2025-10-26', `${meter}.csv`);
  const { etag } = await world.drop(path, headendCsv(meter, '2025-10-26'));
  return ingestInstanceId({ container: 'bronze', path, etag, dataset: 'meter_readings' });
}

async function status(instanceId: string): Promise<{ runtimeStatus: string; audit: AuditRecord | null }> {
  return (
    await world.api<{ runtimeStatus: string; audit: AuditRecord | null }>('GET', `/api/runs/${instanceId}`)
  ).body;
}

async function silverRunsOf(instanceId: string): Promise<number> {
  const jobId = await emulated.jobs.resolveJobId('fixture-slow-silver');
  const runs = await emulated.jobs.listActiveRuns(jobId);
  return runs.filter((run) => (run.jobParameters.instance_ids ?? '').includes(instanceId)).length;
}

it('when the Jobs API stays down longer than JOBS_API_OUTAGE_MINUTES, then the file fails with JOBS_API_UNAVAILABLE', async () => {
  jobsApiDown();
  const instanceId = await drop('M-OUTAGE-LONG');
  await world.run((OUTAGE_LIMIT_MINUTES + 10) * 60_000);
  emulated.emulator.faults.set({});

  const after = await status(instanceId);
  expect(after.runtimeStatus).toBe('Failed');
  expect(after.audit?.error).toMatchObject({ stage: 'silver', code: 'JOBS_API_UNAVAILABLE' });
  expect(await silverRunsOf(instanceId)).toBe(0);
});

it('when the Jobs API is down for ten minutes, then the file waits it out and its silver run starts once it is back', async () => {
  jobsApiDown();
  const instanceId = await drop('M-OUTAGE-TEN');
  await world.run(10 * 60_000);

  expect((await status(instanceId)).runtimeStatus).toBe('Running');

  emulated.emulator.faults.set({});
  await world.run(10 * 60_000);

  expect((await status(instanceId)).runtimeStatus).toBe('Running');
  expect(await silverRunsOf(instanceId)).toBe(1);
});
