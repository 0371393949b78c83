/**
 * Series defects: faults only visible along a meter's series of intervals (a run of zeros, a stuck
 * register, readings that arrive in a later file, a day far above or below the meter's history). They are
 * drawn per file (source and data day) before rendering, from PRNG streams of their own, so the values and
 * the row defects of every other file stay byte for byte what they were. Pure.
 */
import { DefectKind } from './defects';
import type { Meter } from './entities';
import { Prng } from './prng';
import type { Channel } from './readings';
import { HOUR_MS, MINUTE_MS } from './time';

export type RunKind = DefectKind.ZeroRun | DefectKind.FrozenValue | DefectKind.LateFill;
export type DayKind = DefectKind.HighDay | DefectKind.LowDay;
export type SeriesKind = RunKind | DayKind;

/** Runs of a few hours, drawn first. */
export const RUN_KINDS: readonly RunKind[] = [
  DefectKind.ZeroRun,
  DefectKind.FrozenValue,
  DefectKind.LateFill,
];
/** Whole days of one meter's import scaled, drawn from a stream of their own for meters without a run. */
export const DAY_KINDS: readonly DayKind[] = [DefectKind.HighDay, DefectKind.LowDay];
export const SERIES_KINDS: readonly SeriesKind[] = [...RUN_KINDS, ...DAY_KINDS];

/** Scale factor of each day kind (drawn uniformly): far enough from 1 that a day is plainly off. */
const DAY_FACTOR: Record<DayKind, readonly [number, number]> = {
  [DefectKind.HighDay]: [4, 6],
  // Low enough that a local day two hours off the file's UTC day still stays below a fifth of its usual.
  [DefectKind.LowDay]: [0.03, 0.08],
};

/** A day kind needs the meter's history to stand out against: none in a simulation's first two weeks. */
export const DAY_DEFECT_AFTER_DAYS = 14;

/** Length of each run kind, hours (drawn uniformly, then rounded to whole intervals). */
const RUN_HOURS: Record<RunKind, readonly [number, number]> = {
  // Long enough for a "consecutive zeros over N hours" rule with N of a few hours.
  [DefectKind.ZeroRun]: [3, 8],
  [DefectKind.FrozenValue]: [1.5, 6],
  // Up to 6 h, so both short-gap interpolation and longer like-day estimation have cases.
  [DefectKind.LateFill]: [1, 6],
};

/** Days between a file's delivery and the delivery of the fill file that completes it. */
export const FILL_LAG_DAYS: readonly [number, number] = [2, 5];

/** One series defect: `count` consecutive intervals of one meter, from interval index `first` of the file's day. */
export interface SeriesSpan {
  kind: SeriesKind;
  meterId: string;
  first: number;
  count: number;
  /** Day kinds: what every covered reading is multiplied by. */
  factor?: number;
}

/** The series defects of one reading file, and where their late fills land. */
export interface SeriesPlan {
  /** At most one span per meter, so kinds never overlap. */
  spans: ReadonlyMap<string, SeriesSpan>;
  /** UTC start of interval index 0 (UTC midnight for long layouts, local midnight for the wide one). */
  startMs: number;
  minutes: number;
  /** Lake-relative path of the fill file, set once the plan knows its delivery date. */
  fillFile?: string;
}

/**
 * True when `span` changes the reading of `channel`: late fills and zero runs (a fault that reports nothing
 * as zero stops every register) take every channel, the rest import only.
 */
export function spanCovers(span: SeriesSpan, channel: Channel): boolean {
  return span.kind === DefectKind.LateFill || span.kind === DefectKind.ZeroRun || channel === 'import';
}

/** The span covering the reading, if any. */
export function spanAt(
  plan: SeriesPlan,
  meterId: string,
  channel: Channel,
  startMs: number,
): SeriesSpan | undefined {
  const span = plan.spans.get(meterId);
  if (span === undefined || !spanCovers(span, channel)) return undefined;
  const index = Math.round((startMs - plan.startMs) / (plan.minutes * MINUTE_MS));
  return index >= span.first && index < span.first + span.count ? span : undefined;
}

/** True when a late fill of `plan` left the reading out (so the fill file carries it). */
export function isLateFilled(plan: SeriesPlan, meterId: string, channel: Channel, startMs: number): boolean {
  return spanAt(plan, meterId, channel, startMs)?.kind === DefectKind.LateFill;
}

/**
 * Draws the series defects of one file: each meter gets at most one, each kind with probability `rate`.
 * `intervals` is the number of intervals in the file's day. A frozen run starts at index 1 or later: the
 * interval before it holds the value the register is stuck at. With `wholeDayFills` (the wide layout, whose
 * row is the meter-day) a late fill takes the whole day, so each file holds whole rows.
 */
export function drawSeriesPlan(
  meters: readonly Meter[],
  day: { startMs: number; intervals: number; minutes: number; wholeDayFills: boolean },
  rate: number,
  rng: Prng,
): SeriesPlan {
  const { startMs, intervals, minutes } = day;
  const spans = new Map<string, SeriesSpan>();
  if (rate > 0) {
    for (const meter of meters) {
      if (!rng.chance(rate * RUN_KINDS.length)) continue;
      const kind = rng.pick(RUN_KINDS);
      const [minHours, maxHours] = RUN_HOURS[kind];
      const hours = rng.uniform(minHours, maxHours);
      const earliest = kind === DefectKind.FrozenValue ? 1 : 0;
      const count =
        kind === DefectKind.LateFill && day.wholeDayFills
          ? intervals
          : Math.min(
              intervals - earliest,
              Math.max(2, Math.round((hours * HOUR_MS) / (minutes * MINUTE_MS))),
            );
      spans.set(meter.meter_id, {
        kind,
        meterId: meter.meter_id,
        first: rng.int(earliest, intervals - count),
        count,
      });
    }
  }
  return { spans, startMs, minutes };
}

/**
 * Adds the day kinds to a file's plan: each meter without a run gets a high or a low day with probability
 * `rate` per kind, once the simulation is `DAY_DEFECT_AFTER_DAYS` days in (`dayIndex` counts from 0). The
 * span is the file's whole day.
 */
export function withDayDefects(
  plan: SeriesPlan,
  meters: readonly Meter[],
  day: { intervals: number; dayIndex: number },
  rate: number,
  rng: Prng,
): SeriesPlan {
  if (rate <= 0 || day.dayIndex < DAY_DEFECT_AFTER_DAYS) return plan;
  const spans = new Map(plan.spans);
  for (const meter of meters) {
    if (spans.has(meter.meter_id) || !rng.chance(rate * DAY_KINDS.length)) continue;
    const kind = rng.pick(DAY_KINDS);
    const factor = Math.round(rng.uniform(...DAY_FACTOR[kind]) * 1000) / 1000;
    spans.set(meter.meter_id, { kind, meterId: meter.meter_id, first: 0, count: day.intervals, factor });
  }
  return { ...plan, spans };
}

/** True for the day kinds, which scale each reading instead of writing one value over a run. */
export const isDayKind = (kind: SeriesKind): kind is DayKind =>
  (DAY_KINDS as readonly SeriesKind[]).includes(kind);

/** The PRNG stream of one file's series defects (separate from its values and row defects). */
export const seriesRng = (seed: string, source: string, day: number): Prng =>
  Prng.derive(seed, 'series', source, day);

/** The PRNG stream of one file's day defects (separate again, so adding them moved no run). */
export const dayDefectRng = (seed: string, source: string, day: number): Prng =>
  Prng.derive(seed, 'series-day', source, day);
