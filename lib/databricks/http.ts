import type { z } from 'zod';

import { ensureError } from '../errors';
import type { TokenProvider } from './auth';
import {
  DatabricksApiError,
  DatabricksConnectionError,
  DatabricksRequestError,
  DatabricksResponseError,
} from './errors';
import { ErrorBodySchema } from './schemas';

export interface RetryPolicy {
  /** Attempts per call, the first included. */
  maxAttempts: number;
  /** First backoff wait; doubles on each retry, with jitter, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** No retry is started whose wait would end later than this after the call began. */
  budgetMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  budgetMs: 120_000,
};

export interface RetryNotice {
  route: string;
  attempt: number;
  delayMs: number;
  reason: string;
}

/** The options both clients share: where, who, how long, how often, and the seams for tests. */
export interface DatabricksHttpOptions {
  /** Workspace URL (https://adb-<id>.<n>.azuredatabricks.net) or the local emulator's http://127.0.0.1:<port>. */
  host: string;
  tokens: TokenProvider;
  /** Per-request timeout, covering the connection, the answer and its body (default 30 s). */
  requestTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  onRetry?: (notice: RetryNotice) => void;
  /** Seams for tests. */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** What differs between the APIs: where the routes live, how errors and requests are named. */
export interface DatabricksApiProfile {
  /** The URL prefix of the routes, e.g. `/api/2.2/jobs/`. */
  prefix: string;
  /** Put before a request's `path` to name it in errors and retry notices (e.g. `sql/statements`). */
  routeLabel: string;
  userAgent: string;
  /** The error code given to an error answer without one, by status (else `HTTP_<status>`). */
  errorCodeByStatus: Readonly<Record<number, string>>;
}

export interface CallSpec<S extends z.ZodType> {
  method: 'GET' | 'POST';
  /** Appended to the profile's prefix. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  schema: S;
  /** Safe to repeat after an unknown outcome (5xx, timeout, reset connection). */
  idempotent: boolean;
  /** This request's timeout, instead of the client's. */
  timeoutMs?: number;
}

/** Internal: a failure `call` may retry; `always` when the request was certainly not processed (429/503). */
class RetryableFailure extends Error {
  constructor(
    readonly error: Error,
    readonly retryAfterMs: number | undefined,
    readonly always: boolean,
  ) {
    super(error.message);
  }
}

/** `Retry-After` as delta-seconds or an HTTP date; undefined when absent or unparseable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The HTTP core of the Databricks clients, over Node's fetch: host validation, bearer tokens, a timeout on
 * every request, and the retry rules. 429 and 503 are retried after `Retry-After` (or a backoff when
 * absent); other 5xx, connection errors and timeouts only for requests that are safe to repeat. A 401
 * refreshes the token once. Answers are checked against the request's schema.
 */
export class DatabricksHttp {
  readonly host: string;
  readonly timeoutMs: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  private readonly tokens: TokenProvider;
  private readonly policy: RetryPolicy;
  private readonly fetchFn: typeof fetch;
  private readonly random: () => number;
  private readonly onRetry: ((notice: RetryNotice) => void) | undefined;

  constructor(
    options: DatabricksHttpOptions,
    private readonly profile: DatabricksApiProfile,
  ) {
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
    this.fetchFn = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.onRetry = options.onRetry;
  }

  async call<S extends z.ZodType>(spec: CallSpec<S>): Promise<z.output<S>> {
    const started = this.now();
    const route = `${this.profile.routeLabel}${spec.path}`;
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
      if (attempt >= this.policy.maxAttempts || this.now() + delayMs - started > this.policy.budgetMs) {
        throw failure.error;
      }
      this.onRetry?.({ route, attempt, delayMs, reason: failure.error.message });
      await this.sleep(delayMs);
    }
  }

  /** One HTTP exchange. Throws RetryableFailure for what `call` may retry, typed errors for the rest. */
  private async once<S extends z.ZodType>(spec: CallSpec<S>, route: string): Promise<z.output<S>> {
    const url = new URL(`${this.host}${this.profile.prefix}${spec.path}`);
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const token = await this.tokens.getToken();
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'user-agent': this.profile.userAgent,
    };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = spec.timeoutMs ?? this.timeoutMs;
    const signal = AbortSignal.timeout(timeoutMs);
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const response = await this.fetchFn(url, {
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
      const error = this.apiError(route, status, text);
      if (status === 429 || status === 503) {
        throw new RetryableFailure(error, parseRetryAfter(retryAfter, this.now()) ?? 1000, true);
      }
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

  private apiError(route: string, status: number, text: string): DatabricksApiError {
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
        : (this.profile.errorCodeByStatus[status] ?? `HTTP_${status}`);
    const message =
      typeof body?.message === 'string' && body.message !== ''
        ? body.message
        : text.trim().slice(0, 200) || '(no message)';
    const retryable = status === 429 || status >= 500;
    return new DatabricksApiError(status, code, message, route, retryable, body?.details ?? []);
  }
}
