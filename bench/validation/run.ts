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
import {
  DEFAULT_NEM12,
  DEFAULT_OPTIONS,
  ensureCsv,
  ensureNem12,
  type GeneratedFile,
  type GeneratedNem12,
  parseSize,
  PRESETS,
} from './generate';

/**
 * The validation benchmark of issue 3: canonical long CSV → staged Parquet, our engine against DuckDB; and
 * (issue #15, `--formats csv,nem12`) the same readings as AEMO NEM12 through the same engine beside it.
 *
 *   node .lakewatt/bench-build/bench/validation/run.js [--sizes 1m,10m,2gb] [--formats csv] [--repeat 1]
 *     [--no-duckdb] [--profile]
 *
 * Each measurement runs in a fresh child process so its peak RSS is its own:
 *   ours    validateAndStage (the pipeline's own path: decode, validate, ParquetWriter with gzip) into a
 *           LocalLakeStore, exactly as `lakewatt validate` does; the CSV with contract
 *           meter_readings/canonical, the NEM12 file with meter_readings/nem12;
 *   duckdb  (CSV only) DuckDB (threads=1) read_csv with explicit column types, COPY ... TO ... (FORMAT parquet).
 * Another child reads each Parquet file with DuckDB and checks row count, kWh sum and interval range
 * against what the generator wrote, so every side did the same work.
 */

const OUT = 'bench/out';
const DATA_DIR = path.join(OUT, 'data');
const WORK_DIR = path.join(OUT, 'validation');
const PROFILE_DIR = path.join(OUT, 'profiles');
const RESULTS_FILE = path.join(OUT, 'validation-latest.json');

const FORMATS = ['csv', 'nem12'] as const;
type Format = (typeof FORMATS)[number];
/** The meter_readings contract (source) each format is validated with. */
const CONTRACT_SOURCE: Record<Format, string> = { csv: 'canonical', nem12: 'nem12' };

interface Measurement {
  format: Format;
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

async function childOurs(csv: string, format: Format, outDir: string): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  const config = loadConfig(process.env);
  const registry = await loadSourceContracts(config.sourceContractsDir);
  const contract = registry.resolve('meter_readings', CONTRACT_SOURCE[format]);
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
    format,
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
    process.stderr.write(`ours (${format}): verdict ${report.verdict}: ${JSON.stringify(report.reasons)}\n`);
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
    format: 'csv',
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

interface FormatResult {
  format: Format;
  file: GeneratedFile | GeneratedNem12;
  ours: Measurement;
  duckdb: Measurement | undefined;
  checks: { ours: Check; duckdb: Check | undefined; ok: boolean; problems: string[] };
}

interface SizeResult {
  size: string;
  /** Readings asked for; the NEM12 file holds them rounded down to whole channel-days (48 readings). */
  readings: number;
  formats: FormatResult[];
  /** Cross-format facts (same readings or not), not failures. */
  notes: string[];
  loadAverage: number[];
}

function isNem12(file: GeneratedFile | GeneratedNem12): file is GeneratedNem12 {
  return 'channelDays' in file;
}

function parseFormats(text: string): Format[] {
  const formats = text.split(',').filter(Boolean);
  const unknown = formats.filter((f) => !(FORMATS as readonly string[]).includes(f));
  if (unknown.length > 0 || formats.length === 0)
    throw new Error(`--formats: '${text}' is not a list of ${FORMATS.join(', ')}`);
  return FORMATS.filter((f) => formats.includes(f));
}

/** The engine rejects a file over VALIDATION_MAX_FILE_BYTES: say so before measuring a rejection. */
function assertWithinLimit(file: GeneratedFile): void {
  const limit = loadConfig(process.env).validation.maxFileBytes;
  if (file.bytes > limit) {
    throw new Error(
      `${file.path} has ${file.bytes} bytes, over VALIDATION_MAX_FILE_BYTES (${limit}): the engine would reject ` +
        `it; run with VALIDATION_MAX_FILE_BYTES=${Math.ceil(file.bytes / 1e9) * 1e9} (or higher) in the environment`,
    );
  }
}

function checkFile(
  name: string,
  file: GeneratedFile | GeneratedNem12,
  measurement: Measurement,
  check: Check,
  problems: string[],
): void {
  if (check.rows !== file.rows)
    problems.push(`${name}: ${check.rows} rows in Parquet, generated ${file.rows}`);
  if (!sameSum(check.kwhSum, file.kwhSum))
    problems.push(`${name}: kWh sum ${check.kwhSum}, generated ${file.kwhSum}`);
  if (measurement.side === 'ours' && measurement.rowsValid !== file.rows)
    problems.push(`${name}: ${measurement.rowsValid} valid rows of ${file.rows}`);
  if (
    isNem12(file) &&
    (check.firstInterval !== file.firstInterval || check.lastInterval !== file.lastInterval)
  ) {
    problems.push(
      `${name}: intervals ${check.firstInterval}..${check.lastInterval}, generated ${file.firstInterval}..${file.lastInterval}`,
    );
  }
}

async function measureSize(
  size: string,
  formats: Format[],
  repeat: number,
  withDuckdb: boolean,
  profile: boolean,
): Promise<SizeResult> {
  const rows = parseSize(size);
  if (rows === undefined)
    throw new Error(
      `unknown size '${size}': one of ${Object.keys(PRESETS).join(', ')} or a number of readings (360k, 5m)`,
    );
  const options = { ...DEFAULT_OPTIONS, rows };
  const files = new Map<Format, GeneratedFile | GeneratedNem12>();
  for (const format of formats) {
    const file =
      format === 'csv'
        ? ensureCsv(DATA_DIR, options)
        : ensureNem12(DATA_DIR, { ...options, ...DEFAULT_NEM12 });
    assertWithinLimit(file);
    files.set(format, file);
  }
  const script = __filename;
  const ours = new Map<Format, Measurement[]>(formats.map((f) => [f, []]));
  const duck: Measurement[] = [];
  for (let i = 0; i < repeat; i++) {
    for (const format of formats) {
      const file = files.get(format)!;
      const tag = format === 'csv' ? size : `${format}-${size}`;
      await warmPageCache(file.path);
      const nodeArgs =
        profile && i === 0
          ? [
              '--cpu-prof',
              '--cpu-prof-dir',
              PROFILE_DIR,
              '--cpu-prof-name',
              `ours-${tag}-${Date.now()}.cpuprofile`,
            ]
          : [];
      process.stdout.write(
        `${size}: ours ${format}, run ${i + 1}/${repeat}${nodeArgs.length ? ' (cpu profile)' : ''}\n`,
      );
      ours
        .get(format)!
        .push(
          await runChild<Measurement>(
            script,
            [
              '--child',
              'ours',
              '--csv',
              file.path,
              '--format',
              format,
              '--out',
              path.join(WORK_DIR, `ours-${tag}`),
            ],
            nodeArgs,
          ),
        );
      if (format === 'csv' && withDuckdb) {
        await warmPageCache(file.path);
        process.stdout.write(`${size}: duckdb csv, run ${i + 1}/${repeat}\n`);
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
  }
  const results: FormatResult[] = [];
  for (const format of formats) {
    const file = files.get(format)!;
    const oursBest = best(ours.get(format)!);
    const duckBest = format === 'csv' && duck.length > 0 ? best(duck) : undefined;
    const problems: string[] = [];
    const oursCheck = await runChild<Check>(script, ['--child', 'check', '--file', oursBest.outputPath]);
    const duckCheck = duckBest
      ? await runChild<Check>(script, ['--child', 'check', '--file', duckBest.outputPath])
      : undefined;
    checkFile(`ours ${format}`, file, oursBest, oursCheck, problems);
    if (duckBest && duckCheck) {
      checkFile('duckdb', file, duckBest, duckCheck, problems);
      if (
        duckCheck.firstInterval !== oursCheck.firstInterval ||
        duckCheck.lastInterval !== oursCheck.lastInterval
      ) {
        problems.push(
          `interval range differs: ours ${oursCheck.firstInterval}..${oursCheck.lastInterval}, duckdb ${duckCheck.firstInterval}..${duckCheck.lastInterval}`,
        );
      }
    }
    results.push({
      format,
      file,
      ours: oursBest,
      duckdb: duckBest,
      checks: { ours: oursCheck, duckdb: duckCheck, ok: problems.length === 0, problems },
    });
  }
  const notes: string[] = [];
  const csv = results.find((r) => r.format === 'csv');
  const nem12 = results.find((r) => r.format === 'nem12');
  if (csv && nem12) {
    // Same model, same draws: equal counts mean the very same readings, so the staged kWh sums must agree.
    if (nem12.file.rows === csv.file.rows) {
      if (sameSum(nem12.checks.ours.kwhSum, csv.checks.ours.kwhSum))
        notes.push('same readings in both formats (staged row counts and kWh sums equal)');
      else {
        nem12.checks.ok = false;
        nem12.checks.problems.push(
          `staged kWh sum ${nem12.checks.ours.kwhSum} differs from the CSV's ${csv.checks.ours.kwhSum}`,
        );
      }
    } else {
      notes.push(
        `NEM12 holds the first ${thousands(nem12.file.rows)} of the CSV's ${thousands(csv.file.rows)} readings (whole channel-days)`,
      );
    }
  }
  return { size, readings: rows, formats: results, notes, loadAverage: machineInfo().loadAverage };
}

function render(results: SizeResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    const csv = r.formats.find((f) => f.format === 'csv');
    for (const f of r.formats) {
      const sides = f.duckdb ? [f.ours, f.duckdb] : [f.ours];
      for (const m of sides) {
        const ours = m.side === 'ours';
        rows.push([
          r.size,
          f.format,
          `${(f.file.bytes / MB).toFixed(0)} MB`,
          m.side,
          thousands(m.rows),
          (m.durationMs / 1000).toFixed(1),
          thousands(rowsPerSecond(m)),
          mbPerSecond(m).toFixed(1),
          (m.peakRssBytes / MIB).toFixed(0),
          `${(m.outputBytes / MB).toFixed(1)} MB`,
          ours && f.duckdb ? `${(rowsPerSecond(f.ours) / rowsPerSecond(f.duckdb)).toFixed(2)}×` : '',
          ours && csv && f !== csv ? `${(rowsPerSecond(f.ours) / rowsPerSecond(csv.ours)).toFixed(2)}×` : '',
          ours ? (f.checks.ok ? 'ok' : 'MISMATCH') : '',
          ours ? r.loadAverage.join(' ') : '',
        ]);
      }
    }
  }
  return table(
    [
      'size',
      'format',
      'input',
      'side',
      'rows',
      's',
      'rows/s',
      'MB/s',
      'peak RSS MiB',
      'Parquet',
      'ours/DuckDB',
      'rows/s vs CSV',
      'check',
      'load after',
    ],
    rows,
  );
}

function targets(results: SizeResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    for (const f of r.formats) {
      if (f.duckdb) {
        const ratio = rowsPerSecond(f.ours) / rowsPerSecond(f.duckdb);
        lines.push(
          `${r.size}: throughput ${ratio.toFixed(2)}× DuckDB (target ≥ 0.5×): ${ratio >= 0.5 ? 'MET' : 'NOT MET'}`,
        );
      }
      const mib = f.ours.peakRssBytes / MIB;
      if (f.format === 'csv' && f.file.bytes >= 1.9e9) {
        lines.push(
          `${r.size}: peak RSS ${mib.toFixed(0)} MiB for ${(f.file.bytes / 1e9).toFixed(2)} GB (target < 300 MB): ${mib < 300 ? 'MET' : 'NOT MET'}`,
        );
      }
      if (f.format === 'nem12') {
        const file = f.file as GeneratedNem12;
        lines.push(
          `${r.size}: nem12 ${thousands(rowsPerSecond(f.ours))} rows/s, ${mbPerSecond(f.ours).toFixed(1)} MB/s, ` +
            `peak RSS ${mib.toFixed(0)} MiB for ${(f.file.bytes / MB).toFixed(0)} MB ` +
            `(${thousands(file.channelDays)} channel-days, ${thousands(file.variableDays)} of quality V)`,
        );
      }
      for (const problem of f.checks.problems) lines.push(`${r.size}: CHECK FAILED: ${problem}`);
    }
    for (const note of r.notes) lines.push(`${r.size}: ${note}`);
  }
  return lines;
}

async function parent(args: Map<string, string>): Promise<void> {
  const sizes = (args.get('sizes') ?? '1m,10m,2gb').split(',').filter(Boolean);
  const formats = parseFormats(args.get('formats') ?? 'csv');
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
    results.push(await measureSize(size, formats, repeat, withDuckdb, profile && results.length === 0));
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
    `${JSON.stringify({ machineBefore: before, machineAfter: after, source, repeat, formats, results }, null, 2)}\n`,
  );
  process.stdout.write(`results: ${RESULTS_FILE}\n`);
  if (results.some((r) => r.formats.some((f) => !f.checks.ok))) process.exitCode = 1;
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
      return childOurs(need('csv'), parseFormats(args.get('format') ?? 'csv')[0]!, need('out'));
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
