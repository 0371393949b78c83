import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { ensureError } from '../../lib/errors';
import {
  checkCaller,
  checkJsonBody,
  type GuardRefusal,
  secretMatches,
  unauthenticated,
} from '../security/guard';
import { ApiError, type Json } from './api';
import type { JobCatalog } from './catalog';
import type { FaultInjector } from './faults';
import type { RunScheduler } from './runs';
import { StatementApiError, type StatementService } from './statements';
import type { RunViews } from './views';

const MAX_BODY_BYTES = 1024 * 1024;

export interface EmulatorServerOptions {
  catalog: JobCatalog;
  scheduler: RunScheduler;
  views: RunViews;
  statements: StatementService;
  faults: FaultInjector;
  /** The bearer token every API request must carry. */
  token: string;
  /** `/lakewatt/health`: the emulator's home, lake root, bundle and workers. */
  health: () => Json;
}

/** A request body read once, parsed as the JSON map the API expects on first use. */
class Body {
  constructor(private readonly raw: Buffer) {}

  json(): Json {
    const text = this.raw.toString('utf8');
    if (text.trim() === '') return {};
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ApiError(
        400,
        'MALFORMED_REQUEST',
        'Invalid JSON given in the body of the request - expected a map',
      );
    }
    return value as Json;
  }
}

/**
 * The emulator's HTTP front on 127.0.0.1: the caller checks (Host, Origin, bearer token, JSON bodies; see
 * docs/security/local-runtime.md), the Jobs API 2.2 routes (also under /api/2.1), the SQL Statement
 * Execution API 2.0 routes, injected HTTP faults, and the run pages. Errors use the service's
 * `{error_code, message}` shape.
 */
export class EmulatorServer {
  private server: Server | undefined;
  private port = 0;

  constructor(private readonly options: EmulatorServerOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get listeningPort(): number {
    return this.port;
  }

  async listen(port: number): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((thrown: unknown) => {
        if (thrown instanceof ApiError || thrown instanceof StatementApiError) {
          this.send(res, thrown.status, { error_code: thrown.errorCode, message: thrown.message });
          return;
        }
        this.send(res, 500, { error_code: 'INTERNAL_ERROR', message: ensureError(thrown).message });
      });
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    if (res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  private refuse(res: ServerResponse, refusal: GuardRefusal): void {
    this.send(res, refusal.status, { error_code: refusal.code, message: refusal.message });
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES)
        throw new ApiError(400, 'MALFORMED_REQUEST', 'The request body is larger than 1 MB');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    const presented = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    return secretMatches(presented, this.options.token);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const caller = checkCaller(req, this.port);
    if (caller) {
      this.refuse(res, caller);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const page = /^\/jobs\/(\d+)\/runs\/(\d+)$/.exec(url.pathname);
    if (page && method === 'GET') {
      // A browser link (run_page_url in audit records): no token, as the workspace page takes a session.
      const view = this.options.views.runPage(Number(page[2]));
      res.writeHead(view.status, { 'content-type': view.contentType });
      res.end(view.body);
      return;
    }
    if (!this.authorized(req)) {
      this.refuse(
        res,
        unauthenticated(
          'Invalid access token: send the emulator token (LAKEWATT_HOME/secrets/jobs-token) as Authorization: Bearer <token>.',
        ),
      );
      return;
    }
    const raw = await this.readBody(req);
    const unsupported = checkJsonBody(req, raw);
    if (unsupported) {
      this.refuse(res, unsupported);
      return;
    }
    const body = new Body(raw);
    const { faults, catalog, scheduler, views } = this.options;
    if (url.pathname === '/lakewatt/faults') {
      if (method === 'PUT' || method === 'POST') {
        try {
          faults.set(body.json());
        } catch (thrown) {
          this.send(res, 400, {
            error_code: 'INVALID_PARAMETER_VALUE',
            message: ensureError(thrown).message,
          });
          return;
        }
      }
      this.send(res, 200, faults.pending());
      return;
    }
    if (url.pathname === '/lakewatt/health') {
      this.send(res, 200, this.options.health());
      return;
    }
    const statement =
      /^\/api\/2\.0\/sql\/statements(?:\/([^/]+)(?:\/(cancel)|\/result\/chunks\/(\d+))?)?\/?$/.exec(
        url.pathname,
      );
    if (statement) {
      await this.handleStatement(req, res, method, statement, body);
      return;
    }
    const route = /^\/api\/2\.[12]\/jobs\/(.+)$/.exec(url.pathname)?.[1];
    if (route === undefined) {
      this.send(res, 404, {
        error_code: 'ENDPOINT_NOT_FOUND',
        message: `No API found for '${method} ${url.pathname}'`,
      });
      return;
    }
    if (this.sendFault(res, route)) return;
    switch (`${method} ${route}`) {
      case 'GET list':
        this.send(res, 200, catalog.list(url.searchParams));
        return;
      case 'GET get':
        this.send(res, 200, catalog.jobJson(Number(url.searchParams.get('job_id'))));
        return;
      case 'POST run-now':
        this.send(res, 200, scheduler.runNow(body.json()));
        return;
      case 'GET runs/get':
        this.send(res, 200, views.runJson(views.getRunRow(url.searchParams)));
        return;
      case 'GET runs/list':
        this.send(res, 200, views.listRuns(url.searchParams));
        return;
      case 'POST runs/cancel':
        this.send(res, 200, scheduler.cancel(body.json()));
        return;
      case 'GET runs/get-output':
        this.send(res, 200, views.output(url.searchParams));
        return;
      default:
        this.send(res, 404, {
          error_code: 'ENDPOINT_NOT_FOUND',
          message: `No API found for '${method} ${url.pathname}'`,
        });
    }
  }

  /** Answers with an injected HTTP fault for this route, if one is pending. */
  private sendFault(res: ServerResponse, route: string): boolean {
    const fault = this.options.faults.takeHttp(route);
    if (!fault) return false;
    const headers: Record<string, string> = {};
    if ((fault.status === 429 || fault.status === 503) && fault.retryAfterSeconds !== undefined)
      headers['retry-after'] = String(fault.retryAfterSeconds);
    const code =
      fault.errorCode ??
      (fault.status === 429
        ? 'REQUEST_LIMIT_EXCEEDED'
        : fault.status === 503
          ? 'TEMPORARILY_UNAVAILABLE'
          : 'INTERNAL_ERROR');
    this.send(
      res,
      fault.status,
      { error_code: code, message: `Injected HTTP ${fault.status} (emulator fault injection)` },
      headers,
    );
    return true;
  }

  /**
   * The SQL Statement Execution API 2.0 routes (fault routes `sql/statements`, `sql/statements/get`,
   * `sql/statements/cancel`, `sql/statements/result`).
   */
  private async handleStatement(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    match: RegExpExecArray,
    body: Body,
  ): Promise<void> {
    const [, id, cancel, chunk] = match;
    const route =
      id === undefined
        ? 'sql/statements'
        : cancel
          ? 'sql/statements/cancel'
          : chunk !== undefined
            ? 'sql/statements/result'
            : 'sql/statements/get';
    if (this.sendFault(res, route)) return;
    try {
      if (route === 'sql/statements' && method === 'POST') {
        this.send(res, 200, await this.options.statements.execute(body.json()));
      } else if (route === 'sql/statements/get' && method === 'GET' && id !== undefined) {
        this.send(res, 200, this.options.statements.get(id));
      } else if (route === 'sql/statements/cancel' && method === 'POST' && id !== undefined) {
        this.send(res, 200, this.options.statements.cancel(id));
      } else if (route === 'sql/statements/result' && method === 'GET' && id !== undefined) {
        this.send(res, 200, this.options.statements.chunk(id, Number(chunk)));
      } else {
        this.send(res, 404, {
          error_code: 'ENDPOINT_NOT_FOUND',
          message: `No API found for '${method} ${req.url ?? ''}'`,
        });
      }
    } catch (thrown) {
      if (thrown instanceof StatementApiError || thrown instanceof ApiError) {
        this.send(res, thrown.status, { error_code: thrown.errorCode, message: thrown.message });
        return;
      }
      throw thrown;
    }
  }
}
