import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';

import { loadConfig } from '../../lib/config';
import { LocalLakeStore } from '../../lib/lake';
import type { FaultConfig } from '../../local/databricks/faults';
import { dropFile, type Dropped } from '../../local/drops';
import { readLocalSecret } from '../../local/security/secrets';
import { APP_MODULES, pipelineSettings, REPO_ROOT, SETTINGS_KEYS, writeMeterDay } from './support';

/*
 * The whole embedded runtime (Functions/Durable host + Jobs API emulator with its Spark worker) in a child
 * process of its own process group (test/fixtures/runtime/child.js), for the tests that SIGKILL it and start
 * it again on the same state folder (crash.test.ts, chaos.test.ts).
 */

const CHILD = path.join(REPO_ROOT, 'test', 'fixtures', 'runtime', 'child.js');

/** One state folder (home, lake, written files) shared by the runtimes a test starts one after another. */
export interface ChildState {
  root: string;
  home: string;
  lakeRoot: string;
  settings: Record<string, string>;
  lake: LocalLakeStore;
  /** Every process group started on this state (runtimes and their Spark workers): killed by `cleanUp`. */
  groups: Set<number>;
}

export interface Runtime {
  process: ChildProcess;
  baseUrl: string;
  /** The keys the child's host and emulator issued at this start (in the state folder's secrets). */
  key: string;
  jobsToken: string;
  jobsUrl: string;
  exited: Promise<unknown>;
  /** Spark workers already started on the state folder before this runtime (by earlier runtimes). */
  workersBefore: Set<number>;
}

/** A fresh temporary state folder named after `name`; `env` on top of the e2e pipeline settings. */
export function childState(name: string, env: Record<string, string> = {}): ChildState {
  const root = mkdtempSync(path.join(os.tmpdir(), `lakewatt-e2e-${name}-`));
  const home = path.join(root, 'home');
  const lakeRoot = path.join(home, 'lake');
  mkdirSync(path.join(root, 'files'));
  return {
    root,
    home,
    lakeRoot,
    settings: pipelineSettings(home, env),
    lake: new LocalLakeStore({ root: lakeRoot }),
    groups: new Set(),
  };
}

function childEnv(state: ChildState): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of SETTINGS_KEYS) delete env[key];
  return { ...env, ...state.settings, LAKEWATT_TEST_MODULES: JSON.stringify(APP_MODULES) };
}

/** Starts the runtime in a child process of its own process group; resolves when it serves. */
export async function startRuntime(state: ChildState): Promise<Runtime> {
  const workersBefore = new Set(workerPids(state.home));
  const child = fork(CHILD, [], {
    env: childEnv(state),
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  state.groups.add(child.pid!);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const urls = await new Promise<{ baseUrl: string; jobsUrl: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the runtime child exited with ${code}`)));
    child.on('message', (message: { type?: string; baseUrl?: string; jobsUrl?: string }) => {
      if (message.type === 'ready') resolve({ baseUrl: message.baseUrl!, jobsUrl: message.jobsUrl! });
    });
  });
  const key = readLocalSecret(state.home, 'host-key');
  const jobsToken = readLocalSecret(state.home, 'jobs-token');
  if (key === undefined || jobsToken === undefined) throw new Error(`no local secrets under ${state.home}`);
  return { process: child, exited, key, jobsToken, workersBefore, ...urls };
}

export async function stopRuntime(runtime: Runtime): Promise<void> {
  runtime.process.send({ cmd: 'stop' });
  await runtime.exited;
}

/**
 * SIGKILL to the runtime's whole process group, as the OOM killer or a power cut would end it. Returns the
 * process groups it ended: the runtime's and those of the Spark workers it started (each leads its own).
 */
export async function killRuntime(state: ChildState, runtime: Runtime): Promise<number[]> {
  process.kill(-runtime.process.pid!, 'SIGKILL');
  await runtime.exited;
  const killed = [
    runtime.process.pid!,
    ...workerPids(state.home).filter((pid) => !runtime.workersBefore.has(pid)),
  ];
  for (const pgid of killed) state.groups.add(pgid);
  return killed;
}

/**
 * Replaces the emulator's pending faults (they live in its memory: a restart clears them); without `faults`
 * only asks for them. Resolves with the faults still pending.
 */
export async function setFaults(runtime: Runtime, faults?: FaultConfig): Promise<FaultConfig> {
  return new Promise<FaultConfig>((resolve, reject) => {
    const onMessage = (message: { type?: string; error?: string; pending?: FaultConfig }): void => {
      if (message.type !== 'faults') return;
      runtime.process.off('message', onMessage);
      if (message.error) reject(new Error(message.error));
      else resolve(message.pending ?? {});
    };
    runtime.process.on('message', onMessage);
    runtime.process.send({ cmd: 'faults', faults });
  });
}

/** SIGKILL to every process group started on `state`, then its folder removed (afterAll). */
export function cleanUp(state: ChildState | undefined): void {
  if (!state) return;
  for (const pgid of state.groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(state.root, { recursive: true, force: true });
}

/** Pids of the processes (not zombies) whose process group is `pgid`, from /proc. */
export function liveMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // ended while listed
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
    const [procState, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && procState !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

/** The processes of `groups` still alive after up to `timeoutMs` (a SIGKILLed group takes a moment to go). */
export async function survivors(groups: number[], timeoutMs = 60_000): Promise<number[]> {
  return until(
    'the killed runtimes\u2019 processes to exit',
    () => Promise.resolve(groups.flatMap(liveMembers).length === 0 ? [] : undefined),
    timeoutMs,
  ).catch(() => groups.flatMap(liveMembers));
}

/** The Spark workers the emulator has started on this state folder (each leads its own process group). */
export function workerPids(home: string): number[] {
  const dir = path.join(home, 'jobs', 'workers');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const match = /^worker-(\d+)\.log$/.exec(name);
    return match ? [Number(match[1])] : [];
  });
}

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  pollMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** One job run as the emulator's store holds it (read from its SQLite file: no API call, no fault taken). */
export interface EmulatorRun {
  runId: number;
  job: string;
  lifeCycleState: string;
  resultState: string | null;
  stateMessage: string;
  parameters: Record<string, string>;
}

/** Every job run on the state folder, oldest first; readable while the runtime is down too. */
export function emulatorRuns(home: string): EmulatorRun[] {
  const file = path.join(home, 'jobs.sqlite');
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const rows = db
      .prepare(
        `SELECT r.run_id, j.job_key, r.life_cycle_state, r.result_state, r.state_message, r.job_parameters
           FROM runs r JOIN jobs j ON j.job_id = r.job_id
          WHERE r.parent_run_id IS NULL ORDER BY r.run_id`,
      )
      .all() as Array<{
      run_id: number;
      job_key: string;
      life_cycle_state: string;
      result_state: string | null;
      state_message: string;
      job_parameters: string | null;
    }>;
    return rows.map((row) => ({
      runId: row.run_id,
      job: row.job_key,
      lifeCycleState: row.life_cycle_state,
      resultState: row.result_state,
      stateMessage: row.state_message,
      parameters: Object.fromEntries(
        (JSON.parse(row.job_parameters ?? '[]') as Array<{ name: string; value: string }>).map((p) => [
          p.name,
          p.value,
        ]),
      ),
    }));
  } finally {
    db.close();
  }
}

export async function lifeCycleState(runtime: Runtime, runId: number): Promise<string | undefined> {
  const response = await fetch(`${runtime.jobsUrl}/api/2.2/jobs/runs/get?run_id=${runId}`, {
    headers: { authorization: `Bearer ${runtime.jobsToken}` },
  });
  const body = (await response.json()) as { state?: { life_cycle_state?: string } };
  return body.state?.life_cycle_state;
}

export interface InstanceListing {
  instanceId: string;
  runtimeStatus: string;
  customStatus: Record<string, unknown> | null;
}

/** The host's orchestration instances whose id starts with `prefix` (optionally only those in `status`). */
export async function instances(
  runtime: Runtime,
  prefix: string,
  status?: string,
): Promise<InstanceListing[]> {
  const query = new URLSearchParams({ instanceIdPrefix: prefix });
  if (status) query.set('runtimeStatus', status);
  const response = await fetch(
    `${runtime.baseUrl}/runtime/webhooks/durabletask/instances?${query.toString()}`,
    {
      headers: { 'x-functions-key': runtime.key },
    },
  );
  if (!response.ok) throw new Error(`instance listing: HTTP ${response.status}`);
  return (await response.json()) as InstanceListing[];
}

/** The run id of a running batch of `step` with at least `minSize` files whose run is RUNNING, once there is one. */
export async function runningBatch(
  runtime: Runtime,
  step: 'silver' | 'gold',
  minSize = 1,
): Promise<number | undefined> {
  for (const batch of await instances(runtime, `batch-${step}`, 'Running')) {
    const { size, runId } = (batch.customStatus ?? {}) as { size?: number; runId?: number };
    if (size === undefined || size < minSize || runId === undefined) continue;
    if ((await lifeCycleState(runtime, runId)) === 'RUNNING') return runId;
  }
  return undefined;
}

/** Writes a canonical meter-day file and drops it into landing through the given runtime. */
export async function dropMeterDay(
  state: ChildState,
  runtime: Runtime,
  meter: string,
  day: string,
): Promise<Dropped> {
  const { file } = await writeMeterDay(path.join(state.root, 'files'), meter, day);
  const config = loadConfig({ ...childEnv(state) });
  return dropFile(
    { baseUrl: runtime.baseUrl, key: runtime.key, config },
    file,
    { dataset: 'meter_readings', source: 'canonical', date: day, name: path.basename(file) },
    state.lake,
  );
}
