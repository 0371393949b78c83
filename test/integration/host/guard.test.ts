import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { keyedCalls } from '../../fixtures/keyed-http';
import { rawRequest } from '../../helpers/rawHttp';
import { moduleFile, PIPELINE_MODULES, type PipelineWorld, startPipelineWorld } from '../pipeline/support';
import { startTestHost } from './harness';

const KEYED_APP = path.resolve(__dirname, '../../fixtures/keyed-http.ts');

// The local Functions host with the app's real functions, and one function-level route (`/api/keyed`): the runs
// API itself is anonymous at the function level (Entra ID guards it in Azure).
let world: WorldWithPort;

type WorldWithPort = PipelineWorld & { port: number };

beforeAll(async () => {
  const started = await startPipelineWorld({
    modules: [...PIPELINE_MODULES, moduleFile('functions/runsApi.ts'), KEYED_APP],
  });
  world = Object.assign(started, { port: started.host.port });
});

afterAll(async () => {
  await world?.close();
});

/** A raw request, so Host and Origin can be anything. */
function request(
  method: string,
  route: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return rawRequest(world.port, method, route, { host: `127.0.0.1:${world.port}`, ...headers }, body);
}

const REPLAY = '/api/keyed';

describe('the host key', () => {
  it('when the host starts, then its key is in LAKEWATT_HOME/secrets/host-key with mode 0600', () => {
    const file = path.join(world.home, 'secrets', 'host-key');
    expect(readFileSync(file, 'utf8').trim()).toBe(world.host.key);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('when a host restarts on the same state folder, then it issues a new key', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-host-key-'));
    try {
      const first = await startTestHost({ home });
      const firstKey = first.host.key;
      await first.close();
      const second = await startTestHost({ home });
      await second.close();
      expect(second.host.key).not.toBe(firstKey);
      expect(readFileSync(path.join(home, 'secrets', 'host-key'), 'utf8').trim()).toBe(second.host.key);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('when a function-level route is called without a key, then it answers 401 and the function does not run', async () => {
    const before = keyedCalls.count;
    const answer = await request('POST', REPLAY);
    expect(answer).toEqual({
      status: 401,
      json: { code: 'UNAUTHENTICATED', message: expect.stringContaining('host-key') as unknown },
    });
    expect(keyedCalls.count).toBe(before);
  });

  it('when the key is wrong, then it answers 401', async () => {
    expect((await request('POST', `${REPLAY}?code=not-the-key`)).status).toBe(401);
  });

  it('when the key comes as the code query parameter, then the function answers', async () => {
    const answer = await request('POST', `${REPLAY}?code=${world.host.key}`);
    expect(answer).toMatchObject({ status: 200, json: { ran: true } });
  });

  it('when the key comes as the x-functions-key header, then the function answers', async () => {
    const answer = await request('POST', REPLAY, { 'x-functions-key': world.host.key });
    expect(answer).toMatchObject({ status: 200, json: { ran: true } });
  });

  it('when the durable management API terminates without a key, then it answers 401', async () => {
    const answer = await request(
      'POST',
      '/runtime/webhooks/durabletask/instances/some-id/terminate?reason=x',
    );
    expect(answer).toMatchObject({ status: 401, json: { code: 'UNAUTHENTICATED' } });
  });

  it("when the durable client's rpc route is called without the key segment, then it answers 401", async () => {
    const rpcBaseUrl = String(world.host.clientBindingData().rpcBaseUrl);
    expect(rpcBaseUrl).toBe(`${world.host.baseUrl}/durabletask/${world.host.key}/`);
    const answer = await request('GET', '/durabletask/instances/some-id');
    expect(answer.status).toBe(401);
  });

  it('when the Event Grid webhook is called without a key, then it answers 401', async () => {
    const answer = await request(
      'POST',
      '/runtime/webhooks/eventgrid?functionName=bronzeBlobCreated',
      { 'aeg-event-type': 'Notification', 'content-type': 'application/json' },
      '[]',
    );
    expect(answer.status).toBe(401);
  });

  it('when the admin status route is called without a key, then it answers 401', async () => {
    expect((await request('GET', '/admin/host/status')).status).toBe(401);
  });
});

describe('the host caller checks', () => {
  it('when a web page of another origin calls a function, even with the key, then it answers 403', async () => {
    const answer = await request('POST', `${REPLAY}?code=${world.host.key}`, {
      origin: 'https://evil.example',
    });
    expect(answer).toMatchObject({ status: 403, json: { code: 'FORBIDDEN_ORIGIN' } });
  });

  it("when the page is the host's own origin, then it is answered", async () => {
    const answer = await request('POST', `${REPLAY}?code=${world.host.key}`, {
      origin: `http://localhost:${world.port}`,
    });
    expect(answer.status).toBe(200);
  });

  it('when the Host header names another site (DNS rebinding), then it answers 421', async () => {
    const answer = await request('POST', `${REPLAY}?code=${world.host.key}`, {
      host: `evil.example:${world.port}`,
    });
    expect(answer).toMatchObject({ status: 421, json: { code: 'MISDIRECTED_REQUEST' } });
  });

  it('when an orchestration start has a text/plain body, then it answers 415 and starts nothing', async () => {
    const answer = await request(
      'POST',
      `/runtime/webhooks/durabletask/orchestrators/ingestFile/plain-text-start?code=${world.host.key}`,
      { 'content-type': 'text/plain' },
      JSON.stringify({ anything: true }),
    );
    expect(answer).toMatchObject({ status: 415, json: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    expect(world.host.engine.exists('plain-text-start')).toBe(false);
  });

  it('when an Event Grid delivery has a text/plain body, then it answers 415', async () => {
    const answer = await request(
      'POST',
      `/runtime/webhooks/eventgrid?functionName=bronzeBlobCreated&code=${world.host.key}`,
      { 'aeg-event-type': 'Notification', 'content-type': 'text/plain' },
      '[]',
    );
    expect(answer.status).toBe(415);
  });
});
