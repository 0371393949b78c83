import { z } from 'zod';

import type { LakewattConfig } from '../config';
import { ConfigError, LakewattError } from '../errors';
import { createTokenProvider } from './auth';
import { DatabricksRequestError } from './errors';
import { type CallSpec, DatabricksHttp, type DatabricksHttpOptions } from './http';

export const SQL_API_PREFIX = '/api/2.0/sql/statements';

/**
 * Wire shapes of the SQL Statement Execution API 2.0 answers (loose objects, states as plain strings, as in
 * schemas.ts: a value this code does not know is kept, not rejected).
 */
const ColumnSchema = z.looseObject({
  name: z.string(),
  type_name: z.string().optional(),
  type_text: z.string().optional(),
  position: z.number().int().optional(),
  type_precision: z.number().int().optional(),
  type_scale: z.number().int().optional(),
});

const StatementResponseSchema = z.looseObject({
  statement_id: z.string(),
  status: z.looseObject({
    state: z.string(),
    error: z.looseObject({ error_code: z.string().optional(), message: z.string().optional() }).optional(),
  }),
  manifest: z
    .looseObject({
      format: z.string().optional(),
      schema: z
        .looseObject({
          column_count: z.number().int().optional(),
          columns: z.array(ColumnSchema).optional(),
        })
        .optional(),
      total_chunk_count: z.number().int().optional(),
      total_row_count: z.number().int().optional(),
      truncated: z.boolean().optional(),
    })
    .optional(),
  result: z
    .looseObject({
      chunk_index: z.number().int().optional(),
      row_count: z.number().int().optional(),
      data_array: z.array(z.array(z.string().nullable())).optional(),
      next_chunk_index: z.number().int().optional(),
    })
    .optional(),
});

const ResultChunkSchema = z.looseObject({
  chunk_index: z.number().int().optional(),
  data_array: z.array(z.array(z.string().nullable())).optional(),
  next_chunk_index: z.number().int().optional(),
});

export type WireStatementResponse = z.output<typeof StatementResponseSchema>;

export type StatementState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'CLOSED';

/** A result column: the manifest's name and types (`typeName` LONG, `typeText` BIGINT, for instance). */
export interface StatementColumn {
  name: string;
  typeName: string;
  typeText: string;
  position: number;
}

/** A value typed back from its column: numbers, booleans, parsed ARRAY/MAP/STRUCT; the rest as strings. */
export type SqlValue = string | number | boolean | null | SqlValue[] | { [key: string]: SqlValue };

export interface StatementResult {
  statementId: string;
  columns: StatementColumn[];
  /** Rows as the API sends them (JSON_ARRAY): each value a string, or null. */
  rows: Array<Array<string | null>>;
  totalRowCount: number;
  /** The result was cut by `rowLimit` or `byteLimit`. */
  truncated: boolean;
}

export interface StatementParameter {
  name: string;
  /** The value as a string (null for NULL); the service casts it to `type`. */
  value: string | null;
  /** A SQL type (`STRING` when absent): INT, BIGINT, DOUBLE, DECIMAL(10,2), DATE, TIMESTAMP, BOOLEAN... */
  type?: string;
}

export interface ExecuteStatementOptions {
  /** The SQL warehouse (the local emulator accepts any id). */
  warehouseId: string;
  /**
   * How long the first request waits for the result, 0 or 5 to 50 (default 10); past it the client polls
   * `GET .../statements/{id}` until the statement ends.
   */
  waitTimeoutSeconds?: number;
  rowLimit?: number;
  byteLimit?: number;
  parameters?: StatementParameter[];
  /** Overall deadline (default 5 minutes): when it passes, the statement is cancelled and this rejects. */
  timeoutMs?: number;
  /** Aborting cancels the statement and rejects. */
  signal?: AbortSignal;
}

/** `requestTimeoutMs` (default 30 s) is raised to fit the 50 s a waiting execute may take. */
export interface SqlClientOptions extends DatabricksHttpOptions {
  /** First wait between polls (default 250 ms), doubling up to `maxPollIntervalMs` (default 2 s). */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
}

/**
 * A statement ended without a result: FAILED (`errorCode` is the service's, e.g. BAD_REQUEST, and
 * `errorClass` the Spark error class in the message, e.g. PARSE_SYNTAX_ERROR or INSUFFICIENT_PERMISSIONS),
 * CANCELED or CLOSED, or it outlived the caller's deadline (code DATABRICKS_STATEMENT_TIMEOUT; then it was
 * cancelled).
 */
export class DatabricksStatementError extends LakewattError {
  constructor(
    code: 'DATABRICKS_STATEMENT_FAILED' | 'DATABRICKS_STATEMENT_CANCELED' | 'DATABRICKS_STATEMENT_TIMEOUT',
    readonly statementId: string,
    readonly state: string,
    readonly errorCode: string | undefined,
    readonly errorClass: string | undefined,
    readonly apiMessage: string,
  ) {
    super(code, firstParagraph(apiMessage));
  }
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELED', 'CLOSED']);

/** `[ERROR_CLASS] message` -> `ERROR_CLASS`. */
export function errorClassOf(message: string): string | undefined {
  return /^\s*\[([A-Z][A-Z0-9_.]*)\]/.exec(message)?.[1];
}

/** The first paragraph of a Spark message (without the `== SQL ==` excerpt and its caret line), on one line. */
export function firstParagraph(message: string): string {
  return (message.split(/\n\s*\n|\n== SQL/)[0] ?? message).replace(/\s*\n\s*/g, ' ').trim();
}

const SAFE_DIGITS = 15;

/**
 * One JSON_ARRAY value typed back from its column's `type_name`: integer and floating types as numbers
 * (a LONG or DECIMAL too long for a double stays a string, as do NaN and Infinity), BOOLEAN as a boolean,
 * ARRAY/MAP/STRUCT parsed from their JSON; DATE, TIMESTAMP, STRING, BINARY (base64), INTERVAL as strings.
 */
export function typedValue(value: string | null, typeName: string): SqlValue {
  if (value === null) return null;
  switch (typeName) {
    case 'BYTE':
    case 'SHORT':
    case 'INT':
    case 'LONG': {
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : value;
    }
    case 'FLOAT':
    case 'DOUBLE': {
      const n = Number(value);
      return Number.isFinite(n) ? n : value;
    }
    case 'DECIMAL': {
      const digits = value.replace(/^-/, '').replace('.', '').replace(/^0+/, '').length;
      const n = Number(value);
      return Number.isFinite(n) && digits <= SAFE_DIGITS ? n : value;
    }
    case 'BOOLEAN':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'ARRAY':
    case 'MAP':
    case 'STRUCT':
      try {
        return JSON.parse(value) as SqlValue;
      } catch {
        return value;
      }
    default:
      return value;
  }
}

/** The result's rows as objects keyed by column name, values typed back (`typedValue`). */
export function toRecords(result: StatementResult): Array<Record<string, SqlValue>> {
  return result.rows.map((row) =>
    Object.fromEntries(result.columns.map((c, i) => [c.name, typedValue(row[i] ?? null, c.typeName)])),
  );
}

/**
 * A small client for the SQL Statement Execution API 2.0 (`/api/2.0/sql/statements`) over Node's fetch, for
 * an Azure Databricks SQL warehouse or the local emulator; the same retry rules as `JobsClient`: 429 and
 * 503 after `Retry-After`, other 5xx and connection errors only for requests safe to repeat (get, cancel);
 * a 401 refreshes the token once. Executing is not repeated after an unknown outcome: it would run twice.
 */
export class SqlClient {
  readonly host: string;
  private readonly http: DatabricksHttp;
  private readonly pollMs: number;
  private readonly maxPollMs: number;

  constructor(options: SqlClientOptions) {
    this.http = new DatabricksHttp(options, {
      prefix: SQL_API_PREFIX,
      routeLabel: 'sql/statements',
      userAgent: 'lakewatt-sql-client/0.1',
      errorCodeByStatus: { 401: 'UNAUTHENTICATED' },
    });
    this.host = this.http.host;
    this.pollMs = options.pollIntervalMs ?? 250;
    this.maxPollMs = options.maxPollIntervalMs ?? 2000;
  }

  /**
   * Runs `statement` and resolves with its (first-chunk) result once it SUCCEEDED; polls while it is
   * PENDING or RUNNING. Rejects with `DatabricksStatementError` when it FAILED, was CANCELED or CLOSED, or
   * outlived `timeoutMs` (then it is cancelled first).
   */
  async executeStatement(statement: string, options: ExecuteStatementOptions): Promise<StatementResult> {
    const wait = options.waitTimeoutSeconds ?? 10;
    if (!(Number.isInteger(wait) && (wait === 0 || (wait >= 5 && wait <= 50))))
      throw new DatabricksRequestError(`waitTimeoutSeconds must be 0 or 5 to 50, got ${wait}`);
    for (const [key, value] of [
      ['rowLimit', options.rowLimit],
      ['byteLimit', options.byteLimit],
    ] as const) {
      if (value !== undefined && !(Number.isSafeInteger(value) && value > 0))
        throw new DatabricksRequestError(`${key} must be a positive integer, got ${value}`);
    }
    if (options.warehouseId.trim() === '') throw new DatabricksRequestError('warehouseId is empty');
    const deadline = this.http.now() + (options.timeoutMs ?? 5 * 60_000);
    let answer = await this.call({
      method: 'POST',
      path: '',
      body: {
        statement,
        warehouse_id: options.warehouseId,
        wait_timeout: `${wait}s`,
        on_wait_timeout: 'CONTINUE',
        format: 'JSON_ARRAY',
        disposition: 'INLINE',
        row_limit: options.rowLimit,
        byte_limit: options.byteLimit,
        parameters: options.parameters,
      },
      schema: StatementResponseSchema,
      idempotent: false,
      timeoutMs: Math.max(this.http.timeoutMs, (wait + 15) * 1000),
    });
    let pause = this.pollMs;
    while (!TERMINAL.has(answer.status.state)) {
      if (options.signal?.aborted || this.http.now() >= deadline) {
        await this.cancelStatement(answer.statement_id).catch(() => {});
        const aborted = options.signal?.aborted === true;
        throw new DatabricksStatementError(
          aborted ? 'DATABRICKS_STATEMENT_CANCELED' : 'DATABRICKS_STATEMENT_TIMEOUT',
          answer.statement_id,
          answer.status.state,
          undefined,
          undefined,
          aborted
            ? `Statement ${answer.statement_id} was cancelled by the caller`
            : `Statement ${answer.statement_id} did not end within ${options.timeoutMs ?? 300_000} ms and was cancelled`,
        );
      }
      await this.http.sleep(Math.min(pause, Math.max(0, deadline - this.http.now())));
      pause = Math.min(this.maxPollMs, pause * 2);
      answer = await this.getStatementResponse(answer.statement_id);
    }
    return this.toResult(answer);
  }

  /** `GET /api/2.0/sql/statements/{id}` as it is on the wire. */
  async getStatementResponse(statementId: string): Promise<WireStatementResponse> {
    return this.call({
      method: 'GET',
      path: `/${encodeURIComponent(statementId)}`,
      schema: StatementResponseSchema,
      idempotent: true,
    });
  }

  /** Asks for the statement to stop (its state becomes CANCELED). */
  async cancelStatement(statementId: string): Promise<void> {
    await this.call({
      method: 'POST',
      path: `/${encodeURIComponent(statementId)}/cancel`,
      schema: z.looseObject({}),
      idempotent: true,
    });
  }

  private async toResult(answer: WireStatementResponse): Promise<StatementResult> {
    const id = answer.statement_id;
    const state = answer.status.state;
    if (state !== 'SUCCEEDED') {
      const message = answer.status.error?.message ?? `Statement ${id} ended ${state}`;
      throw new DatabricksStatementError(
        state === 'FAILED' ? 'DATABRICKS_STATEMENT_FAILED' : 'DATABRICKS_STATEMENT_CANCELED',
        id,
        state,
        answer.status.error?.error_code,
        errorClassOf(message),
        message,
      );
    }
    const columns = (answer.manifest?.schema?.columns ?? []).map((c, i) => ({
      name: c.name,
      typeName: c.type_name ?? 'STRING',
      typeText: c.type_text ?? c.type_name ?? 'STRING',
      position: c.position ?? i,
    }));
    const rows = [...(answer.result?.data_array ?? [])];
    // Results of more than one chunk: fetch the rest in order.
    let next = answer.result?.next_chunk_index;
    while (next !== undefined) {
      const chunk = await this.call({
        method: 'GET',
        path: `/${encodeURIComponent(id)}/result/chunks/${next}`,
        schema: ResultChunkSchema,
        idempotent: true,
      });
      rows.push(...(chunk.data_array ?? []));
      next = chunk.next_chunk_index;
    }
    return {
      statementId: id,
      columns,
      rows,
      totalRowCount: answer.manifest?.total_row_count ?? rows.length,
      truncated: answer.manifest?.truncated ?? false,
    };
  }

  private call<S extends z.ZodType>(spec: CallSpec<S>): Promise<z.output<S>> {
    return this.http.call(spec);
  }
}

/** The SQL client for the loaded configuration (the same host and authentication as `createJobsClient`). */
export function createSqlClient(
  config: Pick<LakewattConfig, 'databricks' | 'lake'>,
  options: Omit<SqlClientOptions, 'host' | 'tokens'> = {},
): SqlClient {
  const { host, auth, token, tokenFile } = config.databricks;
  if (!host) throw new ConfigError(['DATABRICKS_HOST: required to call the SQL Statement Execution API']);
  const clientId = config.lake.kind === 'azure' ? config.lake.clientId : undefined;
  return new SqlClient({
    ...options,
    host,
    tokens: createTokenProvider({ auth, token, tokenFile, managedIdentityClientId: clientId }),
  });
}
