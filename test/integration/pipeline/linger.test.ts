import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';

import { ingestInstanceId } from '../../../lib/events/blobCreated';
import { JobsEmulator } from '../../../local/databricks/emulator';
import { clientFor, FIXTURE_BUNDLE } from '../databricks/support';
import {
  headendCsv,
  landingPath,
  moduleFile,
  PIPELINE_MODULES,
  type PipelineWorld,
  startPipelineWorld,
} from './support';

/*
 * BATCH_LINGER_SECONDS: a file that finds its queue idle starts a batch that waits for company before its
 * run. The silver job is a fixture that takes the silver job's parameters and runs for minutes on the real
 * Jobs API emulator; the host's clock is manual, so the linger passes in virtual time.
 */

jest.setTimeout(120_000);

const LINGER_SECONDS = 30;
const DAY = '2025-10-26';
let world: PipelineWorld;
let emulator: JobsEmulator;
const emulatorHome = mkdtempSync(nodePath.join(os.tmpdir(), 'lakewatt-linger-'));
const token = `linger-${randomUUID()}`;

interface Summary {
  batch: { in: string } | { behind: string } | null;
}

beforeAll(async () => {
  emulator = await JobsEmulator.start({
    bundleDir: FIXTURE_BUNDLE,
    home: emulatorHome,
    token,
    port: 0,
    env: {},
  });
  world = await startPipelineWorld({
    modules: [...PIPELINE_MODULES, moduleFile('functions/runsApi.ts')],
    env: {
      DATABRICKS_HOST: emulator.url,
      DATABRICKS_AUTH: 'static',
      DATABRICKS_TOKEN: token,
      DATABRICKS_SILVER_JOB: 'fixture-slow-silver',
      BATCH_LINGER_SECONDS: String(LINGER_SECONDS),
      BATCH_CAPS_BY_DATASET: JSON.stringify({ meter_readings: { maxFiles: 3 } }),
    },
  });
});

afterAll(async () => {
  await world?.close();
  await emulator?.close();
  rmSync(emulatorHome, { recursive: true, force: true });
});

async function dropMeter(meter: string): Promise<string> {
  const path = landingPath('meter_readings', 'headend_utc', DAY, `${meter}.csv`);
  const { etag } = await world.drop(path, headendCsv(meter, DAY));
  return ingestInstanceId({ container: 'bronze', path, etag, dataset: 'meter_readings' });
}

async function silverRuns(): Promise<Array<{ instanceIds: string[] }>> {
  const client = clientFor(emulator.url, token);
  const jobId = await client.resolveJobId('fixture-slow-silver');
  const runs = await client.listActiveRuns(jobId);
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
