import { closeSync, mkdirSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import type * as Arrow from 'apache-arrow';

import { datasetColumns, type ExportedColumn } from '../../lib/contracts/datasets';
import { ColumnBatch, type ColumnSpec } from '../../lib/formats/parquet/columnBatch';
import { ParquetWriter } from '../../lib/formats/parquet/ParquetWriter';
import {
  checkParquet,
  describeMachine,
  machineInfo,
  MB,
  MIB,
  type ParquetCheck,
  parseArgs,
  reportToParent,
  runChild,
  sameSum,
  sourceState,
  table,
  thousands,
} from './common';

/**
 * The Parquet writer comparison behind docs/decisions/0004-parquet-writer.md: the same canonical
 * meter_readings rows (all 12 columns, lineage included, held column by column as the engine's
 * ColumnBatch holds them) written by each candidate in row groups of 65,536 rows, each in a fresh child
 * process. Every output is read back by DuckDB (row count, kWh sum, first interval, column count).
 *
 *   node .lakewatt/bench-build/bench/validation/writers.js [--rows 1000000] [--repeat 1]
 */

const OUT_DIR = 'bench/out/writers';
const RESULTS_FILE = 'bench/out/writers-latest.json';
const ROW_GROUP = 65_536;
const MINUTE = 60_000;

const CANDIDATES = [
  'ours-none',
  'ours-gzip',
  'hyparquet-snappy',
  'hyparquet-gzip',
  'parquet-wasm-snappy',
  'parquet-wasm-gzip',
] as const;
type Candidate = (typeof CANDIDATES)[number];

/** Canonical rows, column by column: numbers as in ColumnBatch (epoch ms for timestamps), strings as arrays. */
interface Columns {
  columns: ExportedColumn[];
  rows: number;
  numbers: Array<Float64Array | undefined>;
  strings: Array<string[] | undefined>;
  kwhSum: number;
  firstInterval: string;
}

function buildColumns(rows: number): Columns {
  const columns = datasetColumns('meter_readings');
  const numbers = columns.map((c) => (c.type === 'string' ? undefined : new Float64Array(rows)));
  const strings = columns.map((c) => (c.type === 'string' ? new Array<string>(rows) : undefined));
  const index = (name: string): number => columns.findIndex((c) => c.name === name);
  const meters = Array.from({ length: 2000 }, (_, m) => String(1_012_000_000_000 + m * 7_919));
  const qualities = ['actual', 'estimated', 'substituted'];
  const start = Date.UTC(2025, 0, 1);
  const ingestedAt = Date.UTC(2025, 11, 1);
  let seed = 42;
  const random = (): number => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return seed / 4294967296;
  };
  let kwhSum = 0;
  for (let r = 0; r < rows; r++) {
    // Day by day, meter by meter, 48 half-hours; every 4th meter also exports.
    const half = r % 48;
    const block = Math.floor(r / 48);
    const seriesPerDay = 2500;
    const day = Math.floor(block / seriesPerDay);
    const series = block % seriesPerDay;
    const meter = series < 2000 ? series : (series - 2000) * 4;
    const kwh = Math.round(random() * 1500) / 1000;
    kwhSum += kwh;
    strings[index('meter_id')]![r] = meters[meter]!;
    numbers[index('interval_start')]![r] = start + day * 1440 * MINUTE + half * 30 * MINUTE;
    numbers[index('interval_minutes')]![r] = 30;
    strings[index('channel')]![r] = series < 2000 ? 'import' : 'export';
    numbers[index('kwh')]![r] = kwh;
    strings[index('quality')]![r] = qualities[random() < 0.97 ? 0 : random() < 0.66 ? 1 : 2]!;
    strings[index('source_system')]![r] = 'canonical';
    strings[index('source_file')]![r] = 'bronze/meter_readings/canonical/2025/01/01/readings.csv';
    strings[index('source_etag')]![r] = '"0x8DD2A1B2C3D4E5F"';
    numbers[index('source_line')]![r] = r + 2;
    strings[index('ingest_instance_id')]![r] = 'bench-writers-0001';
    numbers[index('ingested_at')]![r] = ingestedAt;
  }
  return {
    columns,
    rows,
    numbers,
    strings,
    kwhSum,
    firstInterval: new Date(start).toISOString().slice(0, 19) + 'Z',
  };
}

// ---- candidates -------------------------------------------------------------------------------

async function writeOurs(data: Columns, file: string, compression: 'none' | 'gzip'): Promise<void> {
  const specs: ColumnSpec[] = data.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable }));
  const fd = openSync(file, 'w');
  try {
    const writer = new ParquetWriter(specs, (chunk) => void writeSync(fd, chunk), { compression });
    const batch = new ColumnBatch(specs, ROW_GROUP);
    for (let start = 0; start < data.rows; start += ROW_GROUP) {
      const end = Math.min(data.rows, start + ROW_GROUP);
      for (let c = 0; c < specs.length; c++) {
        const numbers = data.numbers[c];
        if (numbers) batch.numbers[c]!.set(numbers.subarray(start, end));
        const strings = data.strings[c];
        if (strings) {
          const target = batch.strings[c]!;
          for (let r = start; r < end; r++) target[r - start] = strings[r]!;
        }
      }
      batch.length = end - start;
      await writer.writeBatch(batch);
      batch.clear();
    }
    await writer.finish();
  } finally {
    closeSync(fd);
  }
}

async function writeHyparquet(data: Columns, file: string, codec: 'SNAPPY' | 'GZIP'): Promise<void> {
  const hyparquet = await import('hyparquet-writer');
  type Schema = ConstructorParameters<typeof hyparquet.ParquetWriter>[0]['schema'];
  type Element = Schema[number];
  const element = (c: ExportedColumn): Element => {
    const base: Element = { name: c.name, repetition_type: c.nullable ? 'OPTIONAL' : 'REQUIRED' };
    switch (c.type) {
      case 'string':
        return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8' };
      case 'timestamp':
        return {
          ...base,
          type: 'INT64',
          converted_type: 'TIMESTAMP_MICROS',
          logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
        };
      case 'integer':
      case 'date':
        return { ...base, type: 'INT32' };
      case 'long':
        return { ...base, type: 'INT64' };
      case 'double':
        return { ...base, type: 'DOUBLE' };
      case 'boolean':
        return { ...base, type: 'BOOLEAN' };
    }
  };
  const schema: Schema = [{ name: 'root', num_children: data.columns.length }, ...data.columns.map(element)];
  const writer = new hyparquet.ParquetWriter({
    writer: hyparquet.fileWriter(file),
    schema,
    codec,
    compressors: { GZIP: (input: Uint8Array) => gzipSync(input, { level: 1 }) },
  });
  for (let start = 0; start < data.rows; start += ROW_GROUP) {
    const end = Math.min(data.rows, start + ROW_GROUP);
    const columnData = data.columns.map((c, i) => {
      const numbers = data.numbers[i];
      const strings = data.strings[i];
      let values: string[] | Float64Array | Int32Array | BigInt64Array;
      if (strings) values = strings.slice(start, end);
      else if (c.type === 'double') values = numbers!.subarray(start, end);
      else if (c.type === 'integer' || c.type === 'date')
        values = Int32Array.from(numbers!.subarray(start, end));
      else {
        const scale = c.type === 'timestamp' ? 1000n : 1n;
        const out = new BigInt64Array(end - start);
        for (let r = start; r < end; r++) out[r - start] = BigInt(numbers![r]!) * scale;
        values = out;
      }
      return { name: c.name, data: values };
    });
    await writer.write({ columnData, rowGroupSize: ROW_GROUP });
  }
  await writer.finish();
}

/** Phases a candidate reports beyond its total (parquet-wasm: building the Arrow table vs writing). */
type Phases = Record<string, number>;

async function writeParquetWasm(data: Columns, file: string, codec: 'SNAPPY' | 'GZIP'): Promise<Phases> {
  const started = performance.now();
  const arrow = await import('apache-arrow');
  const wasm = await import('parquet-wasm');
  const typeOf = (c: ExportedColumn): Arrow.DataType => {
    switch (c.type) {
      case 'string':
        return new arrow.Utf8();
      case 'timestamp':
        return new arrow.Timestamp(arrow.TimeUnit.MICROSECOND, 'UTC');
      case 'integer':
        return new arrow.Int32();
      case 'date':
        return new arrow.DateDay();
      case 'long':
        return new arrow.Int64();
      case 'double':
        return new arrow.Float64();
      case 'boolean':
        return new arrow.Bool();
    }
  };
  const fields = data.columns.map((c) => new arrow.Field(c.name, typeOf(c), c.nullable));
  const schema = new arrow.Schema(fields);
  const batches: Arrow.RecordBatch[] = [];
  for (let start = 0; start < data.rows; start += ROW_GROUP) {
    const end = Math.min(data.rows, start + ROW_GROUP);
    const length = end - start;
    const children = data.columns.map((c, i): Arrow.Data => {
      const type = fields[i]!.type;
      const numbers = data.numbers[i];
      const strings = data.strings[i];
      if (strings) return arrow.vectorFromArray(strings.slice(start, end), new arrow.Utf8()).data[0]!;
      if (c.type === 'double')
        return arrow.makeData({ type: new arrow.Float64(), length, data: numbers!.slice(start, end) });
      if (c.type === 'integer')
        return arrow.makeData({
          type: new arrow.Int32(),
          length,
          data: Int32Array.from(numbers!.subarray(start, end)),
        });
      const scale = c.type === 'timestamp' ? 1000n : 1n;
      const out = new BigInt64Array(length);
      for (let r = start; r < end; r++) out[r - start] = BigInt(numbers![r]!) * scale;
      return arrow.makeData({ type: type as Arrow.Int64, length, data: out });
    });
    const struct = arrow.makeData({ type: new arrow.Struct(fields), length, nullCount: 0, children });
    batches.push(new arrow.RecordBatch(schema, struct));
  }
  const table = new arrow.Table(schema, batches);
  const ipc = arrow.tableToIPC(table, 'stream');
  const arrowDone = performance.now();
  const wasmTable = wasm.Table.fromIPCStream(ipc);
  const properties = new wasm.WriterPropertiesBuilder()
    .setCompression(codec === 'GZIP' ? wasm.Compression.GZIP : wasm.Compression.SNAPPY)
    .setMaxRowGroupSize(ROW_GROUP)
    .build();
  const bytes = wasm.writeParquet(wasmTable, properties);
  writeFileSync(file, bytes);
  return { arrowTableMs: arrowDone - started, wasmWriteMs: performance.now() - arrowDone };
}

async function write(candidate: Candidate, data: Columns, file: string): Promise<Phases | void> {
  switch (candidate) {
    case 'ours-none':
      return writeOurs(data, file, 'none');
    case 'ours-gzip':
      return writeOurs(data, file, 'gzip');
    case 'hyparquet-snappy':
      return writeHyparquet(data, file, 'SNAPPY');
    case 'hyparquet-gzip':
      return writeHyparquet(data, file, 'GZIP');
    case 'parquet-wasm-snappy':
      return writeParquetWasm(data, file, 'SNAPPY');
    case 'parquet-wasm-gzip':
      return writeParquetWasm(data, file, 'GZIP');
  }
}

// ---- child and parent -------------------------------------------------------------------------

interface WriterResult {
  candidate: Candidate;
  rows: number;
  file: string;
  outputBytes: number;
  durationMs: number;
  rssBeforeWriteBytes: number;
  peakRssBytes: number;
  kwhSum: number;
  firstInterval: string;
  phases?: Phases;
}

async function child(candidate: Candidate, rows: number): Promise<void> {
  const data = buildColumns(rows);
  const file = path.join(OUT_DIR, `${candidate}.parquet`);
  rmSync(file, { force: true });
  const rssBeforeWriteBytes = process.memoryUsage().rss;
  const started = performance.now();
  const phases = await write(candidate, data, file);
  const durationMs = performance.now() - started;
  const result: Omit<WriterResult, 'peakRssBytes'> = {
    candidate,
    rows,
    file,
    outputBytes: statSync(file).size,
    durationMs,
    rssBeforeWriteBytes,
    kwhSum: data.kwhSum,
    firstInterval: data.firstInterval,
    ...(phases ? { phases } : {}),
  };
  reportToParent(result);
}

async function parent(rows: number, repeat: number, only: Candidate[]): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  const before = machineInfo();
  const source = sourceState();
  process.stdout.write(`machine: ${describeMachine(before)}\n`);
  process.stdout.write(
    `source: ${source.commit}${source.dirtyLib.length ? ` + uncommitted ${source.dirtyLib.join(', ')}` : ''}\n`,
  );
  const results: Array<WriterResult & { check: ParquetCheck; problems: string[] }> = [];
  for (const candidate of only) {
    const runs: WriterResult[] = [];
    for (let i = 0; i < repeat; i++) {
      process.stdout.write(`${candidate}: run ${i + 1}/${repeat}\n`);
      runs.push(await runChild<WriterResult>(__filename, ['--child', candidate, '--rows', String(rows)]));
    }
    const fastest = runs.reduce((a, b) => (b.durationMs < a.durationMs ? b : a));
    const check = await runChild<ParquetCheck>(__filename, ['--check', fastest.file]);
    const problems: string[] = [];
    if (check.rows !== rows) problems.push(`${check.rows} rows read back`);
    if (check.columns !== 12) problems.push(`${check.columns} columns read back`);
    if (!sameSum(check.kwhSum, fastest.kwhSum)) problems.push(`kWh sum ${check.kwhSum} ≠ ${fastest.kwhSum}`);
    if (check.firstInterval !== fastest.firstInterval)
      problems.push(`first interval ${check.firstInterval} ≠ ${fastest.firstInterval}`);
    results.push({ ...fastest, check, problems });
  }
  const after = machineInfo();
  const rendered = table(
    ['writer', 'rows', 's', 'rows/s', 'Parquet', 'RSS before MiB', 'peak RSS MiB', 'DuckDB read-back'],
    results.map((r) => [
      r.candidate,
      thousands(r.rows),
      (r.durationMs / 1000).toFixed(2),
      thousands(r.rows / (r.durationMs / 1000)),
      `${(r.outputBytes / MB).toFixed(1)} MB`,
      (r.rssBeforeWriteBytes / MIB).toFixed(0),
      (r.peakRssBytes / MIB).toFixed(0),
      r.problems.length === 0 ? 'ok' : r.problems.join('; '),
    ]),
  );
  const phases = results
    .filter((r) => r.phases)
    .map(
      (r) =>
        `${r.candidate}: ${Object.entries(r.phases ?? {})
          .map(([name, ms]) => `${name} ${(ms / 1000).toFixed(2)} s`)
          .join(', ')}`,
    );
  process.stdout.write(
    `\n${rendered}\n\n${phases.map((p) => `${p}\n`).join('')}machine: ${describeMachine(after)}\n`,
  );
  writeFileSync(
    RESULTS_FILE,
    `${JSON.stringify({ machineBefore: before, machineAfter: after, source, repeat, results }, null, 2)}\n`,
  );
  process.stdout.write(`results: ${RESULTS_FILE}\n`);
  if (results.some((r) => r.problems.length > 0)) process.exitCode = 1;
}

function isCandidate(value: string): value is Candidate {
  return (CANDIDATES as readonly string[]).includes(value);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rows = Number(args.get('rows') ?? '1000000');
  if (!Number.isInteger(rows) || rows <= 0) throw new Error('--rows must be a positive integer');
  const check = args.get('check');
  if (check) return reportToParent(await checkParquet(check));
  const candidate = args.get('child');
  if (candidate !== undefined) {
    if (!isCandidate(candidate)) throw new Error(`unknown writer '${candidate}'`);
    return child(candidate, rows);
  }
  const only = (args.get('only') ?? CANDIDATES.join(',')).split(',');
  const unknown = only.filter((name) => !isCandidate(name));
  if (unknown.length > 0)
    throw new Error(`unknown writer(s) ${unknown.join(', ')}: ${CANDIDATES.join(', ')}`);
  return parent(rows, Number(args.get('repeat') ?? '1'), only.filter(isCandidate));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 2;
});
