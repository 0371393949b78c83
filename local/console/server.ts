import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';

import { CONSOLE_PAGE_HEADERS, consoleAsset, readConsoleAsset } from '../../lib/console/assets';
import { ConsoleSqlError, executeBody } from '../../lib/console/sqlStatements';
import { ensureError } from '../../lib/errors';
import { LOCAL_CALLER_HEADER } from '../../lib/pipeline/caller';
import {
  checkCaller,
  checkJsonBody,
  type GuardRefusal,
  secretMatches,
  unauthenticated,
} from '../security/guard';

/**
 * The operations console's local server, on 127.0.0.1 only: it serves the page (dist/console) and, on the
 * same origin, exactly the two APIs the page reads: the runs API (`/api/runs...`, and the freshness routes
 * `/api/freshness...` once they exist) forwarded to the Functions host, and the SQL Statement Execution API
 * (`/api/2.0/sql/statements...`) forwarded to the Jobs emulator with its bearer token and warehouse id, so
 * the token never reaches the browser. Every other path is 404. The caller checks of the other local
 * servers apply (Host and Origin; JSON bodies), so another site's page cannot drive it through the
 * browser, and the API routes need this start's console token (`x-lakewatt-console-token`), which only
 * the printed URL carries, so another local user cannot read the lake through it
 * (docs/security/local-runtime.md).
 */

export const DEFAULT_CONSOLE_PORT = 7073;
/** The local emulator serves one warehouse under any id; in Azure the proxy names the real one. */
export const CONSOLE_WAREHOUSE_ID = 'lakewatt-console';
/** The header the page sends its token in (it keeps the token in sessionStorage, this origin's only). */
export const CONSOLE_TOKEN_HEADER = 'x-lakewatt-console-token';
const MAX_BODY_BYTES = 1024 * 1024;
const UPSTREAM_TIMEOUT_MS = 70_000;

const RUNS_ROUTE = /^\/api\/(?:runs|freshness)(?:\/[^?#]*)?$/;
const SQL_ROUTE = /^\/api\/2\.0\/sql\/statements(?:\/[A-Za-z0-9_-]+(?:\/cancel|\/result\/chunks\/\d+)?)?\/?$/;

export interface ConsoleServerOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** The Functions host that serves the runs API (`http://127.0.0.1:<port>`). */
  hostUrl: string;
  /** The SQL warehouse: the Jobs emulator's URL and its token. Absent: the SQL routes answer 503. */
  sql?: { url: string; token: string };
  /** Folder of the built page (index.html, main.js, main.css). */
  assetsDir: string;
  /** Recorded as the caller of replays started from the page (`requestedBy`). */
  callerName?: string;
  /** The token the API routes require; default: a new random one per start. */
  token?: string;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

const jsonReply = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: {
    'content-type': 'application/json; charset=utf-8',
    'x-content-type-options': 'nosniff',
    ...headers,
  },
  body: JSON.stringify(body),
});

const errorReply = (status: number, code: string, message: string): Reply =>
  jsonReply(status, { code, message });

const refusal = (r: GuardRefusal): Reply => errorReply(r.status, r.code, r.message);

export class ConsoleServer {
  private port = 0;
  /** This start's token: in the URL the user opens, then in the page's requests. */
  readonly token: string;

  private constructor(
    private readonly server: Server,
    private readonly options: ConsoleServerOptions,
  ) {
    this.token = options.token ?? randomBytes(24).toString('base64url');
  }

  /** The address to open: the page takes the token from it and drops it from the address bar. */
  get url(): string {
    return `${this.origin}/?token=${this.token}`;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(options: ConsoleServerOptions): Promise<ConsoleServer> {
    const server = createServer();
    const instance = new ConsoleServer(server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void instance.handle(req, res);
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    instance.port = (server.address() as AddressInfo).port;
    return instance;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.route(req);
    } catch (thrown) {
      reply = errorReply(500, 'INTERNAL', ensureError(thrown).message);
    }
    if (res.headersSent) return;
    res.writeHead(reply.status, {
      'content-length': String(Buffer.byteLength(reply.body)),
      ...reply.headers,
    });
    res.end(reply.body);
  }

  private async route(req: IncomingMessage): Promise<Reply> {
    const refused = checkCaller(req, this.port);
    if (refused) return refusal(refused);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    // Browsers ask for an icon on every page; the console has none.
    if (url.pathname === '/favicon.ico')
      return { status: 204, headers: { ...CONSOLE_PAGE_HEADERS }, body: '' };
    if (!url.pathname.startsWith('/api/') && consoleAsset(url.pathname.slice(1)).kind === 'file') {
      if (method !== 'GET' && method !== 'HEAD') return notAllowed(method, url);
      return readConsoleAsset(this.options.assetsDir, url.pathname.slice(1));
    }
    const runs = RUNS_ROUTE.test(url.pathname);
    const sql = SQL_ROUTE.test(url.pathname);
    if (!runs && !sql) return errorReply(404, 'NOT_FOUND', `the console serves no ${url.pathname}`);
    if (method !== 'GET' && method !== 'POST') return notAllowed(method, url);
    const presented = req.headers[CONSOLE_TOKEN_HEADER];
    if (!secretMatches(typeof presented === 'string' ? presented : undefined, this.token)) {
      return refusal(
        unauthenticated(
          'no or wrong console token: open the console through the address `lakewatt dev` or `lakewatt ui` printed',
        ),
      );
    }
    const body = await readBody(req);
    if (body === undefined) return errorReply(413, 'BODY_TOO_LARGE', 'the request body is larger than 1 MiB');
    const notJson = checkJsonBody(req, body);
    if (notJson) return refusal(notJson);
    return runs ? this.toHost(method, url, body) : this.toWarehouse(method, url, body);
  }

  private toHost(method: string, url: URL, body: Buffer): Promise<Reply> {
    const caller = this.options.callerName ?? `console:${safeUser()}`;
    return forward(`${this.options.hostUrl}${url.pathname}${url.search}`, method, body, {
      [LOCAL_CALLER_HEADER]: caller,
    });
  }

  private toWarehouse(method: string, url: URL, body: Buffer): Promise<Reply> | Reply {
    const sql = this.options.sql;
    if (!sql) {
      return errorReply(
        503,
        'SQL_UNAVAILABLE',
        'no SQL warehouse: the runtime runs without the Jobs emulator',
      );
    }
    let payload = body;
    if (method === 'POST' && url.pathname.replace(/\/$/, '') === '/api/2.0/sql/statements') {
      let request: unknown;
      try {
        request = JSON.parse(body.toString('utf8'));
      } catch {
        return errorReply(400, 'INVALID_REQUEST', 'body: not valid JSON');
      }
      // The same checks as on Azure (one read statement, the console's warehouse), shared with the Function.
      try {
        payload = Buffer.from(JSON.stringify(executeBody(request, { warehouseId: CONSOLE_WAREHOUSE_ID })));
      } catch (error) {
        if (error instanceof ConsoleSqlError) return errorReply(error.status, error.code, error.message);
        throw error;
      }
    }
    return forward(`${sql.url}${url.pathname}${url.search}`, method, payload, {
      authorization: `Bearer ${sql.token}`,
    });
  }
}

const notAllowed = (method: string, url: URL): Reply =>
  errorReply(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}`);

/** The OS user as a caller label the runs API accepts (letters, digits, `._@:-`). */
function safeUser(): string {
  try {
    return (
      os
        .userInfo()
        .username.replace(/[^\w.@:-]/g, '_')
        .slice(0, 60) || 'local'
    );
  } catch {
    return 'local';
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Sends the request on with only the headers the upstream needs (never the browser's Origin or cookies). */
async function forward(
  target: string,
  method: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<Reply> {
  let response: Response;
  try {
    response = await fetch(target, {
      method,
      headers: {
        accept: 'application/json',
        ...(body.length > 0 ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: method === 'GET' || body.length === 0 ? undefined : body,
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
      redirect: 'manual',
    });
  } catch (thrown) {
    const origin = new URL(target).origin;
    return errorReply(
      502,
      'UPSTREAM_UNAVAILABLE',
      `${origin} did not answer: ${ensureError(thrown).message}`,
    );
  }
  const text = Buffer.from(await response.arrayBuffer());
  const out: Record<string, string> = {
    'content-type': response.headers.get('content-type') ?? 'application/json; charset=utf-8',
    'x-content-type-options': 'nosniff',
  };
  const location = response.headers.get('location');
  // The runs API's Location names its own route (/api/runs/{id}); the console serves it too.
  if (location?.startsWith('/api/runs/')) out.location = location;
  return { status: response.status, headers: out, body: text };
}
