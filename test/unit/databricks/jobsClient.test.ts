import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  DatabricksConnectionError,
  DatabricksRequestError,
  DatabricksResponseError,
  JobsClient,
  parseRetryAfter,
  StaticTokenProvider,
  type TokenProvider,
} from '../../../lib/databricks';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback server answering with whatever the test's handler writes. */
async function serve(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function clientFor(
  handler: Handler,
  tokens: TokenProvider = new StaticTokenProvider('t'),
): Promise<JobsClient> {
  const { url, server } = await serve(handler);
  servers.push(server);
  return new JobsClient({
    host: url,
    tokens,
    requestTimeoutMs: 500,
    retry: { maxAttempts: 3, baseDelayMs: 1 },
  });
}

function json(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
}

describe('JobsClient against malformed answers', () => {
  it('when a 200 body is not JSON, then a DatabricksResponseError names the route', async () => {
    const client = await clientFor((_req, res) => json(res, 200, '<html>proxy error</html>'));
    await expect(client.getRun(1)).rejects.toThrow(DatabricksResponseError);
    await expect(client.getRun(1)).rejects.toThrow(
      /runs\/get returned an unexpected response: the body is not JSON/,
    );
  });

  it('when a 200 body lacks a required field, then a DatabricksResponseError lists the field', async () => {
    const client = await clientFor((_req, res) => json(res, 200, '{"number_in_job": 1}'));
    await expect(client.runNow({ jobId: 1 })).rejects.toThrow(/run_id/);
  });

  it('when a run carries unknown fields and enum values, then they are kept and parsing succeeds', async () => {
    const client = await clientFor((_req, res) =>
      json(res, 200, '{"run_id": 7, "brand_new": {"x": 1}, "status": {"state": "TELEPORTING"}}'),
    );
    const run = await client.getRun(7);
    expect(run.raw).toMatchObject({ brand_new: { x: 1 } });
    expect(run.outcome).toMatchObject({ kind: 'Failed', raw: { statusState: 'TELEPORTING' } });
  });

  it('when an error body has a numeric error_code, then the code is derived from the HTTP status', async () => {
    const client = await clientFor((_req, res) => json(res, 404, '{"error_code": 404, "message": "gone"}'));
    await expect(client.getRun(1)).rejects.toMatchObject({ errorCode: 'NOT_FOUND', apiMessage: 'gone' });
  });

  it('when an error body is not JSON, then its text becomes the message', async () => {
    const client = await clientFor((_req, res) => {
      res.writeHead(403);
      res.end('forbidden by policy');
    });
    await expect(client.getRun(1)).rejects.toMatchObject({
      errorCode: 'PERMISSION_DENIED',
      apiMessage: 'forbidden by policy',
    });
  });
});

describe('JobsClient transport', () => {
  it('when the server does not answer in time, then a DatabricksConnectionError says it timed out', async () => {
    const client = await clientFor(() => {
      // never answers
    });
    const error = await client.getRun(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabricksConnectionError);
    expect((error as DatabricksConnectionError).timedOut).toBe(true);
  });

  it('when nothing listens on the port, then a DatabricksConnectionError is thrown after the retries', async () => {
    const { url, server } = await serve(() => {});
    await new Promise((resolve) => server.close(resolve));
    const client = new JobsClient({
      host: url,
      tokens: new StaticTokenProvider('t'),
      retry: { maxAttempts: 2, baseDelayMs: 1 },
    });
    await expect(client.getRun(1)).rejects.toThrow(DatabricksConnectionError);
  });

  it('when the server answers 401 once, then the token is refreshed and the call retried', async () => {
    let calls = 0;
    const tokens = ['old', 'new'];
    const provider: TokenProvider = {
      getToken: () => Promise.resolve(tokens[0] ?? ''),
      invalidate: () => void tokens.shift(),
    };
    const client = await clientFor((req, res) => {
      calls++;
      if (req.headers.authorization === 'Bearer new') json(res, 200, '{"run_id": 3}');
      else json(res, 401, '{"error_code": "UNAUTHENTICATED", "message": "expired"}');
    }, provider);
    expect((await client.getRun(3)).runId).toBe(3);
    expect(calls).toBe(2);
  });

  it('when an idempotency token is longer than 64 characters, then run-now refuses to send it', async () => {
    const client = await clientFor((_req, res) => json(res, 200, '{"run_id": 1}'));
    await expect(client.runNow({ jobId: 1, idempotencyToken: 'x'.repeat(65) })).rejects.toThrow(
      DatabricksRequestError,
    );
  });

  it('when run-now is called, then the body carries job_id, job_parameters, idempotency_token and queue', async () => {
    let body = '';
    const client = await clientFor((req, res) => {
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => json(res, 200, '{"run_id": 5, "number_in_job": 2}'));
    });
    await client.runNow({ jobId: 9, jobParameters: { a: '1' }, idempotencyToken: 'tok', queue: true });
    expect(JSON.parse(body)).toEqual({
      job_id: 9,
      job_parameters: { a: '1' },
      idempotency_token: 'tok',
      queue: { enabled: true },
    });
  });
});

describe('parseRetryAfter', () => {
  it('when Retry-After holds seconds, then they are converted to milliseconds', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
  });

  it('when Retry-After holds an HTTP date, then the wait is the time until it', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
  });

  it('when Retry-After is garbage, then it is ignored', () => {
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});
