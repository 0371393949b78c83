/**
 * The three meter-reading layouts, rendered line by line with defects injected at a given rate. Each
 * renderer is a generator of physical lines (with their line ending), so a file of any size streams
 * through the writer in bounded memory. Values come from one PRNG stream and defect decisions from
 * another, so the clean data are the same whatever the defect rate.
 */
import { defect, type DefectKey, DefectKind, type DefectRecord } from './defects';
import type { Meter } from './entities';
import { dailyCloudiness, exportKwh, importKwh } from './model';
import type { Prng } from './prng';
import { type SeriesPlan, type SeriesSpan, spanAt } from './series';
import {
  FEED_CHANNEL,
  FEED_QUALITY,
  HEADEND_CHANNEL,
  HEADEND_HEADER,
  HEADEND_QUALITY,
  MAX_KWH_PER_INTERVAL,
  WIDE_HEADER,
  WIDE_PERIOD_COLUMNS,
  WIDE_QUALITY,
} from './sources';
import { formatDay, formatDayUk, formatUtc, formatWithOffset, localDayBounds, MINUTE_MS } from './time';
import type { TruthSink } from './truth';

export type Channel = 'import' | 'export';
export type Quality = 'actual' | 'estimated' | 'substituted';

export interface Reading {
  meter: Meter;
  channel: Channel;
  startMs: number;
  minutes: number;
  kwh: number;
  quality: Quality;
}

export type DefectSink = (record: DefectRecord) => void;

export interface RenderContext {
  /** Lake-relative path of the file being rendered (for defect records). */
  file: string;
  rate: number;
  values: Prng;
  defects: Prng;
  sink: DefectSink;
  /** Receives the true value of every reading the file leaves out or alters. */
  truth: TruthSink;
  /** The file's series defects (zero runs, frozen values, late fills, high and low days); none when absent. */
  series?: SeriesPlan;
}

/** Implausible values: the 0xFFFFFF Wh meter sentinel and an all-nines overflow, both far above the ceiling. */
const IMPLAUSIBLE_KWH = [16777.215, 99999.999];

function spikeKwh(kwh: number, rng: Prng): number {
  return Math.min(0.8 * MAX_KWH_PER_INTERVAL, kwh * rng.uniform(5, 9) + rng.uniform(1, 3));
}

/** Readings of `meters` for intervals in [startMs, endMs), ordered by meter, channel, time. */
export function* meterDayReadings(
  meters: readonly Meter[],
  startMs: number,
  endMs: number,
  minutes: number,
  rng: Prng,
  substituted = false,
): Generator<Reading> {
  const count = Math.round((endMs - startMs) / (minutes * MINUTE_MS));
  const imports = new Float64Array(count);
  for (const meter of meters) {
    const cloudiness = dailyCloudiness(rng);
    let estimatedFrom = -1;
    let estimatedTo = -1;
    if (rng.chance(0.05)) {
      estimatedFrom = rng.int(0, count - 1);
      estimatedTo = estimatedFrom + rng.int(2, Math.max(2, Math.round(count / 8)));
    }
    const estimatedKind: Quality = substituted && rng.chance(0.3) ? 'substituted' : 'estimated';
    const qualityAt = (i: number): Quality =>
      i >= estimatedFrom && i < estimatedTo ? estimatedKind : 'actual';
    for (let i = 0; i < count; i++) {
      const startAt = startMs + i * minutes * MINUTE_MS;
      imports[i] = importKwh(meter, startAt, minutes, rng);
      yield {
        meter,
        channel: 'import',
        startMs: startAt,
        minutes,
        kwh: imports[i] ?? 0,
        quality: qualityAt(i),
      };
    }
    if (meter.solarKwp > 0) {
      for (let i = 0; i < count; i++) {
        const startAt = startMs + i * minutes * MINUTE_MS;
        const kwh = exportKwh(meter, startAt, minutes, cloudiness, imports[i] ?? 0, rng);
        yield { meter, channel: 'export', startMs: startAt, minutes, kwh, quality: qualityAt(i) };
      }
    }
  }
}

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

const kwh3 = (kwh: number): string => kwh.toFixed(3);

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

type RowKind =
  | DefectKind.DuplicateIdentical
  | DefectKind.DuplicateConflicting
  | DefectKind.Gap
  | DefectKind.NegativeValue
  | DefectKind.ImplausibleValue
  | DefectKind.Spike
  | DefectKind.MalformedRow
  | DefectKind.BadTimestamp;

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

/**
 * How a series defect writes a reading it covers (`value` formats kWh as the layout writes them); undefined
 * when it leaves it out (late fill). A day kind scales the reading, kept under the contracts' ceiling so
 * validation passes it on.
 */
function seriesValue(
  span: SeriesSpan,
  kwh: number,
  stuckAt: string,
  value: (kwh: number) => string,
): string | undefined {
  if (span.kind === DefectKind.ZeroRun) return value(0);
  if (span.kind === DefectKind.FrozenValue) return stuckAt;
  if (span.factor !== undefined) return value(Math.min(kwh * span.factor, MAX_KWH_PER_INTERVAL * 0.9));
  return undefined;
}

/** The manifest record of a series defect, opened at the first reading it covers. */
function seriesDefect(
  span: SeriesSpan,
  plan: SeriesPlan,
  file: string,
  key: DefectKey,
  written: string | undefined,
): DefectRecord {
  const hours = (span.count * plan.minutes) / 60;
  const fields = { file, lines: [], key, interval_minutes: plan.minutes, intervals: span.count };
  if (span.kind === DefectKind.LateFill) {
    return defect(span.kind, {
      ...fields,
      missing_readings: 0,
      ...(plan.fillFile === undefined ? {} : { fill_file: plan.fillFile }),
      detail: `${hours} h of readings left out, delivered later in ${plan.fillFile ?? 'no file'}`,
    });
  }
  const what =
    span.kind === DefectKind.ZeroRun
      ? 'written as 0'
      : span.factor !== undefined
        ? `scaled by ${span.factor}`
        : `stuck at ${written ?? ''}`;
  return defect(span.kind, { ...fields, detail: `${span.count} import readings (${hours} h) ${what}` });
}

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
          ...(span.kind === DefectKind.LateFill ? {} : { channel: r.channel }),
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

type WideKind = RowKind | DefectKind.NonexistentLocalTime;

const WIDE_WEIGHTS: ReadonlyArray<readonly [WideKind, number]> = [
  [DefectKind.DuplicateIdentical, 2],
  [DefectKind.DuplicateConflicting, 1],
  [DefectKind.Gap, 1],
  [DefectKind.NegativeValue, 1],
  [DefectKind.ImplausibleValue, 1],
  [DefectKind.Spike, 1],
  [DefectKind.MalformedRow, 1],
  [DefectKind.BadTimestamp, 1],
  [DefectKind.NonexistentLocalTime, 1],
];
const WIDE_WEIGHTS_FULL_DAY = WIDE_WEIGHTS.filter(([k]) => k !== DefectKind.NonexistentLocalTime);

/** One meter's local day in the wide layout: its half-hour import values and whether any is estimated. */
export interface MeterDay {
  meter: Meter;
  values: number[];
  estimated: boolean;
}

/** The Europe/London local day `day` of each meter, drawing values from `rng` in meter order. */
export function* wideMeterDays(meters: readonly Meter[], day: number, rng: Prng): Generator<MeterDay> {
  const { start, end } = localDayBounds('Europe/London', day);
  for (const meter of meters) {
    const values: number[] = [];
    let estimated = false;
    for (const r of meterDayReadings([meter], start, end, 30, rng)) {
      values.push(r.kwh);
      if (r.quality !== 'actual') estimated = true;
    }
    yield { meter, values, estimated };
  }
}

/**
 * Renders the wide Europe/London file of one local day: one CRLF-terminated row per meter with the day's
 * 46, 48 or 50 half-hour values in SP1..SPn and the remaining period columns empty.
 */
export function* renderWide(
  meterDays: Iterable<MeterDay>,
  day: number,
  ctx: RenderContext,
): Generator<string> {
  const { defects: rng, sink, file } = ctx;
  const eol = '\r\n';
  const { start, end } = localDayBounds('Europe/London', day);
  const periods = Math.round((end - start) / (30 * MINUTE_MS));
  const dateUk = formatDayUk(day);
  const dateIso = formatDay(day);
  yield WIDE_HEADER.join(',') + eol;
  let line = 1;
  const row = (meterId: string, date: string, readType: string, cells: string[]): string => {
    const padded = [...cells];
    while (padded.length < WIDE_PERIOD_COLUMNS) padded.push('');
    return [meterId, date, readType, ...padded].join(',') + eol;
  };
  const periodStart = (period: number): number => start + period * 30 * MINUTE_MS;
  for (const { meter, values, estimated } of meterDays) {
    const readType = estimated ? WIDE_QUALITY.estimated : WIDE_QUALITY.actual;
    const cells = values.map(kwh3);
    const id = meter.meter_id;
    const tell = (kind: DefectKind, period: number, written: string | undefined): void =>
      ctx.truth({
        kind,
        meterId: id,
        channel: 'import',
        startMs: periodStart(period),
        minutes: 30,
        trueKwh: Number(cells[period]),
        writtenKwh: written === undefined ? null : Number(written),
        file,
      });
    const tellEvery = (kind: DefectKind): void => cells.forEach((_, period) => tell(kind, period, undefined));
    const span = ctx.series?.spans.get(id);
    if (span && ctx.series) {
      // Series defects take the row whole: no row defect on top, so the truth stays one value per period.
      const stuckAt = cells[span.first - 1] ?? cells[span.first] ?? '';
      const writtenAt = (period: number): string | undefined =>
        seriesValue(span, values[period] ?? 0, stuckAt, kwh3);
      const written = writtenAt(span.first);
      const key: DefectKey = {
        meter_id: id,
        channel: 'import',
        date: dateIso,
        interval_start: formatUtc(periodStart(span.first)),
      };
      const record = seriesDefect(span, ctx.series, file, key, written);
      sink(record);
      if (written === undefined) {
        record.missing_readings = cells.length;
        tellEvery(span.kind);
        continue;
      }
      const inSpan = (period: number): boolean => period >= span.first && period < span.first + span.count;
      line++;
      const rowCells = cells.map((c, period) => (inSpan(period) ? (writtenAt(period) ?? c) : c));
      yield row(id, dateUk, readType, rowCells);
      record.lines.push(line);
      record.column = `SP${span.first + 1}`;
      cells.forEach((c, period) => {
        if (inSpan(period) && c !== rowCells[period]) tell(span.kind, period, rowCells[period]);
      });
      continue;
    }
    if (ctx.rate <= 0 || !rng.chance(ctx.rate)) {
      line++;
      yield row(id, dateUk, readType, cells);
      continue;
    }
    const kind = rng.weighted(periods < WIDE_PERIOD_COLUMNS ? WIDE_WEIGHTS : WIDE_WEIGHTS_FULL_DAY);
    const period = rng.int(0, periods - 1);
    const column = `SP${period + 1}`;
    const cellKey: DefectKey = {
      meter_id: id,
      channel: 'import',
      date: dateIso,
      interval_start: formatUtc(periodStart(period)),
    };
    const dayKey: DefectKey = { meter_id: id, channel: 'import', date: dateIso };
    const withCell = (value: string): string[] => cells.map((c, i) => (i === period ? value : c));
    switch (kind) {
      case DefectKind.Gap:
        sink(
          defect(kind, {
            file,
            lines: [],
            key: { ...dayKey, interval_start: formatUtc(start) },
            missing_readings: periods,
            interval_minutes: 30,
            intervals: periods,
            detail: 'meter-day row left out',
          }),
        );
        tellEvery(kind);
        break;
      case DefectKind.DuplicateIdentical: {
        const text = row(id, dateUk, readType, cells);
        yield text + text;
        line += 2;
        sink(
          defect(kind, {
            file,
            lines: [line],
            key: dayKey,
            original_line: line - 1,
            detail: 'row repeated identically',
          }),
        );
        break;
      }
      case DefectKind.DuplicateConflicting: {
        const other = kwh3((values[period] ?? 0) * rng.uniform(1.3, 2) + rng.uniform(0.02, 0.5));
        yield row(id, dateUk, readType, cells) + row(id, dateUk, readType, withCell(other));
        line += 2;
        sink(
          defect(kind, {
            file,
            lines: [line],
            key: dayKey,
            column,
            original_line: line - 1,
            detail: `same meter and day repeated with ${column}=${other} instead of ${cells[period] ?? ''}`,
          }),
        );
        break;
      }
      case DefectKind.NegativeValue: {
        const value = `-${kwh3(Math.max(values[period] ?? 0, 0.05))}`;
        line++;
        yield row(id, dateUk, readType, withCell(value));
        sink(
          defect(kind, {
            file,
            lines: [line],
            key: cellKey,
            column,
            detail: `negative import value ${value}`,
          }),
        );
        tell(kind, period, value);
        break;
      }
      case DefectKind.ImplausibleValue: {
        const value = kwh3(rng.pick(IMPLAUSIBLE_KWH));
        line++;
        yield row(id, dateUk, readType, withCell(value));
        sink(
          defect(kind, {
            file,
            lines: [line],
            key: cellKey,
            column,
            detail: `value ${value} above the per-interval ceiling`,
          }),
        );
        tell(kind, period, value);
        break;
      }
      case DefectKind.Spike: {
        const value = kwh3(spikeKwh(values[period] ?? 0, rng));
        line++;
        yield row(id, dateUk, readType, withCell(value));
        sink(
          defect(kind, {
            file,
            lines: [line],
            key: cellKey,
            column,
            interval_minutes: 30,
            intervals: 1,
            detail: `spike ${value} (expected about ${cells[period] ?? ''})`,
          }),
        );
        tell(kind, period, value);
        break;
      }
      case DefectKind.MalformedRow: {
        line++;
        if (rng.chance(0.5)) {
          const full = row(id, dateUk, readType, cells);
          yield full.slice(0, full.lastIndexOf(',')) + eol;
          sink(
            defect(kind, {
              file,
              lines: [line],
              key: dayKey,
              detail: `row has ${WIDE_HEADER.length - 1} of ${WIDE_HEADER.length} columns`,
            }),
          );
          tellEvery(kind);
        } else {
          yield row(id, dateUk, readType, withCell('#VALUE!'));
          sink(
            defect(kind, {
              file,
              lines: [line],
              key: cellKey,
              column,
              detail: `${column} is '#VALUE!', not a number`,
            }),
          );
          tell(kind, period, undefined);
        }
        break;
      }
      case DefectKind.BadTimestamp: {
        const date = rng.chance(0.5) ? `32${dateUk.slice(2)}` : dateIso;
        line++;
        yield row(id, date, readType, cells);
        sink(
          defect(kind, {
            file,
            lines: [line],
            key: dayKey,
            detail: `settlement date '${date}' does not match dd/MM/yyyy`,
          }),
        );
        tellEvery(kind);
        break;
      }
      case DefectKind.NonexistentLocalTime: {
        const extra = rng.int(1, WIDE_PERIOD_COLUMNS - periods);
        const more = Array.from({ length: extra }, () =>
          kwh3((values[periods - 1] ?? 0) * rng.uniform(0.8, 1.2)),
        );
        line++;
        yield row(id, dateUk, readType, [...cells, ...more]);
        sink(
          defect(kind, {
            file,
            lines: [line],
            key: dayKey,
            column: `SP${periods + 1}`,
            detail: `values in SP${periods + 1}..SP${periods + extra}, but ${dateIso} has ${periods} settlement periods`,
          }),
        );
        break;
      }
    }
  }
}
