import { z } from 'zod';

import type { LakewattConfig } from '../config';
import { ConfigError, ensureError, LakewattError } from '../errors';
import { createTokenProvider, type TokenProvider } from './auth';
import {
  DatabricksApiError,
  DatabricksConnectionError,
  DatabricksRequestError,
  DatabricksResponseError,
} from './errors';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, type RetryNotice, type RetryPolicy } from './jobsClient';
import { ErrorBodySchema } from './schemas';

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

export interface SqlClientOptions {
  /** Workspace URL or the local emulator's http://127.0.0.1:<port>. */
  host: string;
  tokens: TokenProvider;
  /** Per-request timeout (default 30 s, above the 50 s a waiting execute may take: it is raised to fit). */
  requestTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** First wait between polls (default 250 ms), doubling up to `maxPollIntervalMs` (default 2 s). */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  onRetry?: (notice: RetryNotice) => void;
  /** Seams for tests. */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
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

interface CallSpec<S extends z.ZodType> {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  schema: S;
  /** Safe to repeat after an unknown outcome (5xx, timeout, reset connection). */
  idempotent: boolean;
  timeoutMs?: number;
}

class RetryableFailure extends Error {
  constructor(
    readonly error: Error,
    readonly retryAfterMs: number | undefined,
    readonly always: boolean,
  ) {
    super(error.message);
  }
}

/**
 * A small client for the SQL Statement Execution API 2.0 (`/api/2.0/sql/statements`) over Node's fetch, for
 * an Azure Databricks SQL warehouse or the local emulator; the same retry rules as `JobsClient`: 429 and
 * 503 after `Retry-After`, other 5xx and connection errors only for requests safe to repeat (get, cancel);
 * a 401 refreshes the token once. Executing is not repeated after an unknown outcome: it would run twice.
 */
export class SqlClient {
  readonly host: string;
  private readonly tokens: TokenProvider;
  private readonly timeoutMs: number;
  private readonly policy: RetryPolicy;
  private readonly pollMs: number;
  private readonly maxPollMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly onRetry: ((notice: RetryNotice) => void) | undefined;

  constructor(options: SqlClientOptions) {
    let host: URL;
    try {
      host = new URL(options.host);
    } catch {
      throw new DatabricksRequestError(`DATABRICKS_HOST is not a URL: '${options.host}'`);
    }
    if (host.protocol !== 'https:' && host.protocol !== 'http:') {
      throw new DatabricksRequestError(`DATABRICKS_HOST must be http(s), got '${options.host}'`);
    }
    this.host = host.origin + host.pathname.replace(/\/+$/, '');
    this.tokens = options.tokens;
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.pollMs = options.pollIntervalMs ?? 250;
    this.maxPollMs = options.maxPollIntervalMs ?? 2000;
    this.fetchFn = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.onRetry = options.onRetry;
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
    const deadline = this.now() + (options.timeoutMs ?? 5 * 60_000);
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
      timeoutMs: Math.max(this.timeoutMs, (wait + 15) * 1000),
    });
    let pause = this.pollMs;
    while (!TERMINAL.has(answer.status.state)) {
      if (options.signal?.aborted || this.now() >= deadline) {
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
      await this.sleep(Math.min(pause, Math.max(0, deadline - this.now())));
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

  private async call<S extends z.ZodType>(spec: CallSpec<S>): Promise<z.output<S>> {
    const started = this.now();
    const route = `sql/statements${spec.path}`;
    let refreshedToken = false;
    for (let attempt = 1; ; attempt++) {
      let failure: RetryableFailure;
      try {
        return await this.once(spec, route);
      } catch (thrown) {
        if (thrown instanceof DatabricksApiError && thrown.status === 401 && !refreshedToken) {
          refreshedToken = true;
          this.tokens.invalidate();
          attempt--;
          continue;
        }
        if (!(thrown instanceof RetryableFailure)) throw thrown;
        failure = thrown;
      }
      if (!failure.always && !spec.idempotent) throw failure.error;
      const backoff =
        Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 1)) *
        (0.5 + this.random() / 2);
      const delayMs = Math.round(failure.retryAfterMs ?? backoff);
      if (attempt >= this.policy.maxAttempts || this.now() + delayMs - started > this.policy.budgetMs)
        throw failure.error;
      this.onRetry?.({ route, attempt, delayMs, reason: failure.error.message });
      await this.sleep(delayMs);
    }
  }

  private async once<S extends z.ZodType>(spec: CallSpec<S>, route: string): Promise<z.output<S>> {
    const token = await this.tokens.getToken();
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'user-agent': 'lakewatt-sql-client/0.1',
    };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = spec.timeoutMs ?? this.timeoutMs;
    const signal = AbortSignal.timeout(timeoutMs);
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const response = await this.fetchFn(`${this.host}${SQL_API_PREFIX}${spec.path}`, {
        method: spec.method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        signal,
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      text = await response.text();
    } catch (thrown) {
      // fetch's errors may come from another realm (a test sandbox): not `instanceof Error`, same shape.
      const error =
        typeof (thrown as { message?: unknown } | null)?.message === 'string'
          ? Object.assign(new Error((thrown as Error).message), { cause: (thrown as Error).cause })
          : ensureError(thrown);
      const cause =
        typeof (error.cause as { message?: unknown } | undefined)?.message === 'string'
          ? `: ${(error.cause as Error).message}`
          : '';
      throw new RetryableFailure(
        new DatabricksConnectionError(
          route,
          signal.aborted,
          signal.aborted ? `no answer within ${timeoutMs} ms` : `${error.message}${cause}`,
          { cause: error },
        ),
        undefined,
        false,
      );
    }
    if (status < 200 || status > 299) {
      const error = apiError(route, status, text);
      if (status === 429 || status === 503)
        throw new RetryableFailure(error, parseRetryAfter(retryAfter, this.now()) ?? 1000, true);
      if (status >= 500) throw new RetryableFailure(error, undefined, false);
      throw error;
    }
    let json: unknown;
    try {
      json = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      throw new DatabricksResponseError(route, ['the body is not JSON'], text.slice(0, 200));
    }
    const parsed = spec.schema.safeParse(json);
    if (!parsed.success) {
      throw new DatabricksResponseError(
        route,
        parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
        text.slice(0, 200),
      );
    }
    return parsed.data;
  }
}

function apiError(route: string, status: number, text: string): DatabricksApiError {
  let body: z.output<typeof ErrorBodySchema> | undefined;
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
    body = parsed.success ? parsed.data : undefined;
  } catch {
    body = undefined;
  }
  const code =
    typeof body?.error_code === 'string' && body.error_code !== ''
      ? body.error_code
      : status === 401
        ? 'UNAUTHENTICATED'
        : `HTTP_${status}`;
  const message =
    typeof body?.message === 'string' && body.message !== ''
      ? body.message
      : text.trim().slice(0, 200) || '(no message)';
  return new DatabricksApiError(status, code, message, route, status === 429 || status >= 500, body?.details);
}

/** The SQL client for the loaded configuration (the same host and authentication as `createJobsClient`). */
export function createSqlClient(
  config: Pick<LakewattConfig, 'databricks' | 'lake'>,
  options: Omit<SqlClientOptions, 'host' | 'tokens'> = {},
): SqlClient {
  const { host, auth, token } = config.databricks;
  if (!host) throw new ConfigError(['DATABRICKS_HOST: required to call the SQL Statement Execution API']);
  const clientId = config.lake.kind === 'azure' ? config.lake.clientId : undefined;
  return new SqlClient({
    ...options,
    host,
    tokens: createTokenProvider({ auth, token, managedIdentityClientId: clientId }),
  });
}
