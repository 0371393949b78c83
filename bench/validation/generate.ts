import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

import { MB, parseArgs, thousands } from './common';

/**
 * Deterministic generator of canonical long meter-reading CSVs (contracts/sources/meter_readings.canonical.yaml):
 * `meter_id,interval_start,interval_minutes,channel,kwh,quality`, half-hourly, UTC ISO timestamps.
 *
 * Rows come day by day, meter by meter, channel by channel, 48 half-hours each: the order a meter data
 * management export uses. Every meter has an import channel; every `exportEvery`-th meter also has a solar
 * export channel (zero at night). kWh carries three decimals; quality is mostly `actual`. Output streams to
 * disk in 1 MB chunks (bounded memory). A file is reused when its sidecar records the same parameters.
 */

export interface GenerateOptions {
  rows: number;
  meters: number;
  /** Every n-th meter also has an export channel. */
  exportEvery: number;
  seed: number;
  /** First interval start (UTC, midnight). */
  start: string;
}

export interface GeneratedFile {
  path: string;
  options: GenerateOptions;
  rows: number;
  bytes: number;
  /** Sum of the kWh values as written (three decimals), for cross-checking the staged outputs. */
  kwhSum: number;
  meters: number;
  series: number;
  days: number;
}

const GENERATOR_VERSION = 1;
const HALF_HOUR_MS = 30 * 60_000;
const DAY_MS = 86_400_000;
const CHUNK_CHARS = 1 << 20;

export const PRESETS: Record<string, number> = {
  '1m': 1_000_000,
  '10m': 10_000_000,
  /** About 2 GB of CSV: the memory target of issue 3. */
  '2gb': 36_000_000,
};

export const DEFAULT_OPTIONS: Omit<GenerateOptions, 'rows'> = {
  meters: 2000,
  exportEvery: 4,
  seed: 42,
  start: '2025-01-01T00:00:00Z',
};

/** mulberry32: a small, fast, deterministic 32-bit PRNG; returns floats in [0, 1). */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Household-like import profile by half-hour of day: low at night, morning and evening peaks. */
function importShape(halfHour: number): number {
  const hour = halfHour / 2;
  const morning = Math.exp(-((hour - 7.5) ** 2) / 3);
  const evening = Math.exp(-((hour - 18.5) ** 2) / 5);
  return 0.25 + 0.6 * morning + 1.1 * evening;
}

/** Solar export profile: zero at night, a bell between 06:00 and 20:00, scaled by season. */
function exportShape(halfHour: number, dayOfYear: number): number {
  const hour = halfHour / 2;
  if (hour < 6 || hour >= 20) return 0;
  const season = 0.45 + 0.55 * Math.sin((Math.PI * (dayOfYear - 80)) / 365) ** 2;
  return Math.sin((Math.PI * (hour - 6)) / 14) * season;
}

export function csvFileName(options: GenerateOptions): string {
  const day = options.start.slice(0, 10);
  return `meter_readings-${options.rows}r-${options.meters}m-x${options.exportEvery}-s${options.seed}-${day}.csv`;
}

function sidecarPath(file: string): string {
  return `${file}.json`;
}

/** Returns the generated file for `options` in `dir`, generating it first unless an identical one exists. */
export function ensureCsv(dir: string, options: GenerateOptions, log = true): GeneratedFile {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, csvFileName(options));
  if (existsSync(file) && existsSync(sidecarPath(file))) {
    const recorded = JSON.parse(readFileSync(sidecarPath(file), 'utf8')) as GeneratedFile & {
      version: number;
    };
    if (
      recorded.version === GENERATOR_VERSION &&
      JSON.stringify(recorded.options) === JSON.stringify(options) &&
      statSync(file).size === recorded.bytes
    ) {
      return { ...recorded, path: file };
    }
  }
  const started = Date.now();
  if (log) process.stderr.write(`generating ${thousands(options.rows)} rows into ${file} ...\n`);
  const generated = generate(file, options);
  writeFileSync(
    sidecarPath(file),
    `${JSON.stringify({ version: GENERATOR_VERSION, ...generated }, null, 2)}\n`,
  );
  if (log) {
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(
      `generated ${(generated.bytes / MB).toFixed(0)} MB, ${generated.series} series over ${generated.days} days in ${seconds.toFixed(1)} s\n`,
    );
  }
  return generated;
}

function generate(file: string, options: GenerateOptions): GeneratedFile {
  const random = prng(options.seed);
  const meterIds: string[] = [];
  const scales: number[] = [];
  const solar: number[] = [];
  for (let m = 0; m < options.meters; m++) {
    meterIds.push(String(1_012_000_000_000 + m * 7_919));
    scales.push(0.3 + 1.7 * random());
    solar.push(m % options.exportEvery === 0 ? 0.8 + 1.4 * random() : 0);
  }
  const startMs = Date.parse(options.start);
  const yearStart = Date.UTC(new Date(startMs).getUTCFullYear(), 0, 1);
  const partial = `${file}.partial`;
  const fd = openSync(partial, 'w');
  let bytes = 0;
  let rows = 0;
  let kwhSum = 0;
  let chunk = 'meter_id,interval_start,interval_minutes,channel,kwh,quality\n';
  let day = 0;
  const flush = (): void => {
    const buffer = Buffer.from(chunk, 'utf8');
    writeSync(fd, buffer);
    bytes += buffer.length;
    chunk = '';
  };
  try {
    outer: for (; ; day++) {
      const dayMs = startMs + day * DAY_MS;
      const dayOfYear = Math.floor((dayMs - yearStart) / DAY_MS) % 365;
      const stamps: string[] = [];
      for (let h = 0; h < 48; h++) {
        stamps.push(`${new Date(dayMs + h * HALF_HOUR_MS).toISOString().slice(0, 19)}Z,30,`);
      }
      for (let m = 0; m < options.meters; m++) {
        const channels = solar[m]! > 0 ? 2 : 1;
        for (let c = 0; c < channels; c++) {
          const prefix = meterIds[m]!;
          const channel = c === 0 ? ',import,' : ',export,';
          for (let h = 0; h < 48; h++) {
            if (rows === options.rows) break outer;
            const base = c === 0 ? scales[m]! * 0.2 * importShape(h) : solar[m]! * exportShape(h, dayOfYear);
            const kwh = base === 0 ? '0.000' : (base * (0.6 + 0.8 * random())).toFixed(3);
            const q = random();
            const quality = q < 0.97 ? 'actual' : q < 0.99 ? 'estimated' : 'substituted';
            chunk += `${prefix},${stamps[h]!}${channel.slice(1)}${kwh},${quality}\n`;
            kwhSum += Number(kwh);
            rows++;
            if (chunk.length >= CHUNK_CHARS) flush();
          }
        }
      }
    }
    flush();
  } finally {
    closeSync(fd);
  }
  renameSync(partial, file);
  const series = solar.filter((s) => s > 0).length + options.meters;
  return {
    path: file,
    options,
    rows,
    bytes,
    kwhSum,
    meters: Math.min(options.meters, rows),
    series,
    days: day + 1,
  };
}

/** Generates the file for `--size 1m|10m|2gb` (or `--rows N`) into `--dir` (default bench/out/data). */
function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const size = args.get('size');
  const rows = size ? PRESETS[size] : Number(args.get('rows') ?? PRESETS['1m']);
  if (!rows || !Number.isInteger(rows) || rows <= 0) {
    throw new Error(`unknown size '${size ?? ''}': one of ${Object.keys(PRESETS).join(', ')} or --rows N`);
  }
  const file = ensureCsv(args.get('dir') ?? 'bench/out/data', { ...DEFAULT_OPTIONS, rows });
  process.stdout.write(`${JSON.stringify(file, null, 2)}\n`);
}

if (require.main === module) main();
