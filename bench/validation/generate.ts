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
 *
 * The same readings can be written as AEMO NEM12 (contracts/sources/meter_readings.nem12.yaml, issue #15):
 * `ensureNem12` draws the very same values from the same model (`channelDays`), one 200 + 300 record per
 * channel-day; see `generateNem12` for the layout and what differs from the CSV.
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
const NEM12_GENERATOR_VERSION = 1;
const HALF_HOUR_MS = 30 * 60_000;
const DAY_MS = 86_400_000;
const CHUNK_CHARS = 1 << 20;

export const PRESETS: Record<string, number> = {
  '1m': 1_000_000,
  '10m': 10_000_000,
  /** About 2 GB of CSV: the memory target of issue 3. */
  '2gb': 36_000_000,
  /**
   * Readings for a NEM12 file of ≥ 1 GB (issue #15): 1,100 days of the 2,500 series, ~1.03 GB of NEM12; the
   * canonical CSV of the same readings is ~7.7 GB, over the default VALIDATION_MAX_FILE_BYTES (4 GiB).
   */
  'nem12-1gb': 132_000_000,
};

/**
 * A size: a preset name, or a number of readings with an optional k/m suffix (`360k`, `5m`, `120000`).
 * Returns undefined for anything else.
 */
export function parseSize(size: string): number | undefined {
  const preset = PRESETS[size];
  if (preset !== undefined) return preset;
  const match = /^(\d+)([km]?)$/.exec(size);
  if (!match) return undefined;
  const rows = Number(match[1]) * (match[2] === 'k' ? 1_000 : match[2] === 'm' ? 1_000_000 : 1);
  return Number.isSafeInteger(rows) && rows > 0 ? rows : undefined;
}

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

/** One (day, meter, channel) of the model: 48 half-hourly kWh values as written, and the CSV's quality draws. */
interface ChannelDay {
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
  /** The uniform draw the CSV turns into its quality (97 % actual, 2 % estimated, 1 % substituted). */
  qualityDraw: number[];
}

/**
 * The readings of `options`, channel-day by channel-day in the CSV's order (day, meter, channel), endless:
 * callers stop. Random draws happen in exactly the order the CSV writer has always made them (per half-hour:
 * the value draw unless the profile is zero, then the quality draw), so every format gets identical values.
 */
function* channelDays(options: GenerateOptions): Generator<ChannelDay> {
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

function seriesCount(options: GenerateOptions): number {
  let series = options.meters;
  for (let m = 0; m < options.meters; m += options.exportEvery) series++;
  return series;
}

function generate(file: string, options: GenerateOptions): GeneratedFile {
  const partial = `${file}.partial`;
  const fd = openSync(partial, 'w');
  let bytes = 0;
  let rows = 0;
  let kwhSum = 0;
  let chunk = 'meter_id,interval_start,interval_minutes,channel,kwh,quality\n';
  let day = 0;
  let stampsDay = -1;
  const stamps: string[] = [];
  const flush = (): void => {
    const buffer = Buffer.from(chunk, 'utf8');
    writeSync(fd, buffer);
    bytes += buffer.length;
    chunk = '';
  };
  try {
    outer: for (const step of channelDays(options)) {
      day = step.day;
      if (stampsDay !== step.day) {
        stampsDay = step.day;
        for (let h = 0; h < 48; h++) {
          stamps[h] = `${new Date(step.dayMs + h * HALF_HOUR_MS).toISOString().slice(0, 19)}Z,30,`;
        }
      }
      const prefix = step.meterId;
      const channel = step.channel === 0 ? 'import,' : 'export,';
      for (let h = 0; h < 48; h++) {
        if (rows === options.rows) break outer;
        const kwh = step.kwh[h]!;
        const q = step.qualityDraw[h]!;
        const quality = q < 0.97 ? 'actual' : q < 0.99 ? 'estimated' : 'substituted';
        chunk += `${prefix},${stamps[h]!}${channel}${kwh},${quality}\n`;
        kwhSum += Number(kwh);
        rows++;
        if (chunk.length >= CHUNK_CHARS) flush();
      }
    }
    flush();
  } finally {
    closeSync(fd);
  }
  renameSync(partial, file);
  return {
    path: file,
    options,
    rows,
    bytes,
    kwhSum,
    meters: Math.min(options.meters, rows),
    series: seriesCount(options),
    days: day + 1,
  };
}

// ---- NEM12 -----------------------------------------------------------------------------------

export interface Nem12Options extends GenerateOptions {
  /** Share of channel-days written with quality V: one estimated (E52) or substituted (S14) run in 400 records. */
  variableDayShare: number;
}

export const DEFAULT_NEM12: Pick<Nem12Options, 'variableDayShare'> = { variableDayShare: 0.05 };

export interface GeneratedNem12 extends GeneratedFile {
  options: Nem12Options;
  /** 300 records written (channel-days); each is preceded by its 200 record. */
  channelDays: number;
  variableDays: number;
  /** Readings by the canonical quality the reader gives them. */
  quality: { actual: number; estimated: number; substituted: number };
  /** Earliest and latest interval start, UTC (`YYYY-MM-DDTHH:MM:SSZ`, as checkParquet prints them). */
  firstInterval: string;
  lastInterval: string;
}

/** NEM market time: AEST, UTC+10:00 all year. */
const MARKET_OFFSET_MS = 10 * 3_600_000;

export function nem12FileName(options: Nem12Options): string {
  const day = options.start.slice(0, 10);
  const share = Math.round(options.variableDayShare * 1000);
  return `meter_readings-${options.rows}r-${options.meters}m-x${options.exportEvery}-s${options.seed}-v${share}-${day}.nem12.csv`;
}

/**
 * Returns the NEM12 file of `options` in `dir`, generating it first unless an identical one exists: the same
 * readings as `ensureCsv` with the same options, rounded down to whole channel-days (a 300 record holds a
 * whole day), i.e. up to 47 readings fewer when `rows` is not a multiple of 48.
 */
export function ensureNem12(dir: string, options: Nem12Options, log = true): GeneratedNem12 {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, nem12FileName(options));
  if (existsSync(file) && existsSync(sidecarPath(file))) {
    const recorded = JSON.parse(readFileSync(sidecarPath(file), 'utf8')) as GeneratedNem12 & {
      version: number;
    };
    if (
      recorded.version === NEM12_GENERATOR_VERSION &&
      JSON.stringify(recorded.options) === JSON.stringify(options) &&
      statSync(file).size === recorded.bytes
    ) {
      return { ...recorded, path: file };
    }
  }
  const started = Date.now();
  if (log) process.stderr.write(`generating NEM12 of ${thousands(options.rows)} readings into ${file} ...\n`);
  const generated = generateNem12(file, options);
  writeFileSync(
    sidecarPath(file),
    `${JSON.stringify({ version: NEM12_GENERATOR_VERSION, ...generated }, null, 2)}\n`,
  );
  if (log) {
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(
      `generated ${(generated.bytes / MB).toFixed(0)} MB of NEM12, ${thousands(generated.channelDays)} channel-days ` +
        `(${thousands(generated.variableDays)} of quality V) in ${seconds.toFixed(1)} s\n`,
    );
  }
  return generated;
}

const yyyymmdd = (ms: number): string => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
const utcSeconds = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/**
 * The NEM12 layout (as lib/simulator/nem12.ts writes it, CRLF line ends):
 *
 *   100,NEM12,<created>,LKWMDP,LAKEWATT
 *   200,<NMI>,<E1B1|E1>,<001|002>,<E1|B1>,<N1|N2>,<serial>,kWh,30,      (before every 300 record)
 *   300,<YYYYMMDD>,<48 values>,<A|V>,<reason>,,<updated>,
 *   400,<first>,<last>,<A|E52|S14>,<reason>,                             (only after a V day)
 *   900
 *
 * Same readings as the CSV: the CSV's meter ids as NMIs, its import/export channels as E1/B1, its values
 * position by position, and its UTC day d as market day d. So the intervals are the CSV's wall-clock
 * positions in AEST: every instant is 10 h earlier than the CSV's. Channel-days come in the CSV's order (day,
 * meter, channel), which is why each 300 record has its own 200 record, as in a concatenation of daily files.
 * Quality differs on purpose: NEM12 flags whole days (A) and only a V day varies by interval, so instead of
 * the CSV's independent 3 % per reading, `variableDayShare` of the channel-days (drawn from a separate
 * generator, so the values stay the CSV's) are V with one run of 1-6 estimated or substituted intervals.
 */
function generateNem12(file: string, options: Nem12Options): GeneratedNem12 {
  const eol = '\r\n';
  const quality = prng((options.seed ^ 0x4e454d12) >>> 0);
  const readings = Math.floor(options.rows / 48) * 48;
  const startMs = Date.parse(options.start);
  const partial = `${file}.partial`;
  const fd = openSync(partial, 'w');
  let bytes = 0;
  let rows = 0;
  let kwhSum = 0;
  let channelDayCount = 0;
  let variableDays = 0;
  let lastDayMs = startMs;
  let lastDay = 0;
  const counts = { actual: 0, estimated: 0, substituted: 0 };
  let chunk = `100,NEM12,${yyyymmdd(startMs)}0000,LKWMDP,LAKEWATT${eol}`;
  let datesDay = -1;
  let date = '';
  let updated = '';
  const flush = (): void => {
    const buffer = Buffer.from(chunk, 'utf8');
    writeSync(fd, buffer);
    bytes += buffer.length;
    chunk = '';
  };
  try {
    for (const step of channelDays(options)) {
      if (rows === readings) break;
      if (datesDay !== step.day) {
        datesDay = step.day;
        date = yyyymmdd(step.dayMs);
        updated = `${yyyymmdd(step.dayMs + DAY_MS)}053000`;
      }
      const serial = `LW${String(step.meter + 1).padStart(7, '0')}`;
      const configuration = step.hasExport ? 'E1B1' : 'E1';
      const channel = step.channel === 0 ? '001,E1,N1' : '002,B1,N2';
      chunk += `200,${step.meterId},${configuration},${channel},${serial},kWh,30,${eol}`;
      let flag = 'A';
      let events = '';
      if (quality() < options.variableDayShare) {
        const first = 1 + Math.floor(quality() * 48);
        const last = Math.min(48, first + Math.floor(quality() * 6));
        const substituted = quality() < 0.5;
        flag = 'V';
        if (first > 1) events += `400,1,${first - 1},A,,${eol}`;
        events += `400,${first},${last},${substituted ? 'S14,1' : 'E52,'},${eol}`;
        if (last < 48) events += `400,${last + 1},48,A,,${eol}`;
        const varied = last - first + 1;
        counts[substituted ? 'substituted' : 'estimated'] += varied;
        counts.actual += 48 - varied;
        variableDays++;
      } else {
        counts.actual += 48;
      }
      chunk += `300,${date},${step.kwh.join(',')},${flag},,,${updated},${eol}${events}`;
      for (let h = 0; h < 48; h++) kwhSum += Number(step.kwh[h]);
      rows += 48;
      channelDayCount++;
      lastDay = step.day;
      lastDayMs = step.dayMs;
      if (chunk.length >= CHUNK_CHARS) flush();
    }
    chunk += `900${eol}`;
    flush();
  } finally {
    closeSync(fd);
  }
  renameSync(partial, file);
  return {
    path: file,
    options,
    rows,
    bytes,
    kwhSum,
    meters: Math.min(options.meters, channelDayCount),
    series: seriesCount(options),
    days: lastDay + 1,
    channelDays: channelDayCount,
    variableDays,
    quality: counts,
    firstInterval: utcSeconds(startMs - MARKET_OFFSET_MS),
    lastInterval: utcSeconds(lastDayMs + 47 * HALF_HOUR_MS - MARKET_OFFSET_MS),
  };
}

/**
 * Generates the file for `--size 1m|10m|2gb|nem12-1gb|<readings>` (or `--rows N`) into `--dir` (default
 * bench/out/data); `--format nem12` writes the NEM12 file of the same readings instead of the CSV.
 */
function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const size = args.get('size');
  const rows = size ? parseSize(size) : Number(args.get('rows') ?? PRESETS['1m']);
  if (!rows || !Number.isInteger(rows) || rows <= 0) {
    throw new Error(
      `unknown size '${size ?? ''}': one of ${Object.keys(PRESETS).join(', ')}, a number of readings (360k, 5m) or --rows N`,
    );
  }
  const dir = args.get('dir') ?? 'bench/out/data';
  const format = args.get('format') ?? 'csv';
  const options = { ...DEFAULT_OPTIONS, rows };
  const file =
    format === 'nem12'
      ? ensureNem12(dir, { ...options, ...DEFAULT_NEM12 })
      : format === 'csv'
        ? ensureCsv(dir, options)
        : undefined;
  if (!file) throw new Error(`unknown format '${format}': csv or nem12`);
  process.stdout.write(`${JSON.stringify(file, null, 2)}\n`);
}

if (require.main === module) main();
