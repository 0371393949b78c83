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

import { MB, thousands } from './common';

/**
 * The readings model the validation benchmark's generators share (generate.ts, generateNem12.ts,
 * generateMscons.ts, generateEspi.ts): 2,000 meters by default, half-hourly, every `exportEvery`-th meter with
 * a solar export channel, drawn from one seeded generator in one fixed order, so every format of the same
 * options holds the very same values. Also what the generators have in common: chunked output through a
 * `.partial` file and the `.json` sidecar that lets a later run reuse a file.
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

/** Readings by the canonical quality the reader gives them. */
export interface QualityCounts {
  actual: number;
  estimated: number;
  substituted: number;
}

export type CanonicalQuality = keyof QualityCounts;

/** A market-format file (NEM12, MSCONS, ESPI): what its staged Parquet is checked against beyond the CSV's. */
export interface GeneratedMarketFile extends GeneratedFile {
  /** Staged rows by the canonical quality the reader gives them. */
  quality: QualityCounts;
  /** Earliest and latest interval start, UTC (`YYYY-MM-DDTHH:MM:SSZ`, as checkParquet prints them). */
  firstInterval: string;
  lastInterval: string;
}

export const DEFAULT_OPTIONS: Omit<GenerateOptions, 'rows'> = {
  meters: 2000,
  exportEvery: 4,
  seed: 42,
  start: '2025-01-01T00:00:00Z',
};

export const HALF_HOUR_MS = 30 * 60_000;
export const DAY_MS = 86_400_000;
const CHUNK_CHARS = 1 << 20;

/** mulberry32: a small, fast, deterministic 32-bit PRNG; returns floats in [0, 1). */
export function prng(seed: number): () => number {
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

/** The CSV's quality of a reading from its uniform draw: 97 % actual, 2 % estimated, 1 % substituted. */
export function csvQuality(draw: number): CanonicalQuality {
  return draw < 0.97 ? 'actual' : draw < 0.99 ? 'estimated' : 'substituted';
}

/** One (day, meter, channel) of the model: 48 half-hourly kWh values as written, and the CSV's quality draws. */
export interface ChannelDay {
  /** Day index from `options.start` (0-based). */
  day: number;
  /** Midnight of the day, UTC ms (the CSV's UTC day; the NEM12 file's market day has the same date). */
  dayMs: number;
  meter: number;
  meterId: string;
  /** 0: import, 1: export. */
  channel: 0 | 1;
  /** The meter has a solar export channel as well. */
  hasExport: boolean;
  /** kWh with three decimals, one per half-hour. Reused between yields: copy what must outlive the step. */
  kwh: string[];
  /** The uniform draw the CSV turns into its quality (`csvQuality`). */
  qualityDraw: number[];
}

/**
 * The readings of `options`, channel-day by channel-day in the CSV's order (day, meter, channel), endless:
 * callers stop. Random draws happen in exactly the order the CSV writer has always made them (per half-hour:
 * the value draw unless the profile is zero, then the quality draw), so every format gets identical values.
 */
export function* channelDays(options: GenerateOptions): Generator<ChannelDay> {
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
  const step: ChannelDay = {
    day: 0,
    dayMs: startMs,
    meter: 0,
    meterId: '',
    channel: 0,
    hasExport: false,
    kwh: new Array<string>(48).fill(''),
    qualityDraw: new Array<number>(48).fill(0),
  };
  for (let day = 0; ; day++) {
    const dayMs = startMs + day * DAY_MS;
    const dayOfYear = Math.floor((dayMs - yearStart) / DAY_MS) % 365;
    for (let m = 0; m < options.meters; m++) {
      const channels = solar[m]! > 0 ? 2 : 1;
      for (let c = 0; c < channels; c++) {
        for (let h = 0; h < 48; h++) {
          const base = c === 0 ? scales[m]! * 0.2 * importShape(h) : solar[m]! * exportShape(h, dayOfYear);
          step.kwh[h] = base === 0 ? '0.000' : (base * (0.6 + 0.8 * random())).toFixed(3);
          step.qualityDraw[h] = random();
        }
        step.day = day;
        step.dayMs = dayMs;
        step.meter = m;
        step.meterId = meterIds[m]!;
        step.channel = c === 0 ? 0 : 1;
        step.hasExport = channels === 2;
        yield step;
      }
    }
  }
}

export function seriesCount(options: GenerateOptions): number {
  let series = options.meters;
  for (let m = 0; m < options.meters; m += options.exportEvery) series++;
  return series;
}

/** The `<rows>r-<meters>m-x<exportEvery>-s<seed>` part of every generated file's name. */
export function fileStem(options: GenerateOptions): string {
  return `meter_readings-${options.rows}r-${options.meters}m-x${options.exportEvery}-s${options.seed}`;
}

export const yyyymmdd = (ms: number): string => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
/** `YYYY-MM-DDTHH:MM:SSZ`, as checkParquet prints interval starts. */
export const utcSeconds = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/**
 * Text streamed to `file` in chunks of about a million characters (bounded memory), through `<file>.partial`
 * so that an interrupted run never leaves a file under the name a later run would reuse.
 */
export class ChunkedFile {
  private readonly partial: string;
  private readonly fd: number;
  private chunk = '';
  private written = 0;

  constructor(private readonly file: string) {
    this.partial = `${file}.partial`;
    this.fd = openSync(this.partial, 'w');
  }

  /** Bytes written so far (UTF-8); after `finish`, the file's size. */
  get bytes(): number {
    return this.written;
  }

  write(text: string): void {
    this.chunk += text;
    if (this.chunk.length >= CHUNK_CHARS) this.flush();
  }

  /** Writes what is pending, closes the file and gives it its name. */
  finish(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(this.partial, this.file);
  }

  /** Closes the file after a failure, leaving the `.partial` file for inspection. */
  abandon(): void {
    closeSync(this.fd);
  }

  private flush(): void {
    const buffer = Buffer.from(this.chunk, 'utf8');
    writeSync(this.fd, buffer);
    this.written += buffer.length;
    this.chunk = '';
  }
}

/** Runs `write` on a fresh ChunkedFile for `file` and returns the bytes written; abandons it when `write` throws. */
export function writeChunked(file: string, write: (out: ChunkedFile) => void): number {
  const out = new ChunkedFile(file);
  try {
    write(out);
  } catch (error) {
    out.abandon();
    throw error;
  }
  out.finish();
  return out.bytes;
}

function sidecarPath(file: string): string {
  return `${file}.json`;
}

/** The file's sidecar record when the file was generated by this generator version with these options. */
function recordedFile<T extends { options: object; bytes: number }>(
  file: string,
  version: number,
  options: object,
): T | undefined {
  if (!existsSync(file) || !existsSync(sidecarPath(file))) return undefined;
  const recorded = JSON.parse(readFileSync(sidecarPath(file), 'utf8')) as T & { version: number };
  const same =
    recorded.version === version &&
    JSON.stringify(recorded.options) === JSON.stringify(options) &&
    statSync(file).size === recorded.bytes;
  return same ? { ...recorded, path: file } : undefined;
}

/** How one generator names, writes and describes its file. */
export interface FileGenerator<O extends GenerateOptions, T extends GeneratedFile> {
  /** `NEM12`, `MSCONS`, ...: for the log lines; empty for the CSV. */
  label: string;
  /** Bump when the same options would give different bytes: older files are then generated again. */
  version: number;
  fileName(options: O): string;
  generate(file: string, options: O): T;
  /** What the log line after generating adds (after the size). */
  describe(generated: T): string;
}

/**
 * Returns the file `generator` makes of `options` in `dir`, generating it first unless the sidecar of an
 * identical one (same version, same options, same size) is there.
 */
export function ensureGenerated<O extends GenerateOptions, T extends GeneratedFile>(
  generator: FileGenerator<O, T>,
  dir: string,
  options: O,
  log: boolean,
): T {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, generator.fileName(options));
  const reused = recordedFile<T>(file, generator.version, options);
  if (reused) return reused;
  const started = Date.now();
  const of = generator.label ? `${generator.label} of ` : '';
  if (log) process.stderr.write(`generating ${of}${thousands(options.rows)} readings into ${file} ...\n`);
  const generated = generator.generate(file, options);
  writeFileSync(
    sidecarPath(file),
    `${JSON.stringify({ version: generator.version, ...generated }, null, 2)}\n`,
  );
  if (log) {
    const seconds = (Date.now() - started) / 1000;
    const label = generator.label ? ` of ${generator.label}` : '';
    process.stderr.write(
      `generated ${(generated.bytes / MB).toFixed(0)} MB${label}, ${generator.describe(generated)} in ${seconds.toFixed(1)} s\n`,
    );
  }
  return generated;
}
