import path from 'node:path';

import type { Command } from 'commander';

import { type LakewattConfig, loadConfig } from '../../lib/config';
import { UsageError } from '../../lib/errors';
import { DEFAULT_CONSOLE_PORT } from '../console/server';
import { consolePort, startLocalConsole } from '../console/start';
import { hostKeyHeaders, readHostKey } from '../host/endpoint';
import { defaultRegistrationModules, type LocalHost, readHostLock } from '../host/host';
import { type LogLevel, streamSink } from '../host/log';
import { LocalRuntime } from '../runtime';
import { untilStopped } from './untilStopped';

interface DevOptions {
  port?: string;
  jobs?: boolean;
  appRoot?: string;
  logLevel?: string;
  maxActivities?: string;
  consolePort?: string;
  console?: boolean;
}

const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'information', 'warning', 'error'];

/** A runtime to talk to: its base URL, and the embedded runtime when this command started one. */
export interface Runtime {
  baseUrl: string;
  /** The host's key of its start (`$LAKEWATT_HOME/secrets/host-key`). */
  key: string;
  /** The embedded host, when this process runs it (undefined when a `lakewatt dev` serves the folder). */
  host: LocalHost | undefined;
  /** The embedded runtime (host, Jobs API emulator, landing watcher), when this process runs it. */
  local: LocalRuntime | undefined;
  config: LakewattConfig;
}

/**
 * Runs `fn` against the runtime of the state folder: a running `lakewatt dev` on the same folder if there
 * is one (found through its lock file and answering on its port), otherwise an embedded runtime (host,
 * Jobs API emulator and landing watcher on free ports, no timer triggers) started for the duration of
 * `fn` and stopped afterwards. Work it leaves unfinished resumes the next time a runtime starts on the
 * folder. Later commands (drop, runs, ...) use this so a user never has to start a process by hand first.
 */
export async function withRuntime<T>(
  fn: (runtime: Runtime) => Promise<T>,
  options: { home?: string; modules?: readonly string[]; appRoot?: string; jobs?: boolean } = {},
): Promise<T> {
  const config = options.home ? loadConfig({ ...process.env, LAKEWATT_HOME: options.home }) : loadConfig();
  const home = path.resolve(config.home);
  const lock = readHostLock(home);
  const key = readHostKey(home);
  if (lock && key !== undefined) {
    const baseUrl = `http://127.0.0.1:${lock.port}`;
    const alive = await fetch(`${baseUrl}/admin/host/status`, {
      headers: hostKeyHeaders({ key }),
      signal: AbortSignal.timeout(2000),
    })
      .then((r) => r.ok)
      .catch(() => false);
    if (alive) return fn({ baseUrl, key, host: undefined, local: undefined, config });
  }
  const local = await LocalRuntime.start({
    config: { ...config, home },
    port: 0,
    appRoot: options.appRoot,
    modules: options.modules,
    jobs: options.jobs === false ? false : { port: 0 },
    timers: false,
    logSink: streamSink(process.stderr, 'warning'),
    log: () => undefined,
  });
  try {
    return await fn({ baseUrl: local.baseUrl, key: local.key, host: local.host, local, config });
  } finally {
    await local.stop();
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description(
      'run the local runtime: the Functions host (HTTP, Event Grid webhook, timers) and the durable backend, until Ctrl-C',
    )
    .option('--port <port>', 'port on 127.0.0.1 (default: LOCAL_HOST_PORT, 7071)')
    .option(
      '--module <file>',
      'registration module to load (repeatable; default: dist/functions and dist/orchestrations)',
      collect,
    )
    .option('--app-root <dir>', 'folder of the function app (default: the current folder)')
    .option('--max-activities <n>', 'activities running at once (default 10)')
    .option('--no-jobs', 'do not start the Jobs API emulator (on LOCAL_JOBS_PORT)')
    .option('--console-port <port>', `operations console port on 127.0.0.1 (default ${DEFAULT_CONSOLE_PORT})`)
    .option('--no-console', 'do not serve the operations console')
    .option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`, 'information')
    .action(async (options: DevOptions & { module?: string[] }) => {
      const config = loadConfig();
      const port = options.port === undefined ? config.local.hostPort : Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port ${options.port} is not a port`);
      const level = (options.logLevel ?? 'information') as LogLevel;
      if (!LOG_LEVELS.includes(level))
        throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
      const maxActivities = options.maxActivities === undefined ? undefined : Number(options.maxActivities);
      if (maxActivities !== undefined && !(Number.isInteger(maxActivities) && maxActivities > 0)) {
        throw new UsageError('--max-activities must be a positive integer');
      }
      const uiPort = consolePort(options.consolePort, DEFAULT_CONSOLE_PORT, '--console-port');
      const appRoot = path.resolve(options.appRoot ?? process.cwd());
      const modules = options.module ?? defaultRegistrationModules(appRoot);
      if (modules.length === 0) {
        throw new UsageError(
          `no registration modules under ${appRoot}/dist; run \`make build\` or pass --module`,
        );
      }
      const runtime = await LocalRuntime.start({
        config,
        port,
        appRoot,
        modules,
        maxConcurrentActivities: maxActivities,
        logSink: streamSink(process.stderr, level),
        // The Jobs API emulator runs beside the host, as Databricks runs beside Azure Functions.
        jobs: options.jobs !== false,
      });
      process.stdout.write(
        `lakewatt dev: listening on ${runtime.baseUrl}` +
          (runtime.emulator ? `, Jobs API emulator on ${runtime.emulator.url}` : '') +
          (runtime.watcher ? ', watching bronze/landing' : '') +
          ` (state in ${config.home}); Ctrl-C stops\n`,
      );
      // The console reads the runs API from this host and SQL from this emulator (local/console/server.ts).
      const ui =
        options.console === false
          ? undefined
          : await startLocalConsole({
              port: uiPort,
              hostUrl: runtime.baseUrl,
              sql: runtime.emulator
                ? { url: runtime.emulator.url, token: runtime.emulator.token }
                : undefined,
            }).catch(async (error: unknown) => {
              await runtime.stop();
              throw error;
            });
      if (ui) process.stdout.write(`lakewatt dev: console on ${ui.url}\n`);
      await untilStopped();
      process.stdout.write('lakewatt dev: stopping\n');
      await ui?.close();
      await runtime.stop();
    });
}
