import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { z } from 'zod';

import { ensureError } from '../../lib/errors';
import {
  checkCaller,
  checkJsonBody,
  type GuardRefusal,
  secretMatches,
  unauthenticated,
} from '../security/guard';
import {
  type DurableEngine,
  InstanceConflictError,
  type InstanceStatus,
  UnknownOrchestratorError,
} from './durable/engine';
import { isTerminal, RUNTIME_STATUSES, type RuntimeStatus } from './durable/protocol';
import type { InstanceQuery } from './durable/store';
import type { CapturedFunction, RpcHttpData, RpcTypedData } from './functionsCore';
import { triggerBinding } from './invoke';
import type { HostLogger } from './log';
import { parseRoute, type RouteTemplate } from './routes';

/** What the HTTP front needs from the host. */
export interface ServerContext {
  engine: DurableEngine;
  logger: HostLogger;
  functions(): ReadonlyMap<string, CapturedFunction>;
  /** Invokes a function with its trigger value and the host-provided input bindings (durable client). */
  invokeTrigger(fn: CapturedFunction, trigger: RpcTypedData): Promise<RpcTypedData | null | undefined>;
  status(): Record<string, unknown>;
  taskHub: string;
  /**
   * The key of this start (`$LAKEWATT_HOME/secrets/host-key`): the function key of every HTTP function whose
   * authLevel is not 'anonymous', and the system key of the webhooks, the admin routes and the durable
   * client's rpcBaseUrl (where it is a path segment, as the client drops a base URL's query).
   */
  key: string;
}

interface Reply {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
}

const jsonReply = (status: number, value: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(value),
});

const messageReply = (status: number, message: string): Reply => jsonReply(status, { message });

/** A refused caller, in the project's `{code, message}` error shape. */
const refusalReply = (refusal: GuardRefusal): Reply =>
  jsonReply(refusal.status, { code: refusal.code, message: refusal.message });

const KEY_REQUIRED = unauthenticated(
  'A valid key is required: the code query parameter or the x-functions-key header (LAKEWATT_HOME/secrets/host-key).',
);

/** Event Grid delivery body: an array of events (Event Grid schema) or one event (CloudEvents). */
const eventGridBody = z.union([
  z.array(z.record(z.string(), z.unknown())),
  z.record(z.string(), z.unknown()),
]);

const validationEvent = z.object({
  eventType: z.literal('Microsoft.EventGrid.SubscriptionValidationEvent'),
  data: z.object({ validationCode: z.string() }).loose(),
});

export class HostServer {
  private readonly server: http.Server;
  private routes: Array<{
    fn: CapturedFunction;
    route: RouteTemplate;
    methods: string[] | undefined;
    anonymous: boolean;
  }> = [];
  private port = 0;

  constructor(private readonly ctx: ServerContext) {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.keepAliveTimeout = 1000;
  }

  /** Listens on 127.0.0.1 only. Port 0 picks a free port. */
  async listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    this.server.closeIdleConnections();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      setTimeout(() => this.server.closeAllConnections(), 1000).unref();
    });
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The durable client input binding a real host would inject (`OrchestrationClientInputData`). */
  clientBindingData(): Record<string, unknown> {
    const base = `${this.origin}/runtime/webhooks/durabletask`;
    const code = `code=${encodeURIComponent(this.ctx.key)}`;
    const qs = `taskHub=${this.ctx.taskHub}&connection=Storage&${code}`;
    return {
      taskHubName: this.ctx.taskHub,
      creationUrls: {
        createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${code}`,
        createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${code}`,
      },
      managementUrls: {
        id: 'INSTANCEID',
        statusQueryGetUri: `${base}/instances/INSTANCEID?${qs}`,
        sendEventPostUri: `${base}/instances/INSTANCEID/raiseEvent/{eventName}?${qs}`,
        terminatePostUri: `${base}/instances/INSTANCEID/terminate?reason={text}&${qs}`,
        rewindPostUri: `${base}/instances/INSTANCEID/rewind?reason={text}&${qs}`,
        purgeHistoryDeleteUri: `${base}/instances/INSTANCEID?${qs}`,
        restartPostUri: `${base}/instances/INSTANCEID/restart?${qs}`,
        suspendPostUri: `${base}/instances/INSTANCEID/suspend?reason={text}&${qs}`,
        resumePostUri: `${base}/instances/INSTANCEID/resume?reason={text}&${qs}`,
      },
      baseUrl: base,
      requiredQueryStringParameters: code,
      rpcBaseUrl: `${this.origin}/durabletask/${encodeURIComponent(this.ctx.key)}/`,
    };
  }

  /** Rebuilds the HTTP route table from the captured functions. */
  refreshRoutes(): void {
    this.routes = [];
    for (const fn of this.ctx.functions().values()) {
      const trigger = triggerBinding(fn);
      if (trigger.type.toLowerCase() !== 'httptrigger') continue;
      const binding = fn.metadata.bindings[trigger.name] ?? {};
      const route =
        typeof binding.route === 'string' && binding.route !== '' ? binding.route : fn.metadata.name;
      const methods = Array.isArray(binding.methods)
        ? binding.methods.filter((m): m is string => typeof m === 'string').map((m) => m.toUpperCase())
        : undefined;
      // As a real host: 'anonymous' routes take no key; 'function', 'admin' and 'system' ones do.
      const level = typeof binding.authLevel === 'string' ? binding.authLevel : 'anonymous';
      const anonymous = level.toLowerCase() === 'anonymous';
      this.routes.push({ fn, route: parseRoute(route), methods, anonymous });
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      const body = await readBody(req);
      reply = await this.route(req, body);
    } catch (thrown) {
      const error = ensureError(thrown);
      this.ctx.logger.error(`${req.method ?? ''} ${req.url ?? ''} failed: ${error.stack ?? error.message}`);
      reply = messageReply(500, error.message);
    }
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  }

  /** The key the request presents: the `code` query parameter or the `x-functions-key` header. */
  private presentsKey(req: http.IncomingMessage, url: URL): boolean {
    const header = req.headers['x-functions-key'];
    const presented = url.searchParams.get('code') ?? (typeof header === 'string' ? header : undefined);
    return secretMatches(presented, this.ctx.key);
  }

  private async route(req: http.IncomingMessage, body: Buffer): Promise<Reply> {
    const caller = checkCaller(req, this.port);
    if (caller) return refusalReply(caller);
    const url = new URL(req.url ?? '/', this.origin);
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    if (path.startsWith('/api/') || path === '/api') return this.httpFunction(req, method, url, body);
    const rpc = /^\/durabletask\/([^/]*)\/(.*)$/i.exec(path);
    if (rpc) {
      // The durable client's rpcBaseUrl: the key is its first path segment.
      if (!secretMatches(decodeURIComponent(rpc[1]!), this.ctx.key)) return refusalReply(KEY_REQUIRED);
      const json = checkJsonBody(req, body);
      return json ? refusalReply(json) : this.durable(method, rpc[2] ?? '', url, body, true);
    }
    if (!this.presentsKey(req, url)) return refusalReply(KEY_REQUIRED);
    if (path === '/admin/host/status' || path === '/admin/host/ping') {
      return jsonReply(200, this.ctx.status());
    }
    const json = checkJsonBody(req, body);
    if (json) return refusalReply(json);
    if (path.toLowerCase() === '/runtime/webhooks/eventgrid') return this.eventGrid(req, method, url, body);
    const durable = /^\/runtime\/webhooks\/durabletask\/(.*)$/i.exec(path);
    if (durable) return this.durable(method, durable[1] ?? '', url, body, false);
    return messageReply(404, `No route for ${method} ${path}.`);
  }

  // ------------------------------------------------------------ HTTP functions

  private async httpFunction(
    req: http.IncomingMessage,
    method: string,
    url: URL,
    body: Buffer,
  ): Promise<Reply> {
    const rest = url.pathname.slice('/api'.length);
    let pathMatched = false;
    for (const { fn, route, methods, anonymous } of this.routes) {
      const params = route.match(rest);
      if (!params) continue;
      pathMatched = true;
      if (methods && !methods.includes(method)) continue;
      if (!anonymous && !this.presentsKey(req, url)) return refusalReply(KEY_REQUIRED);
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
      }
      const request: RpcHttpData = { method, url: url.href, headers, params, body: { bytes: body } };
      const result = await this.ctx.invokeTrigger(fn, { http: request });
      return httpReply(result?.http ?? undefined);
    }
    return pathMatched
      ? messageReply(405, `${method} is not allowed on ${url.pathname}.`)
      : messageReply(404, `No HTTP function serves ${url.pathname}.`);
  }

  // ------------------------------------------------------------ Event Grid webhook

  private async eventGrid(req: http.IncomingMessage, method: string, url: URL, body: Buffer): Promise<Reply> {
    const origin = req.headers['webhook-request-origin'];
    if (method === 'OPTIONS' && typeof origin === 'string') {
      // CloudEvents abuse-protection handshake.
      return { status: 200, headers: { 'webhook-allowed-origin': origin, 'webhook-allowed-rate': '*' } };
    }
    if (method !== 'POST') return messageReply(405, 'The Event Grid webhook accepts POST only.');
    const functionName = url.searchParams.get('functionName');
    const fn = functionName ? this.ctx.functions().get(functionName) : undefined;
    if (!fn || triggerBinding(fn).type.toLowerCase() !== 'eventgridtrigger') {
      return messageReply(404, `cannot find function: '${functionName ?? ''}'`);
    }
    const eventType = req.headers['aeg-event-type'];
    if (
      eventType !== 'SubscriptionValidation' &&
      eventType !== 'Notification' &&
      eventType !== 'Unsubscribe'
    ) {
      return messageReply(400, "The 'aeg-event-type' header is missing or has an unknown value.");
    }
    let parsedBody: unknown;
    try {
      parsedBody = JSON.parse(body.toString('utf8'));
    } catch {
      return messageReply(400, 'The request body is not JSON.');
    }
    const events = eventGridBody.safeParse(parsedBody);
    if (!events.success)
      return messageReply(400, 'The request body is not an Event Grid event or array of events.');
    const list = Array.isArray(events.data) ? events.data : [events.data];
    if (eventType === 'SubscriptionValidation') {
      const validation = validationEvent.safeParse(list[0]);
      if (!validation.success)
        return messageReply(400, 'No SubscriptionValidationEvent with a validationCode.');
      return jsonReply(200, { validationResponse: validation.data.data.validationCode });
    }
    if (eventType === 'Unsubscribe') return { status: 202 };
    for (const item of list) {
      try {
        await this.ctx.invokeTrigger(fn, { json: JSON.stringify(item) });
      } catch (thrown) {
        this.ctx.logger.error(`Event Grid function failed: ${ensureError(thrown).message}`, {
          functionName: fn.metadata.name,
        });
        return messageReply(500, `Function '${fn.metadata.name}' failed: ${ensureError(thrown).message}`);
      }
    }
    return { status: 202 };
  }

  // ------------------------------------------------------------ Durable management API and rpcBaseUrl routes

  private durable(method: string, rest: string, url: URL, body: Buffer, rpc: boolean): Reply {
    const engine = this.ctx.engine;
    const segments = rest
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const [collection, id, action, eventName] = segments;
    const q = url.searchParams;
    const parsed = parseJsonBody(body);
    if (collection === 'orchestrators' && method === 'POST' && id) {
      if (parsed === INVALID_JSON) return messageReply(400, 'The request body is not JSON.');
      const input = parsed;
      try {
        const instanceId = engine.startNew(id, { instanceId: action, input });
        return this.createdReply(instanceId, rpc);
      } catch (thrown) {
        if (thrown instanceof InstanceConflictError) return messageReply(409, thrown.message);
        if (thrown instanceof UnknownOrchestratorError) return messageReply(400, thrown.message);
        throw thrown;
      }
    }
    if (collection === 'entities') return this.entityRoute(method, id, action, url, body);
    if (collection !== 'instances') return messageReply(404, `No durable route ${method} ${rest}.`);
    if (!id) {
      const query = instanceQuery(q);
      if (typeof query === 'string') return messageReply(400, query);
      if (method === 'GET') return this.listReply(query, q);
      if (method === 'DELETE') {
        // As the extension: purging many instances needs at least a creation time window's start.
        if (!q.get('createdTimeFrom'))
          return messageReply(400, 'Purging instances requires createdTimeFrom.');
        return jsonReply(200, { instancesDeleted: engine.purge(query) });
      }
      return messageReply(405, `${method} is not allowed on instances.`);
    }
    if (!action) {
      if (method === 'GET') {
        const status = engine.getStatus(id, {
          showHistory: q.get('showHistory') === 'true',
          showHistoryOutput: q.get('showHistoryOutput') === 'true',
          showInput: q.get('showInput') !== 'false',
        });
        if (!status) return messageReply(404, `No instance with id '${id}'.`);
        return this.statusReply(status, q.get('returnInternalServerErrorOnFailure') === 'true');
      }
      if (method === 'DELETE') {
        if (!engine.exists(id)) return messageReply(404, `No instance with id '${id}'.`);
        return jsonReply(200, { instancesDeleted: engine.purge({ instanceId: id }) });
      }
      return messageReply(405, `${method} is not allowed on an instance.`);
    }
    if (method !== 'POST') return messageReply(405, `${method} is not allowed on ${action}.`);
    const gone = (what: string): Reply => messageReply(410, `Instance '${id}' has finished; ${what}.`);
    const missing = (): Reply => messageReply(404, `No instance with id '${id}'.`);
    switch (action) {
      case 'raiseEvent': {
        if (!eventName) return messageReply(400, 'An event name is required.');
        if (parsed === INVALID_JSON) return messageReply(400, 'The event data is not JSON.');
        const data = parsed ?? null;
        const outcome = engine.raiseEvent(id, eventName, data);
        return outcome === 'accepted'
          ? { status: 202 }
          : outcome === 'gone'
            ? gone('the event was not delivered')
            : missing();
      }
      case 'terminate': {
        const outcome = engine.terminate(id, q.get('reason') ?? '');
        return outcome === 'accepted'
          ? { status: 202 }
          : outcome === 'gone'
            ? gone('nothing to terminate')
            : missing();
      }
      case 'restart': {
        try {
          const instanceId = engine.restart(id, q.get('restartWithNewInstanceId') === 'true');
          return instanceId === undefined ? missing() : this.createdReply(instanceId, rpc);
        } catch (thrown) {
          if (thrown instanceof InstanceConflictError) return messageReply(409, thrown.message);
          throw thrown;
        }
      }
      case 'rewind':
      case 'suspend':
      case 'resume':
        // Real operations of the extension that this host does not have: the request is refused, not failed.
        return messageReply(400, `'${action}' is not supported by the local host.`);
      default:
        return messageReply(404, `No operation '${action}' on instances.`);
    }
  }

  /** `entities/{name}/{key}`: signal (POST ?op=), read (GET), list (GET without a key). */
  private entityRoute(
    method: string,
    name: string | undefined,
    key: string | undefined,
    url: URL,
    body: Buffer,
  ): Reply {
    const engine = this.ctx.engine;
    if (!name) return messageReply(400, 'An entity name is required.');
    if (key === undefined) {
      if (method !== 'GET') return messageReply(405, `${method} is not allowed on an entity list.`);
      return jsonReply(
        200,
        engine.listEntities(name).map((e) => ({
          entityId: { name: e.name, key: e.key },
          lastOperationTime: e.lastOperationTime,
          state: url.searchParams.get('fetchState') === 'true' ? e.state : undefined,
        })),
      );
    }
    const entityKey = key === '$' ? '' : key;
    // The extension's key rule: no path or query characters, no control characters.
    if (
      /[/\\#?]/.test(entityKey) ||
      [...entityKey].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)
    )
      return messageReply(400, 'The entity key is not allowed.');
    if (method === 'GET') {
      const entity = engine.readEntityState(name, entityKey);
      return entity ? jsonReply(200, entity.state) : messageReply(404, `No entity '@${name}@${entityKey}'.`);
    }
    if (method === 'POST' || method === 'DELETE') {
      if (
        !this.ctx.functions().has(name) &&
        ![...this.ctx.functions().keys()].some((n) => n.toLowerCase() === name.toLowerCase())
      )
        return messageReply(404, `No entity function '${name}'.`);
      let input: unknown;
      if (method === 'POST' && body.length > 0) {
        try {
          input = JSON.parse(body.toString('utf8')) as unknown;
        } catch {
          return messageReply(400, 'The operation input is not JSON.');
        }
      }
      const operation = method === 'DELETE' ? 'delete' : (url.searchParams.get('op') ?? '');
      engine.signalEntity(name, entityKey, operation, input);
      return { status: 202 };
    }
    return messageReply(405, `${method} is not allowed on an entity.`);
  }

  private createdReply(instanceId: string, rpc: boolean): Reply {
    const payload = managementPayload(this.clientBindingData(), instanceId);
    return jsonReply(rpc ? 202 : 202, payload, { location: String(payload.statusQueryGetUri) });
  }

  private statusReply(status: InstanceStatus, errorOnFailure: boolean): Reply {
    if (!isTerminal(status.runtimeStatus)) {
      const location = String(
        managementPayload(this.clientBindingData(), status.instanceId).statusQueryGetUri,
      );
      return jsonReply(202, status, { location, 'retry-after': '10' });
    }
    return jsonReply(errorOnFailure && status.runtimeStatus === 'Failed' ? 500 : 200, status);
  }

  private listReply(query: InstanceQuery, q: URLSearchParams): Reply {
    const top = q.get('top') ? Number(q.get('top')) : undefined;
    if (top !== undefined && !(Number.isSafeInteger(top) && top > 0))
      return messageReply(400, `top '${q.get('top')}' is not a positive whole number.`);
    const token = q.get('continuationToken');
    const skip = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0;
    if (!(Number.isSafeInteger(skip) && skip >= 0))
      return messageReply(400, 'The continuation token is not one this host issued.');
    const page = this.ctx.engine.query(query, { top, skip, showInput: q.get('showInput') === 'true' });
    const headers: Record<string, string> = {};
    if (top !== undefined && page.length === top) {
      headers['x-ms-continuation-token'] = Buffer.from(String(skip + top)).toString('base64url');
    }
    return jsonReply(200, page, headers);
  }
}

const INVALID_JSON = Symbol('invalid JSON');

/** A request body as JSON: undefined when empty, INVALID_JSON when it does not parse. */
function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return INVALID_JSON;
  }
}

/** Instance query filters from the management API's query string, or a message naming the bad value. */
function instanceQuery(q: URLSearchParams): InstanceQuery | string {
  const query: InstanceQuery = {};
  const statuses = q.get('runtimeStatus');
  if (statuses) {
    const list = statuses.split(',').map((s) => s.trim());
    const bad = list.find((s) => !(RUNTIME_STATUSES as readonly string[]).includes(s));
    if (bad) return `Unknown runtimeStatus '${bad}'.`;
    query.statuses = list as RuntimeStatus[];
  }
  for (const [key, field] of [
    ['createdTimeFrom', 'createdFrom'],
    ['createdTimeTo', 'createdTo'],
  ] as const) {
    const value = q.get(key);
    if (value) {
      const ms = Date.parse(value);
      if (Number.isNaN(ms)) return `${key} '${value}' is not a date.`;
      query[field] = ms;
    }
  }
  const prefix = q.get('instanceIdPrefix');
  if (prefix) query.instanceIdPrefix = prefix;
  return query;
}

function managementPayload(binding: Record<string, unknown>, instanceId: string): Record<string, unknown> {
  const urls = binding.managementUrls as Record<string, string>;
  const payload: Record<string, unknown> = { id: instanceId };
  for (const [key, value] of Object.entries(urls)) {
    if (key !== 'id') payload[key] = value.replaceAll('INSTANCEID', encodeURIComponent(instanceId));
  }
  return payload;
}

function httpReply(data: RpcHttpData | undefined): Reply {
  if (!data) return { status: 204 };
  const headers: Record<string, string | string[]> = { ...(data.headers ?? {}) };
  const cookies = (data.cookies ?? []).map(formatCookie).filter((c): c is string => c !== undefined);
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  const body = data.body;
  let payload: Buffer | undefined;
  if (body?.bytes) payload = Buffer.from(body.bytes);
  else if (typeof body?.string === 'string') payload = Buffer.from(body.string);
  return { status: Number(data.statusCode ?? 200), headers, body: payload };
}

const cookieSchema = z
  .object({
    name: z.string(),
    value: z.string(),
    domain: z.object({ value: z.string() }).nullish(),
    path: z.object({ value: z.string() }).nullish(),
    maxAge: z.object({ value: z.number() }).nullish(),
    secure: z.object({ value: z.boolean() }).nullish(),
    httpOnly: z.object({ value: z.boolean() }).nullish(),
  })
  .loose();

function formatCookie(cookie: unknown): string | undefined {
  const parsed = cookieSchema.safeParse(cookie);
  if (!parsed.success) return undefined;
  const c = parsed.data;
  const parts = [`${c.name}=${c.value}`];
  if (c.domain?.value) parts.push(`Domain=${c.domain.value}`);
  if (c.path?.value) parts.push(`Path=${c.path.value}`);
  if (c.maxAge?.value !== undefined) parts.push(`Max-Age=${c.maxAge.value}`);
  if (c.secure?.value) parts.push('Secure');
  if (c.httpOnly?.value) parts.push('HttpOnly');
  return parts.join('; ');
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
