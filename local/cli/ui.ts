import type { Command } from 'commander';

import { DEFAULT_CONSOLE_PORT } from '../console/server';
import { consolePort, startLocalConsole } from '../console/start';
import { withRuntime } from './dev';
import { withJobsEmulator } from './sql';
import { untilStopped } from './untilStopped';

/**
 * `lakewatt ui`: the operations console against the state folder's runtime: a running `lakewatt dev`
 * (which serves the console itself, on --console-port) or, when none runs, an embedded runtime started
 * for as long as the console is open.
 */
export function registerUi(program: Command): void {
  program
    .command('ui')
    .description(
      'serve the operations console (runs, gold, data quality, freshness) on 127.0.0.1 against the running `lakewatt dev`, or an embedded runtime, until Ctrl-C',
    )
    .option('--port <port>', `console port on 127.0.0.1 (default ${DEFAULT_CONSOLE_PORT + 1}; 0: a free one)`)
    .action(async (options: { port?: string }) => {
      // Next to dev's own console port, so both can run on one machine.
      const port = consolePort(options.port, DEFAULT_CONSOLE_PORT + 1, '--port');
      await withRuntime(async (runtime) => {
        const serve = async (sql: { url: string; token: string }): Promise<void> => {
          const server = await startLocalConsole({ port, hostUrl: runtime.baseUrl, sql });
          process.stdout.write(
            `lakewatt ui: console on ${server.url} (runtime ${runtime.baseUrl}); Ctrl-C stops\n`,
          );
          await untilStopped();
          await server.close();
        };
        const emulator = runtime.local?.emulator;
        if (emulator) await serve({ url: emulator.url, token: emulator.token });
        else await withJobsEmulator(runtime.config, (url, token) => serve({ url, token }));
      });
    });
}
