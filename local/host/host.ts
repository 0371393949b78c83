import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { issueLocalSecret } from '../security/secrets';
import { type Clock, SystemClock } from './clock';
import { DurableEngine, type FaultPoint } from './durable/engine';
import { type Durability, DurableStore } from './durable/store';
import {
  type CapturedFunction,
  coreRegistry,
  installFunctionsCoreStandIn,
  type RpcTypedData,
} from './functionsCore';
import {
  fromTypedData,
  inputBindingsOfType,
  invoke,
  runAppStartHooks,
  runAppTerminateHooks,
  triggerBinding,
} from './invoke';
import { HostLogger, type LogSink, normaliseLevel, streamSink } from './log';
import { HostServer } from './server';
import { TimerTriggers } from './timers';

export interface LocalHostOptions {
  /** State folder (`LAKEWATT_HOME`): holds `durable.sqlite` and the host lock. */
  home: string;
  /** Port on 127.0.0.1; 0 picks a free one. Default 7071. */
  port?: number;
  /** Registration modules to load. Default: `defaultRegistrationModules(appRoot)`. */
  modules?: readonly string[];
  /** The function app's folder (what `appStart` hooks see as `functionAppDirectory`). Default: cwd. */
  appRoot?: string;
  taskHub?: string;
  clock?: Clock;
  logSink?: LogSink;
  maxConcurrentActivities?: number;
  durability?: Durability;
  failureDetails?: boolean;
  maximumShortTimerMs?: number;
  longRunningTimerIntervalMs?: number;
  /** Fire timer triggers (default true). */
  timers?: boolean;
  onFaultPoint?: (point: FaultPoint, info: { instanceId: string; step: string }) => void | Promise<void>;
}

const lockSchema = z.object({ pid: z.number(), port: z.number(), startedAt: z.string() });
export type HostLock = z.infer<typeof lockSchema>;

export const LOCK_FILE = 'host.lock.json';
export const DATABASE_FILE = 'durable.sqlite';

/** The compiled registration modules of the app: `dist/functions/*.js` and `dist/orchestrations/*.js`. */
export function defaultRegistrationModules(appRoot: string): string[] {
  const modules: string[] = [];
  for (const folder of ['functions', 'orchestrations']) {
    const dir = path.join(appRoot, 'dist', folder);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      if (file.endsWith('.js')) modules.push(path.join(dir, file));
    }
  }
  return modules;
}

/** The lock of a live host on this state folder, if one runs (a stale lock of a dead process is ignored). */
export function readHostLock(home: string): HostLock | undefined {
  const file = path.join(home, LOCK_FILE);
  if (!existsSync(file)) return undefined;
  let lock: HostLock;
  try {
    lock = lockSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
  try {
    process.kill(lock.pid, 0);
  } catch {
    return undefined;
  }
  return lock;
}

const activeHomes = new Set<string>();

/**
 * Loads registration modules with the `@azure/functions-core` stand-in installed, so every registration is
 * captured. Modules already loaded in this process keep their registrations (they are global, as in the
 * worker).
 */
export function loadRegistrations(modules: readonly string[]): ReadonlyMap<string, CapturedFunction> {
  installFunctionsCoreStandIn();
  // Registration modules are only known at run time; loading them is what registers the functions.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  for (const file of modules) require(path.resolve(file));
  return coreRegistry().functions;
}

/**
 * The local Functions host: captured registrations, the durable engine on SQLite, timer triggers and the
 * HTTP front on 127.0.0.1 (HTTP functions, the Event Grid webhook, the Durable management API and the
 * durable client's rpcBaseUrl routes).
 */
export class LocalHost {
  readonly engine: DurableEngine;
  readonly store: DurableStore;
  readonly clock: Clock;
  readonly logger: HostLogger;
  readonly timers: TimerTriggers;
  readonly home: string;
  /** The key of this start (function and system key; also in `$LAKEWATT_HOME/secrets/host-key`). */
  readonly key: string;
  private readonly server: HostServer;
  private readonly functions: ReadonlyMap<string, CapturedFunction>;
  private previousHostname: string | undefined;
  private stopped = false;
  port = 0;

  private constructor(options: LocalHostOptions, functions: ReadonlyMap<string, CapturedFunction>) {
    this.home = path.resolve(options.home);
    this.functions = functions;
    this.key = issueLocalSecret(this.home, 'host-key');
    this.clock = options.clock ?? new SystemClock();
    this.logger = new HostLogger(options.logSink ?? streamSink(process.stderr), () => this.clock.now());
    this.store = new DurableStore(path.join(this.home, DATABASE_FILE), { durability: options.durability });
    this.engine = new DurableEngine({
      store: this.store,
      clock: this.clock,
      logger: this.logger,
      functions: () => this.functions,
      maxConcurrentActivities: options.maxConcurrentActivities,
      clientBindingData: () => this.server.clientBindingData(),
      failureDetails: options.failureDetails,
      maximumShortTimerMs: options.maximumShortTimerMs,
      longRunningTimerIntervalMs: options.longRunningTimerIntervalMs,
      onFaultPoint: options.onFaultPoint,
    });
    const invokeTrigger = (
      fn: CapturedFunction,
      trigger: RpcTypedData,
    ): Promise<RpcTypedData | null | undefined> => this.invokeTrigger(fn, trigger);
    this.server = new HostServer({
      engine: this.engine,
      logger: this.logger,
      functions: () => this.functions,
      invokeTrigger,
      taskHub: options.taskHub ?? 'lakewatt',
      key: this.key,
      status: () => ({
        state: 'Running',
        durable: this.engine.health(),
        pid: process.pid,
        port: this.port,
        home: this.home,
        functions: [...this.functions.values()].map((f) => ({
          name: f.metadata.name,
          trigger: triggerBinding(f).type,
        })),
      }),
    });
    this.timers = new TimerTriggers({
      clock: this.clock,
      store: this.store,
      logger: this.logger,
      invokeTrigger,
    });
  }

  static async start(options: LocalHostOptions): Promise<LocalHost> {
    const home = path.resolve(options.home);
    const live = readHostLock(home);
    if ((live && live.pid !== process.pid) || activeHomes.has(home)) {
      throw new Error(
        `Another Lakewatt host uses ${home}` + (live ? ` (pid ${live.pid}, port ${live.port}).` : '.'),
      );
    }
    const appRoot = path.resolve(options.appRoot ?? process.cwd());
    const functions = loadRegistrations(options.modules ?? defaultRegistrationModules(appRoot));
    const host = new LocalHost(options, functions);
    activeHomes.add(home);
    try {
      coreRegistry().logSink = (level, category, message) =>
        host.logger.log(
          normaliseLevel(level) === 'information' ? 'debug' : normaliseLevel(level),
          'system',
          `${category}: ${message}`,
        );
      await runAppStartHooks(appRoot);
      host.server.refreshRoutes();
      host.port = await host.server.listen(options.port ?? 7071);
      writeFileSync(
        path.join(home, LOCK_FILE),
        JSON.stringify({ pid: process.pid, port: host.port, startedAt: new Date().toISOString() }),
      );
      host.previousHostname = process.env.WEBSITE_HOSTNAME;
      // getClient rewrites binding URLs to localhost:7071 unless WEBSITE_HOSTNAME is set.
      process.env.WEBSITE_HOSTNAME ??= `127.0.0.1:${host.port}`;
      host.engine.start();
      if (options.timers !== false) host.timers.start(functions.values());
    } catch (error) {
      await host.stop();
      throw error;
    }
    host.logger.info(`host listening on ${host.baseUrl} with ${functions.size} functions; state in ${home}`);
    return host;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  registrations(): ReadonlyMap<string, CapturedFunction> {
    return this.functions;
  }

  /** Durable client binding data, for code that needs `df.getClient` outside an invocation. */
  clientBindingData(): Record<string, unknown> {
    return this.server.clientBindingData();
  }

  /** Resolves when no orchestration or activity can make progress without time passing. */
  async whenIdle(): Promise<void> {
    await this.timers.settled();
    await this.engine.whenIdle();
  }

  /**
   * Invokes a non-durable-trigger function (HTTP, Event Grid, timer) with its trigger value and the
   * durable client input binding(s) it declared, and returns its return value.
   */
  async invokeTrigger(fn: CapturedFunction, trigger: RpcTypedData): Promise<RpcTypedData | null | undefined> {
    const inputData = [{ name: triggerBinding(fn).name, data: trigger }];
    for (const name of [
      ...inputBindingsOfType(fn, 'durableClient'),
      ...inputBindingsOfType(fn, 'orchestrationClient'),
    ]) {
      inputData.push({ name, data: { json: JSON.stringify(this.clientBindingData()) } });
    }
    const result = await invoke(fn, {
      inputData,
      log: this.logger.forInvocation({ functionName: fn.metadata.name }),
    });
    return result.returnValue;
  }

  /** Calls a function by name with a plain trigger value (tests, CLI). */
  async call(name: string, triggerValue: unknown): Promise<unknown> {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`No function named '${name}'.`);
    return fromTypedData(await this.invokeTrigger(fn, { json: JSON.stringify(triggerValue) }));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.timers.stop();
    await this.server.close();
    await this.engine.stop();
    try {
      await runAppTerminateHooks();
    } catch (error) {
      this.logger.warn(`appTerminate hook failed: ${String(error)}`);
    }
    this.store.close();
    if (process.env.WEBSITE_HOSTNAME === `127.0.0.1:${this.port}`) {
      if (this.previousHostname === undefined) delete process.env.WEBSITE_HOSTNAME;
      else process.env.WEBSITE_HOSTNAME = this.previousHostname;
    }
    const lock = readHostLock(this.home);
    if (lock?.pid === process.pid) rmSync(path.join(this.home, LOCK_FILE), { force: true });
    activeHomes.delete(this.home);
    this.logger.info('host stopped');
  }
}
