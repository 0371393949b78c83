import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { JobsClient, StaticTokenProvider } from '../../lib/databricks';
import { findRepoRoot, JobsEmulator } from '../../local/databricks/emulator';

/**
 * Overhead of the local Jobs API emulator for an empty task (test/fixtures/bundle, job fixture-echo), through
 * the real client over loopback HTTP:
 *   first line  run-now sent -> the task's first printed line (its own wall-clock timestamp, FIRST_LINE <ms>)
 *   terminated  run-now sent -> runs/get first reports TERMINATED (polled every 20 ms, as a tight poller would)
 * 'warm' runs on one long-lived worker whose SparkSession is already up; 'cold' runs each task in a fresh
 * process (execution: fresh), so every run pays a Python start, a JVM start and a SparkSession.
 *
 *   npx tsc -p bench/jobs/tsconfig.json
 *   node bench/out/build/bench/jobs/run.js [--warm 9] [--cold 3] [--fast-jvm]
 */

interface Sample {
  firstLineMs: number;
  terminatedMs: number;
}

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} expects a count`);
  return value;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function measure(client: JobsClient, jobId: number): Promise<Sample> {
  const sent = Date.now();
  const { runId } = await client.runNow({ jobId, idempotencyToken: `bench-${randomUUID()}` });
  for (;;) {
    const run = await client.getRun(runId);
    if (run.outcome.terminal) {
      const terminatedMs = Date.now() - sent;
      if (run.outcome.kind !== 'Succeeded') throw new Error(`run ${runId} ended ${run.outcome.reason}`);
      const task = run.tasks[0];
      if (task?.runId === undefined) throw new Error(`run ${runId} has no task run`);
      const output = await client.getRunOutput(task.runId);
      const first = /FIRST_LINE (\d+)/.exec(output.logs ?? '');
      if (!first) throw new Error(`run ${runId}: no FIRST_LINE in the task output`);
      return { firstLineMs: Number(first[1]) - sent, terminatedMs };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function series(mode: 'warm' | 'fresh', count: number, javaOptions: string[]): Promise<Sample[]> {
  if (count === 0) return [];
  const root = findRepoRoot(__dirname);
  const home = mkdtempSync(path.join(os.tmpdir(), `lakewatt-bench-jobs-${mode}-`));
  const token = randomUUID();
  const emulator = await JobsEmulator.start({
    bundleDir: path.join(root, 'test', 'fixtures', 'bundle'),
    home,
    token,
    repoRoot: root,
    execution: mode,
    javaOptions,
  });
  try {
    const client = new JobsClient({ host: emulator.url, tokens: new StaticTokenProvider(token) });
    const jobId = await client.resolveJobId('fixture-echo');
    if (mode === 'warm') {
      const started = Date.now();
      await emulator.prewarm();
      process.stderr.write(`warm worker and SparkSession ready in ${Date.now() - started} ms\n`);
      await measure(client, jobId); // first task: imports job modules once
    }
    const samples: Sample[] = [];
    for (let i = 0; i < count; i++) {
      const sample = await measure(client, jobId);
      process.stderr.write(
        `${mode} run ${i + 1}: first line ${sample.firstLineMs} ms, TERMINATED ${sample.terminatedMs} ms\n`,
      );
      samples.push(sample);
    }
    return samples;
  } finally {
    await emulator.close();
    rmSync(home, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const warmCount = arg('warm', 9);
  const coldCount = arg('cold', 3);
  const javaOptions = process.argv.includes('--fast-jvm')
    ? ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC']
    : [];
  const warm = await series('warm', warmCount, javaOptions);
  const cold = await series('fresh', coldCount, javaOptions);
  const rows = [
    { mode: 'warm', samples: warm },
    { mode: 'cold (fresh process)', samples: cold },
  ].filter((row) => row.samples.length > 0);
  const result = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    javaOptions,
    rows: rows.map((row) => ({
      mode: row.mode,
      runs: row.samples.length,
      medianFirstLineMs: median(row.samples.map((s) => s.firstLineMs)),
      medianTerminatedMs: median(row.samples.map((s) => s.terminatedMs)),
      minTerminatedMs: Math.min(...row.samples.map((s) => s.terminatedMs)),
      maxTerminatedMs: Math.max(...row.samples.map((s) => s.terminatedMs)),
    })),
  };
  process.stdout.write(
    '| mode | runs | median run-now → first line | median run-now → TERMINATED | min–max TERMINATED |\n',
  );
  process.stdout.write('|---|---|---|---|---|\n');
  for (const row of result.rows) {
    process.stdout.write(
      `| ${row.mode} | ${row.runs} | ${row.medianFirstLineMs} ms | ${row.medianTerminatedMs} ms | ${row.minTerminatedMs}–${row.maxTerminatedMs} ms |\n`,
    );
  }
  process.stdout.write(`load average ${result.loadAverage.join(' ')}, ${result.cpus} cpus, ${result.node}\n`);
  const out = path.join(findRepoRoot(__dirname), 'bench', 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'jobs-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
