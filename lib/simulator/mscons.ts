/**
 * The German MSCONS layout (BDEW EDI@Energy, UN/EDIFACT D.04B): one interchange per German market day, one
 * segment per line, rendered segment by segment and holding nothing but counters, so memory stays bounded
 * whatever the number of meters.
 *
 *   UNA:+.? '
 *   UNB+UNOC:3+<sender>:500+<receiver>:500+<YYMMDD>:<hhmm>+<ref>++TL'
 *   UNH+1+MSCONS:D:04B:UN:2.4c'  BGM+7+<ref>+9'  DTM+137:<created>?+00:303'
 *   NAD+MS+<sender>::293'  NAD+MR+<receiver>::293'  UNS+D'
 *   LOC+172+<meter id>'  DTM+163:<day start>?+00:303'  DTM+164:<day end>?+00:303'        (per meter)
 *   LIN+<n>'  PIA+5+1-1?:1.29.0:SRW'  (import; 1-1?:2.29.0 export)                       (per channel)
 *   QTY+220:<kWh>:KWH'  DTM+163:<start>?+00:303'  DTM+164:<end>?+00:303'                (per interval)
 *   UNT+<segments UNH..UNT>+1'
 *   UNZ+1+<ref>'
 *
 * Day coverage: the file of data date D holds the whole German market day D, local midnight to midnight in
 * Europe/Berlin (23, 24 or 25 hours: 92, 96 or 100 quarter-hours), every time written in UTC (`?+00`), so a
 * daylight-saving day needs no change of offset. Values are the model's at the file's interval (15 or 60
 * minutes, `msconsMinutes`), in kWh with three decimals, all true values (QTY+220): no defects and no
 * substitute values are written (no manifest defect records, no truth lines).
 */
import type { Meter } from './entities';
import type { Channel, Reading } from './readings';
import { MSCONS_MARKET_ZONE, MSCONS_OBIS, MSCONS_PARTIES } from './sources';
import { formatDay, localDayBounds, MINUTE_MS } from './time';

export interface MsconsContext {
  /** The German market day the file holds (epoch day). */
  day: number;
  /** The day the file is delivered: the interchange's preparation time and the message date. */
  deliveryDay: number;
  /** Interval of every series, minutes (15 or 60). */
  minutes: number;
  /** Told once per QTY segment written (the file's data rows). */
  row?: () => void;
}

/** `CCYYMMDDHHMM` in UTC, for DTM format 303 with the offset `?+00`. */
const utc303 = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace(/[-T:]/g, '');
const dtm = (qualifier: string, ms: number): string => `DTM+${qualifier}:${utc303(ms)}?+00:303`;
/** A value made safe for a data element: the release character before each service character. */
const released = (text: string): string => text.replace(/[?:+']/g, '?$&');

/**
 * Renders the MSCONS interchange of one German market day from `readings` (ordered by meter, channel, time,
 * each (meter, channel) covering exactly the day's intervals: anything else is a planning error and throws).
 */
export function* renderMscons(readings: Iterable<Reading>, ctx: MsconsContext): Generator<string> {
  const { start, end } = localDayBounds(MSCONS_MARKET_ZONE, ctx.day);
  const stepMs = ctx.minutes * MINUTE_MS;
  const intervals = (end - start) / stepMs;
  if (![15, 60].includes(ctx.minutes) || !Number.isInteger(intervals))
    throw new Error(`MSCONS ${formatDay(ctx.day)}: ${ctx.minutes}-minute intervals are not an MSCONS series`);
  const date = formatDay(ctx.day).replaceAll('-', '');
  // The interchange control reference (at most 14 characters): unique per market day.
  const ref = `LW${date}`;
  const prepared = `${formatDay(ctx.deliveryDay).replaceAll('-', '')}0530`;
  const { sender, receiver } = MSCONS_PARTIES;
  let segments = 0;
  /** A segment of the message (UNH to UNT), counted for the UNT. */
  const segment = (text: string): string => {
    segments++;
    return `${text}'\n`;
  };

  yield "UNA:+.? '\n";
  yield `UNB+UNOC:3+${sender}:500+${receiver}:500+${prepared.slice(2, 8)}:${prepared.slice(8)}+${ref}++TL'\n`;
  yield (
    segment('UNH+1+MSCONS:D:04B:UN:2.4c') +
    segment(`BGM+7+${ref}+9`) +
    segment(`DTM+137:${prepared}?+00:303`) +
    segment(`NAD+MS+${sender}::293`) +
    segment(`NAD+MR+${receiver}::293`) +
    segment('UNS+D')
  );

  let meter: Meter | undefined;
  let channel: Channel | undefined;
  let lines = 0;
  let count = 0;
  const closeSeries = (): void => {
    if (meter !== undefined && channel !== undefined && count !== intervals)
      throw new Error(
        `MSCONS ${meter.meter_id} ${channel} ${formatDay(ctx.day)}: ${count} of ${intervals} intervals`,
      );
  };
  for (const r of readings) {
    if (r.meter !== meter || r.channel !== channel) {
      closeSeries();
      if (r.meter !== meter)
        yield (
          segment(`LOC+172+${released(r.meter.meter_id)}`) +
          segment(dtm('163', start)) +
          segment(dtm('164', end))
        );
      meter = r.meter;
      channel = r.channel;
      count = 0;
      lines++;
      yield segment(`LIN+${lines}`) + segment(`PIA+5+${released(MSCONS_OBIS[channel])}:SRW`);
    }
    const startMs = start + count * stepMs;
    if (r.minutes !== ctx.minutes || r.startMs !== startMs)
      throw new Error(`MSCONS ${r.meter.meter_id} ${r.channel}: reading off the market day's grid`);
    yield (
      segment(`QTY+220:${r.kwh.toFixed(3)}:KWH`) +
      segment(dtm('163', startMs)) +
      segment(dtm('164', startMs + stepMs))
    );
    ctx.row?.();
    count++;
  }
  closeSeries();
  yield segment(`UNT+${segments + 1}+1`);
  yield `UNZ+1+${ref}'\n`;
}
