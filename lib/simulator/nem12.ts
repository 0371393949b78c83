/**
 * The AEMO NEM12 layout (MDFF): one file per AEST market day, rendered line by line like the other layouts,
 * holding one channel-day (48 values) at a time, so memory stays bounded whatever the number of meters.
 *
 *   100,NEM12,<created YYYYMMDDhhmm>,<from>,<to>
 *   200,<NMI>,<E1B1|E1>,<register>,<E1|B1>,<N1|N2>,<meter serial>,kWh,30,       (per meter and channel)
 *   300,<YYYYMMDD>,<48 interval-ending values>,<A|V|…>,<reason>,,<updated YYYYMMDDhhmmss>,
 *   400,<first>,<last>,<A|E52|S14>,<reason>,                                    (only after a V day)
 *   900
 *
 * Day coverage: the simulator's model gives a value for any instant, so the file of data date D holds the
 * whole AEST day D (UTC D-1 14:00 to D 14:00), as the wide layout holds the whole London day D: every 300
 * record has its 48 values and none is ever partial. Defects: none are injected (no row, series or file
 * defects), so a NEM12 file has no manifest defect records and no truth lines; it carries exactly the
 * simulated readings, with their estimated/substituted ranges as 400 records.
 */
import type { Meter } from './entities';
import type { Channel, Quality, Reading } from './readings';
import {
  NEM12_CHANNEL,
  NEM12_INTERVAL_MINUTES,
  NEM12_MARKET_OFFSET_MINUTES,
  NEM12_PARTICIPANTS,
  NEM12_QUALITY,
} from './sources';
import { DAY_MS, formatDay, MINUTE_MS } from './time';

/** Intervals of an AEST market day (no daylight saving, so always 48 half-hours). */
export const NEM12_INTERVALS_PER_DAY = DAY_MS / (NEM12_INTERVAL_MINUTES * MINUTE_MS);

/** UTC bounds [start, end) of the AEST market day `day` (epoch day). */
export function marketDayBounds(day: number): { start: number; end: number } {
  const start = day * DAY_MS - NEM12_MARKET_OFFSET_MINUTES * MINUTE_MS;
  return { start, end: start + DAY_MS };
}

export interface Nem12Context {
  /** The AEST market day the file holds (epoch day). */
  day: number;
  /** The day the file is delivered: its 100 header's creation time and the 300 records' update time. */
  deliveryDay: number;
  /** Told once per 300 record written (the file's data rows). */
  row?: () => void;
}

const yyyymmdd = (day: number): string => formatDay(day).replaceAll('-', '');
const kwh3 = (kwh: number): string => kwh.toFixed(3);

/** The 300 record's flag and reason, and the 400 records when the day's intervals differ in quality. */
function dayQuality(qualities: readonly Quality[]): { flag: string; reason: string; events: string[] } {
  const runs: Array<{ first: number; last: number; quality: Quality }> = [];
  qualities.forEach((quality, k) => {
    const run = runs[runs.length - 1];
    if (run && run.quality === quality) run.last = k + 1;
    else runs.push({ first: k + 1, last: k + 1, quality });
  });
  if (runs.length === 1) {
    const { flag, reason } = NEM12_QUALITY[runs[0]!.quality];
    return { flag, reason, events: [] };
  }
  const events = runs.map(({ first, last, quality }) => {
    const { flag, reason } = NEM12_QUALITY[quality];
    return `400,${first},${last},${flag},${reason},`;
  });
  return { flag: 'V', reason: '', events };
}

/**
 * Renders the NEM12 file of one market day from `readings` (ordered by meter, channel, time, each
 * (meter, channel) covering exactly the day's 48 half-hours: anything else is a planning error and throws).
 */
export function* renderNem12(readings: Iterable<Reading>, ctx: Nem12Context): Generator<string> {
  const eol = '\r\n';
  const { start } = marketDayBounds(ctx.day);
  const date = yyyymmdd(ctx.day);
  const updated = `${yyyymmdd(ctx.deliveryDay)}053000`;
  yield `100,NEM12,${yyyymmdd(ctx.deliveryDay)}0600,${NEM12_PARTICIPANTS.from},${NEM12_PARTICIPANTS.to}${eol}`;
  const stepMs = NEM12_INTERVAL_MINUTES * MINUTE_MS;
  let meter: Meter | undefined;
  let channel: Channel | undefined;
  const values: string[] = [];
  const qualities: Quality[] = [];

  function* flush(): Generator<string> {
    if (meter === undefined || channel === undefined) return;
    if (values.length !== NEM12_INTERVALS_PER_DAY)
      throw new Error(
        `NEM12 ${meter.meter_id} ${channel} ${formatDay(ctx.day)}: ${values.length} of ${NEM12_INTERVALS_PER_DAY} intervals`,
      );
    const { suffix, register, stream } = NEM12_CHANNEL[channel];
    const configuration = meter.solarKwp > 0 ? 'E1B1' : 'E1';
    const serial = `LW${String(meter.index + 1).padStart(7, '0')}`;
    yield `200,${meter.meter_id},${configuration},${register},${suffix},${stream},${serial},kWh,${NEM12_INTERVAL_MINUTES},${eol}`;
    const { flag, reason, events } = dayQuality(qualities);
    yield `300,${date},${values.join(',')},${flag},${reason},,${updated},${eol}`;
    ctx.row?.();
    for (const event of events) yield event + eol;
    values.length = 0;
    qualities.length = 0;
  }

  for (const r of readings) {
    if (r.meter !== meter || r.channel !== channel) {
      yield* flush();
      meter = r.meter;
      channel = r.channel;
    }
    const expectedStart = start + values.length * stepMs;
    if (r.minutes !== NEM12_INTERVAL_MINUTES || r.startMs !== expectedStart)
      throw new Error(`NEM12 ${r.meter.meter_id} ${r.channel}: reading off the market day's half-hour grid`);
    values.push(kwh3(r.kwh));
    qualities.push(r.quality);
  }
  yield* flush();
  yield `900${eol}`;
}
