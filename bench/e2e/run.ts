import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { AuditRecord } from '../../lib/audit';
import { loadConfig } from '../../lib/config';
import { loadSourceContracts } from '../../lib/contracts/sources';
import { JobsClient, StaticTokenProvider } from '../../lib/databricks';
import { LocalLakeStore } from '../../lib/lake';
import { type Manifest, simulate } from '../../lib/simulator';
import { findRepoRoot } from '../../local/databricks/emulator';
import { dropFile } from '../../local/drops';
import { LocalRuntime } from '../../local/runtime';
import {
  type Breakdown,
  breakdown,
  type Dropped,
  latencySummary,
  printLatency,
  summarise,
} from './breakdown';
import {
  type Context,
  type Direct,
  direct,
  DIRECT_POLL_MS,
  duckdbDaily,
  landingTarget,
  type ManifestFile,
  silverThenGold,
  stageDirect,
} from './direct';
import {
  auditRecords,
  historyDelta,
  historyRows,
  type ListedRun,
  listRuns,
  loadAverage,
  median,
  metersIn,
  p95,
  round,
  splitByMeter,
  sum,
  waitInstance,
} from './measure';

/**
 * End to end (issues 7 and 12): drop -> gold through the whole embedded pipeline (Event Grid trigger, ingestFile on
 * the local durable host, validation, the project's silver and gold jobs on the Jobs API emulator's warm
 * Spark worker, audit record), against the same work without the orchestration, in the same run.
 *
 *   npx tsc -p bench/e2e/tsconfig.json
 *   node bench/out/build/bench/e2e/run.js [--meters 1000] [--reps 5] [--default-reps 2] [--burst 10]
 *        [--poll 1/2] [--burst-poll 1/2] [--no-batched] [--keep] [--out e2e-latest.json]
 *
 * Phases, on one pipeline and `LOCAL_JOBS_WORKERS` Spark workers (2 unless set; all inputs from one simulation,
 * 1 day of data per file):
 *   latency    one headend_utc readings file (1 day of `--meters` meters) at a time, polling `--poll`; each
 *              followed by a `direct` repetition of the same work on the next day's file: the validation
 *              engine (stageFile, what the activity runs) + silver + gold through the Jobs client, polled
 *              every 100 ms, no orchestration; and DuckDB's daily totals of that file (no Spark floor)
 *   defaults   the same orchestrated latency with JOB_POLL_MIN/MAX_SECONDS at their defaults 5/60
 *   burst      one day's headend_utc file split by meter into `--burst` files, dropped back to back; the
 *              pipeline batches them (group commit, issue 12). Its runs are the ones the files' audit records
 *              list; the durable store's history rows are counted before and after. When the day's file has
 *              fewer meters than `--burst`, the simulation gets more meters (one meter-day per file at most).
 *   batched    the same burst work done directly as one batch: validate every file, one silver run over
 *              all of them, one gold run (the floor for the pipeline's batches)
 *
 * `--reps 0 --default-reps 0` runs only the burst and batched phases.
 */

const REPO_ROOT = findRepoRoot(__dirname);
const BUILD_ROOT = path.resolve(__dirname, '..', '..');
const APP_MODULES = [
  'functions/bronzeBlobCreated.js',
  'functions/pullPricesTimer.js',
  'orchestrations/activities.js',
  'orchestrations/batches.js',
  'orchestrations/ingestFile.js',
  'orchestrations/pullPrices.js',
].map((file) => path.join(BUILD_ROOT, file));
const WAIT_MS = 3_600_000;

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} expects a count`);
  return value;
}
function textArg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}
const log = (line: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

function setPoll(poll: string): { min: number; max: number } {
  const [min, max] = poll.split('/').map(Number);
  if (!min || !max) throw new Error(`a poll setting is MIN/MAX seconds, not '${poll}'`);
  process.env.JOB_POLL_MIN_SECONDS = String(min);
  process.env.JOB_POLL_MAX_SECONDS = String(max);
  return { min, max };
}

// ------------------------------------------------------------------------------------------ orchestrated

async function drop(
  ctx: Context,
  file: string,
  target: { dataset: string; source: string; date: string; name: string },
  label: string,
  rows: number,
): Promise<Dropped> {
  const dropMs = Date.now();
  const dropped = await dropFile(
    { baseUrl: ctx.runtime.baseUrl, key: ctx.runtime.key, config: ctx.runtime.config },
    file,
    target,
    ctx.lake,
  );
  if (!dropped.announced) throw new Error(`${dropped.path} was announced already`);
  return { label, instanceId: dropped.instanceId, dropMs, rows };
}

async function settle(ctx: Context, dropped: Dropped): Promise<Dropped> {
  dropped.times = await waitInstance(ctx.runtime, dropped.instanceId, WAIT_MS);
  const output = dropped.times.output as { status?: string } | null;
  if (dropped.times.runtimeStatus !== 'Completed' || output?.status !== 'completed') {
    throw new Error(`${dropped.label}: ${dropped.times.runtimeStatus} ${JSON.stringify(output)}`);
  }
  return dropped;
}

async function orchestrate(ctx: Context, file: ManifestFile, label: string): Promise<Dropped> {
  const dropped = await drop(ctx, path.join(ctx.simDir, file.path), landingTarget(file), label, file.rows);
  return settle(ctx, dropped);
}

// --------------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const meters = arg('meters', 1000);
  const reps = arg('reps', 5);
  const defaultReps = arg('default-reps', 2);
  const burst = arg('burst', 10);
  const latencyPoll = textArg('poll', '1/2');
  const burstPoll = textArg('burst-poll', '1/2');
  const batched = !process.argv.includes('--no-batched');
  const keep = process.argv.includes('--keep');
  const began = Date.now();
  // One Spark worker per job, as silver and gold have compute of their own on Databricks (as `lakewatt demo`).
  process.env.LOCAL_JOBS_WORKERS ??= '2';
  const result: Record<string, unknown> = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    options: {
      meters,
      reps,
      latencyPoll,
      defaultReps,
      burst,
      burstPoll,
      batched,
      workers: process.env.LOCAL_JOBS_WORKERS,
      batchMaxFiles: process.env.BATCH_MAX_FILES ?? 'default',
    },
    loadAverage: { start: loadAverage() },
  };

  const root = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-bench-e2e-'));
  Object.assign(process.env, {
    LAKEWATT_HOME: path.join(root, 'home'),
    PII_HASH_KEY: `bench-key-${randomUUID()}`,
    SOURCE_CONTRACTS_DIR: path.join(REPO_ROOT, 'contracts', 'sources'),
    LOCAL_JOBS_BUNDLE_DIR: path.join(REPO_ROOT, 'databricks'),
    // Spark's Python workers (the PII Arrow UDF) need the venv's pyarrow; otherwise they start `python3`.
    PYSPARK_PYTHON: process.env.PYSPARK_PYTHON ?? path.join(REPO_ROOT, '.venv', 'bin', 'python'),
  });
  for (const key of [
    'LAKE_ROOT',
    'DATABRICKS_HOST',
    'DATABRICKS_AUTH',
    'DATABRICKS_TOKEN',
    'LOCAL_JOBS_FAULTS',
  ])
    delete process.env[key];
  setPoll(latencyPoll);
  const config = loadConfig();
  const startedRuntime = Date.now();
  const runtime = await LocalRuntime.start({
    config,
    port: 0,
    appRoot: REPO_ROOT,
    modules: APP_MODULES,
    jobs: { port: 0, prewarm: true, log: () => undefined },
    watch: false,
    timers: false,
    logSink: () => undefined,
    log: () => undefined,
  });
  result.runtimeStartMs = Date.now() - startedRuntime;
  log(`runtime up in ${String(result.runtimeStartMs)} ms (host, emulator, warm Spark worker)`);
  const lakeRoot = config.lake.kind === 'local' ? config.lake.root : path.join(root, 'home', 'lake');
  // The emulator's token of this start (the runtime hands it to the app the same way).
  const token = runtime.emulator!.token;
  const ctx: Context = {
    runtime,
    lake: new LocalLakeStore({ root: lakeRoot }),
    simDir: path.join(root, 'sim'),
    token,
    jobs: new JobsClient({ host: runtime.emulator!.url, tokens: new StaticTokenProvider(token) }),
    contracts: await loadSourceContracts(path.join(REPO_ROOT, 'contracts', 'sources')),
  };
  try {
    // One simulation: a warm-up day, `reps` orchestrated + `reps` direct days, `defaultReps` days, 2 burst days.
    const days = 1 + 2 * reps + defaultReps + (burst > 0 ? 2 : 0);
    const simulateDays = async (count: number): Promise<{ manifest: Manifest; readings: ManifestFile[] }> => {
      const simulated = Date.now();
      rmSync(ctx.simDir, { recursive: true, force: true });
      const manifest = await simulate(ctx.simDir, { meters: count, days, defects: 0, seed: 'bench-e2e' });
      const readings = manifest.files
        .filter((f) => f.dataset === 'meter_readings' && f.source === 'headend_utc')
        .sort((a, b) => a.data_date.localeCompare(b.data_date));
      if (readings.length < days)
        throw new Error(`expected ${days} headend_utc files, got ${readings.length}`);
      log(
        `simulated ${count} meters x ${days} days in ${Date.now() - simulated} ms; headend_utc ~${readings[0]!.rows} rows/day`,
      );
      return { manifest, readings };
    };
    let { manifest, readings } = await simulateDays(meters);
    if (burst > 0) {
      // One meter-day per burst file at most: headend_utc serves only part of the meters, so a burst of more
      // files than that day's meters simulates more meters (then the latency files grow with them too).
      const have = await metersIn(path.join(ctx.simDir, readings[days - 2]!.path));
      if (have < burst) {
        const raised = Math.ceil(((meters * burst) / have) * 1.05);
        log(
          `the burst day's headend_utc file has ${have} meters, fewer than ${burst} files: ${raised} meters`,
        );
        ({ manifest, readings } = await simulateDays(raised));
        result.options = { ...(result.options as object), simulatedMeters: raised };
      }
    }
    const queue = [...readings];
    const next = (): ManifestFile => queue.shift()!;

    // Reference data first, as the source systems send it, so gold has contracts and customers.
    const reference: Dropped[] = [];
    for (const dataset of ['contracts', 'customers']) {
      const file = manifest.files
        .filter((f) => f.dataset === dataset && f.path.includes('_full_'))
        .sort((a, b) => a.data_date.localeCompare(b.data_date))[0];
      if (!file) throw new Error(`the simulation has no full ${dataset} file`);
      reference.push(await orchestrate(ctx, file, `reference ${dataset}`));
      log(
        `${dataset} reference file ingested in ${reference.at(-1)!.times!.lastUpdatedMs - reference.at(-1)!.dropMs} ms`,
      );
    }
    const warmup = await orchestrate(ctx, next(), 'warm-up');
    log(`warm-up readings file ingested in ${warmup.times!.lastUpdatedMs - warmup.dropMs} ms`);

    const latency: Dropped[] = [];
    const directs: Direct[] = [];
    const floors: Array<{ ms: number; groups: number }> = [];
    result.loadAverage = { ...(result.loadAverage as object), latency: loadAverage() };
    for (let i = 0; i < reps; i++) {
      const file = next();
      const dropped = await orchestrate(ctx, file, `latency ${i + 1} ${file.data_date}`);
      latency.push(dropped);
      const other = next();
      const d = await direct(ctx, other, `direct ${i + 1} ${other.data_date}`);
      directs.push(d);
      floors.push(await duckdbDaily(path.join(ctx.simDir, other.path)));
      log(
        `rep ${i + 1}/${reps}: orchestrated ${dropped.times!.lastUpdatedMs - dropped.dropMs} ms, direct ${d.totalMs} ms (validate ${d.validateMs}, silver ${d.silverMs}, gold ${d.goldMs}), duckdb ${floors.at(-1)!.ms} ms; load ${loadAverage().join(' ')}`,
      );
    }

    const defaults: Dropped[] = [];
    if (defaultReps > 0) {
      setPoll('5/60');
      result.loadAverage = { ...(result.loadAverage as object), defaults: loadAverage() };
      for (let i = 0; i < defaultReps; i++) {
        const file = next();
        defaults.push(await orchestrate(ctx, file, `defaults ${i + 1} ${file.data_date}`));
        log(
          `defaults rep ${i + 1}/${defaultReps}: ${defaults.at(-1)!.times!.lastUpdatedMs - defaults.at(-1)!.dropMs} ms; load ${loadAverage().join(' ')}`,
        );
      }
    }

    let burstResult: Record<string, unknown> | undefined;
    const burstDropped: Dropped[] = [];
    let batchedResult: Record<string, unknown> | undefined;
    if (burst > 0) {
      const poll = setPoll(burstPoll);
      const file = next();
      const target = landingTarget(file);
      const stem = target.name.replace(/\.csv$/, '');
      const parts = await splitByMeter(
        path.join(ctx.simDir, file.path),
        burst,
        path.join(root, 'burst'),
        stem,
      );
      result.loadAverage = { ...(result.loadAverage as object), burst: loadAverage() };
      const loadSamples: number[][] = [];
      const sampler = setInterval(() => loadSamples.push(loadAverage()), 30_000);
      const historyBefore = historyRows(runtime.host.store.db);
      const firstDrop = Date.now();
      for (const [i, part] of parts.entries()) {
        burstDropped.push(
          await drop(ctx, part.file, { ...target, name: path.basename(part.file) }, `burst ${i}`, part.rows),
        );
      }
      const dropsDone = Date.now();
      log(
        `burst: ${parts.length} files (${sum(parts.map((p) => p.rows))} rows) dropped in ${dropsDone - firstDrop} ms`,
      );
      const every = Math.max(10, Math.ceil(burstDropped.length / 20));
      for (const [i, d] of burstDropped.entries()) {
        await settle(ctx, d);
        if ((i + 1) % every === 0)
          log(
            `burst: ${i + 1}/${burstDropped.length} completed after ${round((Date.now() - firstDrop) / 1000)} s; load ${loadAverage().join(' ')}`,
          );
      }
      clearInterval(sampler);
      // The batches' own orchestrations end just after they notify their files: count their history too.
      const burstIds = new Set(burstDropped.map((d) => d.instanceId));
      const batchIds = new Set<string>();
      for (const record of (await auditRecords(ctx.lake)).values()) {
        if (!burstIds.has(record.instanceId)) continue;
        record.databricksRuns.forEach((r) => r.batch && batchIds.add(r.batch.id));
      }
      for (const id of batchIds) await waitInstance(ctx.runtime, id, WAIT_MS);
      const history = historyDelta(historyBefore, historyRows(runtime.host.store.db));
      burstResult = {
        poll,
        firstDrop,
        dropSpanMs: dropsDone - firstDrop,
        files: parts.length,
        historyRowsWritten: history.total,
        historyRowsPerFile: round(history.total / parts.length, 1),
        historyRowsByName: history.byName,
        loadSamples,
      };
    }
    if (burst > 0 && batched) {
      const file = next();
      const target = landingTarget(file);
      const stem = target.name.replace(/\.csv$/, '');
      const parts = await splitByMeter(
        path.join(ctx.simDir, file.path),
        burst,
        path.join(root, 'batched'),
        stem,
      );
      result.loadAverage = { ...(result.loadAverage as object), batched: loadAverage() };
      const t0 = Date.now();
      const ids: string[] = [];
      const dates = new Set<string>();
      let rows = 0;
      for (const [i, part] of parts.entries()) {
        const id = `bench-batch-${i}`;
        const staged = await stageDirect(ctx, part.file, { ...target, name: path.basename(part.file) }, id);
        ids.push(id);
        staged.affectedDates.forEach((d) => dates.add(d));
        rows += staged.rows;
      }
      const validatedMs = Date.now() - t0;
      const orchestrationId = `bench-batch-${file.data_date}`;
      const { silver, gold } = await silverThenGold(ctx, orchestrationId, ids, dates);
      const wallMs = Date.now() - t0;
      batchedResult = {
        files: parts.length,
        rows,
        wallMs,
        validateMs: validatedMs,
        silverMs: silver.ms,
        goldMs: gold.ms,
        runs: 2,
        filesPerMin: round((parts.length / wallMs) * 60_000, 1),
        rowsPerSecond: round(rows / (wallMs / 1000), 1),
      };
      log(`batched: ${JSON.stringify(batchedResult)}`);
    }
    result.loadAverage = { ...(result.loadAverage as object), end: loadAverage() };

    // ------------------------------------------------------------------------------------- analysis
    const runs = await listRuns(runtime.emulator!.url, token);
    const runsById = new Map(runs.map((r) => [r.runId, r]));
    const records = await auditRecords(ctx.lake);
    // The raw measurements first, so a failing analysis loses nothing.
    result.raw = { warmup, latency, defaults, directs, floors, burst: burstDropped, runs };
    result.raw = { ...(result.raw as object), records: [...records.values()] };
    const analyse = (list: Dropped[]): Breakdown[] =>
      list.map((d) => {
        const record = records.get(d.instanceId);
        if (!record) throw new Error(`${d.label}: no audit record`);
        return breakdown(d, record, runsById);
      });
    const latencyRows = analyse(latency);
    const defaultRows = analyse(defaults);
    result.warmupMs = warmup.times!.lastUpdatedMs - warmup.dropMs;
    if (latencyRows.length > 0) {
      result.latency = {
        poll: { min: 1, max: 2 },
        file: { meters, rowsPerFile: summarise(latencyRows.map((b) => b.rows)) },
        summary: latencySummary(latencyRows),
        reps: latencyRows,
      };
    }
    if (defaultRows.length > 0) {
      result.defaults = {
        poll: { min: 5, max: 60 },
        summary: latencySummary(defaultRows),
        reps: defaultRows,
      };
    }
    if (directs.length > 0) {
      result.direct = {
        pollMs: DIRECT_POLL_MS,
        summary: {
          totalMs: summarise(directs.map((d) => d.totalMs)),
          validateMs: summarise(directs.map((d) => d.validateMs)),
          silverMs: summarise(directs.map((d) => d.silverMs)),
          goldMs: summarise(directs.map((d) => d.goldMs)),
        },
        reps: directs,
      };
      result.duckdb = { summary: summarise(floors.map((f) => f.ms)), reps: floors };
    }
    if (latencyRows.length > 0) printLatency(`Orchestrated, JOB_POLL ${latencyPoll}`, latencyRows);
    if (defaultRows.length > 0) printLatency('Orchestrated, JOB_POLL 5/60 (defaults)', defaultRows);
    if (directs.length > 0) {
      const ds = (pick: (d: Direct) => number): string =>
        `${round(median(directs.map(pick)) / 1000, 2)} / ${round(p95(directs.map(pick)) / 1000, 2)}`;
      process.stdout.write(
        `\nDirect (no orchestration; ${directs.length} reps; s median / p95): total ${ds((d) => d.totalMs)}, validate ${ds((d) => d.validateMs)}, silver ${ds((d) => d.silverMs)}, gold ${ds((d) => d.goldMs)}\n`,
      );
      process.stdout.write(
        `DuckDB daily totals of the same files (in memory): median ${round(median(floors.map((f) => f.ms)))} ms\n`,
      );
      if (latencyRows.length > 0) {
        const gap = median(latencyRows.map((b) => b.totalMs)) - median(directs.map((d) => d.totalMs));
        const overhead = latencyRows.map((b) => b.orchestrationMs);
        process.stdout.write(
          `Lone file, orchestrated - direct: ${round(gap / 1000, 2)} s (medians of different days' files); orchestration's own share ${round(median(overhead) / 1000, 2)} / ${round(p95(overhead) / 1000, 2)} s (median / p95)\n`,
        );
      }
    }

    if (burstResult) {
      const rows = analyse(burstDropped);
      const firstDrop = burstResult.firstDrop as number;
      const lastDone = Math.max(...burstDropped.map((d) => d.times!.lastUpdatedMs));
      const wallMs = lastDone - firstDrop;
      // The burst's runs are those its files' audit records list (a run's orchestration_id is its batch's id).
      const ids = new Set(burstDropped.map((d) => d.instanceId));
      const runRecords = new Map<number, AuditRecord['databricksRuns'][number]>();
      for (const d of burstDropped) {
        for (const r of records.get(d.instanceId)!.databricksRuns) {
          if (r.runId !== null) runRecords.set(r.runId, r);
        }
      }
      const burstRuns = runs.filter((r) => runRecords.has(r.runId));
      const batches = new Map<string, { step: string; size: number; members: string[]; runs: number }>();
      for (const r of runRecords.values()) {
        if (!r.batch) continue;
        const batch = batches.get(r.batch.id) ?? { step: r.step, size: r.batch.size, members: [], runs: 0 };
        batch.members = [...new Set([...batch.members, ...r.batch.members])];
        batch.runs += 1;
        batches.set(r.batch.id, batch);
      }
      const foreignMembers = [...batches.values()].flatMap((b) => b.members.filter((m) => !ids.has(m)));
      const batchSizes = (stepName: string): number[] =>
        [...batches.values()].filter((b) => b.step === stepName).map((b) => b.size);
      const byJob = (name: string): ListedRun[] => burstRuns.filter((r) => r.runName === name);
      const jobStats = (list: ListedRun[]): Record<string, unknown> => ({
        runs: list.length,
        queueMs: summarise(list.map((r) => r.queueMs)),
        workerWaitMs: summarise(list.map((r) => r.setupMs)),
        executionMs: summarise(list.map((r) => r.executionMs)),
        executionTotalMs: sum(list.map((r) => r.executionMs)),
      });
      const completions = burstDropped.map((d) => d.times!.lastUpdatedMs - firstDrop).sort((a, b) => a - b);
      const totalRows = sum(rows.map((b) => b.rows));
      const polls = [...runRecords.values()].map((r) => r.polls);
      const executionTotal = sum(burstRuns.map((r) => r.executionMs));
      const filesPerMin = round((burstDropped.length / wallMs) * 60_000, 2);
      const baselineFilesPerMin = batchedResult?.filesPerMin as number | undefined;
      burstResult = {
        ...burstResult,
        rows: totalRows,
        wallMs,
        filesPerMin,
        rowsPerSecond: round(totalRows / (wallMs / 1000), 1),
        ofBatchedFilesPerMin: baselineFilesPerMin ? round(filesPerMin / baselineFilesPerMin, 2) : null,
        databricksRuns: burstRuns.length,
        runsPerThousandFiles: round((burstRuns.length / burstDropped.length) * 1000),
        batches: {
          silver: { count: batchSizes('silver').length, sizes: batchSizes('silver') },
          gold: { count: batchSizes('gold').length, sizes: batchSizes('gold') },
          foreignMembers: foreignMembers.length,
        },
        silver: jobStats(byJob('lakewatt-silver')),
        gold: jobStats(byJob('lakewatt-gold')),
        workerBusyShare: round(executionTotal / wallMs, 3),
        firstCompletedMs: completions[0],
        halfCompletedMs: completions[Math.floor(completions.length / 2)],
        lastCompletedMs: completions.at(-1),
        latencyMs: summarise(rows.map((b) => b.totalMs)),
        pollsPerRun: summarise(polls),
        pollsTotal: sum(polls),
        noticeMs: summarise(rows.flatMap((b) => [b.silver.noticeMs, b.gold.noticeMs])),
        validateMs: summarise(rows.map((b) => b.validateMs)),
        perFile: rows,
        runTimeline: burstRuns.map((r) => ({
          runId: r.runId,
          job: r.runName,
          createdMs: r.createdMs - firstDrop,
          endMs: r.endMs - firstDrop,
          queueMs: r.queueMs,
          workerWaitMs: r.setupMs,
          executionMs: r.executionMs,
        })),
      };
      result.burst = burstResult;
      const { perFile: _perFile, runTimeline: _timeline, ...shown } = burstResult;
      process.stdout.write(`\nBurst: ${JSON.stringify(shown, null, 2)}\n`);
    }
    if (batchedResult) {
      result.batched = batchedResult;
      process.stdout.write(`\nBatched baseline: ${JSON.stringify(batchedResult)}\n`);
    }
    result.reference = reference.map((d) => ({ label: d.label, ms: d.times!.lastUpdatedMs - d.dropMs }));
    result.databricksRunsTotal = runs.length;
    delete result.raw;
    result.wallMs = Date.now() - began;
    process.stdout.write(
      `\nload average ${JSON.stringify(result.loadAverage)}; ${result.cpus as number} cpus; ${process.version}; bench wall ${round((result.wallMs as number) / 60_000, 1)} min\n`,
    );
  } finally {
    const out = path.join(REPO_ROOT, 'bench', 'out');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, textArg('out', 'e2e-latest.json')), `${JSON.stringify(result, null, 2)}\n`);
    await runtime.stop();
    if (!keep) rmSync(root, { recursive: true, force: true });
    else log(`kept ${root}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
