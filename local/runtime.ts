import path from 'node:path';

import type { LakewattConfig } from '../lib/config';
import type { EventGridEvent } from '../lib/events/blobCreatedEvent';
import { createLakeStore, LAKE_CONTAINERS } from '../lib/lake';
import type { JobsEmulator } from './databricks/emulator';
import { type LocalEmulatorOverrides, startLocalJobsEmulator } from './databricks/start';
import { deliverEventGridEvents, type DeliveryResult, isRetriedStatus } from './events/deliver';
import { LandingWatcher, landingWatcherStateFile } from './events/landingWatcher';
import type { Clock } from './host/clock';
import type { HostEndpoint } from './host/endpoint';
import { defaultRegistrationModules, LocalHost } from './host/host';
import type { LogSink } from './host/log';
import { checkPipelineSettings } from './startupCheck';

/**
 * The embedded default in one object: the Jobs API emulator (Databricks), the Functions host with the
 * app's registrations (Azure Functions + Durable), and the landing watcher (Event Grid). `lakewatt dev`,
 * `demo` and the commands that need a runtime start it; tests start it on temporary folders.
 */

export const BLOB_CREATED_FUNCTION = 'bronzeBlobCreated';

export interface LocalRuntimeOptions {
  config: LakewattConfig;
  /** Host port on 127.0.0.1 (0: a free one). */
  port: number;
  appRoot?: string;
  modules?: readonly string[];
  /** Start the Jobs API emulator and point the app at it (default true). */
  jobs?: boolean | LocalEmulatorOverrides;
  /** Watch bronze/landing and announce new files (default true). */
  watch?: boolean | { intervalMs?: number; settleMs?: number };
  /** Fire timer triggers (default true). */
  timers?: boolean;
  logSink?: LogSink;
  clock?: Clock;
  maxConcurrentActivities?: number;
  /** Lines about the runtime itself (emulator and watcher). Default: stderr. */
  log?: (line: string) => void;
}

export class LocalRuntime {
  private constructor(
    readonly host: LocalHost,
    readonly emulator: JobsEmulator | undefined,
    readonly watcher: LandingWatcher | undefined,
    readonly config: LakewattConfig,
  ) {}

  get baseUrl(): string {
    return this.host.baseUrl;
  }

  /** The host's key of this start (protected HTTP functions, webhooks, durable management API). */
  get key(): string {
    return this.host.key;
  }

  static async start(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const { config } = options;
    if (config.lake.kind === 'local') {
      // Azure's containers come from infra/; the local lake's folders are made here.
      const lake = createLakeStore(config.lake);
      for (const container of LAKE_CONTAINERS) await lake.ensureContainer(container);
    }
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    let emulator: JobsEmulator | undefined;
    if (options.jobs !== false) {
      const overrides = typeof options.jobs === 'object' ? options.jobs : {};
      emulator = await startLocalJobsEmulator(config, {
        log: (line) => log(`jobs-emulator: ${line}`),
        ...overrides,
      });
      // The app reads its settings on first use: point it at this emulator, with this start's token.
      process.env.DATABRICKS_HOST = emulator.url;
      process.env.DATABRICKS_AUTH = 'static';
      process.env.DATABRICKS_TOKEN = emulator.token;
    }
    let host: LocalHost;
    try {
      await checkPipelineSettings(config);
      const appRoot = path.resolve(options.appRoot ?? process.cwd());
      host = await LocalHost.start({
        home: config.home,
        port: options.port,
        appRoot,
        modules: options.modules ?? defaultRegistrationModules(appRoot),
        taskHub: config.taskHub,
        timers: options.timers,
        clock: options.clock,
        logSink: options.logSink,
        maxConcurrentActivities: options.maxConcurrentActivities,
      });
    } catch (error) {
      await emulator?.close();
      throw error;
    }
    let watcher: LandingWatcher | undefined;
    if (options.watch !== false && config.lake.kind === 'local') {
      const timing = typeof options.watch === 'object' ? options.watch : {};
      const endpoint: HostEndpoint = { baseUrl: host.baseUrl, key: host.key };
      watcher = new LandingWatcher({
        lake: createLakeStore(config.lake),
        stateFile: landingWatcherStateFile(config.home),
        onEvents: async (events) => {
          // One event per request, as Event Grid delivers by default: one bad event fails only itself.
          for (const event of events) {
            const result = await deliverBlobCreated(endpoint, [event]);
            if (result.ok) continue;
            // A final refusal (4xx) would fail again on every poll: dropped, as Event Grid drops it.
            if (!isRetriedStatus(result.status)) {
              log(`landing watcher: ${event.subject} refused with HTTP ${result.status}: ${result.body}`);
              continue;
            }
            throw new Error(`event delivery failed: HTTP ${result.status ?? 'no answer'} ${result.body}`);
          }
        },
        onError: (error) => log(`landing watcher: ${error.message}`),
        ...timing,
      });
      watcher.start();
    }
    return new LocalRuntime(host, emulator, watcher, config);
  }

  /** Delivers events to the Event Grid trigger, as Event Grid would. */
  deliver(events: readonly EventGridEvent[]): Promise<DeliveryResult> {
    return deliverBlobCreated(this, events);
  }

  async stop(): Promise<void> {
    await this.watcher?.stop();
    await this.host.stop();
    await this.emulator?.close();
  }
}

export function deliverBlobCreated(
  host: HostEndpoint,
  events: readonly EventGridEvent[],
): Promise<DeliveryResult> {
  return deliverEventGridEvents(host.baseUrl, BLOB_CREATED_FUNCTION, events, { key: host.key });
}
