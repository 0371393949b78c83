import { createReadStream, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { loadConfig } from '../../lib/config';
import { loadSourceContracts } from '../../lib/contracts/sources';
import { LocalLakeStore } from '../../lib/lake';
import { STAGED_PART, stagingPrefix, validateAndStage } from '../../lib/validation/stage';
import {
  checkParquet,
  describeMachine,
  loadDuckdb,
  machineInfo,
  MB,
  MIB,
  type ParquetCheck,
  parseArgs,
  reportToParent,
  runChild,
  sameSum,
  sourceState,
  sqlString,
  table,
  thousands,
} from './common';
import { DEFAULT_OPTIONS, ensureCsv, type GeneratedFile, PRESETS } from './generate';

/**
 * The validation benchmark of issue 3: canonical long CSV → staged Parquet, our engine against DuckDB.
 *
 *   node .lakewatt/bench-build/bench/validation/run.js [--sizes 1m,10m,2gb] [--repeat 1] [--profile]
 *
 * Each measurement runs in a fresh child process so its peak RSS is its own:
 *   ours    validateAndStage (the pipeline's own path: decode, validate, ParquetWriter with gzip) into a
 *           LocalLakeStore, exactly as `lakewatt validate` does;
 *   duckdb  DuckDB (threads=1) read_csv with explicit column types, COPY ... TO ... (FORMAT parquet).
 * A third child reads both Parquet files with DuckDB and checks row count, kWh sum and interval range
 * against what the generator wrote, so the two sides did the same work.
 */

const OUT = 'bench/out';
const DATA_DIR = path.join(OUT, 'data');
const WORK_DIR = path.join(OUT, 'validation');
const PROFILE_DIR = path.join(OUT, 'profiles');
const RESULTS_FILE = path.join(OUT, 'validation-latest.json');

interface Measurement {
  side: 'ours' | 'duckdb';
  rows: number;
  rowsValid: number;
  inputBytes: number;
  outputBytes: number;
  outputPath: string;
  durationMs: number;
  peakRssBytes: number;
  verdict?: string;
  /** process.memoryUsage() when the engine finished (ours only): where the peak RSS went. */
  memoryAtEnd?: Record<string, number>;
}

interface Check extends ParquetCheck {
  peakRssBytes: number;
}

// ---- children ---------------------------------------------------------------------------------

async function childOurs(csv: string, outDir: string): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  const config = loadConfig(process.env);
  const registry = await loadSourceContracts(config.sourceContractsDir);
  const contract = registry.resolve('meter_readings', 'canonical');
  const lake = new LocalLakeStore({ root: outDir });
  await lake.ensureContainer('staging');
  await lake.ensureContainer('quarantine');
  const inputBytes = statSync(csv).size;
  const instanceId = 'bench-validation';
  const started = performance.now();
  const report = await validateAndStage(lake, {
    contract,
    instanceId,
    generation: 0,
    now: new Date(),
    limits: config.validation,
    file: { path: path.resolve(csv), etag: `bench-${inputBytes}`, name: path.basename(csv) },
    open: () => Promise.resolve(createReadStream(csv)),
    copyToQuarantine: async (target) => {
      await lake.createOnly('quarantine', target, createReadStream(csv));
    },
  });
  const durationMs = performance.now() - started;
  const memory = process.memoryUsage();
  const outputPath = path.join(
    outDir,
    'staging',
    stagingPrefix(contract.dataset, instanceId, 0),
    STAGED_PART,
  );
  const measurement: Omit<Measurement, 'peakRssBytes'> = {
    side: 'ours',
    rows: report.counts.rowsRead,
    rowsValid: report.counts.rowsValid,
    inputBytes,
    outputBytes: report.verdict === 'rejected' ? 0 : statSync(outputPath).size,
    outputPath,
    durationMs,
    verdict: report.verdict,
    memoryAtEnd: {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      external: memory.external,
      arrayBuffers: memory.arrayBuffers,
    },
  };
  if (report.verdict !== 'accepted') {
    process.stderr.write(`ours: verdict ${report.verdict}: ${JSON.stringify(report.reasons)}\n`);
  }
  reportToParent(measurement);
}

const DUCKDB_COLUMNS =
  "{'meter_id': 'VARCHAR', 'interval_start': 'TIMESTAMPTZ', 'interval_minutes': 'INTEGER', " +
  "'channel': 'VARCHAR', 'kwh': 'DOUBLE', 'quality': 'VARCHAR'}";

async function childDuckdb(csv: string, output: string): Promise<void> {
  rmSync(output, { force: true });
  mkdirSync(path.dirname(output), { recursive: true });
  const { DuckDBInstance } = await loadDuckdb();
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  await connection.run('SET threads = 1');
  await connection.run("SET TimeZone = 'UTC'");
  const inputBytes = statSync(csv).size;
  const started = performance.now();
  const result = await connection.runAndReadAll(
    `COPY (SELECT * FROM read_csv(${sqlString(csv)}, header = true, delim = ',', quote = '"', ` +
      `auto_detect = false, columns = ${DUCKDB_COLUMNS})) TO ${sqlString(output)} (FORMAT parquet)`,
  );
  const durationMs = performance.now() - started;
  const rows = Number(result.getRows()[0]?.[0] ?? 0);
  connection.closeSync();
  instance.closeSync();
  const measurement: Omit<Measurement, 'peakRssBytes'> = {
    side: 'duckdb',
    rows,
    rowsValid: rows,
    inputBytes,
    outputBytes: statSync(output).size,
    outputPath: output,
    durationMs,
  };
  reportToParent(measurement);
}

async function childCheck(file: string): Promise<void> {
  reportToParent(await checkParquet(file));
}

// ---- parent -----------------------------------------------------------------------------------

/** Reads the file once so both sides start from the page cache rather than whoever runs first paying. */
async function warmPageCache(file: string): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * MIB })) void chunk;
}

function best(measurements: Measurement[]): Measurement {
  return measurements.reduce((a, b) => (b.durationMs < a.durationMs ? b : a));
}

function rowsPerSecond(m: Measurement): number {
  return m.rows / (m.durationMs / 1000);
}

function mbPerSecond(m: Measurement): number {
  return m.inputBytes / MB / (m.durationMs / 1000);
}

interface SizeResult {
  size: string;
  file: GeneratedFile;
  ours: Measurement;
  duckdb: Measurement | undefined;
  checks: { ours: Check; duckdb: Check | undefined; ok: boolean; problems: string[] };
  loadAverage: number[];
}

async function measureSize(
  size: string,
  repeat: number,
  withDuckdb: boolean,
  profile: boolean,
): Promise<SizeResult> {
  const rows = PRESETS[size];
  if (rows === undefined)
    throw new Error(`unknown size '${size}': one of ${Object.keys(PRESETS).join(', ')}`);
  const file = ensureCsv(DATA_DIR, { ...DEFAULT_OPTIONS, rows });
  const script = __filename;
  const ours: Measurement[] = [];
  const duck: Measurement[] = [];
  for (let i = 0; i < repeat; i++) {
    await warmPageCache(file.path);
    const nodeArgs = profile && i === 0 ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [];
    process.stdout.write(`${size}: ours, run ${i + 1}/${repeat}${nodeArgs.length ? ' (cpu profile)' : ''}\n`);
    ours.push(
      await runChild<Measurement>(
        script,
        ['--child', 'ours', '--csv', file.path, '--out', path.join(WORK_DIR, `ours-${size}`)],
        nodeArgs,
      ),
    );
    if (withDuckdb) {
      await warmPageCache(file.path);
      process.stdout.write(`${size}: duckdb, run ${i + 1}/${repeat}\n`);
      duck.push(
        await runChild<Measurement>(script, [
          '--child',
          'duckdb',
          '--csv',
          file.path,
          '--out',
          path.join(WORK_DIR, `duckdb-${size}.parquet`),
        ]),
      );
    }
  }
  const oursBest = best(ours);
  const duckBest = duck.length > 0 ? best(duck) : undefined;
  const problems: string[] = [];
  const oursCheck = await runChild<Check>(script, ['--child', 'check', '--file', oursBest.outputPath]);
  const duckCheck = duckBest
    ? await runChild<Check>(script, ['--child', 'check', '--file', duckBest.outputPath])
    : undefined;
  for (const [name, check] of [
    ['ours', oursCheck],
    ['duckdb', duckCheck],
  ] as const) {
    if (!check) continue;
    if (check.rows !== file.rows)
      problems.push(`${name}: ${check.rows} rows in Parquet, generated ${file.rows}`);
    if (!sameSum(check.kwhSum, file.kwhSum))
      problems.push(`${name}: kWh sum ${check.kwhSum}, generated ${file.kwhSum}`);
  }
  if (
    duckCheck &&
    (duckCheck.firstInterval !== oursCheck.firstInterval || duckCheck.lastInterval !== oursCheck.lastInterval)
  ) {
    problems.push(
      `interval range differs: ours ${oursCheck.firstInterval}..${oursCheck.lastInterval}, duckdb ${duckCheck.firstInterval}..${duckCheck.lastInterval}`,
    );
  }
  if (oursBest.rowsValid !== file.rows)
    problems.push(`ours: ${oursBest.rowsValid} valid rows of ${file.rows}`);
  return {
    size,
    file,
    ours: oursBest,
    duckdb: duckBest,
    checks: { ours: oursCheck, duckdb: duckCheck, ok: problems.length === 0, problems },
    loadAverage: machineInfo().loadAverage,
  };
}

function render(results: SizeResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    const sides = r.duckdb ? [r.ours, r.duckdb] : [r.ours];
    for (const m of sides) {
      rows.push([
        r.size,
        `${(r.file.bytes / MB).toFixed(0)} MB`,
        m.side,
        thousands(m.rows),
        (m.durationMs / 1000).toFixed(1),
        thousands(rowsPerSecond(m)),
        mbPerSecond(m).toFixed(1),
        (m.peakRssBytes / MIB).toFixed(0),
        `${(m.outputBytes / MB).toFixed(1)} MB`,
        m.side === 'ours' && r.duckdb
          ? `${(rowsPerSecond(r.ours) / rowsPerSecond(r.duckdb)).toFixed(2)}×`
          : '',
        m.side === 'ours' ? (r.checks.ok ? 'ok' : 'MISMATCH') : '',
        m.side === 'ours' ? r.loadAverage.join(' ') : '',
      ]);
    }
  }
  return table(
    [
      'size',
      'CSV',
      'side',
      'rows',
      's',
      'rows/s',
      'MB/s',
      'peak RSS MiB',
      'Parquet',
      'ours/DuckDB',
      'check',
      'load after',
    ],
    rows,
  );
}

function targets(results: SizeResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    if (r.duckdb) {
      const ratio = rowsPerSecond(r.ours) / rowsPerSecond(r.duckdb);
      lines.push(
        `${r.size}: throughput ${ratio.toFixed(2)}× DuckDB (target ≥ 0.5×): ${ratio >= 0.5 ? 'MET' : 'NOT MET'}`,
      );
    }
    if (r.file.bytes >= 1.9e9) {
      const mib = r.ours.peakRssBytes / MIB;
      lines.push(
        `${r.size}: peak RSS ${mib.toFixed(0)} MiB for ${(r.file.bytes / 1e9).toFixed(2)} GB (target < 300 MB): ${mib < 300 ? 'MET' : 'NOT MET'}`,
      );
    }
    for (const problem of r.checks.problems) lines.push(`${r.size}: CHECK FAILED: ${problem}`);
  }
  return lines;
}

async function parent(args: Map<string, string>): Promise<void> {
  const sizes = (args.get('sizes') ?? '1m,10m,2gb').split(',').filter(Boolean);
  const repeat = Number(args.get('repeat') ?? '1');
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat must be a positive integer');
  const withDuckdb = args.get('no-duckdb') !== 'true';
  const profile = args.get('profile') === 'true';
  mkdirSync(WORK_DIR, { recursive: true });
  const before = machineInfo();
  const source = sourceState();
  process.stdout.write(`machine: ${describeMachine(before)}\n`);
  process.stdout.write(
    `source: ${source.commit}${source.dirtyLib.length ? ` + uncommitted ${source.dirtyLib.join(', ')}` : ''}\n`,
  );
  const results: SizeResult[] = [];
  for (const size of sizes) {
    results.push(await measureSize(size, repeat, withDuckdb, profile && results.length === 0));
  }
  const after = machineInfo();
  process.stdout.write(`\n${render(results)}\n\n`);
  for (const line of targets(results)) process.stdout.write(`${line}\n`);
  process.stdout.write(`machine: ${describeMachine(after)}\n`);
  if (profile) {
    const profiles = readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.cpuprofile'));
    process.stdout.write(`cpu profiles in ${PROFILE_DIR}: ${profiles.join(', ')}\n`);
  }
  writeFileSync(
    RESULTS_FILE,
    `${JSON.stringify({ machineBefore: before, machineAfter: after, source, repeat, results }, null, 2)}\n`,
  );
  process.stdout.write(`results: ${RESULTS_FILE}\n`);
  if (results.some((r) => !r.checks.ok)) process.exitCode = 1;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const child = args.get('child');
  const need = (name: string): string => {
    const value = args.get(name);
    if (!value) throw new Error(`--${name} is required`);
    return value;
  };
  switch (child) {
    case 'ours':
      return childOurs(need('csv'), need('out'));
    case 'duckdb':
      return childDuckdb(need('csv'), need('out'));
    case 'check':
      return childCheck(need('file'));
    case undefined:
      return parent(args);
    default:
      throw new Error(`unknown child '${child}'`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 2;
});
