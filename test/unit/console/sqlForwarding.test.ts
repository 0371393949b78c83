import { randomUUID } from 'node:crypto';

import {
  answerStatementRequest,
  ConsoleSqlError,
  type ConsoleSqlSettings,
  USER_ACCESS_TOKEN_HEADER,
} from '../../../lib/console/sqlStatements';
import { type RecordingServer, recordingServer } from '../../helpers/recordingServer';

/*
 * The console's SQL as the Function App forwards it, against a fake Databricks workspace (Databricks cannot
 * run here): a local HTTP server that speaks the SQL Statement Execution API 2.0's shapes (execute, status,
 * result chunks; errors as {error_code, message}), knows one user's token and records every request.
 */

const USER_TOKEN = `user-token-${randomUUID()}`;
const STATEMENT_ID = '01ef-0000-1111-2222';
const MANIFEST = {
  format: 'JSON_ARRAY',
  schema: { column_count: 1, columns: [{ name: 'day', type_name: 'STRING', position: 0 }] },
  total_chunk_count: 2,
  total_row_count: 2,
};

/** The fake workspace: answers what the real API would for the one statement it knows. */
function fakeWorkspace(): Promise<RecordingServer> {
  return recordingServer((req, reply) => {
    if (req.headers.authorization !== `Bearer ${USER_TOKEN}`) {
      return reply(403, { error_code: 'PERMISSION_DENIED', message: 'User not authorized.' });
    }
    const base = '/api/2.0/sql/statements';
    if (req.method === 'POST' && req.url === base) {
      return reply(200, {
        statement_id: STATEMENT_ID,
        status: { state: 'SUCCEEDED' },
        manifest: MANIFEST,
        result: { chunk_index: 0, row_offset: 0, row_count: 1, data_array: [['2026-01-01']] },
      });
    }
    if (req.method === 'GET' && req.url === `${base}/${STATEMENT_ID}`) {
      return reply(200, { statement_id: STATEMENT_ID, status: { state: 'SUCCEEDED' }, manifest: MANIFEST });
    }
    if (req.method === 'GET' && req.url === `${base}/${STATEMENT_ID}/result/chunks/1`) {
      return reply(200, { chunk_index: 1, row_offset: 1, row_count: 1, data_array: [['2026-01-02']] });
    }
    return reply(404, { error_code: 'NOT_FOUND', message: `no ${req.method} ${req.url}` });
  });
}

let workspace: RecordingServer;
let settings: ConsoleSqlSettings;

beforeAll(async () => {
  workspace = await fakeWorkspace();
  settings = { workspaceUrl: workspace.url, warehouseId: 'abc123def4567890', catalog: 'lakewatt_test' };
});

afterAll(async () => {
  workspace.server.closeAllConnections();
  await workspace.close();
});

beforeEach(() => {
  workspace.seen.length = 0;
});

function pageRequest(method: string, rest: string, body?: unknown, token: string | null = USER_TOKEN) {
  const headers = new Headers(token === null ? {} : { [USER_ACCESS_TOKEN_HEADER]: token });
  return {
    method,
    rest,
    headers,
    text: () => Promise.resolve(body === undefined ? '' : JSON.stringify(body)),
  };
}

async function refusalOf(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConsoleSqlError) return { status: error.status, code: error.code };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('the console SQL forwarded as the signed-in user', () => {
  it('when the page executes a SELECT, then the workspace gets it with the user’s token, the configured warehouse and catalog', async () => {
    const reply = await answerStatementRequest(
      pageRequest('POST', '', { statement: 'SELECT 1', warehouse_id: 'page-choice', format: 'JSON_ARRAY' }),
      settings,
    );

    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({
      statement_id: STATEMENT_ID,
      status: { state: 'SUCCEEDED' },
    });
    expect(workspace.seen).toHaveLength(1);
    expect(workspace.seen[0]!.headers.authorization).toBe(`Bearer ${USER_TOKEN}`);
    expect(JSON.parse(workspace.seen[0]!.body)).toEqual({
      statement: 'SELECT 1',
      format: 'JSON_ARRAY',
      warehouse_id: 'abc123def4567890',
      catalog: 'lakewatt_test',
    });
  });

  it('when the page polls a statement and reads its second chunk, then both reach the workspace as GETs with the user’s token', async () => {
    const status = await answerStatementRequest(pageRequest('GET', STATEMENT_ID), settings);
    const chunk = await answerStatementRequest(
      pageRequest('GET', `${STATEMENT_ID}/result/chunks/1`),
      settings,
    );

    expect(JSON.parse(status.body)).toMatchObject({ status: { state: 'SUCCEEDED' } });
    expect(JSON.parse(chunk.body)).toMatchObject({ chunk_index: 1, data_array: [['2026-01-02']] });
    expect(workspace.seen.map((s) => `${s.method} ${s.url} ${s.headers.authorization}`)).toEqual([
      `GET /api/2.0/sql/statements/${STATEMENT_ID} Bearer ${USER_TOKEN}`,
      `GET /api/2.0/sql/statements/${STATEMENT_ID}/result/chunks/1 Bearer ${USER_TOKEN}`,
    ]);
  });

  it('when the workspace refuses the user, then its answer reaches the page unchanged', async () => {
    const reply = await answerStatementRequest(
      pageRequest('POST', '', { statement: 'SELECT 1' }, 'another-users-token-xyz'),
      settings,
    );

    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.body)).toEqual({
      error_code: 'PERMISSION_DENIED',
      message: 'User not authorized.',
    });
  });

  it('when the statement writes, then it is refused and nothing reaches the workspace', async () => {
    const refused = await refusalOf(
      answerStatementRequest(
        pageRequest('POST', '', { statement: 'DELETE FROM gold.daily_consumption' }),
        settings,
      ),
    );

    expect(refused).toEqual({ status: 400, code: 'STATEMENT_NOT_READ_ONLY' });
    expect(workspace.seen).toEqual([]);
  });

  it('when the token store gave no user token, then it answers 401 and nothing reaches the workspace', async () => {
    const refused = await refusalOf(
      answerStatementRequest(pageRequest('POST', '', { statement: 'SELECT 1' }, null), settings),
    );

    expect(refused).toEqual({ status: 401, code: 'USER_TOKEN_MISSING' });
    expect(workspace.seen).toEqual([]);
  });

  it('when the page asks to cancel a statement, then it is not forwarded', async () => {
    const refused = await refusalOf(
      answerStatementRequest(pageRequest('POST', `${STATEMENT_ID}/cancel`), settings),
    );

    expect(refused).toEqual({ status: 404, code: 'ROUTE_NOT_FORWARDED' });
    expect(workspace.seen).toEqual([]);
  });

  it('when no warehouse is configured, then it answers 503 naming the setting', async () => {
    const promise = answerStatementRequest(pageRequest('POST', '', { statement: 'SELECT 1' }), {
      ...settings,
      warehouseId: undefined,
    });

    await expect(promise).rejects.toThrow(/DATABRICKS_SQL_WAREHOUSE_ID/);
    expect(workspace.seen).toEqual([]);
  });
});
