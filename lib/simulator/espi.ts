/**
 * The Green Button / NAESB ESPI layout: one Atom feed per UTC day, rendered line by line and holding
 * nothing but counters, so memory stays bounded whatever the number of meters.
 *
 *   <feed xmlns="http://www.w3.org/2005/Atom">  (id, title, updated)
 *     <entry> ReadingType/01: Wh per interval, flowDirection 1 (forward, import)   </entry>
 *     <entry> ReadingType/02: the same, flowDirection 19 (reverse, export)           </entry>
 *     <entry> UsagePoint <meter id>: ServiceCategory kind 0 (electricity)            </entry>  (per meter)
 *     <entry> MeterReading <meter id>/MeterReading/01 (import; 02 export) → ReadingType </entry>  (per channel)
 *     <entry> IntervalBlock: its day, then one IntervalReading per interval           </entry>
 *   </feed>
 *
 *   <IntervalReading><timePeriod><duration>1800</duration><start>1761350400</start></timePeriod><value>1640</value></IntervalReading>
 *
 * Links follow ESPI as the reader resolves them (lib/formats/espiLinks.ts): the UsagePoint's self href is
 * the simulator's meter id, so the reader's meter_id is the id the contracts and customers know; its
 * MeterReadings are `<meter id>/MeterReading/0n` (up: `<meter id>/MeterReading`), and each IntervalBlock's up
 * link is its MeterReading's `/IntervalBlock` collection. Every entry comes before the blocks that link to
 * it, with its links before its content. Starts are UTC epoch seconds; values whole Wh (powerOfTenMultiplier
 * 0); the ReadingType's defaultQuality 0 (valid) stands for every reading, which carries no ReadingQuality.
 * No defects are injected (no manifest defect records, no truth lines).
 */
import type { Meter } from './entities';
import type { Channel, Reading } from './readings';
import { ESPI_FLOW_DIRECTION, ESPI_READING_TYPE } from './sources';
import { DAY_MS, formatDay, MINUTE_MS } from './time';

export interface EspiContext {
  /** The UTC day the feed holds (epoch day). */
  day: number;
  /** The day the feed is delivered: its `updated` time. */
  deliveryDay: number;
  /** Interval of every reading, minutes. */
  minutes: number;
  /** Told once per IntervalReading written (the file's data rows). */
  row?: () => void;
}

const ATOM = 'http://www.w3.org/2005/Atom';
const ESPI = 'http://naesb.org/espi';
/** Atom ids: tag URIs (RFC 4151) of the simulator's own authority. */
const TAG = 'tag:lakewatt.example,2025:greenbutton/';
const READING_TYPE: Record<Channel, string> = { import: 'ReadingType/01', export: 'ReadingType/02' };
const METER_READING: Record<Channel, string> = { import: '01', export: '02' };

const escaped = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
const seconds = (ms: number): number => Math.round(ms / 1000);
const wh = (kwh: number): string => String(Math.round(kwh * 1000));
const elements = (fields: Readonly<Record<string, string>>): string =>
  Object.entries(fields)
    .map(([name, value]) => `<${name}>${value}</${name}>`)
    .join('');

/** An entry's opening lines up to its `content` element: id, links, title and updated. */
function entryHead(
  links: { self: string; up?: string; related?: readonly string[] },
  title: string,
  updated: string,
): string {
  const link = (rel: string, href: string): string => `    <link rel="${rel}" href="${escaped(href)}"/>\n`;
  return (
    '  <entry>\n' +
    `    <id>${escaped(TAG + links.self)}</id>\n` +
    link('self', links.self) +
    (links.up === undefined ? '' : link('up', links.up)) +
    (links.related ?? []).map((href) => link('related', href)).join('') +
    `    <title>${escaped(title)}</title>\n` +
    `    <updated>${updated}</updated>\n`
  );
}

const entry = (links: Parameters<typeof entryHead>[0], title: string, updated: string, resource: string) =>
  `${entryHead(links, title, updated)}    <content>${resource}</content>\n  </entry>\n`;

/**
 * Renders the Green Button feed of one UTC day from `readings` (ordered by meter, channel, time, each
 * (meter, channel) covering exactly the day's intervals: anything else is a planning error and throws).
 */
export function* renderEspi(readings: Iterable<Reading>, ctx: EspiContext): Generator<string> {
  const start = ctx.day * DAY_MS;
  const stepMs = ctx.minutes * MINUTE_MS;
  const intervals = DAY_MS / stepMs;
  const date = formatDay(ctx.day);
  const updated = `${formatDay(ctx.deliveryDay)}T05:30:00Z`;
  const length = String(ctx.minutes * 60);

  yield (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<feed xmlns="${ATOM}">\n` +
    `  <id>${TAG}${date}</id>\n` +
    `  <title>Lakewatt simulated Green Button feed, UTC day ${date}</title>\n` +
    `  <updated>${updated}</updated>\n`
  );
  for (const channel of ['import', 'export'] as const) {
    const fields = {
      ...ESPI_READING_TYPE,
      flowDirection: ESPI_FLOW_DIRECTION[channel],
      intervalLength: length,
    };
    // In the schema's order of ReadingType's elements, which is alphabetical for these.
    const body = elements(Object.fromEntries(Object.entries(fields).sort(([a], [b]) => a.localeCompare(b))));
    const resource = `<ReadingType xmlns="${ESPI}">${body}</ReadingType>`;
    yield entry(
      { self: READING_TYPE[channel], up: 'ReadingType' },
      `Energy (Wh), ${channel}`,
      updated,
      resource,
    );
  }

  let meter: Meter | undefined;
  let channel: Channel | undefined;
  let count = 0;
  function* closeBlock(): Generator<string> {
    if (meter === undefined || channel === undefined) return;
    if (count !== intervals)
      throw new Error(`ESPI ${meter.meter_id} ${channel} ${date}: ${count} of ${intervals} intervals`);
    yield '    </IntervalBlock></content>\n  </entry>\n';
  }
  for (const r of readings) {
    if (r.meter !== meter || r.channel !== channel) {
      yield* closeBlock();
      const usagePoint = r.meter.meter_id;
      if (r.meter !== meter) {
        const kind = `<UsagePoint xmlns="${ESPI}"><ServiceCategory><kind>0</kind></ServiceCategory></UsagePoint>`;
        yield entry({ self: usagePoint, related: [`${usagePoint}/MeterReading`] }, usagePoint, updated, kind);
      }
      meter = r.meter;
      channel = r.channel;
      count = 0;
      const meterReading = `${usagePoint}/MeterReading/${METER_READING[channel]}`;
      const blocks = `${meterReading}/IntervalBlock`;
      yield entry(
        { self: meterReading, up: `${usagePoint}/MeterReading`, related: [blocks, READING_TYPE[channel]] },
        `${usagePoint} ${channel}`,
        updated,
        `<MeterReading xmlns="${ESPI}"/>`,
      );
      const period = `<interval><duration>${DAY_MS / 1000}</duration><start>${seconds(start)}</start></interval>`;
      yield (
        `${entryHead({ self: `${blocks}/${date}`, up: blocks }, `${usagePoint} ${channel} ${date}`, updated)}` +
        `    <content><IntervalBlock xmlns="${ESPI}">${period}\n`
      );
    }
    const startMs = start + count * stepMs;
    if (r.minutes !== ctx.minutes || r.startMs !== startMs)
      throw new Error(`ESPI ${r.meter.meter_id} ${r.channel}: reading off the day's grid`);
    yield `      <IntervalReading><timePeriod><duration>${length}</duration><start>${seconds(startMs)}</start></timePeriod><value>${wh(r.kwh)}</value></IntervalReading>\n`;
    ctx.row?.();
    count++;
  }
  yield* closeBlock();
  yield '</feed>\n';
}
