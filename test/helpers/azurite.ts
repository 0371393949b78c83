import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, realpathSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { BlobServiceClient } from '@azure/storage-blob';

/**
 * Azurite (blob service only) for the integration tests: started once per jest run by
 * test/integration/globalSetup.ts on a free loopback port, in memory, and stopped by its process id in
 * globalTeardown.ts. Test files find it through AZURITE_BLOB_PORT, which jest workers inherit.
 */

/** Environment variables shared between the global set-up, the workers and the teardown. */
export const AZURITE_PORT_ENV = 'AZURITE_BLOB_PORT';
export const AZURITE_STATE_ENV = 'LAKEWATT_AZURITE_STATE';

/**
 * Azurite's well-known development account. The key is public and documented by Microsoft for the
 * emulator (https://learn.microsoft.com/azure/storage/common/storage-use-azurite); it is not a secret.
 */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export function azuriteConnectionString(port: number): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${AZURITE_ACCOUNT}`,
    `AccountKey=${AZURITE_KEY}`,
    `BlobEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`,
  ].join(';');
}

/** The port of the Azurite started by the global set-up; a clear error when there is none. */
export function azuritePort(): number {
  const port = Number(process.env[AZURITE_PORT_ENV]);
  if (!Number.isInteger(port) || port <= 0) {
    throw new Error(
      `${AZURITE_PORT_ENV} is not set: run integration tests through jest's 'integration' project, whose ` +
        'globalSetup starts Azurite (npx jest --selectProjects integration ...)',
    );
  }
  return port;
}

export function azuriteBlobServiceClient(): BlobServiceClient {
  return BlobServiceClient.fromConnectionString(azuriteConnectionString(azuritePort()), {
    // Fail fast in tests: Azurite is on loopback, a retry storm only hides a dead emulator.
    retryOptions: { maxTries: 2, retryDelayInMs: 50, maxRetryDelayInMs: 200, tryTimeoutInMs: 30_000 },
  });
}

/** A container-name prefix unique to one test (container names: 3-63 of [a-z0-9-]). */
export function uniqueContainerPrefix(label = 't'): string {
  return `${label}${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/** What the set-up records so the teardown can stop exactly the process it started. */
export interface AzuriteState {
  pid: number;
  port: number;
  workDir: string;
  startedMs: number;
}

/** Picks a free loopback port by binding port 0 and releasing it. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}

const START_TIMEOUT_MS = 20_000;

/**
 * Starts `azurite-blob` from node_modules/.bin, in memory, on a free loopback port, and waits until it
 * answers HTTP. Retries once on a lost port race. Fails with Azurite's own output when it does not start.
 */
export async function startAzurite(repoRoot: string): Promise<AzuriteState> {
  const bin = path.join(repoRoot, 'node_modules', '.bin', 'azurite-blob');
  let script: string;
  try {
    script = realpathSync(bin);
  } catch {
    throw new Error(`Azurite is not installed (${bin} is missing): run npm ci`);
  }
  // Azurite refuses --location together with --inMemoryPersistence, so it runs in a scratch folder of its
  // own: nothing it might write lands in the repository.
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-azurite-'));
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeLoopbackPort();
    try {
      return await launch(script, port, workDir);
    } catch (e) {
      lastError = e instanceof Error ? e : new Error(String(e));
      if (!/EADDRINUSE/.test(lastError.message)) break;
    }
  }
  await fs.rm(workDir, { recursive: true, force: true });
  throw lastError ?? new Error('Azurite did not start');
}

async function launch(script: string, port: number, workDir: string): Promise<AzuriteState> {
  const args = [
    script,
    '--blobHost',
    '127.0.0.1',
    '--blobPort',
    String(port),
    '--inMemoryPersistence',
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--loose',
    '--silent',
  ];
  const startedMs = Date.now();
  // The node binary runs the script directly, so the child's pid is Azurite's own (no shell in between).
  const child = spawn(process.execPath, args, { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    if (output.length < 16_000) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  try {
    await waitUntilAnswering(child, port, () => output);
  } catch (e) {
    if (child.exitCode === null) child.kill('SIGKILL');
    throw e;
  }
  // Let jest exit even if the teardown never runs; the pid is recorded for it.
  child.stdout?.removeAllListeners('data').destroy();
  child.stderr?.removeAllListeners('data').destroy();
  child.unref();
  if (child.pid === undefined) throw new Error('Azurite started without a process id');
  return { pid: child.pid, port, workDir, startedMs };
}

async function waitUntilAnswering(child: ChildProcess, port: number, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${code === null ? `signal ${signal ?? '?'}` : `code ${code}`}`;
  });
  child.once('error', (error) => {
    exited = `failed to spawn: ${error.message}`;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`Azurite ${exited} on port ${port}. Its output:\n${output()}`);
    if (await answers(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `Azurite did not answer on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms. Output:\n${output()}`,
  );
}

/**
 * True once Azurite answers HTTP on the port (it replies 400 to an anonymous request, with a
 * `Server: Azurite-Blob/...` header). Another server that took the port in a race does not count.
 */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(
      { host: '127.0.0.1', port, path: `/${AZURITE_ACCOUNT}?comp=list`, timeout: 1000, agent: false },
      (res) => {
        res.resume();
        resolve(String(res.headers.server ?? '').startsWith('Azurite'));
      },
    );
    request.on('error', () => resolve(false));
    request.on('timeout', () => {
      request.destroy();
      resolve(false);
    });
  });
}

/** Stops the recorded Azurite process: SIGTERM, then SIGKILL if it lingers. */
export async function stopAzurite(state: AzuriteState): Promise<void> {
  if (isAlive(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + 5_000;
    while (isAlive(state.pid) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    if (isAlive(state.pid)) process.kill(state.pid, 'SIGKILL');
  }
  await fs.rm(state.workDir, { recursive: true, force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
