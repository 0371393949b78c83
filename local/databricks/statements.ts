import { randomUUID } from 'node:crypto';

import type { SparkWorker, SqlRequest, SqlResult, WireColumn } from './worker';

type Json = Record<string, unknown>;

export type StatementState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'CLOSED';

/** An error answer of the SQL Statement Execution API (`{error_code, message}` with an HTTP status). */
export class StatementApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

export interface StatementServiceDeps {
  /** The worker a statement runs on (started when none runs). */
  worker: () => SparkWorker;
  /** Layer -> root URL of its Delta folders (`bronze`, `silver`, `gold`). */
  roots: () => Record<string, string>;
  log?: (line: string) => void;
}

interface Statement {
  id: string;
  state: StatementState;
  createdAt: number;
  endedAt: number | undefined;
  controller: AbortController;
  result: { columns: WireColumn[]; rows: Array<Array<string | null>>; truncated: boolean } | undefined;
  error: { error_code: string; message: string } | undefined;
  done: Promise<void>;
  finish: () => void;
}

/** Statements running at once; later ones stay PENDING until one ends. */
export const MAX_RUNNING_STATEMENTS = 4;
/** How long a finished statement's result can be fetched (the service keeps results for an hour). */
export const STATEMENT_RETENTION_MS = 60 * 60 * 1000;
const MAX_STATEMENT_CHARS = 16 * 1024 * 1024;
const TERMINAL: ReadonlySet<StatementState> = new Set(['SUCCEEDED', 'FAILED', 'CANCELED', 'CLOSED']);

function badRequest(message: string): StatementApiError {
  return new StatementApiError(400, 'INVALID_PARAMETER_VALUE', message);
}

function optionalPositiveInteger(body: Json, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw badRequest(`${key} must be a positive integer`);
  return value;
}

/** `wait_timeout`: "0s" (answer at once) or 5 to 50 seconds, as the service accepts. */
export function parseWaitTimeout(value: unknown): number {
  if (value === undefined || value === null) return 10;
  const match = typeof value === 'string' ? /^(\d{1,3})s$/.exec(value) : null;
  const seconds = match ? Number(match[1]) : NaN;
  if (seconds === 0 || (seconds >= 5 && seconds <= 50)) return seconds;
  throw badRequest(`wait_timeout must be "0s" or between "5s" and "50s", got ${JSON.stringify(value)}`);
}

function parseParameters(value: unknown): SqlRequest['parameters'] {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw badRequest('parameters must be a list of {name, value, type}');
  return value.map((item: unknown, index) => {
    const p = item as Json | null;
    if (typeof p !== 'object' || p === null || typeof p.name !== 'string' || p.name === '')
      throw badRequest(`parameters[${index}].name is required`);
    if (p.value !== undefined && p.value !== null && typeof p.value !== 'string')
      throw badRequest(`parameters[${index}].value must be a string`);
    if (p.type !== undefined && typeof p.type !== 'string')
      throw badRequest(`parameters[${index}].type must be a string`);
    return {
      name: p.name,
      value: p.value ?? null,
      ...(p.type ? { type: p.type } : {}),
    };
  });
}

/**
 * The SQL Statement Execution API 2.0 subset of the local emulator: execute (with `wait_timeout` and
 * `on_wait_timeout`), get, cancel and the first result chunk, JSON_ARRAY format and INLINE disposition.
 * Statements run on the emulator's warm Spark worker beside any task (worker.py, sql_statements.py); they
 * live in memory for an hour after they end.
 */
export class StatementService {
  private readonly statements = new Map<string, Statement>();
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private closed = false;

  constructor(private readonly deps: StatementServiceDeps) {}

  /** `POST /api/2.0/sql/statements`. */
  async execute(body: Json): Promise<Json> {
    this.prune();
    const statement = body.statement;
    if (typeof statement !== 'string' || statement.trim() === '') throw badRequest('statement is required');
    if (statement.length > MAX_STATEMENT_CHARS) throw badRequest('statement is larger than 16 MiB');
    if (typeof body.warehouse_id !== 'string' || body.warehouse_id.trim() === '')
      throw badRequest('warehouse_id is required');
    const waitSeconds = parseWaitTimeout(body.wait_timeout);
    const onWaitTimeout = body.on_wait_timeout ?? 'CONTINUE';
    if (onWaitTimeout !== 'CONTINUE' && onWaitTimeout !== 'CANCEL')
      throw badRequest('on_wait_timeout must be CONTINUE or CANCEL');
    if ((body.format ?? 'JSON_ARRAY') !== 'JSON_ARRAY')
      throw badRequest('the local emulator answers in format JSON_ARRAY only');
    if ((body.disposition ?? 'INLINE') !== 'INLINE')
      throw badRequest('the local emulator answers with disposition INLINE only');
    if (typeof body.schema === 'string' && body.schema !== '')
      throw badRequest(
        'schema is not supported by the local emulator: qualify table names (bronze.<t>, silver.<t>, gold.<t>)',
      );
    const request: SqlRequest = {
      id: randomUUID(),
      statement,
      roots: this.deps.roots(),
      rowLimit: optionalPositiveInteger(body, 'row_limit'),
      byteLimit: optionalPositiveInteger(body, 'byte_limit'),
      parameters: parseParameters(body.parameters),
    };
    const stmt = this.create(request.id);
    this.enqueue(stmt, request);
    if (waitSeconds > 0 && !TERMINAL.has(stmt.state)) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        stmt.done,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, waitSeconds * 1000))),
      ]);
      clearTimeout(timer);
    }
    if (!TERMINAL.has(stmt.state) && onWaitTimeout === 'CANCEL') this.cancelStatement(stmt);
    return this.json(stmt);
  }

  /** `GET /api/2.0/sql/statements/{id}`. */
  get(id: string): Json {
    return this.json(this.find(id));
  }

  /** `GET /api/2.0/sql/statements/{id}/result/chunks/{index}`: there is one chunk, index 0. */
  chunk(id: string, index: number): Json {
    const stmt = this.find(id);
    if (stmt.state !== 'SUCCEEDED' || !stmt.result)
      throw new StatementApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        `Statement ${id} has no result (state ${stmt.state})`,
      );
    if (index !== 0) throw badRequest(`Statement ${id} has one result chunk (index 0)`);
    return this.resultJson(stmt);
  }

  /** `POST /api/2.0/sql/statements/{id}/cancel`: asynchronous in the service; here the state is CANCELED at once. */
  cancel(id: string): Json {
    this.cancelStatement(this.find(id));
    return {};
  }

  /** Cancels every statement that has not ended (the emulator is stopping). */
  close(): void {
    this.closed = true;
    for (const stmt of this.statements.values()) this.cancelStatement(stmt);
  }

  private create(id: string): Statement {
    let finish = (): void => {};
    const done = new Promise<void>((resolve) => (finish = resolve));
    const stmt: Statement = {
      id,
      state: 'PENDING',
      createdAt: Date.now(),
      endedAt: undefined,
      controller: new AbortController(),
      result: undefined,
      error: undefined,
      done,
      finish,
    };
    this.statements.set(id, stmt);
    return stmt;
  }

  private enqueue(stmt: Statement, request: SqlRequest): void {
    const start = (): void => {
      if (TERMINAL.has(stmt.state)) {
        this.next();
        return;
      }
      this.running++;
      void this.run(stmt, request).finally(() => {
        this.running--;
        this.next();
      });
    };
    if (this.running < MAX_RUNNING_STATEMENTS) start();
    else this.waiting.push(start);
  }

  private next(): void {
    if (this.running < MAX_RUNNING_STATEMENTS) this.waiting.shift()?.();
  }

  private async run(stmt: Statement, request: SqlRequest): Promise<void> {
    let result: SqlResult;
    try {
      if (this.closed) throw new Error('the local Jobs emulator is stopping');
      const worker = this.deps.worker();
      result = await worker.sql(
        request,
        () => {
          if (stmt.state === 'PENDING') stmt.state = 'RUNNING';
        },
        stmt.controller.signal,
      );
    } catch (thrown) {
      result = {
        status: 'lost',
        message: thrown instanceof Error ? thrown.message : String(thrown),
        endedAt: Date.now(),
      };
    }
    if (TERMINAL.has(stmt.state)) return;
    switch (result.status) {
      case 'ok':
        stmt.result = { columns: result.columns, rows: result.rows, truncated: result.truncated };
        this.end(stmt, 'SUCCEEDED', result.endedAt);
        return;
      case 'failed':
        stmt.error = { error_code: result.errorCode, message: result.message };
        this.end(stmt, 'FAILED', result.endedAt);
        return;
      case 'canceled':
        this.end(stmt, 'CANCELED', result.endedAt);
        return;
      case 'lost':
        this.deps.log?.(`SQL statement ${stmt.id} lost its worker: ${result.message}`);
        stmt.error = { error_code: 'INTERNAL_ERROR', message: result.message };
        this.end(stmt, 'FAILED', result.endedAt);
    }
  }

  private end(stmt: Statement, state: StatementState, at: number): void {
    stmt.state = state;
    stmt.endedAt = at;
    stmt.finish();
  }

  private cancelStatement(stmt: Statement): void {
    if (TERMINAL.has(stmt.state)) return;
    this.end(stmt, 'CANCELED', Date.now());
    stmt.controller.abort('canceled');
  }

  private find(id: string): Statement {
    const stmt = this.statements.get(id);
    if (!stmt) throw new StatementApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Statement ${id} does not exist.`);
    return stmt;
  }

  /** Forgets statements that ended more than an hour ago. */
  private prune(): void {
    const before = Date.now() - STATEMENT_RETENTION_MS;
    for (const [id, stmt] of this.statements)
      if (stmt.endedAt !== undefined && stmt.endedAt < before) this.statements.delete(id);
  }

  private json(stmt: Statement): Json {
    const status: Json = { state: stmt.state };
    if (stmt.error) status.error = stmt.error;
    const out: Json = { statement_id: stmt.id, status };
    if (stmt.state === 'SUCCEEDED' && stmt.result) {
      const rows = stmt.result.rows.length;
      out.manifest = {
        format: 'JSON_ARRAY',
        schema: { column_count: stmt.result.columns.length, columns: stmt.result.columns },
        total_chunk_count: 1,
        chunks: [{ chunk_index: 0, row_offset: 0, row_count: rows }],
        total_row_count: rows,
        truncated: stmt.result.truncated,
      };
      out.result = this.resultJson(stmt);
    }
    return out;
  }

  private resultJson(stmt: Statement): Json {
    const rows = stmt.result?.rows ?? [];
    return { chunk_index: 0, row_offset: 0, row_count: rows.length, data_array: rows };
  }
}
