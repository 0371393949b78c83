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
  HALF_HOUR_MS,
  type QualityCounts,
  seriesCount,
  utcSeconds,
  writeChunked,
} from './model';

/**
 * The readings of the validation benchmark's model (model.ts) as a Green Button / NAESB ESPI Atom feed
 * (contracts/sources/meter_readings.espi.yaml, source `greenbutton`; reader lib/formats/espi.ts).
 */

export interface GeneratedEspi extends GeneratedMarketFile {
  /** IntervalBlock entries: one per channel-day. */
  intervalBlocks: number;
}

/** Bump when the same options would give different bytes (sidecars of older files then stop matching). */
const ESPI_GENERATOR_VERSION = 1;
const ATOM = 'http://www.w3.org/2005/Atom';
const ESPI = 'http://naesb.org/espi';
/** Atom ids: tag URIs (RFC 4151) of the project's own authority, as lib/simulator/espi.ts writes them. */
const TAG = 'tag:lakewatt.example,2025:greenbutton/';
const READING_TYPE = ['ReadingType/01', 'ReadingType/02'] as const;
const CHANNEL = ['import', 'export'] as const;
/** ReadingType flowDirection: 1 forward (import), 19 reverse (export). */
const FLOW_DIRECTION = ['1', '19'] as const;
const INTERVAL_SECONDS = HALF_HOUR_MS / 1000;
/** ReadingQuality codes (espiValues.ts QUALITY_OF_READING): 7 manually edited, 8 and 9 estimated. */
const SUBSTITUTED_CODE = '7';
const ESTIMATED_CODES = ['8', '9'] as const;

export function espiFileName(options: GenerateOptions): string {
  return `${fileStem(options)}-${options.start.slice(0, 10)}.espi.xml`;
}

const ESPI_FEED: FileGenerator<GenerateOptions, GeneratedEspi> = {
  label: 'ESPI',
  version: ESPI_GENERATOR_VERSION,
  fileName: espiFileName,
  generate: generateEspi,
  describe: (generated) =>
    `${thousands(generated.intervalBlocks)} IntervalBlocks ` +
    `(${thousands(generated.quality.estimated)} readings estimated, ${thousands(generated.quality.substituted)} substituted)`,
};

/**
 * Returns the Green Button feed of `options` in `dir`, generating it first unless an identical one exists:
 * the `options.rows` readings of `ensureCsv` with the same options.
 */
export function ensureEspi(dir: string, options: GenerateOptions, log = true): GeneratedEspi {
  return ensureGenerated(ESPI_FEED, dir, options, log);
}

const seconds = (ms: number): number => Math.round(ms / 1000);
const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const link = (rel: string, href: string): string => `    <link rel="${rel}" href="${href}"/>\n`;

/** An entry's opening lines up to its `content` element: id, links, title and updated. */
function entryHead(
  self: string,
  up: string,
  related: readonly string[],
  title: string,
  updated: string,
): string {
  return (
    `  <entry>\n    <id>${TAG}${self}</id>\n` +
    link('self', self) +
    (up === '' ? '' : link('up', up)) +
    related.map((href) => link('related', href)).join('') +
    `    <title>${title}</title>\n    <updated>${updated}</updated>\n`
  );
}

/** The ReadingType of a channel: Wh per half-hour, its fields in the schema's (here alphabetical) order. */
function readingTypeEntry(channel: 0 | 1, updated: string): string {
  const fields: [string, string][] = [
    ['accumulationBehaviour', '4'],
    ['commodity', '1'],
    ['defaultQuality', '0'],
    ['flowDirection', FLOW_DIRECTION[channel]],
    ['intervalLength', String(INTERVAL_SECONDS)],
    ['kind', '12'],
    ['powerOfTenMultiplier', '0'],
    ['uom', '72'],
  ];
  const body = fields.map(([name, value]) => `<${name}>${value}</${name}>`).join('');
  return (
    entryHead(READING_TYPE[channel], 'ReadingType', [], `Energy (Wh), ${CHANNEL[channel]}`, updated) +
    `    <content><ReadingType xmlns="${ESPI}">${body}</ReadingType></content>\n  </entry>\n`
  );
}

/**
 * The ESPI layout (as lib/simulator/espi.ts writes it, with the describing entries once, not once per day):
 *
 *   <feed xmlns="http://www.w3.org/2005/Atom">  (id, title, updated)
 *     <entry> ReadingType/01: Wh per 1800 s, defaultQuality 0, flowDirection 1 (import)  </entry>
 *     <entry> ReadingType/02: the same, flowDirection 19 (export)                          </entry>
 *     <entry> UsagePoint <meter id>: ServiceCategory kind 0             </entry>  (first day, per meter)
 *     <entry> MeterReading <meter id>/MeterReading/01|02 → ReadingType  </entry>  (first day, per channel)
 *     <entry> IntervalBlock <meter id>/MeterReading/0n/IntervalBlock/<day>: interval, 48 IntervalReadings
 *     </entry>                                                                    (per day, meter, channel)
 *   </feed>
 *
 *   <IntervalReading>[<ReadingQuality><quality>8</quality></ReadingQuality>]<timePeriod><duration>1800
 *     </duration><start>1735689600</start></timePeriod><value>164</value></IntervalReading>
 *
 * Same readings as the CSV, position by position: its meter ids as UsagePoint self hrefs, its channels as
 * flowDirection 1 and 19, its values as whole Wh (powerOfTenMultiplier 0: three decimals of kWh are whole Wh,
 * so the reader's kWh are the CSV's to the digit), its interval starts as UTC epoch seconds (ESPI's own, so
 * the CSV's UTC days carry over unchanged and daylight saving plays no part). Quality is the CSV reading's
 * own (the same draws): actual readings carry no ReadingQuality (the ReadingType's defaultQuality 0, valid,
 * stands for them), estimated ones code 8 or 9, substituted ones 7 (manually edited). Blocks come in the
 * CSV's order (day, meter, channel); a UsagePoint and its MeterReadings are written once, on the first day,
 * before their first blocks, because the reader keeps every describing entry and refuses a feed of more than
 * 100,000 (espiLinks.ts MOST_RESOURCES): repeated per day they would pass that after 22 days of 2,000 meters.
 * `options.rows` readings are written, so the last block may stop within its day.
 */
function generateEspi(file: string, options: GenerateOptions): GeneratedEspi {
  const startMs = Date.parse(options.start);
  let rows = 0;
  let kwhSum = 0;
  let blocks = 0;
  let meters = 0;
  let lastDay = 0;
  let lastStartMs = startMs;
  const counts: QualityCounts = { actual: 0, estimated: 0, substituted: 0 };
  let timesDay = -1;
  /** The 48 half-hours' `timePeriod` of the current day, its date and the entries' `updated`. */
  const periods = new Array<string>(48).fill('');
  let date = '';
  let updated = '';
  const bytes = writeChunked(file, (out) => {
    const created = `${isoDay(startMs)}T00:00:00Z`;
    out.write(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        `<feed xmlns="${ATOM}">\n  <id>${TAG}bench/${isoDay(startMs)}</id>\n` +
        `  <title>Lakewatt validation benchmark Green Button feed from UTC day ${isoDay(startMs)}</title>\n` +
        `  <updated>${created}</updated>\n` +
        readingTypeEntry(0, created) +
        readingTypeEntry(1, created),
    );
    for (const step of channelDays(options)) {
      if (rows === options.rows) break;
      if (step.day !== timesDay) {
        timesDay = step.day;
        date = isoDay(step.dayMs);
        updated = `${isoDay(step.dayMs + DAY_MS)}T05:30:00Z`;
        for (let h = 0; h < 48; h++) {
          const start = seconds(step.dayMs + h * HALF_HOUR_MS);
          periods[h] =
            `<timePeriod><duration>${INTERVAL_SECONDS}</duration><start>${start}</start></timePeriod>`;
        }
      }
      const usagePoint = step.meterId;
      const meterReading = `${usagePoint}/MeterReading/0${step.channel + 1}`;
      const blocksHref = `${meterReading}/IntervalBlock`;
      const channel = CHANNEL[step.channel];
      let text = '';
      if (step.day === 0) {
        if (step.channel === 0) {
          const kind = `<UsagePoint xmlns="${ESPI}"><ServiceCategory><kind>0</kind></ServiceCategory></UsagePoint>`;
          text +=
            entryHead(usagePoint, '', [`${usagePoint}/MeterReading`], usagePoint, updated) +
            `    <content>${kind}</content>\n  </entry>\n`;
          meters++;
        }
        const related = [blocksHref, READING_TYPE[step.channel]];
        text +=
          entryHead(
            meterReading,
            `${usagePoint}/MeterReading`,
            related,
            `${usagePoint} ${channel}`,
            updated,
          ) + `    <content><MeterReading xmlns="${ESPI}"/></content>\n  </entry>\n`;
      }
      const halfHours = Math.min(48, options.rows - rows);
      const interval =
        `<interval><duration>${halfHours * INTERVAL_SECONDS}</duration>` +
        `<start>${seconds(step.dayMs)}</start></interval>`;
      text +=
        entryHead(`${blocksHref}/${date}`, blocksHref, [], `${usagePoint} ${channel} ${date}`, updated) +
        `    <content><IntervalBlock xmlns="${ESPI}">${interval}\n`;
      for (let h = 0; h < halfHours; h++) {
        const kwh = step.kwh[h]!;
        const draw = step.qualityDraw[h]!;
        const quality: CanonicalQuality = csvQuality(draw);
        const code =
          quality === 'actual'
            ? ''
            : quality === 'substituted'
              ? SUBSTITUTED_CODE
              : ESTIMATED_CODES[draw < 0.98 ? 0 : 1];
        const readingQuality =
          code === '' ? '' : `<ReadingQuality><quality>${code}</quality></ReadingQuality>`;
        const wh = Number(kwh.replace('.', ''));
        text += `      <IntervalReading>${readingQuality}${periods[h]!}<value>${wh}</value></IntervalReading>\n`;
        kwhSum += Number(kwh);
        counts[quality]++;
      }
      text += '    </IntervalBlock></content>\n  </entry>\n';
      out.write(text);
      rows += halfHours;
      blocks++;
      lastDay = step.day;
      // The latest start overall: a last block cut short ends before the day's earlier blocks.
      lastStartMs = Math.max(lastStartMs, step.dayMs + (halfHours - 1) * HALF_HOUR_MS);
    }
    out.write('</feed>\n');
  });
  return {
    path: file,
    options,
    rows,
    bytes,
    kwhSum,
    meters,
    series: seriesCount(options),
    days: lastDay + 1,
    intervalBlocks: blocks,
    quality: counts,
    firstInterval: utcSeconds(startMs),
    lastInterval: utcSeconds(lastStartMs),
  };
}
