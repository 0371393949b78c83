import path from 'node:path';

import { loadConfig } from '../../../lib/config';
import { loadSourceContracts } from '../../../lib/contracts/sources';
import { ingestInstanceId } from '../../../lib/events/blobCreated';
import { stageFile } from '../../../lib/pipeline/steps';
import { jobPolicy } from '../../../orchestrations/starters';
import { TEST_LIMITS } from '../../helpers/validation';
import {
  headendCsv,
  landingPath,
  moduleFile,
  PIPELINE_MODULES,
  type PipelineWorld,
  refusingDatabricks,
  startPipelineWorld,
} from './support';

/*
 * Out-of-order and stale events (#18, proof): a source overwrites a file before the event of its first
 * version is processed, and Event Grid delivers the older event last; an event is delivered again long after.
 * Each event names its version (eTag): the trigger starts only the blob's current version, and a version
 * overwritten after its run started is rejected FILE_VERSION_GONE by validation (lib/pipeline/steps.ts).
 * Databricks refuses every call, so an accepted file stops at silver: what matters here is which version
 * started and was staged.
 */

jest.setTimeout(60_000);

const DAY = '2025-10-26';
let world: PipelineWorld;
let databricks: Awaited<ReturnType<typeof refusingDatabricks>>;

interface RunStatus {
  httpStatus: number;
  code?: string;
  runtimeStatus?: string;
  generation?: number;
  createdTime?: string;
  stage?: string;
}

beforeAll(async () => {
  databricks = await refusingDatabricks();
  world = await startPipelineWorld({
    modules: [...PIPELINE_MODULES, moduleFile('functions/runsApi.ts')],
    env: { DATABRICKS_HOST: databricks.url, DATABRICKS_AUTH: 'static', DATABRICKS_TOKEN: 'refused' },
  });
});

afterAll(async () => {
  await world?.close();
  await databricks?.close();
});

async function status(path: string, etag: string): Promise<RunStatus> {
  const instanceId = ingestInstanceId({ container: 'bronze', path, etag, dataset: 'meter_readings' });
  const response = await world.api<Omit<RunStatus, 'httpStatus'>>('GET', `/api/runs/${instanceId}`);
  return { httpStatus: response.status, ...response.body };
}

async function stagedFiles(path: string, etag: string): Promise<string[]> {
  const instanceId = ingestInstanceId({ container: 'bronze', path, etag, dataset: 'meter_readings' });
  const listed: string[] = [];
  for await (const entry of world.lake.list('staging', '')) {
    if (entry.path.includes(instanceId)) listed.push(entry.path);
  }
  return listed;
}

it('when the event of an overwritten version arrives after its successor’s, then no run starts for it and only the current version is staged', async () => {
  const path = landingPath('meter_readings', 'headend_utc', DAY, 'overwritten.csv');
  const first = await world.land(path, headendCsv('M-FIRST', DAY));
  const second = await world.land(path, headendCsv('M-SECOND', DAY));
  expect(await world.announce(path)).toBe(202);
  expect(await world.announce(path, 'bronzeBlobCreated', first)).toBe(202);
  await world.run();

  expect(await status(path, first.etag)).toMatchObject({ httpStatus: 404, code: 'RUN_NOT_FOUND' });
  expect(await stagedFiles(path, first.etag)).toEqual([]);
  expect(await status(path, second.etag)).toMatchObject({ httpStatus: 200, stage: 'silver' });
  expect((await stagedFiles(path, second.etag)).length).toBeGreaterThan(0);
});

it('when a stale event of an already started version is delivered again later, then no second run starts', async () => {
  const path = landingPath('meter_readings', 'headend_utc', DAY, 'redelivered.csv');
  const landed = await world.land(path, headendCsv('M-AGAIN', DAY));
  expect(await world.announce(path)).toBe(202);
  await world.run();
  const before = await status(path, landed.etag);
  world.clock.set(world.clock.now() + 3_600_000);

  expect(await world.announce(path, 'bronzeBlobCreated', landed)).toBe(202);
  await world.run();

  const after = await status(path, landed.etag);
  expect(before).toMatchObject({ httpStatus: 200, generation: 0 });
  expect(after).toMatchObject({ generation: 0, createdTime: before.createdTime });
});

it('when a version is overwritten after its run started but before validation read it, then the run is rejected FILE_VERSION_GONE and nothing is staged', async () => {
  const bronzePath = landingPath('meter_readings', 'headend_utc', DAY, 'raced.csv');
  const first = await world.land(bronzePath, headendCsv('M-RACED', DAY));
  await world.land(bronzePath, headendCsv('M-RACED-2', DAY));
  const file = {
    container: 'bronze',
    path: bronzePath,
    etag: first.etag,
    dataset: 'meter_readings' as const,
    source: 'headend_utc',
    fileName: 'raced.csv',
    size: first.size,
    sequencer: null,
    eventId: null,
    eventTime: null,
  };
  const instanceId = ingestInstanceId(file);
  const contracts = await loadSourceContracts(path.join(__dirname, '..', '..', '..', 'contracts', 'sources'));

  const outcome = await stageFile(
    { lake: world.lake, contracts, limits: TEST_LIMITS },
    {
      instanceId,
      input: {
        file,
        generation: 0,
        requestedAt: new Date().toISOString(),
        trigger: 'event',
        policy: jobPolicy(loadConfig({})),
      },
      now: new Date(),
    },
  );

  expect(outcome.verdict).toBe('rejected');
  expect(outcome.reasons.map((r) => r.code)).toEqual(['FILE_VERSION_GONE']);
  expect(await stagedFiles(bronzePath, first.etag)).toEqual([]);
});
