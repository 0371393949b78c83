import { authHeaders } from './auth';

/**
 * The SQL Statement Execution API 2.0 as the page uses it: execute with a short wait, poll until the
 * statement ends, fetch every result chunk, and hand back typed rows. Same origin: the console server
 * forwards `/api/2.0/sql/statements...` to the warehouse (locally the Jobs emulator, with its token) and
 * names the warehouse itself. Only read-only statements run there.
 */

export type SqlValue = string | number | boolean | null;
export type SqlRow = Record<string, SqlValue>;

export interface SqlParameter {
  name: string;
  value: string | null;
  type?: string;
}

interface Column {
  name: string;
  type_name: string;
}

interface StatementReply {
  statement_id: string;
  status: { state: string; error?: { error_code?: string; message?: string } };
  manifest?: { schema: { columns: Column[] }; total_chunk_count?: number };
  result?: { data_array?: Array<Array<string | null>> };
}

export class SqlError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const NUMERIC = new Set(['BYTE', 'SHORT', 'INT', 'LONG', 'FLOAT', 'DOUBLE', 'DECIMAL']);
const BASE = '/api/2.0/sql/statements';
const POLL_MS = 750;

/** A JSON_ARRAY value (a string or null) as the column's type: numbers and booleans parsed. */
export function typedValue(value: string | null, typeName: string): SqlValue {
  if (value === null) return null;
  if (NUMERIC.has(typeName)) return Number(value);
  if (typeName === 'BOOLEAN') return value === 'true';
  return value;
}

/** The rows of a statement's result chunks as records keyed by column name. */
export function rowsOf(
  columns: readonly Column[],
  data: ReadonlyArray<ReadonlyArray<string | null>>,
): SqlRow[] {
  return data.map((values) => {
    const row: SqlRow = {};
    columns.forEach((column, i) => (row[column.name] = typedValue(values[i] ?? null, column.type_name)));
    return row;
  });
}

async function request(path: string, init: RequestInit, signal?: AbortSignal): Promise<StatementReply> {
  const response = await fetch(path, {
    ...init,
    headers: {
      accept: 'application/json',
      ...authHeaders(),
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
    signal: signal ?? null,
  });
  const body = (await response.json().catch(() => ({}))) as StatementReply & {
    error_code?: string;
    message?: string;
  };
  if (!response.ok) {
    throw new SqlError(body.error_code ?? `HTTP_${response.status}`, body.message ?? response.statusText);
  }
  return body;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    });
  });

/** Runs one statement and returns its rows; throws SqlError when it fails or is cancelled. */
export async function runSql(
  statement: string,
  parameters: readonly SqlParameter[] = [],
  signal?: AbortSignal,
): Promise<SqlRow[]> {
  let reply = await request(
    BASE,
    {
      method: 'POST',
      body: JSON.stringify({
        statement,
        parameters,
        wait_timeout: '30s',
        on_wait_timeout: 'CONTINUE',
        format: 'JSON_ARRAY',
        disposition: 'INLINE',
      }),
    },
    signal,
  );
  const id = reply.statement_id;
  while (reply.status.state === 'PENDING' || reply.status.state === 'RUNNING') {
    await sleep(POLL_MS, signal);
    reply = await request(`${BASE}/${encodeURIComponent(id)}`, { method: 'GET' }, signal);
  }
  if (reply.status.state !== 'SUCCEEDED' || !reply.manifest) {
    const error = reply.status.error;
    throw new SqlError(
      error?.error_code ?? reply.status.state,
      error?.message ?? `statement ended ${reply.status.state}`,
    );
  }
  const data = [...(reply.result?.data_array ?? [])];
  for (let chunk = 1; chunk < (reply.manifest.total_chunk_count ?? 1); chunk++) {
    const next = (await request(
      `${BASE}/${encodeURIComponent(id)}/result/chunks/${chunk}`,
      { method: 'GET' },
      signal,
    )) as unknown as { data_array?: Array<Array<string | null>> };
    data.push(...(next.data_array ?? []));
  }
  return rowsOf(reply.manifest.schema.columns, data);
}

/** A table the lake does not have yet (no gold run so far): the page says so instead of an error. */
export function isMissingTable(error: unknown): boolean {
  return error instanceof Error && /TABLE_OR_VIEW_NOT_FOUND|PATH_NOT_FOUND|not found/i.test(error.message);
}
