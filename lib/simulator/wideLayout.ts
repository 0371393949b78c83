/** The wide layout (one row per meter and Europe/London local day, a column per settlement period) and its renderer. */
import { defect, type DefectKey, DefectKind } from './defects';
import type { Meter } from './entities';
import type { Prng } from './prng';
import {
  IMPLAUSIBLE_KWH,
  kwh3,
  meterDayReadings,
  type RenderContext,
  type RowKind,
  seriesDefect,
  seriesValue,
  spikeKwh,
} from './readings';
import { WIDE_HEADER, WIDE_PERIOD_COLUMNS, WIDE_QUALITY } from './sources';
import { formatDay, formatDayUk, formatUtc, localDayBounds, MINUTE_MS } from './time';

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
