import { thousands } from './common';
import {
  type CanonicalQuality,
  channelDays,
  csvQuality,
  DAY_MS,
  ensureGenerated,
  type FileGenerator,
  fileStem,
  type GeneratedMarketFile,
  type GenerateOptions,
  type QualityCounts,
  seriesCount,
  utcSeconds,
  writeChunked,
  yyyymmdd,
} from './model';

/**
 * The readings of the validation benchmark's model (model.ts) as German MSCONS
 * (contracts/sources/meter_readings.mscons.yaml, source `mscons`; reader lib/formats/mscons.ts).
 */

export interface GeneratedMscons extends GeneratedMarketFile {
  /** Readings of the CSV the file holds; each is two quarter-hours, so `rows` (QTY segments) is twice this. */
  readings: number;
  /** UNH ... UNT messages: one per UTC day. */
  messages: number;
}

/** Bump when the same options would give different bytes (sidecars of older files then stop matching). */
const MSCONS_GENERATOR_VERSION = 1;
const QUARTER_HOUR_MS = 15 * 60_000;
/** The BDEW codes lib/simulator/sources.ts uses (code list 500 in UNB, 293 in NAD). */
const PARTIES = { sender: '9900000000017', receiver: '9900000000024' } as const;
/** PIA+5 products, the `:` of the OBIS code released (`?:`): active energy import and export load profiles. */
const PRODUCT = ['PIA+5+1-1?:1.29.0:SRW', 'PIA+5+1-1?:2.29.0:SRW'] as const;
/** QTY qualifiers the reader maps back (msconsValues.ts QTY_QUALITY): true, proposed, substitute value. */
const QTY_QUALIFIER: Record<CanonicalQuality, string> = {
  actual: '220',
  estimated: '201',
  substituted: '67',
};

export function msconsFileName(options: GenerateOptions): string {
  return `${fileStem(options)}-${options.start.slice(0, 10)}.mscons.edi`;
}

const MSCONS: FileGenerator<GenerateOptions, GeneratedMscons> = {
  label: 'MSCONS',
  version: MSCONS_GENERATOR_VERSION,
  fileName: msconsFileName,
  generate: generateMscons,
  describe: (generated) =>
    `${thousands(generated.rows)} quarter-hours in ${thousands(generated.messages)} messages ` +
    `(${thousands(generated.quality.estimated)} estimated, ${thousands(generated.quality.substituted)} substituted)`,
};

/**
 * Returns the MSCONS file of `options` in `dir`, generating it first unless an identical one exists: the
 * `options.rows` readings of `ensureCsv` with the same options, each as two quarter-hours.
 */
export function ensureMscons(dir: string, options: GenerateOptions, log = true): GeneratedMscons {
  return ensureGenerated(MSCONS, dir, options, log);
}

/** `CCYYMMDDHHMM` in UTC, for DTM format 303 with the offset `?+00`. */
const utc303 = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace(/[-T:]/g, '');

/** A value of whole thousandths as kWh with three decimals. */
const kwh3 = (thousandths: number): string => (thousandths / 1000).toFixed(3);

/**
 * The MSCONS layout (as lib/simulator/mscons.ts writes it: one segment per line, UTC times `?+00`):
 *
 *   UNA:+.? '
 *   UNB+UNOC:3+<sender>:500+<receiver>:500+<YYMMDD>:0000+LW<first day>++TL'
 *   UNH+<n>+MSCONS:D:04B:UN:2.4c'  BGM+7+LW<day>+9'  DTM+137:<next day 05:30>?+00:303'          (per UTC day)
 *   NAD+MS+<sender>::293'  NAD+MR+<receiver>::293'  UNS+D'
 *   LOC+172+<meter id>'  DTM+163:<day start>?+00:303'  DTM+164:<day end>?+00:303'             (per meter)
 *   LIN+<n>'  PIA+5+1-1?:1.29.0:SRW'  (import; 1-1?:2.29.0 export)                            (per channel)
 *   QTY+<220|201|67>:<kWh>:KWH'  DTM+163:<start>?+00:303'  DTM+164:<end>?+00:303'          (per quarter-hour)
 *   UNT+<segments UNH..UNT>+<n>'
 *   UNZ+<messages>+LW<first day>'
 *
 * Same readings as the CSV, with one difference the reader forces: an MSCONS series is 15- or 60-minute
 * (msconsSeries.ts rejects a 30-minute interval as INVALID_INTERVAL), so each half-hourly reading is written
 * as the two quarter-hours of its half-hour, as lib/simulator/mscons.ts turns a 30-minute run into the German
 * quarter-hour. The reading's thousandths are split exactly (the first quarter-hour takes the odd one), so
 * per half-hour and in total the kWh are the CSV's to the digit, and both quarter-hours carry the CSV
 * reading's own quality (actual, estimated, substituted as QTY 220, 201, 67; the same draws, so the values
 * stay the CSV's). One message per UTC day, not per German market day (local midnight, 23:00 or 22:00 UTC):
 * with every time in UTC (`?+00`) a message is the CSV's day exactly, 96 quarter-hours whatever the season,
 * and no daylight-saving change needs another offset. The reader names the German days of 23 or 25 hours a
 * series touches in its notes (one note per series and such day), which the default start (2025-01-01) and
 * the `mscons-1gb` preset (to late February) stay clear of. `options.rows` readings are written, so the last
 * channel may stop within its day.
 */
function generateMscons(file: string, options: GenerateOptions): GeneratedMscons {
  const startMs = Date.parse(options.start);
  // The interchange control reference (at most 14 characters) and preparation date: the first day's.
  const firstDate = yyyymmdd(startMs);
  const ref = `LW${firstDate}`;
  let readings = 0;
  let kwhSum = 0;
  let messages = 0;
  let lastDay = 0;
  let lastStartMs = startMs;
  let meters = 0;
  const counts: QualityCounts = { actual: 0, estimated: 0, substituted: 0 };
  /** Segments of the open message, UNH included, for its UNT. */
  let segments = 0;
  let lines = 0;
  let messageDay = -1;
  /** The 96 quarter-hours' `DTM+163 DTM+164` pair of the message's day, and the day's bounds. */
  const periods = new Array<string>(96).fill('');
  let dayBounds = '';
  const bytes = writeChunked(file, (out) => {
    const closeMessage = (): void => {
      if (messageDay >= 0) out.write(`UNT+${segments + 1}+${messages}'\n`);
    };
    out.write(
      "UNA:+.? '\n" +
        `UNB+UNOC:3+${PARTIES.sender}:500+${PARTIES.receiver}:500+${firstDate.slice(2)}:0000+${ref}++TL'\n`,
    );
    for (const step of channelDays(options)) {
      if (readings === options.rows) break;
      if (step.day !== messageDay) {
        closeMessage();
        messageDay = step.day;
        messages++;
        lines = 0;
        for (let q = 0; q < 96; q++) {
          const at = step.dayMs + q * QUARTER_HOUR_MS;
          periods[q] = `DTM+163:${utc303(at)}?+00:303'\nDTM+164:${utc303(at + QUARTER_HOUR_MS)}?+00:303'\n`;
        }
        dayBounds = `DTM+163:${utc303(step.dayMs)}?+00:303'\nDTM+164:${utc303(step.dayMs + DAY_MS)}?+00:303'\n`;
        const date = yyyymmdd(step.dayMs);
        out.write(
          `UNH+${messages}+MSCONS:D:04B:UN:2.4c'\nBGM+7+LW${date}+9'\n` +
            `DTM+137:${yyyymmdd(step.dayMs + DAY_MS)}0530?+00:303'\n` +
            `NAD+MS+${PARTIES.sender}::293'\nNAD+MR+${PARTIES.receiver}::293'\nUNS+D'\n`,
        );
        segments = 6;
      }
      let text = '';
      if (step.channel === 0) {
        text += `LOC+172+${step.meterId}'\n${dayBounds}`;
        segments += 3;
        if (step.day === 0) meters++;
      }
      lines++;
      text += `LIN+${lines}'\n${PRODUCT[step.channel]}'\n`;
      segments += 2;
      const halfHours = Math.min(48, options.rows - readings);
      for (let h = 0; h < halfHours; h++) {
        const thousandths = Number(step.kwh[h]!.replace('.', ''));
        const second = Math.floor(thousandths / 2);
        const first = kwh3(thousandths - second);
        const last = kwh3(second);
        const quality = csvQuality(step.qualityDraw[h]!);
        const qualifier = QTY_QUALIFIER[quality];
        text +=
          `QTY+${qualifier}:${first}:KWH'\n${periods[2 * h]!}` +
          `QTY+${qualifier}:${last}:KWH'\n${periods[2 * h + 1]!}`;
        kwhSum += Number(first) + Number(last);
        counts[quality] += 2;
      }
      segments += 6 * halfHours;
      readings += halfHours;
      lastDay = step.day;
      // The latest start overall: a last channel cut short ends before the day's earlier channels.
      lastStartMs = Math.max(lastStartMs, step.dayMs + (2 * halfHours - 1) * QUARTER_HOUR_MS);
      out.write(text);
    }
    closeMessage();
    out.write(`UNZ+${messages}+${ref}'\n`);
  });
  return {
    path: file,
    options,
    rows: 2 * readings,
    bytes,
    kwhSum,
    meters,
    series: seriesCount(options),
    days: lastDay + 1,
    readings,
    messages,
    quality: counts,
    firstInterval: utcSeconds(startMs),
    lastInterval: utcSeconds(lastStartMs),
  };
}
