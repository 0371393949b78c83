import { ingestInstanceId } from '../../../lib/events/blobCreated';
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
 * The landing reconciliation (functions/reconcileLanding.ts) on the local host: its timer fires as the
 * virtual clock passes its schedule; the lake is real folders. Databricks refuses every call, so a started
 * ingestion stops at silver: what matters here is whether it started, and how.
 */

jest.setTimeout(60_000);

const EVERY_TEN_MINUTES = 10 * 60_000;
let world: PipelineWorld;
let databricks: Awaited<ReturnType<typeof refusingDatabricks>>;

interface RunSummary {
  runtimeStatus: string;
  generation: number;
  trigger: string;
}

beforeAll(async () => {
  databricks = await refusingDatabricks();
  world = await startPipelineWorld({
    modules: [
      ...PIPELINE_MODULES,
      moduleFile('functions/reconcileLanding.ts'),
      moduleFile('functions/runsApi.ts'),
    ],
    timers: true,
    env: {
      DATABRICKS_HOST: databricks.url,
      DATABRICKS_AUTH: 'static',
      DATABRICKS_TOKEN: 'refused',
      RECONCILE_SCHEDULE: '0 */10 * * * *',
      // The lake's clock is the real one, the host's is virtual: no grace, so a landed file is due at once.
      RECONCILE_GRACE_MINUTES: '0',
    },
  });
});

afterAll(async () => {
  await world?.close();
  await databricks?.close();
});

/** Moves the virtual clock past the next reconciliation and waits for it and what it started. */
async function reconcile(): Promise<void> {
  world.clock.set(world.clock.now() + EVERY_TEN_MINUTES);
  await world.host.timers.settled();
  await world.run();
}

async function summary(instanceId: string): Promise<RunSummary | undefined> {
  const response = await world.api<RunSummary>('GET', `/api/runs/${instanceId}`);
  return response.status === 200 ? response.body : undefined;
}

async function auditFiles(prefix: string): Promise<string[]> {
  const paths: string[] = [];
  for await (const entry of world.lake.list('audit', prefix)) paths.push(entry.path);
  return paths;
}

it('when a landing file’s event never came, then the reconciliation starts its ingestion once, as generation 0 with trigger reconcile', async () => {
  const path = landingPath('meter_readings', 'headend_utc', '2025-10-26', 'lost-event.csv');
  const { etag } = await world.land(path, headendCsv('M-LOST', '2025-10-26'));
  const instanceId = ingestInstanceId({ container: 'bronze', path, etag, dataset: 'meter_readings' });
  expect(await summary(instanceId)).toBeUndefined();

  await reconcile();
  const first = await summary(instanceId);
  await reconcile();
  const second = await summary(instanceId);

  expect(first).toMatchObject({ generation: 0, trigger: 'reconcile' });
  expect(second).toMatchObject({ generation: 0, trigger: 'reconcile' });
});

it('when a file’s event did come, then the reconciliation leaves its run alone', async () => {
  const path = landingPath('meter_readings', 'headend_utc', '2025-10-27', 'announced.csv');
  const { etag } = await world.drop(path, headendCsv('M-ANNOUNCED', '2025-10-27'));
  const instanceId = ingestInstanceId({ container: 'bronze', path, etag, dataset: 'meter_readings' });

  await reconcile();

  expect(await summary(instanceId)).toMatchObject({ generation: 0, trigger: 'event' });
});

it('when a file lands under an unknown dataset folder, then it gets a quarantine copy and one audit record with UNKNOWN_DATASET', async () => {
  const path = 'landing/meterreadings/headend_utc/2025/10/28/typo.csv';
  const content = headendCsv('M-TYPO', '2025-10-28');
  await world.land(path, content);

  await reconcile();
  await reconcile();

  const records = await auditFiles('misplaced/');
  const mine = [];
  for (const record of records) {
    const body = JSON.parse((await world.lake.read('audit', record)).data.toString('utf8')) as {
      file: { path: string };
      error: { code: string; message: string };
      quarantine: string;
      seenBy: string;
    };
    if (body.file.path === path) mine.push(body);
  }
  expect(mine).toHaveLength(1);
  expect(mine[0]).toMatchObject({ error: { code: 'UNKNOWN_DATASET' }, seenBy: 'reconcile' });
  expect(mine[0]!.error.message).toContain('meterreadings');
  const copy = await world.lake.read('quarantine', mine[0]!.quarantine.replace(/^quarantine\//, ''));
  expect(copy.data.toString('utf8')).toBe(content);
});

it('when a misplaced file’s event arrives, then the event records it at once, and the reconciliation adds no second record', async () => {
  const path = 'landing/meter_readings/headend_utc/2025/10/29/extra/deep.csv';
  await world.land(path, headendCsv('M-DEEP', '2025-10-29'));
  expect(await world.announce(path)).toBe(202);
  await world.run();
  const afterEvent = await auditFiles('misplaced/');

  await reconcile();

  const bodies = await Promise.all(
    (await auditFiles('misplaced/')).map(
      async (p) =>
        JSON.parse((await world.lake.read('audit', p)).data.toString('utf8')) as {
          file: { path: string };
          seenBy: string;
          error: { code: string };
        },
    ),
  );
  const mine = bodies.filter((b) => b.file.path === path);
  expect(mine.map((b) => [b.seenBy, b.error.code])).toEqual([['event', 'BAD_LANDING_PATH']]);
  expect((await auditFiles('misplaced/')).length).toBe(afterEvent.length);
});
