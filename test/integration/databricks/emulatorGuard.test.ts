import { randomUUID } from 'node:crypto';
import { promises as fs, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { JobsEmulator } from '../../../local/databricks/emulator';
import { rawRequest } from '../../helpers/rawHttp';
import { FIXTURE_BUNDLE, REPO_ROOT } from './support';

// Emulators started the way `lakewatt dev` and `lakewatt jobs serve` start them: no token given. No Spark
// worker starts here (no run is executed).

const homes: string[] = [];
const emulators: JobsEmulator[] = [];

async function start(): Promise<JobsEmulator> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-jobs-guard-'));
  homes.push(home);
  const emulator = await JobsEmulator.start({
    bundleDir: FIXTURE_BUNDLE,
    home,
    port: 0,
    repoRoot: REPO_ROOT,
    env: {},
  });
  emulators.push(emulator);
  return emulator;
}

let emulator: JobsEmulator;
let home: string;

beforeAll(async () => {
  emulator = await start();
  home = homes[0]!;
});

afterAll(async () => {
  for (const started of emulators) await started.close();
  for (const dir of homes) await fs.rm(dir, { recursive: true, force: true });
});

/** A raw request, so the Host header can be anything (fetch sets its own). */
function request(
  method: string,
  route: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return rawRequest(emulator.port, method, route, headers, body);
}

const authorized = (): Record<string, string> => ({
  host: `127.0.0.1:${emulator.port}`,
  authorization: `Bearer ${emulator.token}`,
});

describe('the Jobs emulator token', () => {
  it('when the emulator starts without a configured token, then it writes a random one to LAKEWATT_HOME/secrets/jobs-token with mode 0600', async () => {
    const file = path.join(home, 'secrets', 'jobs-token');
    expect((await fs.readFile(file, 'utf8')).trim()).toBe(emulator.token);
    expect(emulator.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it('when another emulator starts, then its token is another one', async () => {
    const other = await start();
    expect(other.token).not.toBe(emulator.token);
  });

  it('when a request carries no token, then it is refused with 401 UNAUTHENTICATED', async () => {
    const answer = await request('GET', '/api/2.2/jobs/list', { host: `127.0.0.1:${emulator.port}` });
    expect(answer).toEqual({
      status: 401,
      json: { error_code: 'UNAUTHENTICATED', message: expect.stringContaining('jobs-token') as unknown },
    });
  });

  it('when a request carries another token, then it is refused with 401', async () => {
    const answer = await request('GET', '/api/2.2/jobs/list', {
      host: `127.0.0.1:${emulator.port}`,
      authorization: `Bearer ${randomUUID()}`,
    });
    expect(answer.status).toBe(401);
  });

  it('when a request carries the token, then it is answered', async () => {
    const answer = await request('GET', '/api/2.2/jobs/list', authorized());
    expect(answer.status).toBe(200);
    expect(answer.json.jobs).toEqual(
      expect.arrayContaining([expect.objectContaining({ job_id: expect.any(Number) as unknown })]),
    );
  });
});

describe('the Jobs emulator caller checks', () => {
  it('when the Host header names another site (DNS rebinding), then it answers 421 even with the token', async () => {
    const answer = await request('GET', '/api/2.2/jobs/list', {
      ...authorized(),
      host: `evil.example:${emulator.port}`,
    });
    expect(answer).toMatchObject({ status: 421, json: { error_code: 'MISDIRECTED_REQUEST' } });
  });

  it('when localhost:<port> is the Host, then it is answered', async () => {
    const answer = await request('GET', '/api/2.2/jobs/list', {
      ...authorized(),
      host: `localhost:${emulator.port}`,
    });
    expect(answer.status).toBe(200);
  });

  it('when a web page of another origin calls, then it answers 403 even with the token', async () => {
    const answer = await request('GET', '/api/2.2/jobs/list', {
      ...authorized(),
      origin: 'https://evil.example',
    });
    expect(answer).toMatchObject({ status: 403, json: { error_code: 'FORBIDDEN_ORIGIN' } });
  });

  it('when a run-now body is sent as text/plain, then it answers 415 and starts no run', async () => {
    const body = JSON.stringify({ job_id: 1 });
    const answer = await request(
      'POST',
      '/api/2.2/jobs/run-now',
      { ...authorized(), 'content-type': 'text/plain' },
      body,
    );
    expect(answer).toMatchObject({ status: 415, json: { error_code: 'UNSUPPORTED_MEDIA_TYPE' } });
    const runs = await request('GET', '/api/2.2/jobs/runs/list', authorized());
    expect(runs.json.runs ?? []).toEqual([]);
  });

  it('when a SQL statement body is sent as a form, then it answers 415', async () => {
    const answer = await request(
      'POST',
      '/api/2.0/sql/statements',
      { ...authorized(), 'content-type': 'application/x-www-form-urlencoded' },
      JSON.stringify({ statement: 'SELECT 1', warehouse_id: 'x' }),
    );
    expect(answer.status).toBe(415);
  });

  it('when a run page is opened without the token, then it is served (a browser link), on its own Host only', async () => {
    const page = await request('GET', '/jobs/1/runs/999', { host: `127.0.0.1:${emulator.port}` });
    expect(page.status).toBe(404);
    const rebound = await request('GET', '/jobs/1/runs/999', { host: `evil.example:${emulator.port}` });
    expect(rebound.status).toBe(421);
  });
});
