import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { AuditRecord } from '../../lib/audit';
import { loadConfig } from '../../lib/config';
import { LocalLakeStore } from '../../lib/lake';
import { type Manifest, simulate } from '../../lib/simulator';
import { dropFile, type Dropped, type InstanceStatus, waitForInstance } from '../../local/drops';
import { readLocalSecret } from '../../local/security/secrets';
import { deltaSnapshot } from '../integration/databricks/lakeSupport';
import { APP_MODULES, auditRecords, pipelineSettings, REPO_ROOT, SETTINGS_KEYS } from './support';

/*
 * Crash safety of the whole embedded runtime: the Functions/Durable host and the Jobs API emulator run in a
 * real child process (test/fixtures/runtime/child.js, the app's TypeScript registrations), which is killed
 * with SIGKILL while `ingestFile` waits on its silver run, and started again on the same state folder. The
 * emulator's Spark worker lived in that process tree, so the silver run dies with it: the restarted emulator
 * ends it INTERNAL_ERROR, and the restarted orchestration has to get silver done anyway.
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
let manifest: Manifest;
/** Every process group this file started (runtimes and their Spark workers): killed at the end. */
const groups = new Set<number>();

let readings: Dropped;
let final: InstanceStatus;
/** Process groups of the killed runtime and of its Spark workers. */
let killedGroups: number[];

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

async function instance(runtime: Runtime, id: string): Promise<InstanceStatus & { customStatus: unknown }> {
  const response = await fetch(
    `${runtime.baseUrl}/runtime/webhooks/durabletask/instances/${encodeURIComponent(id)}`,
    { headers: { 'x-functions-key': runtime.key } },
  );
  return (await response.json()) as InstanceStatus;
}

async function lifeCycleState(runtime: Runtime, runId: number): Promise<string | undefined> {
  const response = await fetch(`${runtime.jobsUrl}/api/2.2/jobs/runs/get?run_id=${runId}`, {
    headers: { authorization: `Bearer ${runtime.jobsToken}` },
  });
  const body = (await response.json()) as { state?: { life_cycle_state?: string } };
  return body.state?.life_cycle_state;
}

async function dropSimulated(runtime: Runtime, dataset: string, source: string): Promise<Dropped> {
  const file = manifest.files.find((f) => f.dataset === dataset && f.source === source);
  if (!file) throw new Error(`the simulation has no ${dataset}/${source} file`);
  const [, , , , yyyy, mm, dd, fileName] = file.path.split('/');
  const config = loadConfig({ ...childEnv() });
  return dropFile(
    { baseUrl: runtime.baseUrl, key: runtime.key, config },
    path.join(root, 'sim', file.path),
    { dataset, source, date: `${yyyy}-${mm}-${dd}`, name: fileName },
    lake,
  );
}

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-e2e-crash-'));
  home = path.join(root, 'home');
  settings = pipelineSettings(home);
  lake = new LocalLakeStore({ root: path.join(home, 'lake') });
  manifest = await simulate(path.join(root, 'sim'), { meters: 3, days: 1, defects: 0, seed: 'e2e-crash' });

  // The contracts the readings refer to, ingested by a runtime that then stops cleanly.
  const first = await startRuntime();
  const contracts = await dropSimulated(first, 'contracts', 'billing');
  expect(await waitForInstance(first, contracts.instanceId, TIMEOUT_MS)).toMatchObject({
    runtimeStatus: 'Completed',
    output: { status: 'completed' },
  });
  await stopRuntime(first);

  // A fresh runtime: its Spark worker starts with the silver run, which leaves time to kill it there.
  const workersBefore = new Set(workerPids());
  const second = await startRuntime();
  readings = await dropSimulated(second, 'meter_readings', 'headend_utc');
  const runId = await until(
    'the silver run to be running',
    async () => {
      const status = (await instance(second, readings.instanceId)).customStatus as {
        stage?: string;
        batch?: string;
      } | null;
      if (status?.stage !== 'silver' || status.batch === undefined) return undefined;
      // The file waits for its batch; the batch orchestration names the run it polls.
      const batch = (await instance(second, status.batch)).customStatus as { runId?: number } | null;
      if (batch?.runId === undefined) return undefined;
      return (await lifeCycleState(second, batch.runId)) === 'RUNNING' ? batch.runId : undefined;
    },
    TIMEOUT_MS,
  );
  expect(runId).toBeGreaterThan(0);
  await killRuntime(second);
  killedGroups = [second.process.pid!, ...workerPids().filter((pid) => !workersBefore.has(pid))];
  for (const pid of killedGroups) groups.add(pid);

  const third = await startRuntime();
  final = await waitForInstance(third, readings.instanceId, TIMEOUT_MS);
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

describe('a host killed while ingestFile waits on its silver run, then restarted on the same state', () => {
  it('when the new host resumes the instance, then the ingestion completes', () => {
    expect(final).toMatchObject({ runtimeStatus: 'Completed', output: { status: 'completed' } });
  });

  it('when it has completed, then exactly one audit record exists for it, a completed one', async () => {
    const records = (await auditRecords(lake)).filter((r) => r.file.path === readings.path);
    expect(records.map((r: AuditRecord) => [r.instanceId, r.status])).toEqual([
      [readings.instanceId, 'completed'],
    ]);
  });

  it('when it has completed, then its audit record cites the lost silver run and the run that replaced it', async () => {
    const [record] = (await auditRecords(lake)).filter((r) => r.instanceId === readings.instanceId);
    const silver = record!.databricksRuns.filter((run) => run.step === 'silver');
    expect(silver.map((run) => [run.outcome, run.lifeCycleState])).toEqual([
      ['Failed', 'INTERNAL_ERROR'],
      ['Succeeded', 'TERMINATED'],
    ]);
    expect(new Set(silver.map((run) => run.runId)).size).toBe(2);
  });

  it('when it has completed, then silver holds each valid row of the file once', async () => {
    const [record] = (await auditRecords(lake)).filter((r) => r.instanceId === readings.instanceId);
    const valid = record!.validation!.counts.rowsValid;
    expect(valid).toBeGreaterThan(0);
    const silver = await deltaSnapshot(path.join(home, 'lake', 'silver', 'meter_readings'));
    expect(silver.rows).toBe(valid);
  });

  it('when the host was killed, then none of its processes outlive it (Spark worker and JVM included)', async () => {
    expect(killedGroups.length).toBeGreaterThan(1); // the host and at least one Spark worker
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
