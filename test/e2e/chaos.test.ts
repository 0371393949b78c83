import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { AuditRecord } from '../../lib/audit';
import { JOB_RESUBMITS } from '../../lib/pipeline/ingest';
import { Prng } from '../../lib/simulator/prng';
import type { FaultConfig } from '../../local/databricks/faults';
import { type Dropped, type InstanceStatus, waitForInstance } from '../../local/drops';
import { duckdb } from '../integration/databricks/lakeSupport';
import {
  type ChildState,
  childState,
  cleanUp,
  dropMeterDay,
  emulatorRuns,
  instances,
  killRuntime,
  type Runtime,
  setFaults,
  startRuntime,
  stopRuntime,
  survivors,
} from './runtimeChild';
import { auditRecords, deltaRows, deltaSource, silverReadings } from './support';
import { DEFAULT_TIMEZONE } from './truth';

/*
 * Chaos (#18, Proof): a burst of meter-day files dropped in waves while the whole embedded runtime (host,
 * durable store, Jobs API emulator and its Spark worker; test/fixtures/runtime/child.js) is SIGKILLed again
 * and again, each kill aimed in turn at one phase of the pipeline (a file validating, a silver batch run
 * RUNNING, a gold batch run RUNNING, a file writing its audit record), and restarted on the same state. Between
 * kills the Jobs API emulator is made to fail at random: 429 and 503 with Retry-After, 500 on runs/get, a
 * task ending INTERNAL_ERROR, and an outage (503 on every request for longer than an activity's own retries,
 * so the orchestration rides it out on durable timers). Afterwards every file has exactly one completed
 * final state, silver and bronze hold no duplicate key, and gold equals a recompute from silver (DuckDB over
 * the Delta log, not Spark) and what the files hold.
 *
 * Files land in three waves, at the kills aimed at validation; the kills aimed at silver, gold and audit hit
 * the work those waves made. A seeded PRNG decides the waves, the faults and the random moments; the seed is printed and CHAOS_SEED
 * repeats a run. The outage here lasts well under a minute: the full 10-minute outage (JOBS_API_OUTAGE_MINUTES)
 * is covered in virtual time by test/integration/pipeline/outage.test.ts; ten real minutes do not fit CI.
 *
 * A batch resubmits a run the platform lost at most JOB_RESUBMITS times (then its files fail, by design), and
 * every kill loses the runs executing at that moment. So a kill waits while a batch that has used up its
 * resubmits has not finished, and the injected task fault only hits a batch's first run (`generation` 0); it
 * is injected again after each restart until it fired (the emulator keeps its faults in memory only).
 *
 * Time: about 16 min on the shared 2-core machine while other Spark suites ran beside it (each restart
 * starts a new Spark JVM, and a lost run is run again).
 */

jest.setTimeout(1_800_000);

// A fixed default keeps the CI gate repeatable; CHAOS_SEED explores others (1, 2 and 7 passed).
const SEED = Number(process.env.CHAOS_SEED ?? 1);
const TIMEOUT_MS = 600_000;
/** How long a kill looks for its phase before it falls back to a random moment. */
const HUNT_MS = 150_000;
/** After a gold run ended, how long a kill aimed at audit looks for a file in its audit stage. */
const AUDIT_WINDOW_MS = 4_000;
/** Longer than an activity's own retries (2 + 4 + 8 s), shorter than the first durable wait after them (30 s). */
const OUTAGE_SECONDS = [20, 28] as const;
const KILLS = 10;
const PHASES = ['validate', 'silver', 'gold', 'audit'] as const;
type Phase = (typeof PHASES)[number];
const FAULT_KINDS = ['429', '503', 'runs/get 500', 'task INTERNAL_ERROR', 'outage'] as const;
type FaultKind = (typeof FAULT_KINDS)[number];

const random = new Prng(SEED);
const int = (lo: number, hi: number): number => random.int(lo, hi);
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string): void => void process.stdout.write(`[chaos ${SEED}] ${line}\n`);

const METERS = Array.from({ length: 16 }, (_, i) => `CHAOS-${String(i).padStart(2, '0')}`);
const DAYS = ['2025-05-06', '2025-05-07', '2025-05-08'].slice(0, int(2, 3));
/** Meter-days in the order they land (a meter's later day may land first). */
const PLAN = shuffled(METERS.flatMap((meter) => DAYS.map((day) => ({ meter, day }))));

interface PlannedFault {
  kind: FaultKind;
  /** The task a task fault hits: the step the cycle's kill is aimed at, so the fault fires before it. */
  task?: 'silver' | 'gold';
}

/**
 * Every fault kind once, each at a random cycle whose kill is not aimed at validation (a kill that comes right
 * after the wave lands would clear the fault before any batch called the API); a task fault only where a
 * silver or gold run starts; the other cycles at random one more short HTTP fault, or none.
 */
function faultPlan(): Array<PlannedFault | undefined> {
  const plan: Array<PlannedFault | undefined> = Array.from({ length: KILLS }, () => undefined);
  const phaseOf = (cycle: number): Phase => PHASES[cycle % PHASES.length]!;
  const cycles = shuffled(
    Array.from({ length: KILLS }, (_, i) => i).filter((c) => phaseOf(c) !== 'validate'),
  );
  const taskAt = cycles.find((c) => phaseOf(c) !== 'audit')!;
  plan[taskAt] = { kind: 'task INTERNAL_ERROR', task: phaseOf(taskAt) as 'silver' | 'gold' };
  const free = cycles.filter((c) => c !== taskAt);
  const http = ['outage', '429', '503', 'runs/get 500'] as const;
  http.forEach((kind, i) => (plan[free[i]!] = { kind }));
  for (const c of free.slice(http.length)) {
    if (random.chance(0.5)) plan[c] = { kind: random.pick(['429', '503', 'runs/get 500'] as const) };
  }
  return plan;
}

function faultsOf(fault: PlannedFault): FaultConfig {
  switch (fault.kind) {
    case '429':
      return { http: [{ status: 429, count: int(1, 3), retryAfterSeconds: int(1, 2) }] };
    case '503':
      return { http: [{ status: 503, count: int(1, 3), retryAfterSeconds: int(1, 2) }] };
    case 'runs/get 500':
      return { http: [{ status: 500, route: 'runs/get', count: int(1, 2) }] };
    case 'task INTERNAL_ERROR':
      // Only a batch's first run (`generation` is the run number): one that has lost none yet.
      return {
        tasks: [
          {
            task: fault.task!,
            outcome: 'INTERNAL_ERROR',
            count: 1,
            parameter: { name: 'generation', contains: '0' },
          },
        ],
      };
    case 'outage':
      // Cleared by the test after OUTAGE_SECONDS.
      return { http: [{ status: 503, count: 1_000_000, retryAfterSeconds: 1 }] };
  }
}

interface Kill {
  aimed: Phase;
  /** The phase caught, or 'random' when it was not caught in time. */
  hit: Phase | 'random';
  detail: string;
  /** Job runs executing at the kill (lost with it). */
  lost: number[];
  atSeconds: number;
}

interface InjectedFault {
  cycle: number;
  kind: FaultKind;
  faults: FaultConfig;
  /** Requests or runs the fault answered before it was cleared (by the test or a restart). */
  fired: number | null;
}

let state: ChildState;
const startedAt = Date.now();
const files: Dropped[] = [];
const kills: Kill[] = [];
const injected: InjectedFault[] = [];
const killedGroups: number[] = [];
let finals: InstanceStatus[] = [];
let wallSeconds = 0;

const ACTIVE = new Set(['PENDING', 'RUNNING', 'TERMINATING']);

/**
 * Why a kill must wait now, or undefined: a batch that has lost JOB_RESUBMITS runs and not finished would
 * fail its files if it lost one more.
 */
function resubmitsExhausted(): string | undefined {
  const byBatch = new Map<string, string[]>();
  for (const run of emulatorRuns(state.home)) {
    const batch = run.parameters.orchestration_id ?? `run ${run.runId}`;
    byBatch.set(batch, [...(byBatch.get(batch) ?? []), run.lifeCycleState]);
  }
  for (const [batch, states] of byBatch) {
    const lost = states.filter((s) => s === 'INTERNAL_ERROR').length;
    if (lost >= JOB_RESUBMITS && !states.includes('TERMINATED')) return `${batch} has lost ${lost} runs`;
  }
  return undefined;
}

/** Waits until no batch would fail its files if a kill came now. */
async function untilResubmitsLeft(): Promise<void> {
  for (let waited = 0; resubmitsExhausted() !== undefined; waited += 500) {
    if (waited > TIMEOUT_MS) throw new Error(`kill held back too long: ${resubmitsExhausted()}`);
    await sleep(500);
  }
}

function activeRuns(): number[] {
  return emulatorRuns(state.home)
    .filter((run) => ACTIVE.has(run.lifeCycleState))
    .map((run) => run.runId);
}

async function stagesOf(runtime: Runtime, stage: string): Promise<string[]> {
  const running = await instances(runtime, 'ingest-', 'Running').catch(() => []);
  return running
    .filter((i) => (i.customStatus as { stage?: string } | null)?.stage === stage)
    .map((i) => i.instanceId);
}

/** Polls `probe` until it names what it caught (and no batch would lose a run too many), or `ms` passed. */
async function hunt(
  probe: () => Promise<string | undefined>,
  ms: number,
  pollMs = 50,
): Promise<string | undefined> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const caught = await probe();
    if (caught !== undefined && resubmitsExhausted() === undefined) return caught;
    await sleep(pollMs);
  }
  return undefined;
}

async function kill(runtime: Runtime, aimed: Phase, caught: string | undefined): Promise<void> {
  let detail = caught;
  if (detail === undefined) {
    await sleep(int(0, 3_000));
    detail = `no ${aimed} caught in time: a random moment`;
  }
  await untilResubmitsLeft();
  const open = injected.filter((f) => f.fired === null && f.kind !== 'task INTERNAL_ERROR');
  if (open.length > 0) {
    const pending = await setFaults(runtime);
    for (const fault of open) fault.fired = fired(fault.faults, pending);
  }
  const lost = activeRuns();
  killedGroups.push(...(await killRuntime(state, runtime)));
  const record: Kill = {
    aimed,
    hit: caught === undefined ? 'random' : aimed,
    detail,
    lost,
    atSeconds: Math.round((Date.now() - startedAt) / 1000),
  };
  kills.push(record);
  log(
    `kill ${kills.length}/${KILLS} at ${record.atSeconds} s aimed at ${aimed}: ${detail}; runs lost: [${lost.join(', ')}]`,
  );
}

/** Requests an HTTP fault answered: its counts minus what is still pending. */
function fired(faults: FaultConfig, pending: FaultConfig): number {
  const total = (f: FaultConfig): number => (f.http ?? []).reduce((sum, x) => sum + (x.count ?? 1), 0);
  return total(faults) - total(pending);
}

/** The task fault, re-injected after each restart until a run ended by it (a restart clears the faults). */
let taskFault: InjectedFault | undefined;

function taskFaultPending(): FaultConfig['tasks'] {
  if (!taskFault || taskFault.fired !== null) return [];
  const hit = emulatorRuns(state.home).filter((run) => run.stateMessage.includes('emulator fault injection'));
  if (hit.length === 0) return taskFault.faults.tasks;
  taskFault.fired = hit.length;
  log(`the task fault of cycle ${taskFault.cycle} ended run ${hit.map((run) => run.runId).join(', ')}`);
  return [];
}

/** This cycle's fault (the outage apart), with the task fault while it has not fired. */
async function inject(runtime: Runtime, cycle: number, fault: PlannedFault | undefined): Promise<void> {
  let http: FaultConfig['http'] = [];
  if (fault !== undefined && fault.kind !== 'outage') {
    const faults = faultsOf(fault);
    const record: InjectedFault = { cycle, kind: fault.kind, faults, fired: null };
    injected.push(record);
    if (fault.kind === 'task INTERNAL_ERROR') taskFault = record;
    else http = faults.http ?? [];
    log(`cycle ${cycle}: injected ${fault.kind} ${JSON.stringify(faults)}`);
  }
  const tasks = taskFaultPending();
  if (http.length > 0 || tasks?.length) await setFaults(runtime, { http, tasks });
}

/** 503 on every Jobs API request for longer than an activity's own retries (~14 s), then cleared. */
async function outage(runtime: Runtime, cycle: number): Promise<void> {
  await hunt(() => Promise.resolve(activeRuns().length > 0 ? 'a run' : undefined), HUNT_MS, 250);
  const seconds = int(OUTAGE_SECONDS[0], OUTAGE_SECONDS[1]);
  const faults = faultsOf({ kind: 'outage' });
  await setFaults(runtime, { ...faults, tasks: taskFaultPending() });
  await sleep(seconds * 1000);
  const left = await setFaults(runtime);
  await setFaults(runtime, { tasks: left.tasks });
  injected.push({ cycle, kind: 'outage', faults, fired: fired(faults, left) });
  log(
    `cycle ${cycle}: outage of ${seconds} s (503 on every request), ${fired(faults, left)} requests refused`,
  );
}

/**
 * Drops the wave: at least half of it at once, then file by file until one is seen validating between two
 * drops (the rest waits for the next wave). Returns what was caught.
 */
async function dropWatchingValidation(runtime: Runtime, wave: typeof PLAN): Promise<string | undefined> {
  for (const next of wave.splice(0, int(Math.ceil(wave.length / 2), wave.length - 1)))
    files.push(await dropMeterDay(state, runtime, next.meter, next.day));
  while (wave.length > 0) {
    const next = wave.shift()!;
    files.push(await dropMeterDay(state, runtime, next.meter, next.day));
    const validating = await stagesOf(runtime, 'validating');
    if (validating.length > 0 && resubmitsExhausted() === undefined)
      return `validating ${validating.join(', ')}`;
  }
  return hunt(async () => {
    const validating = await stagesOf(runtime, 'validating');
    return validating.length > 0 ? `validating ${validating.join(', ')}` : undefined;
  }, 3_000);
}

/** A batch run of `step` RUNNING (seen in the emulator's store: a Jobs API call would take a pending fault). */
async function huntBatch(step: 'silver' | 'gold'): Promise<string | undefined> {
  return hunt(
    () => {
      const run = emulatorRuns(state.home).find(
        (r) => r.job === `lakewatt_${step}` && r.lifeCycleState === 'RUNNING',
      );
      return Promise.resolve(
        run && `${step} batch ${run.parameters.orchestration_id} run ${run.runId} RUNNING`,
      );
    },
    HUNT_MS,
    250,
  );
}

/** A file in its audit stage, or else the moment right after a gold run ended (the files' audit comes next). */
async function huntAudit(runtime: Runtime): Promise<string | undefined> {
  const goldEnded = (): Set<number> =>
    new Set(
      emulatorRuns(state.home)
        .filter((run) => run.job === 'lakewatt_gold' && run.lifeCycleState === 'TERMINATED')
        .map((run) => run.runId),
    );
  const before = goldEnded();
  let endedAt: { runId: number; ms: number } | undefined;
  return hunt(
    async () => {
      const auditing = await stagesOf(runtime, 'auditing');
      if (auditing.length > 0) return `auditing ${auditing.join(', ')}`;
      if (endedAt === undefined) {
        const runId = [...goldEnded()].find((id) => !before.has(id));
        if (runId !== undefined) endedAt = { runId, ms: Date.now() };
      }
      if (endedAt && Date.now() - endedAt.ms > AUDIT_WINDOW_MS)
        return `${AUDIT_WINDOW_MS / 1000} s after gold run ${endedAt.runId} ended, no file seen in its audit stage`;
      return undefined;
    },
    HUNT_MS,
    20,
  );
}

beforeAll(async () => {
  state = childState('chaos');
  const plan = faultPlan();
  log(
    `seed ${SEED} (CHAOS_SEED=${SEED} repeats it): ${PLAN.length} files (${METERS.length} meters x ${DAYS.join(', ')}), ` +
      `${KILLS} kills, faults by cycle ${JSON.stringify(plan)}`,
  );
  // Files land in waves at the kills aimed at validation; the other kills hit the work those waves made.
  const queue = [...PLAN];
  let waves = Array.from({ length: KILLS }, (_, c) => PHASES[c % PHASES.length]).filter(
    (p) => p === 'validate',
  ).length;
  let runtime = await startRuntime(state);
  for (let cycle = 0; cycle < KILLS; cycle++) {
    const aimed = PHASES[cycle % PHASES.length]!;
    const fault = plan[cycle];
    await inject(runtime, cycle, fault);
    let caught: string | undefined;
    if (aimed === 'validate') {
      await untilResubmitsLeft(); // else the files would validate while a kill must wait
      const wave = queue.splice(0, Math.ceil(queue.length / waves--));
      caught = await dropWatchingValidation(runtime, wave);
      queue.unshift(...wave); // not dropped before the kill: the next wave's
    } else {
      if (fault?.kind === 'outage') await outage(runtime, cycle);
      caught = aimed === 'audit' ? await huntAudit(runtime) : await huntBatch(aimed);
    }
    await kill(runtime, aimed, caught);
    runtime = await startRuntime(state);
  }

  // The last start: no kill, no fault. Whatever is left lands now.
  for (const next of queue.splice(0)) files.push(await dropMeterDay(state, runtime, next.meter, next.day));
  finals = await Promise.all(files.map((f) => waitForInstance(runtime, f.instanceId, TIMEOUT_MS)));
  // The first failures' outputs say why, should the completion test fail.
  for (const failed of finals.filter((f) => f.runtimeStatus !== 'Completed').slice(0, 3))
    log(`${failed.instanceId} ended ${failed.runtimeStatus}: ${JSON.stringify(failed.output)}`);
  await stopRuntime(runtime);
  wallSeconds = Math.round((Date.now() - startedAt) / 1000);

  taskFaultPending(); // notes whether it fired
  const count = (hit: Kill['hit']): number => kills.filter((k) => k.hit === hit).length;
  log(
    `done in ${wallSeconds} s: ${kills.length} kills (${[...PHASES, 'random' as const].map((p) => `${p} ${count(p)}`).join(', ')}); ` +
      `faults ${injected.map((f) => `${f.kind} (cycle ${f.cycle}, fired ${f.fired ?? 0})`).join('; ')}`,
  );
}, 1_750_000);

afterAll(() => cleanUp(state));

/** The local date (YYYY-MM-DD) of an instant in `zone`. */
function localDate(instant: Date, zone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(instant);
}

const round6 = (value: unknown): number => Math.round(Number(value) * 1e6) / 1e6;

describe('files dropped in waves while the runtime is SIGKILLed in every phase and the Jobs API fails', () => {
  it(`when ${KILLS} kills hit validate, silver, gold and audit (or a random moment), then each is logged`, () => {
    expect(kills.length).toBeGreaterThanOrEqual(KILLS);
    for (const phase of PHASES) expect(kills.filter((k) => k.aimed === phase).length).toBeGreaterThan(0);
    expect(injected.map((f) => f.kind).sort()).toEqual(expect.arrayContaining([...FAULT_KINDS].sort()));
  });

  it('when the runtime restarted after the last kill, then every file completes', () => {
    expect(finals).toHaveLength(PLAN.length);
    expect(
      finals.filter((f) => f.runtimeStatus !== 'Completed').map((f) => [f.instanceId, f.runtimeStatus]),
    ).toEqual([]);
  });

  it('when they have completed, then each file has exactly one audit record, a completed one', async () => {
    const byFile = new Map<string, AuditRecord[]>();
    for (const record of await auditRecords(state.lake))
      byFile.set(record.file.path, [...(byFile.get(record.file.path) ?? []), record]);
    for (const file of files) {
      expect([file.path, byFile.get(file.path)?.map((r) => [r.instanceId, r.generation, r.status])]).toEqual([
        file.path,
        [[file.instanceId, 0, 'completed']],
      ]);
    }
  });

  it('when they have completed, then silver holds every reading once per (meter, channel, interval_start)', async () => {
    const rows = await silverReadings(state.lakeRoot, 'CHAOS-');
    expect(rows.filter((row) => row.copies > 1)).toEqual([]);
    expect(rows).toHaveLength(PLAN.length * 48);
  });

  it('when they have completed, then bronze holds every staged line once per (ingest_instance_id, source_line)', async () => {
    const rows = await deltaRows(
      path.join(state.lakeRoot, 'silver', '_bronze', 'meter_readings'),
      'ingest_instance_id, source_line, count(*) OVER (PARTITION BY ingest_instance_id, source_line) AS copies',
      'ingest_instance_id, source_line',
    );
    expect(rows.filter((row) => Number(row.copies) > 1)).toEqual([]);
    expect(rows).toHaveLength(PLAN.length * 48);
    expect(new Set(rows.map((row) => String(row.ingest_instance_id)))).toEqual(
      new Set(files.map((f) => f.instanceId)),
    );
  });

  it('when they have completed, then gold daily_consumption equals a recompute from silver and the files', async () => {
    // Meters without a contract count in the bundle's default_timezone (databricks.yml, local target).
    const silver = await deltaSource(path.join(state.lakeRoot, 'silver', 'meter_readings'));
    const recomputed = await duckdb(
      `SELECT meter_id,
              CAST(CAST(CAST(interval_start AS TIMESTAMPTZ) AT TIME ZONE '${DEFAULT_TIMEZONE}' AS DATE) AS VARCHAR) AS date,
              sum(kwh) FILTER (WHERE channel = 'import') AS import_kwh, count(*) AS readings
         FROM ${silver} WHERE meter_id LIKE 'CHAOS-%' GROUP BY ALL ORDER BY meter_id, date`,
    );
    const gold = await deltaRows(
      path.join(state.lakeRoot, 'gold', 'daily_consumption'),
      'meter_id, CAST(date AS VARCHAR) AS date, import_kwh, readings_count AS readings',
      'meter_id, date',
    );
    const shape = (rows: Array<Record<string, unknown>>): string[] =>
      rows.map(
        (r) => `${String(r.meter_id)} ${String(r.date)} ${round6(r.import_kwh)} kWh ${Number(r.readings)}`,
      );
    expect(shape(gold.filter((r) => String(r.meter_id).startsWith('CHAOS-')))).toEqual(shape(recomputed));

    // And what the files hold, read back from the CSVs dropped.
    const fromFiles = new Map<
      string,
      { meter_id: string; date: string; import_kwh: number; readings: number }
    >();
    for (const { meter, day } of PLAN) {
      const lines = readFileSync(path.join(state.root, 'files', `${meter}-${day}.csv`), 'utf8')
        .trim()
        .split('\n');
      for (const line of lines.slice(1)) {
        const [meterId, start, , , kwh] = line.split(',');
        const date = localDate(new Date(start!), DEFAULT_TIMEZONE);
        const key = `${meterId} ${date}`;
        const sum = fromFiles.get(key) ?? { meter_id: meterId!, date, import_kwh: 0, readings: 0 };
        sum.import_kwh += Number(kwh);
        sum.readings += 1;
        fromFiles.set(key, sum);
      }
    }
    const expected = [...fromFiles.values()].sort((a, b) =>
      a.meter_id === b.meter_id ? a.date.localeCompare(b.date) : a.meter_id.localeCompare(b.meter_id),
    );
    expect(shape(recomputed)).toEqual(shape(expected));
  });

  it('when the runtime was killed, then none of its processes outlive it (Spark worker and JVM included)', async () => {
    expect(killedGroups.length).toBeGreaterThanOrEqual(KILLS);
    expect(await survivors(killedGroups)).toEqual([]);
  });
});
