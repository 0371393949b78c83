import type { AuditRecord } from '../../../lib/audit';
import type { DatasetName } from '../../../lib/contracts/datasets';
import { ingestInstanceId } from '../../../lib/events/blobCreated';
import { priceInstanceId, PULL_ORCHESTRATION, pullInput } from '../../../lib/pipeline/prices';
import type {
  ApiErrorBody,
  BulkReplayResult,
  RunDetail,
  RunsPage,
  RunSummary,
} from '../../../lib/pipeline/runsQuery';
import {
  badHeaderCsv,
  headendCsv,
  landingPath,
  moduleFile,
  PIPELINE_MODULES,
  PIPELINE_START,
  type PipelineWorld,
  refusingDatabricks,
  startPipelineWorld,
} from './support';

const HOUR = 3_600_000;
const DAY = '2025-10-26';
/** An id of the exact ingestion shape that no run has. */
const UNKNOWN_ID = `ingest-meter_readings-${'0'.repeat(32)}`;
/** The caller the local API records when no name is sent (no Easy Auth locally). */
const LOCAL_CALLER = { kind: 'local', id: 'local', name: 'local' };

let world: PipelineWorld;
let databricks: Awaited<ReturnType<typeof refusingDatabricks>>;

/** Instance ids of the runs the suite starts from, in the order their files were dropped. */
const ids = { rejected: '', failedOld: '', customers: '', failedNew: '' };
const paths = { rejected: '', failedOld: '', customers: '', failedNew: '' };

type Run = RunDetail & { audit: AuditRecord | null };

const list = async (query = ''): Promise<RunsPage> => {
  const response = await world.api<RunsPage>('GET', `/api/runs${query}`);
  expect(response.status).toBe(200);
  return response.body;
};
const show = async (id: string): Promise<Run> => (await world.api<Run>('GET', `/api/runs/${id}`)).body;
const idsOf = (runs: readonly RunSummary[]): string[] => runs.map((run) => run.instanceId);

/** Drops a file `minute` minutes after the start of virtual time and lets its run end. */
async function dropAndFinish(minute: number, path: string, content: string): Promise<string> {
  world.clock.set(PIPELINE_START + minute * 60_000);
  const { etag } = await world.drop(path, content);
  await world.run(HOUR);
  return ingestInstanceId({ container: 'bronze', path, etag, dataset: path.split('/')[1] as DatasetName });
}

beforeAll(async () => {
  databricks = await refusingDatabricks();
  world = await startPipelineWorld({
    modules: [
      ...PIPELINE_MODULES,
      moduleFile('functions/runsApi.ts'),
      moduleFile('orchestrations/pullPrices.ts'),
    ],
    // Nothing listens on the discard port: a price pull's ask fails at once.
    env: {
      DATABRICKS_HOST: databricks.url,
      DATABRICKS_TOKEN: 'any-token-the-workspace-refuses',
      ENERGY_CHARTS_BASE_URL: 'http://127.0.0.1:9',
    },
  });
  // Four runs one minute apart (virtual time): rejected, failed, rejected (customers), failed.
  paths.rejected = landingPath('meter_readings', 'headend_utc', DAY, 'bad-header.csv');
  paths.failedOld = landingPath('meter_readings', 'headend_utc', DAY, 'readings-1.csv');
  paths.customers = landingPath('customers', 'crm', DAY, 'customers.csv');
  paths.failedNew = landingPath('meter_readings', 'headend_utc', DAY, 'readings-2.csv');
  ids.rejected = await dropAndFinish(0, paths.rejected, badHeaderCsv());
  ids.failedOld = await dropAndFinish(1, paths.failedOld, headendCsv('MTR-1', DAY));
  ids.customers = await dropAndFinish(2, paths.customers, badHeaderCsv());
  ids.failedNew = await dropAndFinish(3, paths.failedNew, headendCsv('MTR-2', DAY));
}, 60_000);

afterAll(async () => {
  await world?.close();
  await databricks?.close();
});

describe('GET /api/runs', () => {
  it('when no filter is given, then every ingestion run is listed newest first with its summary', async () => {
    const page = await list();

    expect(idsOf(page.runs)).toEqual([ids.failedNew, ids.customers, ids.failedOld, ids.rejected]);
    expect(page.continuationToken).toBeNull();
    expect(page.runs[0]).toEqual({
      kind: 'ingest',
      instanceId: ids.failedNew,
      runtimeStatus: 'Failed',
      stage: 'failed',
      batch: null,
      verdict: 'accepted',
      generation: 0,
      dataset: 'meter_readings',
      source: 'headend_utc',
      path: paths.failedNew,
      etag: expect.any(String) as string,
      createdTime: new Date(PIPELINE_START + 3 * 60_000).toISOString(),
      lastUpdatedTime: expect.any(String) as string,
      auditPath: expect.stringMatching(
        new RegExp(`^audit/runs/\\d{4}/\\d{2}/\\d{2}/${ids.failedNew}/0\\.json$`),
      ) as string,
    });
    expect(page.runs[3]).toMatchObject({
      runtimeStatus: 'Completed',
      stage: 'rejected',
      verdict: 'rejected',
    });
  });

  it('when filtered by runtime status (a comma list, any case), then only runs in those statuses are listed', async () => {
    expect(idsOf((await list('?runtimeStatus=Failed')).runs)).toEqual([ids.failedNew, ids.failedOld]);
    expect(idsOf((await list('?runtimeStatus=completed,Terminated')).runs)).toEqual([
      ids.customers,
      ids.rejected,
    ]);
  });

  it('when filtered by verdict, dataset or source, then only matching runs are listed', async () => {
    expect(idsOf((await list('?verdict=rejected')).runs)).toEqual([ids.customers, ids.rejected]);
    expect(idsOf((await list('?verdict=accepted,accepted_with_rejections')).runs)).toEqual([
      ids.failedNew,
      ids.failedOld,
    ]);
    expect(idsOf((await list('?dataset=customers')).runs)).toEqual([ids.customers]);
    expect(idsOf((await list('?source=headend_utc&verdict=rejected')).runs)).toEqual([ids.rejected]);
  });

  it('when a time window is given, then only runs created inside it are listed', async () => {
    const from = new Date(PIPELINE_START + 60_000).toISOString();
    const to = new Date(PIPELINE_START + 2 * 60_000).toISOString();

    expect(idsOf((await list(`?from=${from}&to=${to}`)).runs)).toEqual([ids.customers, ids.failedOld]);
    expect(idsOf((await list(`?from=${new Date(PIPELINE_START + 150_000).toISOString()}`)).runs)).toEqual([
      ids.failedNew,
    ]);
  });

  it('when paged with top, then the continuation tokens walk every run exactly once', async () => {
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const page: RunsPage = await list(`?top=3${token ? `&continuationToken=${token}` : ''}`);
      seen.push(...idsOf(page.runs));
      token = page.continuationToken;
      pages += 1;
    } while (token);

    expect(pages).toBe(2);
    expect(seen).toEqual([ids.failedNew, ids.customers, ids.failedOld, ids.rejected]);
  });

  it('when a continuation token is used with other filters, then the answer is 400 naming continuationToken', async () => {
    const first = await list('?top=1');
    const response = await world.api<ApiErrorBody>(
      'GET',
      `/api/runs?top=1&dataset=customers&continuationToken=${first.continuationToken!}`,
    );

    expect(response.status).toBe(400);
    expect(response.body.code).toBe('INVALID_REQUEST');
    expect(response.body.message).toMatch(/^continuationToken: /);
  });

  it.each([
    ['?runtimeStatus=Broken', /^runtimeStatus: 'Broken' is not a runtime status/],
    ['?from=yesterday', /^from: 'yesterday' is not an ISO 8601 time/],
    ['?to=2026-01-01', /^to: /],
    ['?top=0', /^top: must be at least 1/],
    ['?top=501', /^top: must be at most 500/],
    ['?verdict=fine', /^verdict: 'fine' is not a verdict/],
    ['?dataset=weather', /^dataset: 'weather' is not a dataset/],
    ['?statuss=Failed', /^statuss: unknown parameter$/],
    ['?continuationToken=xyz', /^continuationToken: not a token/],
  ])(
    'when the query is %s, then the answer is 400 with a message naming the field',
    async (query, message) => {
      const response = await world.api<ApiErrorBody>('GET', `/api/runs${query}`);

      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(response.body).toEqual({
        code: 'INVALID_REQUEST',
        message: expect.stringMatching(message) as string,
      });
    },
  );
});

describe('GET /api/runs/{id}', () => {
  it('when the run failed in silver, then its status comes with the audit record of the failure', async () => {
    const run = await show(ids.failedOld);

    expect(run).toMatchObject({
      instanceId: ids.failedOld,
      runtimeStatus: 'Failed',
      trigger: 'event',
      verdict: 'accepted',
      error: expect.stringContaining('[DATABRICKS_API]') as string,
    });
    expect(run.audit).toMatchObject({
      instanceId: ids.failedOld,
      generation: 0,
      status: 'failed',
      verdict: 'accepted',
      error: { stage: 'silver', code: 'DATABRICKS_API' },
    });
    expect(run.audit!.stages.map((s) => [s.stage, s.status])).toEqual([
      ['validate', 'succeeded'],
      ['silver', 'failed'],
    ]);
  });

  it('when the file was rejected, then the audit record holds the verdict and no Databricks run', async () => {
    const run = await show(ids.rejected);

    expect(run.audit).toMatchObject({ status: 'rejected', verdict: 'rejected', databricksRuns: [] });
    expect(run.audit!.outputs.quarantine).toMatch(/^quarantine\/meter_readings\//);
  });

  it('when the id is unknown, then the answer is 404 RUN_NOT_FOUND', async () => {
    const response = await world.api<ApiErrorBody>('GET', `/api/runs/${UNKNOWN_ID}`);

    expect(response.status).toBe(404);
    expect(response.body).toEqual({ code: 'RUN_NOT_FOUND', message: `no run with id ${UNKNOWN_ID}` });
  });

  it.each([
    ['a name Lakewatt never creates', 'ingest-nothing-here'],
    ['a well-formed id of another dataset', `ingest-weather-${'0'.repeat(32)}`],
    ['an encoded path', '..%2F..%2Fadmin'],
  ])('when the id is %s, then the answer is 400 INVALID_INSTANCE_ID', async (_case, id) => {
    const shown = await world.api<ApiErrorBody>('GET', `/api/runs/${id}`);
    const replayed = await world.api<ApiErrorBody>('POST', `/api/runs/${id}/replay`);

    expect([shown.status, shown.body.code]).toEqual([400, 'INVALID_INSTANCE_ID']);
    expect([replayed.status, replayed.body.code]).toEqual([400, 'INVALID_INSTANCE_ID']);
  });
});

describe('POST /api/runs/replay (bulk)', () => {
  it('when it is a dry run, then it lists the failed runs it would replay, oldest first, and starts nothing', async () => {
    const response = await world.api<BulkReplayResult>('POST', '/api/runs/replay', { max: 10, dryRun: true });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      matched: 2,
      replayed: [
        {
          instanceId: ids.failedOld,
          generation: 1,
          dataset: 'meter_readings',
          source: 'headend_utc',
          path: paths.failedOld,
        },
        {
          instanceId: ids.failedNew,
          generation: 1,
          dataset: 'meter_readings',
          source: 'headend_utc',
          path: paths.failedNew,
        },
      ],
      refused: [],
      dryRun: true,
    });
    expect((await show(ids.failedOld)).runtimeStatus).toBe('Failed');
    expect((await show(ids.failedNew)).runtimeStatus).toBe('Failed');
  });

  it.each([
    [{}, /^max: required/],
    [{ max: 0 }, /^max: must be at least 1/],
    [{ max: 1001 }, /^max: must be at most 1000/],
    [{ max: 1.5 }, /^max: expected a whole number/],
    [{ max: 5, runtimeStatus: ['Failed', 'Exploded'] }, /^runtimeStatus: 'Exploded' is not a runtime status/],
    [{ max: 5, from: 'last week' }, /^from: /],
    [{ max: 5, dryRun: 'yes' }, /^dryRun: expected true or false/],
    [{ max: 5, everything: true }, /^everything: unknown field$/],
    ['{"max": ', /^body: not valid JSON/],
    [[1, 2], /^body: expected a JSON object/],
  ])('when the body is %j, then the answer is 400 naming the field', async (body, message) => {
    const response = await world.api<ApiErrorBody>('POST', '/api/runs/replay', body);

    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      code: 'INVALID_REQUEST',
      message: expect.stringMatching(message) as string,
    });
  });

  it.each([
    [{ max: 10, runtimeStatus: 'Completed' }],
    [{ max: 10, runtimeStatus: ['Failed', 'Completed'], dryRun: true }],
  ])(
    'when the body %j selects Completed runs without includeCompleted, then the answer is 400 COMPLETED_REPLAY_NOT_CONFIRMED and nothing starts',
    async (body) => {
      const response = await world.api<ApiErrorBody>('POST', '/api/runs/replay', body);

      expect(response.status).toBe(400);
      expect(response.body.code).toBe('COMPLETED_REPLAY_NOT_CONFIRMED');
      expect((await show(ids.rejected)).generation).toBe(0);
    },
  );

  it('when Completed runs are selected with includeCompleted, then a dry run lists them', async () => {
    const response = await world.api<BulkReplayResult>('POST', '/api/runs/replay', {
      max: 10,
      runtimeStatus: 'Completed',
      includeCompleted: true,
      dryRun: true,
    });

    expect(response.status).toBe(200);
    expect(response.body.replayed.map((r) => r.instanceId)).toEqual([ids.rejected, ids.customers]);
  });
});

describe('replays', () => {
  it('when a failed run is replayed, then generation 1 starts; a second replay while it runs is refused with 409', async () => {
    const replay = await world.api<Record<string, unknown>>('POST', `/api/runs/${ids.failedOld}/replay`);

    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({
      instanceId: ids.failedOld,
      generation: 1,
      trigger: 'replay',
      links: { run: `/api/runs/${ids.failedOld}`, replay: `/api/runs/${ids.failedOld}/replay` },
    });
    expect(replay.headers.get('location')).toBe(`/api/runs/${ids.failedOld}`);

    // The new generation waits for its first activity retry timer: the clock has not moved.
    await world.run();
    expect((await show(ids.failedOld)).runtimeStatus).toBe('Running');
    const again = await world.api<ApiErrorBody>('POST', `/api/runs/${ids.failedOld}/replay`);
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      code: 'RUN_ACTIVE',
      message: `run ${ids.failedOld} is Running; replay it once it has ended`,
    });

    await world.run(HOUR);
    const run = await show(ids.failedOld);
    expect(run).toMatchObject({ runtimeStatus: 'Failed', generation: 1, trigger: 'replay' });
    expect(run.audit).toMatchObject({ generation: 1, trigger: 'replay', status: 'failed' });
  });

  it('when a run is replayed, then the caller is recorded in the replay input and its audit record', async () => {
    const run = await show(ids.failedOld);

    expect(run.requestedBy).toEqual(LOCAL_CALLER);
    expect(run.audit?.requestedBy).toEqual(LOCAL_CALLER);
  });

  it('when a run was started by its event, then no caller is recorded', async () => {
    const run = await show(ids.failedNew);

    expect([run.requestedBy, run.audit?.requestedBy]).toEqual([null, null]);
  });

  it('when a started reply is serialized, then it holds no task hub URL and no key', async () => {
    const response = await world.api<Record<string, unknown>>('POST', '/api/files/reprocess', {
      path: paths.customers,
    });
    const text = JSON.stringify(response.body);

    expect(response.status).toBe(202);
    expect(text).not.toMatch(/runtime\/webhooks|code=|taskHub|connection=/i);
    await world.run(HOUR);
  });

  it('when an unknown run is replayed, then the answer is 404 RUN_NOT_FOUND', async () => {
    const response = await world.api<ApiErrorBody>('POST', `/api/runs/${UNKNOWN_ID}/replay`);

    expect(response.status).toBe(404);
    expect(response.body.code).toBe('RUN_NOT_FOUND');
  });

  it('when a bulk replay has max 1, then only the oldest matching run is replayed; active matches are refused one by one', async () => {
    // failedOld was replayed above, so its current generation is now the newer one.
    const first = await world.api<BulkReplayResult>('POST', '/api/runs/replay', { max: 1 });

    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ matched: 2, dryRun: false, refused: [] });
    expect(first.body.replayed).toEqual([
      {
        instanceId: ids.failedNew,
        generation: 1,
        dataset: 'meter_readings',
        source: 'headend_utc',
        path: paths.failedNew,
      },
    ]);
    await world.run();

    const second = await world.api<BulkReplayResult>('POST', '/api/runs/replay', {
      runtimeStatus: 'Failed,Running',
      dataset: 'meter_readings',
      max: 10,
    });
    expect(second.body.matched).toBe(2);
    expect(second.body.replayed).toEqual([
      expect.objectContaining({ instanceId: ids.failedOld, generation: 2 }),
    ]);
    expect(second.body.refused).toEqual([
      {
        instanceId: ids.failedNew,
        code: 'RUN_ACTIVE',
        message: expect.stringContaining('is Running') as string,
      },
    ]);

    await world.run(HOUR);
    expect(await show(ids.failedOld)).toMatchObject({ runtimeStatus: 'Failed', generation: 2 });
    expect(await show(ids.failedNew)).toMatchObject({ runtimeStatus: 'Failed', generation: 1 });
  });
});

describe('POST /api/files/reprocess', () => {
  it('when the file version already has a run, then that run is replayed with trigger reprocess', async () => {
    const response = await world.api<Record<string, unknown>>('POST', '/api/files/reprocess', {
      path: paths.rejected,
    });

    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ instanceId: ids.rejected, generation: 1, trigger: 'reprocess' });
    await world.run(HOUR);
    const run = await show(ids.rejected);
    expect(run).toMatchObject({
      runtimeStatus: 'Completed',
      generation: 1,
      trigger: 'reprocess',
      verdict: 'rejected',
    });
    expect(run.audit).toMatchObject({ generation: 1, trigger: 'reprocess' });
  });

  it('when the blob was never announced, then generation 0 of its current version starts with trigger reprocess', async () => {
    const path = landingPath('meter_readings', 'headend_utc', DAY, 'never-announced.csv');
    const { etag } = await world.land(path, badHeaderCsv());

    const response = await world.api<Record<string, unknown>>('POST', '/api/files/reprocess', { path });

    const instanceId = ingestInstanceId({ container: 'bronze', path, etag, dataset: 'meter_readings' });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ instanceId, generation: 0, trigger: 'reprocess' });
    await world.run(HOUR);
    expect(await show(instanceId)).toMatchObject({
      runtimeStatus: 'Completed',
      trigger: 'reprocess',
      verdict: 'rejected',
      path,
    });
  });

  it('when the blob does not exist, then the answer is 404 BLOB_NOT_FOUND', async () => {
    const path = landingPath('meter_readings', 'headend_utc', DAY, 'missing.csv');
    const response = await world.api<ApiErrorBody>('POST', '/api/files/reprocess', { path });

    expect(response.status).toBe(404);
    expect(response.body).toEqual({ code: 'BLOB_NOT_FOUND', message: `no blob at bronze/${path}` });
  });

  it.each([
    [{}, /^path: required/],
    [{ path: 42 }, /^path: expected a string/],
    [{ path: 'staging/meter_readings/x.csv' }, /^path: OUTSIDE_LANDING/],
    [{ path: 'landing/meter_readings/headend_utc/../../x.csv' }, /^path: (UNSAFE_PATH|BAD_LANDING_PATH)/],
    [{ path: 'landing/weather/acme/2025/10/26/x.csv' }, /^path: UNKNOWN_DATASET/],
    [{ path: 'landing/meter_readings/headend_utc/x.csv' }, /^path: BAD_LANDING_PATH/],
  ])('when the body is %j, then the answer is 400 naming path', async (body, message) => {
    const response = await world.api<ApiErrorBody>('POST', '/api/files/reprocess', body);

    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      code: 'INVALID_REQUEST',
      message: expect.stringMatching(message) as string,
    });
  });
});

describe('internal failures', () => {
  it('when the audit record cannot be read, then the answer is 500 INTERNAL without the details', async () => {
    const run = await show(ids.failedNew);
    await world.lake.overwrite('audit', run.auditPath!.slice('audit/'.length), '{"schemaVersion": "garbage"');

    const response = await world.api<ApiErrorBody>('GET', `/api/runs/${ids.failedNew}`);

    expect(response.status).toBe(500);
    expect(response.body.code).toBe('INTERNAL');
    expect(response.body.message).toMatch(
      /^internal error \(invocation [^)]+\); the details are in the function log$/,
    );
    expect(world.logs.some((record) => record.message.includes('runsShow failed'))).toBe(true);
  });
});

describe('price pulls', () => {
  it('when a price pull has run, then the API lists it as its own kind and shows it', async () => {
    const deliveryDay = '2026-01-02';
    const instanceId = priceInstanceId('energy-charts', 'NL', deliveryDay);
    const input = pullInput(
      { provider: 'energy-charts', zone: 'NL', deliveryDay },
      new Date(world.clock.now()),
      {
        giveUpHours: 0.1,
      },
    );
    const started = await fetch(
      `${world.baseUrl}/runtime/webhooks/durabletask/orchestrators/${PULL_ORCHESTRATION}/${instanceId}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-functions-key': world.key },
        body: JSON.stringify(input),
      },
    );
    expect(started.status).toBe(202);
    await world.run(HOUR);

    const pulls = await list('?kind=pricePull');
    const ingestions = await list('?kind=ingest');
    const run = (await world.api<RunDetail>('GET', `/api/runs/${instanceId}`)).body;

    expect(pulls.runs.map((r) => [r.kind, r.instanceId, r.dataset, r.source])).toEqual([
      ['pricePull', instanceId, 'prices', 'energy-charts'],
    ]);
    expect(ingestions.runs.every((r) => r.kind === 'ingest')).toBe(true);
    expect(run).toMatchObject({
      kind: 'pricePull',
      runtimeStatus: 'Failed',
      trigger: 'timer',
      pull: { provider: 'energy-charts', zone: 'NL', deliveryDay, ingestInstanceId: null },
    });
  });
});
