import { thousands } from './common';
import {
  channelDays,
  DAY_MS,
  ensureGenerated,
  type FileGenerator,
  fileStem,
  type GeneratedMarketFile,
  type GenerateOptions,
  HALF_HOUR_MS,
  prng,
  type QualityCounts,
  seriesCount,
  utcSeconds,
  writeChunked,
  yyyymmdd,
} from './model';

/**
 * The readings of the validation benchmark's model (model.ts) as AEMO NEM12
 * (contracts/sources/meter_readings.nem12.yaml, issue #15).
 */

export interface Nem12Options extends GenerateOptions {
  /** Share of channel-days written with quality V: one estimated (E52) or substituted (S14) run in 400 records. */
  variableDayShare: number;
}

export const DEFAULT_NEM12: Pick<Nem12Options, 'variableDayShare'> = { variableDayShare: 0.05 };

export interface GeneratedNem12 extends GeneratedMarketFile {
  options: Nem12Options;
  /** 300 records written (channel-days); each is preceded by its 200 record. */
  channelDays: number;
  variableDays: number;
}

/** Bump when the same options would give different bytes (sidecars of older files then stop matching). */
const NEM12_GENERATOR_VERSION = 1;
/** NEM market time: AEST, UTC+10:00 all year. */
const MARKET_OFFSET_MS = 10 * 3_600_000;

export function nem12FileName(options: Nem12Options): string {
  const day = options.start.slice(0, 10);
  const share = Math.round(options.variableDayShare * 1000);
  return `${fileStem(options)}-v${share}-${day}.nem12.csv`;
}

const NEM12: FileGenerator<Nem12Options, GeneratedNem12> = {
  label: 'NEM12',
  version: NEM12_GENERATOR_VERSION,
  fileName: nem12FileName,
  generate: generateNem12,
  describe: (generated) =>
    `${thousands(generated.channelDays)} channel-days (${thousands(generated.variableDays)} of quality V)`,
};

/**
 * Returns the NEM12 file of `options` in `dir`, generating it first unless an identical one exists: the same
 * readings as `ensureCsv` with the same options, rounded down to whole channel-days (a 300 record holds a
 * whole day), i.e. up to 47 readings fewer when `rows` is not a multiple of 48.
 */
export function ensureNem12(dir: string, options: Nem12Options, log = true): GeneratedNem12 {
  return ensureGenerated(NEM12, dir, options, log);
}

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
  let rows = 0;
  let kwhSum = 0;
  let channelDayCount = 0;
  let variableDays = 0;
  let lastDayMs = startMs;
  let lastDay = 0;
  const counts: QualityCounts = { actual: 0, estimated: 0, substituted: 0 };
  let datesDay = -1;
  let date = '';
  let updated = '';
  const bytes = writeChunked(file, (out) => {
    out.write(`100,NEM12,${yyyymmdd(startMs)}0000,LKWMDP,LAKEWATT${eol}`);
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
      out.write(
        `200,${step.meterId},${configuration},${channel},${serial},kWh,30,${eol}` +
          `300,${date},${step.kwh.join(',')},${flag},,,${updated},${eol}${events}`,
      );
      for (let h = 0; h < 48; h++) kwhSum += Number(step.kwh[h]);
      rows += 48;
      channelDayCount++;
      lastDay = step.day;
      lastDayMs = step.dayMs;
    }
    out.write(`900${eol}`);
  });
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
