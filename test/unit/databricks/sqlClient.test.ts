import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  DatabricksApiError,
  DatabricksRequestError,
  DatabricksStatementError,
  errorClassOf,
  firstParagraph,
  SqlClient,
  StaticTokenProvider,
  toRecords,
  typedValue,
} from '../../../lib/databricks';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A SqlClient against a loopback server answering with the handler, which sees each request's body. */
async function clientFor(handler: Handler): Promise<SqlClient> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return new SqlClient({
    host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tokens: new StaticTokenProvider('t'),
    requestTimeoutMs: 2000,
    pollIntervalMs: 1,
    retry: { maxAttempts: 3, baseDelayMs: 1 },
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const SUCCEEDED = {
  statement_id: 's1',
  status: { state: 'SUCCEEDED' },
  manifest: {
    format: 'JSON_ARRAY',
    schema: {
      column_count: 2,
      columns: [
        { name: 'n', type_name: 'LONG', type_text: 'BIGINT', position: 0 },
        { name: 'tags', type_name: 'ARRAY', type_text: 'ARRAY<STRING>', position: 1 },
      ],
    },
    total_row_count: 1,
    truncated: false,
  },
  result: { chunk_index: 0, row_count: 1, data_array: [['7', '["a","b"]']] },
};

describe('SqlClient.executeStatement', () => {
  it('when the statement is still running, then it polls GET until SUCCEEDED and returns the rows', async () => {
    const seen: string[] = [];
    let posted: Record<string, unknown> = {};
    let polls = 0;
    const client = await clientFor((req, res, body) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.method === 'POST') {
        posted = JSON.parse(body) as Record<string, unknown>;
        json(res, 200, { statement_id: 's1', status: { state: 'PENDING' } });
      } else if (++polls < 3) json(res, 200, { statement_id: 's1', status: { state: 'RUNNING' } });
      else json(res, 200, SUCCEEDED);
    });
    const result = await client.executeStatement('SELECT 1', {
      warehouseId: 'w',
      waitTimeoutSeconds: 0,
      rowLimit: 5,
    });
    expect(posted).toMatchObject({
      statement: 'SELECT 1',
      warehouse_id: 'w',
      wait_timeout: '0s',
      on_wait_timeout: 'CONTINUE',
      format: 'JSON_ARRAY',
      disposition: 'INLINE',
      row_limit: 5,
    });
    expect(seen).toEqual([
      'POST /api/2.0/sql/statements',
      'GET /api/2.0/sql/statements/s1',
      'GET /api/2.0/sql/statements/s1',
      'GET /api/2.0/sql/statements/s1',
    ]);
    expect(result).toEqual({
      statementId: 's1',
      columns: [
        { name: 'n', typeName: 'LONG', typeText: 'BIGINT', position: 0 },
        { name: 'tags', typeName: 'ARRAY', typeText: 'ARRAY<STRING>', position: 1 },
      ],
      rows: [['7', '["a","b"]']],
      totalRowCount: 1,
      truncated: false,
    });
    expect(toRecords(result)).toEqual([{ n: 7, tags: ['a', 'b'] }]);
  });

  it('when the statement FAILED, then a DatabricksStatementError carries the code, the error class and one line', async () => {
    const message =
      "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601 (line 1, pos 0)\n\n== SQL ==\nSELEC 1\n^^^\n";
    const client = await clientFor((_req, res) =>
      json(res, 200, {
        statement_id: 's2',
        status: { state: 'FAILED', error: { error_code: 'BAD_REQUEST', message } },
      }),
    );
    const failure = client.executeStatement('SELEC 1', { warehouseId: 'w' });
    await expect(failure).rejects.toBeInstanceOf(DatabricksStatementError);
    await expect(failure).rejects.toMatchObject({
      code: 'DATABRICKS_STATEMENT_FAILED',
      statementId: 's2',
      state: 'FAILED',
      errorCode: 'BAD_REQUEST',
      errorClass: 'PARSE_SYNTAX_ERROR',
      apiMessage: message,
      message: "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601 (line 1, pos 0)",
    });
  });

  it('when the deadline passes while it runs, then the statement is cancelled and the error says so', async () => {
    const seen: string[] = [];
    const client = await clientFor((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url?.endsWith('/cancel')) json(res, 200, {});
      else json(res, 200, { statement_id: 's3', status: { state: 'RUNNING' } });
    });
    const failure = client.executeStatement('SELECT 1', { warehouseId: 'w', timeoutMs: 50 });
    await expect(failure).rejects.toMatchObject({ code: 'DATABRICKS_STATEMENT_TIMEOUT', statementId: 's3' });
    expect(seen.at(-1)).toBe('POST /api/2.0/sql/statements/s3/cancel');
  });

  it('when the POST answers 503, then it is retried; when it answers 400, then it is not', async () => {
    let calls = 0;
    const retried = await clientFor((_req, res) => {
      if (++calls === 1) json(res, 503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' });
      else json(res, 200, SUCCEEDED);
    });
    await expect(retried.executeStatement('SELECT 1', { warehouseId: 'w' })).resolves.toMatchObject({
      statementId: 's1',
    });
    expect(calls).toBe(2);
    const refused = await clientFor((_req, res) =>
      json(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'warehouse_id is required' }),
    );
    const failure = refused.executeStatement('SELECT 1', { warehouseId: 'w' });
    await expect(failure).rejects.toBeInstanceOf(DatabricksApiError);
    await expect(failure).rejects.toMatchObject({ status: 400, errorCode: 'INVALID_PARAMETER_VALUE' });
  });

  it('when waitTimeoutSeconds is outside 0 and 5 to 50, then the request is refused before it is sent', async () => {
    const client = await clientFor((_req, res) => json(res, 200, SUCCEEDED));
    await expect(
      client.executeStatement('SELECT 1', { warehouseId: 'w', waitTimeoutSeconds: 3 }),
    ).rejects.toThrow(DatabricksRequestError);
  });
});

describe('typedValue', () => {
  it.each([
    ['42', 'INT', 42],
    ['9007199254740993', 'LONG', '9007199254740993'],
    ['1.5', 'DOUBLE', 1.5],
    ['NaN', 'DOUBLE', 'NaN'],
    ['12.30', 'DECIMAL', 12.3],
    ['12345678901234567.89', 'DECIMAL', '12345678901234567.89'],
    ['true', 'BOOLEAN', true],
    ['{"a":1}', 'STRUCT', { a: 1 }],
    ['2026-01-15', 'DATE', '2026-01-15'],
    ['2026-01-15T10:00:00.000Z', 'TIMESTAMP', '2026-01-15T10:00:00.000Z'],
    [null, 'INT', null],
  ])('when %p is a %s, then it is typed as %p', (value, typeName, expected) => {
    expect(typedValue(value, typeName)).toEqual(expected);
  });
});

describe('error messages', () => {
  it('when a Spark message has an error class and an SQL excerpt, then the class and first paragraph are read', () => {
    const message =
      '[TABLE_OR_VIEW_NOT_FOUND] The table `gold`.`x` cannot be found.\nVerify the spelling.\n\n== SQL ==';
    expect(errorClassOf(message)).toBe('TABLE_OR_VIEW_NOT_FOUND');
    expect(firstParagraph(message)).toBe(
      '[TABLE_OR_VIEW_NOT_FOUND] The table `gold`.`x` cannot be found. Verify the spelling.',
    );
  });
});
