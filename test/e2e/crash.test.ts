import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { AuditRecord } from '../../lib/audit';
import { loadConfig } from '../../lib/config';
import { LocalLakeStore } from '../../lib/lake';
import { dropFile, type Dropped, type InstanceStatus, waitForInstance } from '../../local/drops';
import { readLocalSecret } from '../../local/security/secrets';
import {
  APP_MODULES,
  auditRecords,
  pipelineSettings,
  REPO_ROOT,
  SETTINGS_KEYS,
  silverReadings,
  writeMeterDay,
} from './support';

/*
 * Crash safety of the whole embedded runtime: the Functions/Durable host and the Jobs API emulator run in a
 * real child process (test/fixtures/runtime/child.js, the app's TypeScript registrations), which is killed
 * with SIGKILL while a batch of files waits on its silver run, started again on the same state folder, and
 * killed again while the batch's gold run runs. The emulator's Spark worker lived in that process tree, so
 * each run dies with it: the restarted emulator ends it INTERNAL_ERROR, and the restarted batch orchestration
 * has to get the step done anyway, once for every file.
 */

jest.setTimeout(1_500_000);

const CHILD = path.join(REPO_ROOT, 'test', 'fixtures', 'runtime', 'child.js');
const TIMEOUT_MS = 600_000;

interface Runtime {
  process: ChildProcess;
  baseUrl: string;
  /** The keys the child's host and emulator issued at this start (in the state folder's secrets). */
  key: string;
  jobsToken: string;
  jobsUrl: string;
  exited: Promise<unknown>;
}

let root: string;
let home: string;
let settings: Record<string, string>;
let lake: LocalLakeStore;
/** Every process group this file started (runtimes and their Spark workers): killed at the end. */
const groups = new Set<number>();

const FILES = 50;
const DAY = '2025-05-06';
const METERS = Array.from({ length: FILES }, (_, i) => `CRASH-${String(i).padStart(3, '0')}`);
const files: Dropped[] = [];
let finals: InstanceStatus[] = [];
/** Process groups of the killed runtimes and of their Spark workers. */
const killedGroups: number[] = [];

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of SETTINGS_KEYS) delete env[key];
  return { ...env, ...settings, LAKEWATT_TEST_MODULES: JSON.stringify(APP_MODULES) };
}

/** Starts the runtime in a child process of its own process group; resolves when it serves. */
async function startRuntime(): Promise<Runtime> {
  const child = fork(CHILD, [], {
    env: childEnv(),
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  groups.add(child.pid!);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const urls = await new Promise<{ baseUrl: string; jobsUrl: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the runtime child exited with ${code}`)));
    child.on('message', (message: { type?: string; baseUrl?: string; jobsUrl?: string }) => {
      if (message.type === 'ready') resolve({ baseUrl: message.baseUrl!, jobsUrl: message.jobsUrl! });
    });
  });
  const key = readLocalSecret(home, 'host-key');
  const jobsToken = readLocalSecret(home, 'jobs-token');
  if (key === undefined || jobsToken === undefined) throw new Error(`no local secrets under ${home}`);
  return { process: child, exited, key, jobsToken, ...urls };
}

async function stopRuntime(runtime: Runtime): Promise<void> {
  runtime.process.send({ cmd: 'stop' });
  await runtime.exited;
}

/** SIGKILL to the runtime's whole process group, as the OOM killer or a power cut would end it. */
async function killRuntime(runtime: Runtime): Promise<void> {
  process.kill(-runtime.process.pid!, 'SIGKILL');
  await runtime.exited;
}

/** Pids of the processes (not zombies) whose process group is `pgid`, from /proc. */
function liveMembers(pgid: number): number[] {
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
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

/** The Spark workers the emulator has started on this state folder (each leads its own process group). */
function workerPids(): number[] {
  const dir = path.join(home, 'jobs', 'workers');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const match = /^worker-(\d+)\.log$/.exec(name);
    return match ? [Number(match[1])] : [];
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function lifeCycleState(runtime: Runtime, runId: number): Promise<string | undefined> {
  const response = await fetch(`${runtime.jobsUrl}/api/2.2/jobs/runs/get?run_id=${runId}`, {
    headers: { authorization: `Bearer ${runtime.jobsToken}` },
  });
  const body = (await response.json()) as { state?: { life_cycle_state?: string } };
  return body.state?.life_cycle_state;
}

/** Drops a canonical meter-day file (written here) into landing through the given runtime. */
async function dropMeterDay(runtime: Runtime, meter: string): Promise<Dropped> {
  const { file } = await writeMeterDay(path.join(root, 'files'), meter, DAY);
  const config = loadConfig({ ...childEnv() });
  return dropFile(
    { baseUrl: runtime.baseUrl, key: runtime.key, config },
    file,
    { dataset: 'meter_readings', source: 'canonical', date: DAY, name: path.basename(file) },
    lake,
  );
}

/** The id and run of a batch of `step` with more than one file whose run is RUNNING, once there is one. */
async function runningBatch(runtime: Runtime, step: 'silver' | 'gold'): Promise<number | undefined> {
  const response = await fetch(
    `${runtime.baseUrl}/runtime/webhooks/durabletask/instances?instanceIdPrefix=batch-${step}&runtimeStatus=Running`,
    { headers: { 'x-functions-key': runtime.key } },
  );
  const batches = (await response.json()) as Array<{
    customStatus: { size?: number; runId?: number } | null;
  }>;
  for (const batch of batches) {
    const { size, runId } = batch.customStatus ?? {};
    if (size === undefined || size < 2 || runId === undefined) continue;
    if ((await lifeCycleState(runtime, runId)) === 'RUNNING') return runId;
  }
  return undefined;
}

/** SIGKILL of the runtime once a multi-file batch of `step` runs; returns the killed process groups. */
async function killDuring(
  runtime: Runtime,
  step: 'silver' | 'gold',
  workersBefore: Set<number>,
): Promise<number[]> {
  await until(`a ${step} batch run to be running`, () => runningBatch(runtime, step), TIMEOUT_MS);
  await killRuntime(runtime);
  const killed = [runtime.process.pid!, ...workerPids().filter((pid) => !workersBefore.has(pid))];
  for (const pid of killed) groups.add(pid);
  return killed;
}

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-e2e-crash-'));
  home = path.join(root, 'home');
  settings = pipelineSettings(home);
  lake = new LocalLakeStore({ root: path.join(home, 'lake') });
  mkdirSync(path.join(root, 'files'));

  // A burst of files: the first starts a batch alone, the others form the next batch behind it.
  let workersBefore = new Set(workerPids());
  const first = await startRuntime();
  for (const meter of METERS) files.push(await dropMeterDay(first, meter));
  killedGroups.push(...(await killDuring(first, 'silver', workersBefore)));

  // Restarted on the same state: the lost silver run ends INTERNAL_ERROR and the batch is resubmitted.
  workersBefore = new Set(workerPids());
  const second = await startRuntime();
  killedGroups.push(...(await killDuring(second, 'gold', workersBefore)));

  const third = await startRuntime();
  finals = await Promise.all(files.map((f) => waitForInstance(third, f.instanceId, TIMEOUT_MS)));
  await stopRuntime(third);
}, 1_400_000);

afterAll(() => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (root) rmSync(root, { recursive: true, force: true });
});

describe(`a host killed during a ${FILES}-file batch's silver run and again during its gold run`, () => {
  it('when the host restarts each time, then every file completes', () => {
    expect(finals.filter((f) => f.runtimeStatus !== 'Completed').map((f) => f.instanceId)).toEqual([]);
    expect(finals).toHaveLength(FILES);
  });

  it('when they have completed, then each file has exactly one audit record, a completed one', async () => {
    const records = await auditRecords(lake);
    const byFile = new Map<string, AuditRecord[]>();
    for (const record of records)
      byFile.set(record.file.path, [...(byFile.get(record.file.path) ?? []), record]);
    for (const file of files) {
      expect(byFile.get(file.path)?.map((r) => [r.instanceId, r.generation, r.status])).toEqual([
        [file.instanceId, 0, 'completed'],
      ]);
    }
  });

  it('when they have completed, then the lost runs and the runs that replaced them are in the audit records', async () => {
    const runs = (await auditRecords(lake)).flatMap((r) => r.databricksRuns);
    for (const step of ['silver', 'gold'] as const) {
      const lost = runs.filter((run) => run.step === step && run.lifeCycleState === 'INTERNAL_ERROR');
      expect(lost.length).toBeGreaterThan(0);
      // Every file of a lost batch run names the run that replaced it, in the same batch.
      for (const run of lost) {
        const again = runs.filter(
          (r) => r.batch?.id === run.batch?.id && r.outcome === 'Succeeded' && r.runId !== run.runId,
        );
        expect(again.length).toBeGreaterThan(0);
      }
    }
  });

  it('when they have completed, then silver holds each row of every file exactly once', async () => {
    const rows = await silverReadings(path.join(home, 'lake'), 'CRASH-');
    expect(rows).toHaveLength(FILES * 48);
    expect(rows.filter((row) => row.copies > 1)).toEqual([]);
  });

  it('when the host was killed, then none of its processes outlive it (Spark worker and JVM included)', async () => {
    expect(killedGroups.length).toBeGreaterThan(2); // two hosts and at least one Spark worker
    const left = await until(
      'the killed runtime\u2019s processes to exit',
      () => {
        const alive = killedGroups.flatMap(liveMembers);
        return Promise.resolve(alive.length === 0 ? [] : undefined);
      },
      60_000,
    ).catch(() => killedGroups.flatMap(liveMembers));
    expect(left).toEqual([]);
  });
});
