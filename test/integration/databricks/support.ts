import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { JobsClient, type RunInfo, StaticTokenProvider } from '../../../lib/databricks';
import { type EmulatorOptions, JobsEmulator } from '../../../local/databricks/emulator';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const FIXTURE_BUNDLE = path.join(REPO_ROOT, 'test', 'fixtures', 'bundle');

/** A short-lived JVM starts faster with C1 only and the serial collector (as the pytest suite does). */
export const FAST_JVM = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

export interface Harness {
  emulator: JobsEmulator;
  client: JobsClient;
  home: string;
  token: string;
  options: EmulatorOptions;
}

/** An emulator over the fixture bundle, in a fresh temporary home, with a client that retries quickly. */
export async function startHarness(overrides: Partial<EmulatorOptions> = {}): Promise<Harness> {
  const home = overrides.home ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-jobs-')));
  const token = overrides.token ?? `test-${randomUUID()}`;
  const options: EmulatorOptions = {
    bundleDir: FIXTURE_BUNDLE,
    home,
    token,
    port: 0,
    repoRoot: REPO_ROOT,
    javaOptions: FAST_JVM,
    cancelGraceMs: 5000,
    ...overrides,
  };
  const emulator = await JobsEmulator.start(options);
  return { emulator, client: clientFor(emulator.url, token), home, token, options };
}

export function clientFor(url: string, token: string): JobsClient {
  return new JobsClient({
    host: url,
    tokens: new StaticTokenProvider(token),
    requestTimeoutMs: 10_000,
    retry: { baseDelayMs: 50, maxDelayMs: 500 },
  });
}

export async function stopHarness(harness: Harness | undefined): Promise<void> {
  if (!harness) return;
  await harness.emulator.close();
  await fs.rm(harness.home, { recursive: true, force: true });
}

/** Polls runs/get until `done` holds (default: the run is terminal). */
export async function waitForRun(
  client: JobsClient,
  runId: number,
  done: (run: RunInfo) => boolean = (run) => run.outcome.terminal,
  timeoutMs = 90_000,
): Promise<RunInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await client.getRun(runId);
    if (done(run)) return run;
    if (Date.now() > deadline) {
      throw new Error(
        `run ${runId} did not reach the expected state in ${timeoutMs} ms: ${JSON.stringify(run.raw.state)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The task run id of the run's task `key`. */
export function taskRunId(run: RunInfo, key: string): number {
  const task = run.tasks.find((t) => t.taskKey === key);
  if (task?.runId === undefined) throw new Error(`run ${run.runId} has no task ${key}`);
  return task.runId;
}
