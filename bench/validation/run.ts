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
  MIB,
  parseArgs,
  reportToParent,
  runChild,
  sourceState,
  sqlString,
} from './common';
import { type AnyGenerated, ensureFormat, type GeneratedFile, PRESETS, sizeOptions } from './generate';
import {
  type Check,
  checkFile,
  type Format,
  type FormatResult,
  FORMATS,
  type Measurement,
  render,
  sameReadingNotes,
  type SizeResult,
  targets,
} from './results';

/**
 * The validation benchmark of issue 3: canonical long CSV → staged Parquet, our engine against DuckDB; and
 * (issue #15, `--formats csv,nem12,mscons,espi`) the same readings in the market formats the project reads
 * (AEMO NEM12, German MSCONS, Green Button ESPI) through the same engine beside it.
 *
 *   node .lakewatt/bench-build/bench/validation/run.js [--sizes 1m,10m,2gb] [--formats csv] [--repeat 1]
 *     [--no-duckdb] [--profile] [--text-path]
 *
 * Each measurement runs in a fresh child process so its peak RSS is its own:
 *   ours    validateAndStage (the pipeline's own path: decode, validate, ParquetWriter with gzip) into a
 *           LocalLakeStore, exactly as `lakewatt validate` does, with the format's meter_readings contract
 *           (CONTRACT_SOURCE: canonical, nem12, mscons, greenbutton);
 *   duckdb  (CSV only) DuckDB (threads=1) read_csv with explicit column types, COPY ... TO ... (FORMAT parquet).
 * Another child reads each Parquet file with DuckDB and checks row count, kWh sum and (market formats)
 * interval range against what the generator wrote, so every side did the same work; and where a format holds
 * all of the CSV's readings, its staged kWh sum must equal the CSV's. Rows are staged rows: MSCONS writes each
 * half-hourly reading as two quarter-hours (generateMscons.ts), so it stages twice the CSV's rows.
 */

const OUT = 'bench/out';
const DATA_DIR = path.join(OUT, 'data');
const WORK_DIR = path.join(OUT, 'validation');
const PROFILE_DIR = path.join(OUT, 'profiles');
const RESULTS_FILE = path.join(OUT, 'validation-latest.json');

/** The meter_readings contract (source) each format is validated with. */
const CONTRACT_SOURCE: Record<Format, string> = {
  csv: 'canonical',
  nem12: 'nem12',
  mscons: 'mscons',
  espi: 'greenbutton',
};

// ---- children ---------------------------------------------------------------------------------

async function childOurs(csv: string, format: Format, outDir: string, textPath: boolean): Promise<void> {
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
    textPath,
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

async function measureSize(
  size: string,
  formats: Format[],
  repeat: number,
  withDuckdb: boolean,
  profile: boolean,
  textPath: boolean,
): Promise<SizeResult> {
  const options = sizeOptions(size);
  if (options === undefined)
    throw new Error(
      `unknown size '${size}': one of ${Object.keys(PRESETS).join(', ')} or a number of readings (360k, 5m)`,
    );
  const rows = options.rows;
  const files = new Map<Format, AnyGenerated>();
  for (const format of formats) {
    const file = ensureFormat(DATA_DIR, format, options);
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
              ...(textPath ? ['--text-path'] : []),
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
  const notes = sameReadingNotes(results);
  return { size, readings: rows, formats: results, notes, loadAverage: machineInfo().loadAverage };
}

async function parent(args: Map<string, string>): Promise<void> {
  const sizes = (args.get('sizes') ?? '1m,10m,2gb').split(',').filter(Boolean);
  const formats = parseFormats(args.get('formats') ?? 'csv');
  const repeat = Number(args.get('repeat') ?? '1');
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat must be a positive integer');
  const withDuckdb = args.get('no-duckdb') !== 'true';
  const profile = args.get('profile') === 'true';
  // The engine's text path for the CSV (the path before the byte parser): a same-machine "before".
  const textPath = args.get('text-path') === 'true';
  mkdirSync(WORK_DIR, { recursive: true });
  const before = machineInfo();
  const source = sourceState();
  process.stdout.write(`machine: ${describeMachine(before)}\n`);
  process.stdout.write(
    `source: ${source.commit}${source.dirtyLib.length ? ` + uncommitted ${source.dirtyLib.join(', ')}` : ''}\n`,
  );
  const results: SizeResult[] = [];
  for (const size of sizes) {
    results.push(
      await measureSize(size, formats, repeat, withDuckdb, profile && results.length === 0, textPath),
    );
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
      return childOurs(
        need('csv'),
        parseFormats(args.get('format') ?? 'csv')[0]!,
        need('out'),
        args.get('text-path') === 'true',
      );
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
