import { parseArgs } from './common';
import { ensureEspi, type GeneratedEspi } from './generateEspi';
import { ensureMscons, type GeneratedMscons } from './generateMscons';
import { DEFAULT_NEM12, ensureNem12, type GeneratedNem12 } from './generateNem12';
import {
  channelDays,
  csvQuality,
  DEFAULT_OPTIONS,
  ensureGenerated,
  type FileGenerator,
  fileStem,
  type GeneratedFile,
  type GenerateOptions,
  HALF_HOUR_MS,
  seriesCount,
  writeChunked,
} from './model';

export { ensureEspi, espiFileName, type GeneratedEspi } from './generateEspi';
export { ensureMscons, type GeneratedMscons, msconsFileName } from './generateMscons';
export {
  DEFAULT_NEM12,
  ensureNem12,
  type GeneratedNem12,
  nem12FileName,
  type Nem12Options,
} from './generateNem12';
export { DEFAULT_OPTIONS, type GeneratedFile, type GenerateOptions } from './model';

/**
 * Deterministic generator of canonical long meter-reading CSVs (contracts/sources/meter_readings.canonical.yaml):
 * `meter_id,interval_start,interval_minutes,channel,kwh,quality`, half-hourly, UTC ISO timestamps.
 *
 * Rows come day by day, meter by meter, channel by channel, 48 half-hours each: the order a meter data
 * management export uses. Every meter has an import channel; every `exportEvery`-th meter also has a solar
 * export channel (zero at night). kWh carries three decimals; quality is mostly `actual`. Output streams to
 * disk in 1 MB chunks (bounded memory). A file is reused when its sidecar records the same parameters.
 *
 * The same readings can be written in the market formats the project reads (issue #15), each drawing the very
 * same values from the same model (model.ts `channelDays`): AEMO NEM12 (generateNem12.ts), German MSCONS
 * (generateMscons.ts) and Green Button ESPI (generateEspi.ts); each file's doc comment says what differs from
 * the CSV.
 */

export const PRESETS: Record<string, number> = {
  '1m': 1_000_000,
  '10m': 10_000_000,
  /** About 2 GB of CSV: the memory target of issue 3. */
  '2gb': 36_000_000,
  /**
   * Readings for a NEM12 file of ≥ 1 GB (issue #15): 220 days of 10,000 meters (PRESET_METERS; 12,500
   * series), ~1.03 GB of NEM12; the canonical CSV of the same readings is ~7.7 GB, over the default
   * VALIDATION_MAX_FILE_BYTES (4 GiB).
   */
  'nem12-1gb': 132_000_000,
  /**
   * Readings for an MSCONS file of ≥ 1 GB (issue #15): 53 days of the 2,500 series, each reading two
   * quarter-hours of 80 bytes (160.04 bytes per reading), ~1.018 GB of MSCONS; the CSV of the same readings is
   * ~0.37 GB, the ESPI feed ~0.94 GB.
   */
  'mscons-1gb': 6_360_000,
  /**
   * Readings for a Green Button (ESPI) feed of ≥ 1 GB (issue #15): 57 days of the 2,500 series, ~147.2 bytes
   * per reading after the describing entries of the first day (~2 MB), ~1.009 GB of ESPI; the CSV of the same
   * readings is ~0.40 GB, the MSCONS file ~1.09 GB (so `--formats csv,mscons,espi` at this size has both
   * market files ≥ 1 GB).
   */
  'espi-1gb': 6_840_000,
};

/**
 * Meters of the presets that would otherwise run past today: the contracts reject readings from the future,
 * and 132 M readings of the default 2,000 meters reach into 2028.
 */
const PRESET_METERS: Record<string, number> = { 'nem12-1gb': 10_000 };

/** The model's options for a size (`parseSize`): the default model, with a preset's own meter count. */
export function sizeOptions(size: string): GenerateOptions | undefined {
  const rows = parseSize(size);
  if (rows === undefined) return undefined;
  return { ...DEFAULT_OPTIONS, rows, meters: PRESET_METERS[size] ?? DEFAULT_OPTIONS.meters };
}

/** The formats a file can be generated in; each is the same readings. */
export const GENERATED_FORMATS = ['csv', 'nem12', 'mscons', 'espi'] as const;
export type GeneratedFormat = (typeof GENERATED_FORMATS)[number];
export type AnyGenerated = GeneratedFile | GeneratedNem12 | GeneratedMscons | GeneratedEspi;

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

/** Bump when the same options would give different bytes (sidecars of older files then stop matching). */
const GENERATOR_VERSION = 1;

export function csvFileName(options: GenerateOptions): string {
  return `${fileStem(options)}-${options.start.slice(0, 10)}.csv`;
}

const CSV: FileGenerator<GenerateOptions, GeneratedFile> = {
  label: '',
  version: GENERATOR_VERSION,
  fileName: csvFileName,
  generate,
  describe: (generated) => `${generated.series} series over ${generated.days} days`,
};

/** Returns the generated file for `options` in `dir`, generating it first unless an identical one exists. */
export function ensureCsv(dir: string, options: GenerateOptions, log = true): GeneratedFile {
  return ensureGenerated(CSV, dir, options, log);
}

/** The file of the model's `options` in `format`, generated unless it exists in `dir`. */
export function ensureFormat(
  dir: string,
  format: GeneratedFormat,
  options: GenerateOptions,
  log = true,
): AnyGenerated {
  switch (format) {
    case 'csv':
      return ensureCsv(dir, options, log);
    case 'nem12':
      return ensureNem12(dir, { ...options, ...DEFAULT_NEM12 }, log);
    case 'mscons':
      return ensureMscons(dir, options, log);
    case 'espi':
      return ensureEspi(dir, options, log);
  }
}

function generate(file: string, options: GenerateOptions): GeneratedFile {
  let rows = 0;
  let kwhSum = 0;
  let day = 0;
  let stampsDay = -1;
  const stamps: string[] = [];
  const bytes = writeChunked(file, (out) => {
    out.write('meter_id,interval_start,interval_minutes,channel,kwh,quality\n');
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
        out.write(`${prefix},${stamps[h]!}${channel}${kwh},${csvQuality(step.qualityDraw[h]!)}\n`);
        kwhSum += Number(kwh);
        rows++;
      }
    }
  });
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

/**
 * Generates the file for `--size 1m|10m|2gb|nem12-1gb|mscons-1gb|espi-1gb|<readings>` (or `--rows N`) into
 * `--dir` (default bench/out/data); `--format nem12|mscons|espi` writes the same readings in that format
 * instead of the CSV.
 */
function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const size = args.get('size');
  const rows = Number(args.get('rows') ?? PRESETS['1m']);
  const options = size ? sizeOptions(size) : { ...DEFAULT_OPTIONS, rows };
  if (!options || !Number.isInteger(options.rows) || options.rows <= 0) {
    throw new Error(
      `unknown size '${size ?? ''}': one of ${Object.keys(PRESETS).join(', ')}, a number of readings (360k, 5m) or --rows N`,
    );
  }
  const dir = args.get('dir') ?? 'bench/out/data';
  const format = args.get('format') ?? 'csv';
  if (!(GENERATED_FORMATS as readonly string[]).includes(format))
    throw new Error(`unknown format '${format}': one of ${GENERATED_FORMATS.join(', ')}`);
  const file = ensureFormat(dir, format as GeneratedFormat, options);
  process.stdout.write(`${JSON.stringify(file, null, 2)}\n`);
}

if (require.main === module) main();
