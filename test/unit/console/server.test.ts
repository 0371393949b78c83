import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { CONSOLE_TOKEN_HEADER, CONSOLE_WAREHOUSE_ID, ConsoleServer } from '../../../local/console/server';
import { rawRequest } from '../../helpers/rawHttp';
import { type RecordingServer, recordingServer } from '../../helpers/recordingServer';

/*
 * The console server's own rules: what it serves, what it forwards where, and what it refuses. The Functions
 * host and the Jobs emulator behind it are stood in for by a recording upstream (a fake: it answers every
 * request with what it received), so each test sees exactly what the console sent on.
 */

const TOKEN = 'emulator-token-for-this-test';
const CONSOLE_TOKEN = 'console-token-for-this-test';
const signedIn = { [CONSOLE_TOKEN_HEADER]: CONSOLE_TOKEN };
let assets: string;
let host: RecordingServer;
let warehouse: RecordingServer;
let consoleServer: ConsoleServer;

beforeAll(async () => {
  assets = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-console-'));
  writeFileSync(path.join(assets, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(path.join(assets, 'main.js'), 'export {};');
  host = await recordingServer();
  warehouse = await recordingServer();
  consoleServer = await ConsoleServer.start({
    port: 0,
    hostUrl: host.url,
    sql: { url: warehouse.url, token: TOKEN },
    assetsDir: assets,
    callerName: 'console-test',
    token: CONSOLE_TOKEN,
  });
});

afterAll(async () => {
  await consoleServer.close();
  for (const upstream of [host, warehouse]) {
    upstream.server.closeAllConnections();
    await upstream.close();
  }
  rmSync(assets, { recursive: true, force: true });
});

beforeEach(() => {
  host.seen.length = 0;
  warehouse.seen.length = 0;
});

const at = (route: string): string => new URL(route, consoleServer.origin).toString();

describe('the console server', () => {
  it('when the page is asked for, then it is served with a policy that allows only its own origin', async () => {
    const response = await fetch(consoleServer.url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('<!doctype html><title>t</title>');
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
  });

  it('when a runs API route is called, then it reaches the host with the console as the caller', async () => {
    const response = await fetch(at('/api/runs?runtimeStatus=Failed'), { headers: signedIn });
    expect(response.status).toBe(200);
    expect(host.seen).toEqual([
      expect.objectContaining({ method: 'GET', url: '/api/runs?runtimeStatus=Failed' }),
    ]);
    expect(host.seen[0]!.headers['x-lakewatt-caller']).toBe('console-test');
    expect(host.seen[0]!.headers.authorization).toBeUndefined();
  });

  it('when a statement is executed, then the warehouse gets it with the emulator token and the console’s warehouse id', async () => {
    const response = await fetch(at('/api/2.0/sql/statements'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedIn },
      body: JSON.stringify({ statement: 'SELECT 1', warehouse_id: 'chosen-by-page' }),
    });
    expect(response.status).toBe(200);
    expect(warehouse.seen).toHaveLength(1);
    expect(warehouse.seen[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(warehouse.seen[0]!.body)).toEqual({
      statement: 'SELECT 1',
      warehouse_id: CONSOLE_WAREHOUSE_ID,
    });
  });

  it('when a statement’s result chunk is asked for, then the request goes to the warehouse unchanged', async () => {
    await fetch(at('/api/2.0/sql/statements/abc-123/result/chunks/1'), { headers: signedIn });
    expect(warehouse.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /api/2.0/sql/statements/abc-123/result/chunks/1',
    ]);
  });

  it('when a route outside the runs and SQL APIs is asked for, then it answers 404 and forwards nothing', async () => {
    for (const route of [
      '/api/files/reprocess',
      '/admin/host/status',
      '/api/2.1/jobs/list',
      '/lakewatt/faults',
    ]) {
      const response = await fetch(at(route), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signedIn },
      });
      expect(response.status).toBe(404);
    }
    expect([...host.seen, ...warehouse.seen]).toEqual([]);
  });

  it('when an API route is called without the console token, then it answers 401 and forwards nothing', async () => {
    const attempts: Array<Record<string, string>> = [{}, { [CONSOLE_TOKEN_HEADER]: 'guessed' }];
    for (const headers of attempts) {
      const response = await fetch(at('/api/2.0/sql/statements'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{"statement":"SELECT * FROM bronze.customers"}',
      });
      expect(response.status).toBe(401);
    }
    expect(warehouse.seen).toEqual([]);
  });

  it('when two consoles start, then each has a token of its own, carried by the address to open', async () => {
    const other = await ConsoleServer.start({ port: 0, hostUrl: host.url, assetsDir: assets });
    try {
      expect(other.token).not.toBe(CONSOLE_TOKEN);
      expect(other.token.length).toBeGreaterThanOrEqual(32);
      expect(other.url).toBe(`${other.origin}/?token=${other.token}`);
    } finally {
      await other.close();
    }
  });

  it('when another site’s page calls it (a foreign Origin), then it answers 403 and forwards nothing', async () => {
    const response = await fetch(at('/api/runs/x/replay'), {
      method: 'POST',
      headers: { origin: 'https://elsewhere.example', 'content-type': 'application/json', ...signedIn },
      body: '{}',
    });
    expect(response.status).toBe(403);
    expect(host.seen).toEqual([]);
  });

  it('when a request names another host (DNS rebinding), then it answers 421', async () => {
    const port = Number(new URL(consoleServer.origin).port);
    const reply = await rawRequest(port, 'GET', '/api/runs', { host: `rebound.example:${port}` });
    expect(reply.status).toBe(421);
    expect(host.seen).toEqual([]);
  });

  it('when a POST body is not JSON, then it answers 415 and forwards nothing', async () => {
    const response = await fetch(at('/api/runs/replay'), {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...signedIn },
      body: '{"max": 1}',
    });
    expect(response.status).toBe(415);
    expect(host.seen).toEqual([]);
  });

  it('when the built page is missing, then the page answers 503 saying how to build it', async () => {
    const bare = await ConsoleServer.start({
      port: 0,
      hostUrl: host.url,
      assetsDir: path.join(assets, 'none'),
    });
    try {
      const response = await fetch(bare.url);
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('make build');
    } finally {
      await bare.close();
    }
  });

  it('when there is no warehouse (no Jobs emulator), then the SQL routes answer 503 SQL_UNAVAILABLE', async () => {
    const bare = await ConsoleServer.start({ port: 0, hostUrl: host.url, assetsDir: assets });
    try {
      const response = await fetch(new URL('/api/2.0/sql/statements', bare.origin), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CONSOLE_TOKEN_HEADER]: bare.token },
        body: '{"statement":"SELECT 1"}',
      });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ code: 'SQL_UNAVAILABLE' });
    } finally {
      await bare.close();
    }
  });
});
