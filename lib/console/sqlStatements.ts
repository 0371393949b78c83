import { z } from 'zod';

/**
 * What the operations console may ask of the Databricks SQL Statement Execution API 2.0 through the Function
 * App (functions/consoleSql.ts), checked before anything is sent: execute a statement, poll it, read a result
 * chunk; only on the configured warehouse and catalog; only one read statement (SELECT, or WITH ... SELECT).
 * The request is then sent with the signed-in user's own Databricks token, so Unity Catalog's grants of that
 * user decide what it reads: the read-only check is defence in depth, not the access control.
 */

/** Azure Databricks' first-party application id; its `user_impersonation` scope is what the token must carry. */
export const AZURE_DATABRICKS_RESOURCE = '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d';
export const DATABRICKS_USER_SCOPE = `${AZURE_DATABRICKS_RESOURCE}/user_impersonation`;
/** Set by App Service authentication's token store: the signed-in user's access token for the login scopes. */
export const USER_ACCESS_TOKEN_HEADER = 'x-ms-token-aad-access-token';

export const STATEMENTS_PATH = '/api/2.0/sql/statements';

export type SqlRefusalCode =
  | 'ROUTE_NOT_FORWARDED'
  | 'METHOD_NOT_ALLOWED'
  | 'INVALID_REQUEST'
  | 'STATEMENT_EMPTY'
  | 'MULTIPLE_STATEMENTS'
  | 'STATEMENT_NOT_READ_ONLY'
  | 'USER_TOKEN_MISSING'
  | 'SQL_UNAVAILABLE';

export class ConsoleSqlError extends Error {
  constructor(
    readonly status: number,
    readonly code: SqlRefusalCode,
    message: string,
  ) {
    super(message);
    this.name = 'ConsoleSqlError';
  }
}

/** The reply body of a refusal: the runs API's `{code, message}`, plus the API's own `error_code` the page reads. */
export const refusalBody = (
  error: ConsoleSqlError,
): { code: string; error_code: string; message: string } => ({
  code: error.code,
  error_code: error.code,
  message: error.message,
});

export type StatementRoute =
  | { kind: 'execute' }
  | { kind: 'status'; statementId: string }
  | { kind: 'chunk'; statementId: string; chunkIndex: number };

const STATEMENT_ID = /^[A-Za-z0-9_-]{1,100}$/;

/**
 * The route of a request below `/api/2.0/sql/statements/` (`rest`: what follows it, without slashes at either
 * end). Cancel and every other route are not forwarded.
 */
export function parseStatementRoute(method: string, rest: string): StatementRoute {
  const parts = rest.replace(/^\/+|\/+$/g, '').split('/');
  const verb = method.toUpperCase();
  const expect = (wanted: string, route: StatementRoute): StatementRoute => {
    if (verb !== wanted) {
      throw new ConsoleSqlError(
        405,
        'METHOD_NOT_ALLOWED',
        `${verb} is not forwarded to ${STATEMENTS_PATH}/${rest}`,
      );
    }
    return route;
  };
  if (parts.length === 1 && parts[0] === '') return expect('POST', { kind: 'execute' });
  const [statementId, result, chunks, index, ...more] = parts;
  if (statementId && STATEMENT_ID.test(statementId)) {
    if (parts.length === 1) return expect('GET', { kind: 'status', statementId });
    if (result === 'result' && chunks === 'chunks' && index && /^\d{1,6}$/.test(index) && more.length === 0) {
      return expect('GET', { kind: 'chunk', statementId, chunkIndex: Number(index) });
    }
  }
  throw new ConsoleSqlError(
    404,
    'ROUTE_NOT_FORWARDED',
    `${STATEMENTS_PATH}/${rest.slice(0, 100)} is not forwarded: only execute, status and result chunks are`,
  );
}

const executeSchema = z.object({
  statement: z
    .string()
    .min(1)
    .max(64 * 1024),
  parameters: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a parameter name'),
        value: z.string().max(4096).nullable().optional(),
        type: z
          .string()
          .regex(/^[A-Z]+(?:\(\d+(?:,\s*\d+)?\))?$/, 'a SQL type name')
          .optional(),
      }),
    )
    .max(50)
    .optional(),
  wait_timeout: z
    .string()
    .regex(/^(?:0|[5-9]|[1-4]\d|50)s$/, '0s, or 5s to 50s')
    .optional(),
  on_wait_timeout: z.enum(['CONTINUE', 'CANCEL']).optional(),
  format: z.literal('JSON_ARRAY').optional(),
  disposition: z.literal('INLINE').optional(),
  row_limit: z.number().int().positive().max(1_000_000).optional(),
});
export type ExecuteRequest = z.infer<typeof executeSchema>;

/** Where statements run: the configured warehouse, and the catalog two-part names resolve in. */
export interface WarehouseTarget {
  warehouseId: string;
  catalog?: string;
}

/**
 * The body sent to Databricks for a page's execute request: the page's fields that are allowed, the
 * configured warehouse and catalog (whatever the page named is ignored), after the read-only check.
 */
export function executeBody(body: unknown, target: WarehouseTarget): Record<string, unknown> {
  const parsed = executeSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
    throw new ConsoleSqlError(400, 'INVALID_REQUEST', `${field}: ${issue.message}`);
  }
  checkReadOnly(parsed.data.statement);
  return {
    ...parsed.data,
    warehouse_id: target.warehouseId,
    ...(target.catalog ? { catalog: target.catalog } : {}),
  };
}

/** Statement keywords that write, change state or run code; none belongs in a read. */
const NOT_READ =
  /\b(?:INSERT|UPDATE|DELETE|MERGE|CREATE|DROP|ALTER|TRUNCATE|GRANT|REVOKE|COPY|OPTIMIZE|VACUUM|REFRESH|CACHE|UNCACHE|MSCK|SET|RESET|USE|CALL|EXECUTE|INTO|OVERWRITE)\b/i;

/**
 * The statement with its comments removed and its string literals and quoted identifiers blanked, so that
 * neither hides a `;` or keyword from the checks, nor makes one up. An unterminated literal or comment
 * blanks the rest.
 */
export function statementSkeleton(statement: string): string {
  let out = '';
  let i = 0;
  while (i < statement.length) {
    const c = statement[i]!;
    const next = statement[i + 1];
    if (c === '-' && next === '-') {
      const end = statement.indexOf('\n', i);
      i = end === -1 ? statement.length : end;
    } else if (c === '/' && next === '*') {
      const end = statement.indexOf('*/', i + 2);
      i = end === -1 ? statement.length : end + 2;
      out += ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < statement.length) {
        if (statement[j] === '\\' && c !== '`') j += 2;
        else if (statement[j] === c && statement[j + 1] === c) j += 2;
        else if (statement[j] === c) break;
        else j += 1;
      }
      out += c === '`' ? ' ident ' : " 'x' ";
      i = j + 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** Throws unless the statement is one SELECT, or WITH ... SELECT, writing nothing. */
export function checkReadOnly(statement: string): void {
  const skeleton = statementSkeleton(statement).trim().replace(/;\s*$/, '').trim();
  if (skeleton === '') throw new ConsoleSqlError(400, 'STATEMENT_EMPTY', 'statement: nothing to run');
  if (skeleton.includes(';')) {
    throw new ConsoleSqlError(
      400,
      'MULTIPLE_STATEMENTS',
      'statement: one statement only, without `;` inside',
    );
  }
  const first = /^\(*\s*([A-Za-z]+)/.exec(skeleton)?.[1]?.toUpperCase();
  if (first !== 'SELECT' && first !== 'WITH') {
    throw new ConsoleSqlError(
      400,
      'STATEMENT_NOT_READ_ONLY',
      `statement: only SELECT or WITH ... SELECT runs from the console, not ${first ?? 'this'}`,
    );
  }
  const writes = NOT_READ.exec(skeleton)?.[0];
  if (writes || (first === 'WITH' && !/\bSELECT\b/i.test(skeleton))) {
    throw new ConsoleSqlError(
      400,
      'STATEMENT_NOT_READ_ONLY',
      `statement: ${writes ? `${writes.toUpperCase()} is not allowed` : 'WITH must end in a SELECT'} in a console query`,
    );
  }
}

/** The signed-in user's Databricks token from the token store, or a 401 saying what is missing. */
export function userAccessToken(headers: { get(name: string): string | null }): string {
  const token = headers.get(USER_ACCESS_TOKEN_HEADER)?.trim();
  if (!token || !/^[A-Za-z0-9._~+/=-]{20,16384}$/.test(token)) {
    throw new ConsoleSqlError(
      401,
      'USER_TOKEN_MISSING',
      `no Databricks token for the signed-in user (${USER_ACCESS_TOKEN_HEADER}): sign in again through ` +
        `/.auth/login/aad; the login scopes must include ${DATABRICKS_USER_SCOPE} and the token store must be on`,
    );
  }
  return token;
}

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Path on the workspace, below its origin. */
  path: string;
  body?: Record<string, unknown>;
}

/** The one request Databricks gets for a checked route (ids are URL-safe by their pattern). */
export function upstreamRequest(
  route: StatementRoute,
  body: unknown,
  target: WarehouseTarget,
): UpstreamRequest {
  switch (route.kind) {
    case 'execute':
      return { method: 'POST', path: STATEMENTS_PATH, body: executeBody(body, target) };
    case 'status':
      return { method: 'GET', path: `${STATEMENTS_PATH}/${route.statementId}` };
    case 'chunk':
      return {
        method: 'GET',
        path: `${STATEMENTS_PATH}/${route.statementId}/result/chunks/${route.chunkIndex}`,
      };
  }
}

export interface UpstreamReply {
  status: number;
  contentType: string;
  body: string;
}

const UPSTREAM_TIMEOUT_MS = 70_000;

/**
 * Sends a checked request to the workspace with the user's token and only the headers the API needs (never
 * the browser's cookies or Origin); the reply comes back as it is, so the page sees Databricks' own errors
 * (a missing grant is Databricks' 403 or its PERMISSION_DENIED failure, not ours).
 */
export async function sendToWorkspace(
  workspaceUrl: string,
  userToken: string,
  request: UpstreamRequest,
): Promise<UpstreamReply> {
  const target = new URL(request.path, workspaceUrl);
  let response: Response;
  try {
    response = await fetch(target, {
      method: request.method,
      headers: {
        accept: 'application/json',
        authorization: `Bearer ${userToken}`,
        ...(request.body ? { 'content-type': 'application/json' } : {}),
      },
      body: request.body ? JSON.stringify(request.body) : undefined,
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
      redirect: 'manual',
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConsoleSqlError(502, 'SQL_UNAVAILABLE', `${target.origin} did not answer: ${reason}`);
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? 'application/json; charset=utf-8',
    body: await response.text(),
  };
}

/** One request of the page, as the function hands it over. */
export interface StatementRequest {
  method: string;
  /** What follows `/api/2.0/sql/statements/`. */
  rest: string;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** Where the console's SQL goes; `warehouseId` undefined when DATABRICKS_SQL_WAREHOUSE_ID is unset. */
export interface ConsoleSqlSettings {
  workspaceUrl: string | undefined;
  warehouseId: string | undefined;
  catalog: string | undefined;
}

/**
 * The whole SQL route after the operator check: route, user token, body checks, then the one request to the
 * workspace. A refusal is a ConsoleSqlError; nothing is sent for it.
 */
export async function answerStatementRequest(
  request: StatementRequest,
  settings: ConsoleSqlSettings,
): Promise<UpstreamReply> {
  const route = parseStatementRoute(request.method, request.rest);
  if (!settings.workspaceUrl || !settings.warehouseId) {
    throw new ConsoleSqlError(
      503,
      'SQL_UNAVAILABLE',
      `${settings.workspaceUrl ? 'DATABRICKS_SQL_WAREHOUSE_ID' : 'DATABRICKS_HOST'} is not set: the console has no SQL warehouse`,
    );
  }
  const token = userAccessToken(request.headers);
  let body: unknown;
  if (route.kind === 'execute') {
    try {
      body = JSON.parse(await request.text());
    } catch {
      throw new ConsoleSqlError(400, 'INVALID_REQUEST', 'body: not valid JSON');
    }
  }
  const upstream = upstreamRequest(route, body, {
    warehouseId: settings.warehouseId,
    catalog: settings.catalog,
  });
  return sendToWorkspace(settings.workspaceUrl, token, upstream);
}
