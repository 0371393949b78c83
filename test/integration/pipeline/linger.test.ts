import { ingestInstanceId } from '../../../lib/events/blobCreated';
import {
  type EmulatedWorld,
  headendCsv,
  landingPath,
  type PipelineWorld,
  startEmulatedWorld,
} from './support';

/*
 * BATCH_LINGER_SECONDS: a file that finds its queue idle starts a batch that waits for company before its
 * run. The silver job is a fixture that takes the silver job's parameters and runs for minutes on the real
 * Jobs API emulator; the host's clock is manual, so the linger passes in virtual time.
 */

jest.setTimeout(120_000);

const LINGER_SECONDS = 30;
const DAY = '2025-10-26';
let emulated: EmulatedWorld;
let world: PipelineWorld;

interface Summary {
  batch: { in: string } | { behind: string } | null;
}

beforeAll(async () => {
  emulated = await startEmulatedWorld({
    DATABRICKS_SILVER_JOB: 'fixture-slow-silver',
    BATCH_LINGER_SECONDS: String(LINGER_SECONDS),
    BATCH_CAPS_BY_DATASET: JSON.stringify({ meter_readings: { maxFiles: 3 } }),
  });
  world = emulated.world;
});

afterAll(async () => {
  await emulated?.close();
});

async function dropMeter(meter: string): Promise<string> {
  const path = landingPath('meter_readings', 'headend_utc', DAY, `${meter}.csv`);
  const { etag } = await world.drop(path, headendCsv(meter, DAY));
  return ingestInstanceId({ container: 'bronze', path, etag, dataset: 'meter_readings' });
}

async function silverRuns(): Promise<Array<{ instanceIds: string[] }>> {
  const jobId = await emulated.jobs.resolveJobId('fixture-slow-silver');
  const runs = await emulated.jobs.listActiveRuns(jobId);
  return runs.map((run) => ({ instanceIds: (run.jobParameters.instance_ids ?? '').split(',') }));
}

it('when files arrive during the linger, then they share the first file’s run, and a file over the dataset’s cap waits for the next batch', async () => {
  const first = await dropMeter('M-LINGER-1');
  const second = await dropMeter('M-LINGER-2');
  const third = await dropMeter('M-LINGER-3');
  const fourth = await dropMeter('M-LINGER-4');

  // Still lingering: no run yet, however long the host has been idle in real time.
  expect(await silverRuns()).toEqual([]);
  await world.run(LINGER_SECONDS * 1000);

  const runs = await silverRuns();
  expect(runs).toHaveLength(1);
  const members = runs[0]!.instanceIds.map((entry) => entry.split('/')[0]);
  expect(members).toEqual([first, second, third]);

  const batchOf = async (id: string): Promise<Summary['batch']> =>
    (await world.api<Summary>('GET', `/api/runs/${id}`)).body.batch;
  const running = await batchOf(first);
  expect(running).toHaveProperty('in');
  expect(await batchOf(second)).toEqual(running);
  expect(await batchOf(third)).toEqual(running);
  expect(await batchOf(fourth)).toEqual({ behind: (running as { in: string }).in });
});
