/** The long layouts (one row per reading: the head-end CSV and the smart-meter JSON feed) and their renderer. */
import { defect, type DefectKey, DefectKind, type DefectRecord } from './defects';
import type { Prng } from './prng';
import {
  IMPLAUSIBLE_KWH,
  kwh3,
  type Reading,
  type RenderContext,
  type RowKind,
  seriesDefect,
  seriesValue,
  spikeKwh,
} from './readings';
import { type SeriesSpan, spanAt } from './series';
import { FEED_CHANNEL, FEED_QUALITY, HEADEND_CHANNEL, HEADEND_HEADER, HEADEND_QUALITY } from './sources';
import { formatUtc, formatWithOffset, MINUTE_MS } from './time';

/** How one long layout (one row per reading) writes a row and its defective variants. */
interface LongLayout {
  header: string | undefined;
  eol: string;
  row(r: Reading, overrides?: { value?: string; timestamp?: string }): string;
  value(kwh: number): string;
  /** The kWh a written value stands for (the inverse of `value`, at the layout's precision). */
  kwhOf(value: string): number;
  malformed(r: Reading, rng: Prng): { line: string; detail: string };
  badTimestamp(r: Reading, rng: Prng): string;
}

function badIsoTimestamp(iso: string, rng: Prng): string {
  // iso is YYYY-MM-DDTHH:MM:SS followed by Z or an offset
  const variant = rng.int(0, 3);
  if (variant === 0) return `${iso.slice(0, 5)}13${iso.slice(7)}`; // month 13
  if (variant === 1) return `${iso.slice(0, 8)}32${iso.slice(10)}`; // day 32
  if (variant === 2) return `${iso.slice(0, 11)}25${iso.slice(13)}`; // hour 25
  return 'not-a-timestamp';
}

export const HEADEND_LAYOUT: LongLayout = {
  header: HEADEND_HEADER.join(','),
  eol: '\n',
  row: (r, o) =>
    [
      r.meter.meter_id,
      o?.timestamp ?? formatUtc(r.startMs),
      r.minutes,
      HEADEND_CHANNEL[r.channel],
      o?.value ?? kwh3(r.kwh),
      HEADEND_QUALITY[r.quality === 'actual' ? 'actual' : 'estimated'],
    ].join(','),
  value: kwh3,
  kwhOf: Number,
  malformed(r, rng) {
    const fields = HEADEND_LAYOUT.row(r).split(',');
    const variant = rng.int(0, 2);
    if (variant === 0) return { line: fields.slice(0, -1).join(','), detail: 'row has 5 of 6 columns' };
    if (variant === 1) return { line: [...fields, '0'].join(','), detail: 'row has 7 of 6 columns' };
    return { line: HEADEND_LAYOUT.row(r, { value: '#VALUE!' }), detail: "kwh is '#VALUE!', not a number" };
  },
  badTimestamp: (r, rng) => badIsoTimestamp(formatUtc(r.startMs), rng),
};

function feedRecord(r: Reading, wh: string, end: string): string {
  return `{"meter":{"id":"${r.meter.meter_id}"},"end":"${end}","dur":${r.minutes},"ch":"${FEED_CHANNEL[r.channel]}","wh":${wh},"q":"${FEED_QUALITY[r.quality]}"}`;
}
const feedEnd = (r: Reading): string => formatWithOffset(r.meter.zone, r.startMs + r.minutes * MINUTE_MS);
const wh0 = (kwh: number): string => String(Math.round(kwh * 1000));

export const FEED_LAYOUT: LongLayout = {
  header: undefined,
  eol: '\n',
  row: (r, o) => feedRecord(r, o?.value ?? wh0(r.kwh), o?.timestamp ?? feedEnd(r)),
  value: wh0,
  kwhOf: (wh) => Number(wh) / 1000,
  malformed(r, rng) {
    const full = feedRecord(r, wh0(r.kwh), feedEnd(r));
    const variant = rng.int(0, 2);
    if (variant === 0)
      return { line: full.slice(0, Math.floor(full.length / 2)), detail: 'JSON cut off mid-record' };
    if (variant === 1)
      return { line: feedRecord(r, '"#VALUE!"', feedEnd(r)), detail: "wh is '#VALUE!', not a number" };
    return { line: full.replace(/,"wh":\d+/, ''), detail: 'required field wh is missing' };
  },
  badTimestamp: (r, rng) => badIsoTimestamp(feedEnd(r), rng),
};

const LONG_WEIGHTS: ReadonlyArray<readonly [RowKind, number]> = [
  [DefectKind.DuplicateIdentical, 2],
  [DefectKind.DuplicateConflicting, 1],
  [DefectKind.Gap, 2],
  [DefectKind.NegativeValue, 1],
  [DefectKind.ImplausibleValue, 1],
  [DefectKind.Spike, 1],
  [DefectKind.MalformedRow, 1],
  [DefectKind.BadTimestamp, 1],
];
const LONG_WEIGHTS_EXPORT = LONG_WEIGHTS.filter(([k]) => k !== DefectKind.NegativeValue);

function readingKey(r: Reading): DefectKey {
  return { meter_id: r.meter.meter_id, channel: r.channel, interval_start: formatUtc(r.startMs) };
}

const sameSeries = (a: Reading, b: Reading): boolean =>
  a.meter === b.meter && a.channel === b.channel && b.startMs === a.startMs + a.minutes * MINUTE_MS;

/** Renders a long-layout file (header, then one line per reading), injecting series and row defects. */
export function* renderLong(
  layout: LongLayout,
  readings: Iterable<Reading>,
  ctx: RenderContext,
): Generator<string> {
  const { defects: rng, sink, file } = ctx;
  const eol = layout.eol;
  let line = 0;
  if (layout.header !== undefined) {
    line++;
    yield layout.header + eol;
  }
  const tell = (kind: DefectKind, r: Reading, written: string | undefined): void =>
    ctx.truth({
      kind,
      meterId: r.meter.meter_id,
      channel: r.channel,
      startMs: r.startMs,
      minutes: r.minutes,
      trueKwh: layout.kwhOf(layout.value(r.kwh)),
      writtenKwh: written === undefined ? null : layout.kwhOf(written),
      file,
    });
  let gap: { record: DefectRecord; last: Reading; left: number } | undefined;
  const runs = new Map<SeriesSpan, { record: DefectRecord; stuckAt: string; written: string | undefined }>();
  let previous: Reading | undefined;
  for (const r of readings) {
    const span = ctx.series && spanAt(ctx.series, r.meter.meter_id, r.channel, r.startMs);
    const before = previous;
    previous = r;
    if (span && ctx.series) {
      // Series defects take their readings whole: no row defect on top, so the truth stays one value.
      gap = undefined;
      let run = runs.get(span);
      if (!run) {
        // A frozen run starts after its first interval: the reading before holds the stuck value.
        const stuckAt = layout.value(before && sameSeries(before, r) ? before.kwh : r.kwh);
        const written = seriesValue(span, r.kwh, stuckAt, (k) => layout.value(k));
        const key: DefectKey = {
          meter_id: r.meter.meter_id,
          ...(span.kind === DefectKind.LateFill || span.kind === DefectKind.ZeroRun
            ? {}
            : { channel: r.channel }),
          interval_start: formatUtc(r.startMs),
        };
        run = { record: seriesDefect(span, ctx.series, file, key, written), stuckAt, written };
        runs.set(span, run);
        sink(run.record);
      }
      const written = seriesValue(span, r.kwh, run.stuckAt, (k) => layout.value(k));
      if (written === undefined) {
        run.record.missing_readings = (run.record.missing_readings ?? 0) + 1;
        tell(span.kind, r, undefined);
        continue;
      }
      line++;
      yield layout.row(r, { value: written }) + eol;
      run.record.lines.push(line);
      if (written !== layout.value(r.kwh)) tell(span.kind, r, written);
      continue;
    }
    if (gap && gap.left > 0 && sameSeries(gap.last, r)) {
      gap.left--;
      gap.last = r;
      gap.record.missing_readings = (gap.record.missing_readings ?? 0) + 1;
      gap.record.intervals = gap.record.missing_readings;
      tell(DefectKind.Gap, r, undefined);
      continue;
    }
    gap = undefined;
    if (ctx.rate <= 0 || !rng.chance(ctx.rate)) {
      line++;
      yield layout.row(r) + eol;
      continue;
    }
    const kind = rng.weighted(r.channel === 'import' ? LONG_WEIGHTS : LONG_WEIGHTS_EXPORT);
    const key = readingKey(r);
    switch (kind) {
      case DefectKind.Gap: {
        const record = defect(kind, {
          file,
          lines: [],
          key,
          missing_readings: 1,
          interval_minutes: r.minutes,
          intervals: 1,
          detail: 'readings left out',
        });
        gap = { record, last: r, left: rng.int(0, 3) };
        sink(record);
        tell(kind, r, undefined);
        break;
      }
      case DefectKind.DuplicateIdentical: {
        const text = layout.row(r) + eol;
        yield text + text;
        line += 2;
        sink(
          defect(kind, {
            file,
            lines: [line],
            key,
            original_line: line - 1,
            detail: 'row repeated identically',
          }),
        );
        break;
      }
      case DefectKind.DuplicateConflicting: {
        const other = layout.value(r.kwh * rng.uniform(1.3, 2) + rng.uniform(0.02, 0.5));
        yield layout.row(r) + eol + layout.row(r, { value: other }) + eol;
        line += 2;
        sink(
          defect(kind, {
            file,
            lines: [line],
            key,
            original_line: line - 1,
            detail: `same key repeated with value ${other} instead of ${layout.value(r.kwh)}`,
          }),
        );
        break;
      }
      case DefectKind.NegativeValue: {
        const value = `-${layout.value(Math.max(r.kwh, 0.05))}`;
        line++;
        yield layout.row(r, { value }) + eol;
        sink(defect(kind, { file, lines: [line], key, detail: `negative import value ${value}` }));
        tell(kind, r, value);
        break;
      }
      case DefectKind.ImplausibleValue: {
        const value = layout.value(rng.pick(IMPLAUSIBLE_KWH));
        line++;
        yield layout.row(r, { value }) + eol;
        sink(
          defect(kind, { file, lines: [line], key, detail: `value ${value} above the per-interval ceiling` }),
        );
        tell(kind, r, value);
        break;
      }
      case DefectKind.Spike: {
        const value = layout.value(spikeKwh(r.kwh, rng));
        line++;
        yield layout.row(r, { value }) + eol;
        sink(
          defect(kind, {
            file,
            lines: [line],
            key,
            interval_minutes: r.minutes,
            intervals: 1,
            detail: `spike ${value} (expected about ${layout.value(r.kwh)})`,
          }),
        );
        tell(kind, r, value);
        break;
      }
      case DefectKind.MalformedRow: {
        const { line: text, detail } = layout.malformed(r, rng);
        line++;
        yield text + eol;
        sink(defect(kind, { file, lines: [line], key, detail }));
        tell(kind, r, undefined);
        break;
      }
      case DefectKind.BadTimestamp: {
        const timestamp = layout.badTimestamp(r, rng);
        line++;
        yield layout.row(r, { timestamp }) + eol;
        sink(defect(kind, { file, lines: [line], key, detail: `unparseable timestamp '${timestamp}'` }));
        tell(kind, r, undefined);
        break;
      }
    }
  }
}
