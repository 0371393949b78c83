/**
 * Meter readings as the simulator draws them (one PRNG stream for values, another for defects, so the clean
 * data are the same whatever the defect rate), and what the layouts' renderers share: the render context, row
 * defect kinds and how a series defect writes the readings it covers. The renderers: longLayouts.ts (one row
 * per reading) and wideLayout.ts (one row per meter-day). Each is a generator of physical lines, so a file of
 * any size streams through the writer in bounded memory.
 */
import { defect, type DefectKey, DefectKind, type DefectRecord } from './defects';
import type { Meter } from './entities';
import { dailyCloudiness, exportKwh, importKwh } from './model';
import type { Prng } from './prng';
import type { SeriesPlan, SeriesSpan } from './series';
import { MAX_KWH_PER_INTERVAL } from './sources';
import { MINUTE_MS } from './time';
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
export const IMPLAUSIBLE_KWH = [16777.215, 99999.999];

export function spikeKwh(kwh: number, rng: Prng): number {
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
export const kwh3 = (kwh: number): string => kwh.toFixed(3);

export type RowKind =
  | DefectKind.DuplicateIdentical
  | DefectKind.DuplicateConflicting
  | DefectKind.Gap
  | DefectKind.NegativeValue
  | DefectKind.ImplausibleValue
  | DefectKind.Spike
  | DefectKind.MalformedRow
  | DefectKind.BadTimestamp;

/**
 * How a series defect writes a reading it covers (`value` formats kWh as the layout writes them); undefined
 * when it leaves it out (late fill). A day kind scales the reading, kept under the contracts' ceiling so
 * validation passes it on.
 */
export function seriesValue(
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
export function seriesDefect(
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
  if (span.kind === DefectKind.ZeroRun)
    return defect(span.kind, {
      ...fields,
      detail: `${span.count} intervals (${hours} h) written as 0 on every channel`,
    });
  const what = span.factor !== undefined ? `scaled by ${span.factor}` : `stuck at ${written ?? ''}`;
  return defect(span.kind, { ...fields, detail: `${span.count} import readings (${hours} h) ${what}` });
}
