import path from 'node:path';

import { UsageError } from '../../lib/errors';
import { findRepoRoot } from '../databricks/emulator';
import { ConsoleServer, type ConsoleServerOptions } from './server';

/** Where `make build` puts the page (local/console/build.ts). */
export const consoleAssetsDir = (): string => path.join(findRepoRoot(), 'dist', 'console');

/** Starts the console server the way `lakewatt dev` and `lakewatt ui` do; a taken port is a usage error. */
export async function startLocalConsole(
  options: Omit<ConsoleServerOptions, 'assetsDir'> & { assetsDir?: string },
): Promise<ConsoleServer> {
  try {
    return await ConsoleServer.start({ ...options, assetsDir: options.assetsDir ?? consoleAssetsDir() });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError(
        `console port ${options.port} on 127.0.0.1 is in use (a \`lakewatt dev\` serving the console already?); ` +
          'pass --console-port <port> (0: a free one) or --no-console',
      );
    }
    throw error;
  }
}

/** A console port option: an integer 0-65535. */
export function consolePort(text: string | undefined, fallback: number, flag: string): number {
  const port = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`${flag} ${text} is not a port`);
  return port;
}
