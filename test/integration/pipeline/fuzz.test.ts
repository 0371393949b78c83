import http from 'node:http';

import fc from 'fast-check';

import { ingestInstanceId } from '../../../lib/events/blobCreated';
import {
  headendCsv,
  LAKE_CONTAINERS,
  landingPath,
  moduleFile,
  PIPELINE_MODULES,
  type PipelineWorld,
  refusingDatabricks,
  startPipelineWorld,
} from './support';

/*
 * Property-based fuzzing (fast-check) of every HTTP route the app and the local host serve: the runs API, the
 * Event Grid webhook, the durable webhooks. For any method, path, query, headers and body: the host answers
 * (no crash, no hang), never with a 5xx, and a request it refuses (4xx) changes nothing, neither the durable
 * store nor the lake. Raw requests go through node:http so that malformed bodies, headers and paths reach the
 * server as sent.
 */

jest.setTimeout(240_000);

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
let world: PipelineWorld;
let databricks: Awaited<ReturnType<typeof refusingDatabricks>>;
let realId = '';

beforeAll(async () => {
  databricks = await refusingDatabricks();
  world = await startPipelineWorld({
    modules: [...PIPELINE_MODULES, moduleFile('functions/runsApi.ts')],
    env: { DATABRICKS_HOST: databricks.url, DATABRICKS_AUTH: 'static', DATABRICKS_TOKEN: 'refused' },
  });
  // One real run (it fails at silver: Databricks refuses) so that ids and replays can hit something.
  const path = landingPath('meter_readings', 'headend_utc', '2025-10-26', 'fuzz.csv');
  const { etag } = await world.drop(path, headendCsv('M-FUZZ', '2025-10-26'));
  await world.run(3_600_000);
  realId = ingestInstanceId({ container: 'bronze', path, etag, dataset: 'meter_readings' });
});

afterAll(async () => {
  await world?.close();
  await databricks?.close();
});

interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function send(request: RawRequest): Promise<number> {
  const url = new URL(world.baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        // Framed: Node sends a GET or DELETE body unframed, and the server would read it as a second request.
        headers:
          request.body === undefined
            ? request.headers
            : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        timeout: 20_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer to ${request.method} ${request.path}`)));
    req.on('error', reject);
    if (request.body !== undefined) req.write(request.body);
    req.end();
  });
}

/** Everything a request could change: durable rows (instances, history, entities, messages) and lake objects. */
async function snapshot(): Promise<string> {
  const db = world.host.store.db;
  const tables = ['instances', 'history', 'entities', 'inbox', 'work', 'timer_triggers'];
  const counts = tables.map((table) => {
    const row = db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number };
    return `${table}=${row.n}`;
  });
  const statuses = db
    .prepare('SELECT instance_id, status, updated_at FROM instances ORDER BY instance_id')
    .all() as Array<{ instance_id: string; status: string; updated_at: number }>;
  const objects: string[] = [];
  for (const container of LAKE_CONTAINERS) {
    for await (const entry of world.lake.list(container))
      objects.push(`${container}/${entry.path}@${entry.etag}`);
  }
  return JSON.stringify({ counts, statuses, objects });
}

const segment = fc.oneof(
  fc.constantFrom('runs', 'replay', 'files', 'reprocess', '..', '.', '%2e%2e', '%00', '%2F', ''),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
  fc.constant('REAL_ID'),
  fc.stringMatching(/^ingest-[a-z_]{1,14}-[0-9a-f]{32}$/),
);
const query = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        'top',
        'status',
        'verdict',
        'dataset',
        'source',
        'createdFrom',
        'createdTo',
        'continuationToken',
        'includeCompleted',
        'max',
        'dryRun',
        'showInput',
        'functionName',
        'code',
        'x',
      ),
      fc.oneof(
        fc.string({ maxLength: 20 }),
        fc.integer().map(String),
        fc.constantFrom('true', '-1', '1e309'),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) =>
    pairs.length ? `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : '',
  );
const body = fc.oneof(
  fc.constant(undefined),
  fc.json(),
  fc.string({ maxLength: 200 }),
  fc.constant('{"instanceIds": ["REAL_ID"], "dryRun": true}'),
  fc.constant('{"status": "Failed", "max": 0}'),
  fc.constant('{"path": "landing/../../etc/passwd"}'),
  fc.constant('{'),
);
const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
);
const keyChoice = fc.constantFrom<'host' | 'none' | 'wrong'>('host', 'none', 'wrong');
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');

function withKey(
  headers: Record<string, string | undefined>,
  key: 'host' | 'none' | 'wrong',
): Record<string, string> {
  const all: Record<string, string | undefined> = {
    ...headers,
    'x-functions-key': key === 'host' ? world.key : key === 'wrong' ? 'not-the-key' : undefined,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Sends one request, lets the host finish what it started, and checks the properties. */
async function check(request: RawRequest): Promise<void> {
  const resolved = {
    ...request,
    path: request.path.replaceAll('REAL_ID', realId),
    body: request.body?.replaceAll('REAL_ID', realId),
  };
  const before = await snapshot();
  const status = await send(resolved);
  await world.run();
  if (status >= 500) throw new Error(`${status} for ${JSON.stringify(resolved)}`);
  const after = await snapshot();
  if (status >= 400 && after !== before) {
    throw new Error(
      `refused with ${status} but changed state: ${JSON.stringify(resolved)}\nbefore ${before}\nafter  ${after}`,
    );
  }
}

it('when any request reaches the runs API, then it is answered below 500 and a refusal changes nothing', async () => {
  await fc.assert(
    fc.asyncProperty(
      method,
      fc.array(segment, { minLength: 0, maxLength: 4 }),
      query,
      body,
      contentType,
      keyChoice,
      async (verb, segments, search, payload, type, key) => {
        await check({
          method: verb,
          path: `/api/runs${segments.length ? '/' : ''}${segments.join('/')}${search}`,
          headers: withKey({ 'content-type': type }, key),
          body: verb === 'GET' || verb === 'HEAD' ? undefined : payload,
        });
      },
    ),
    { numRuns: RUNS },
  );
});

it('when any request reaches the file reprocess route, then it is answered below 500 and a refusal changes nothing', async () => {
  const paths = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.constantFrom(
      'landing/meter_readings/headend_utc/2025/10/26/fuzz.csv',
      'landing/meter_readings/headend_utc/2025/10/26/none.csv',
      'landing/../staging/x',
      '/landing/x',
      'landing/meterreadings/x/2025/10/26/a.csv',
    ),
  );
  await fc.assert(
    fc.asyncProperty(method, paths, contentType, fc.boolean(), async (verb, path, type, asJson) => {
      await check({
        method: verb,
        path: '/api/files/reprocess',
        headers: withKey({ 'content-type': type }, 'host'),
        body: asJson ? JSON.stringify({ path, dryRun: true }) : path,
      });
    }),
    { numRuns: RUNS },
  );
});

const eventArbitrary = fc.record(
  {
    id: fc.oneof(fc.uuid(), fc.string({ maxLength: 10 })),
    eventType: fc.constantFrom('Microsoft.Storage.BlobCreated', 'Microsoft.Storage.BlobDeleted', 'x'),
    subject: fc.oneof(
      fc.constantFrom(
        '/blobServices/default/containers/bronze/blobs/landing/meter_readings/headend_utc/2025/10/26/fuzz.csv',
        '/blobServices/default/containers/bronze/blobs/landing/meter_readings/headend_utc/2025/10/26/missing.csv',
        '/blobServices/default/containers/bronze/blobs/landing/../../audit/x',
        '/blobServices/default/containers/audit/blobs/runs/x.json',
      ),
      fc.string({ maxLength: 60 }),
    ),
    eventTime: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.string({ maxLength: 8 }),
    ),
    dataVersion: fc.constant('1'),
    data: fc.oneof(
      fc.record({
        api: fc.constantFrom('PutBlob', 'PutBlockList', 'CreateFile', 'FlushWithClose', ''),
        eTag: fc.oneof(fc.constant('0x8DC0000000000000'), fc.string({ maxLength: 20 })),
        contentLength: fc.oneof(fc.nat(), fc.integer({ min: -5, max: -1 })),
        contentType: fc.constantFrom('text/csv', 'application/x-directory'),
        sequencer: fc.stringMatching(/^[0-9a-f]{0,32}$/),
      }),
      fc.anything(),
    ),
  },
  { requiredKeys: [] },
);

it('when any payload reaches the Event Grid webhook, then it is answered below 500 and a refusal changes nothing', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.array(eventArbitrary, { maxLength: 3 }).map((e) => JSON.stringify(e)),
        fc.string({ maxLength: 100 }),
      ),
      fc.constantFrom('Notification', 'SubscriptionValidation', 'Bogus', undefined),
      fc.constantFrom('bronzeBlobCreated', 'runsList', 'nope', ''),
      keyChoice,
      contentType,
      async (payload, eventType, functionName, key, type) => {
        await check({
          method: 'POST',
          path: `/runtime/webhooks/eventgrid?functionName=${encodeURIComponent(functionName)}`,
          headers: withKey({ 'content-type': type, 'aeg-event-type': eventType }, key),
          body: payload,
        });
      },
    ),
    { numRuns: RUNS },
  );
});

it('when any request reaches the durable webhooks, then it is answered below 500 and a refusal changes nothing', async () => {
  const tails = fc.constantFrom(
    '',
    '/raiseEvent/batch-silver-done',
    '/terminate',
    '/rewind',
    '/suspend',
    '/resume',
    '/purge',
    '/x/y/z',
  );
  const ids = fc.oneof(segment, fc.constant(''));
  const kinds = fc.constantFrom(
    'instances',
    'entities/batchQueue',
    'entities',
    'orchestrators/ingestFile',
    'nope',
  );
  await fc.assert(
    fc.asyncProperty(
      method,
      kinds,
      ids,
      tails,
      query,
      body,
      contentType,
      keyChoice,
      async (verb, kind, id, tail, search, payload, type, key) => {
        // Terminating, purging or signalling the real run with the right key is allowed to change it; the
        // property is about refusals and 5xx, so the real id goes only where it cannot be acted on.
        const target = id === 'REAL_ID' && tail !== '' ? 'not-real' : id;
        await check({
          method: verb,
          path: `/runtime/webhooks/durabletask/${kind}${target ? `/${target}` : ''}${tail}${search}`,
          headers: withKey({ 'content-type': type }, key),
          body: verb === 'GET' || verb === 'HEAD' ? undefined : payload,
        });
      },
    ),
    { numRuns: RUNS },
  );
});

it('when a request names a foreign Host or comes from a web page, then it is refused and changes nothing', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(
        '/api/runs/REAL_ID/replay',
        '/api/runs/replay',
        '/runtime/webhooks/durabletask/instances/REAL_ID/terminate',
      ),
      fc.oneof(
        fc.record({ host: fc.constantFrom('evil.example', 'localhost.evil.example:7071', '127.0.0.1:1') }),
        fc.record({
          origin: fc.constantFrom('https://evil.example', 'null', 'http://127.0.0.1.evil.example'),
        }),
      ),
      async (path, extra) => {
        const request: RawRequest = {
          method: 'POST',
          path,
          headers: withKey({ 'content-type': 'application/json', ...extra }, 'host'),
          body: '{}',
        };
        const before = await snapshot();
        const status = await send({ ...request, path: path.replaceAll('REAL_ID', realId) });
        await world.run();
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(500);
        expect(await snapshot()).toBe(before);
      },
    ),
    { numRuns: 30 },
  );
});
