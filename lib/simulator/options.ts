/** Options of a simulation run, their defaults and their validation (shared by the CLI and tests). */
import { parseIsoDate } from './time';

export interface SimulationOptions {
  meters: number;
  days: number;
  /** First data day, YYYY-MM-DD. */
  start: string;
  /** Interval of the long UTC and NDJSON sources, minutes (the wide source is always 30). */
  interval: 15 | 30 | 60;
  seed: string;
  /** Probability that a row carries a defect (0 = clean); file-level defects scale with it too. */
  defects: number;
  /**
   * Probability that a meter-day carries a series defect, per kind (zero run, frozen value, late fill, high
   * day, low day); a meter-day carries at most one. Unset, it follows `defects`: none in a clean run, else
   * DEFAULT_SERIES_DEFECTS.
   */
  seriesDefects: number;
  /**
   * Also deal meters to a fourth source that delivers AEMO NEM12 files (every fourth meter). Opt-in and
   * absent from DEFAULT_OPTIONS: a run without it writes exactly what it wrote before NEM12 existed.
   */
  nem12?: boolean;
  /**
   * Also deal meters to a source that delivers German MSCONS interchanges (one per German market day). Opt-in
   * like `nem12`, and independent of it: each market format asked for takes its own share of the meters
   * (`meterSources` in sources.ts).
   */
  mscons?: boolean;
  /** Also deal meters to a source that delivers Green Button (ESPI) Atom feeds (one per UTC day). Opt-in. */
  espi?: boolean;
}

/** About 45 of each series-defect kind in a month of 1,000 meters (30,000 meter-days). */
export const DEFAULT_SERIES_DEFECTS = 0.0015;

/**
 * Defaults: 20 meters over 30 days from 2025-09-28, so a default run contains the switch of day-ahead
 * prices to 15 minutes (2025-10-01) and the autumn daylight-saving change (2025-10-26, 50 half-hours),
 * and still finishes in about a second.
 */
export const DEFAULT_OPTIONS: SimulationOptions = {
  meters: 20,
  days: 30,
  start: '2025-09-28',
  interval: 30,
  seed: '42',
  defects: 0.01,
  seriesDefects: DEFAULT_SERIES_DEFECTS,
};

export const LIMITS = {
  meters: [3, 1_000_000],
  days: [1, 3660],
  defects: [0, 0.5],
  seriesDefects: [0, 0.2],
} as const;

/**
 * Fills in the defaults. An unset series-defect rate follows the row rate, so `defects: 0` stays a clean
 * run (callers and the e2e truth rely on it) while a series rate can still be set on its own.
 */
export function resolveOptions(options: Partial<SimulationOptions>): SimulationOptions {
  const { nem12, mscons, espi, ...rest } = options;
  const defects = rest.defects ?? DEFAULT_OPTIONS.defects;
  return {
    ...DEFAULT_OPTIONS,
    ...rest,
    seriesDefects: rest.seriesDefects ?? (defects > 0 ? DEFAULT_SERIES_DEFECTS : 0),
    // Only when on: `nem12: false` (or mscons, espi) must leave the manifest's options (and so its bytes) as
    // a default run's.
    ...(nem12 === true ? { nem12 } : {}),
    ...(mscons === true ? { mscons } : {}),
    ...(espi === true ? { espi } : {}),
  };
}

/** Returns a list of problems (empty when the options are valid). */
export function checkOptions(options: SimulationOptions): string[] {
  const problems: string[] = [];
  const inRange = (name: 'meters' | 'days', integer: boolean): void => {
    const value = options[name];
    const [min, max] = LIMITS[name];
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      problems.push(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
    }
  };
  inRange('meters', true);
  inRange('days', true);
  const rate = (name: 'defects' | 'seriesDefects', flag: string): void => {
    const [min, max] = LIMITS[name];
    const value = options[name];
    if (!Number.isFinite(value) || value < min || value > max)
      problems.push(`--${flag} must be a rate from ${min} to ${max}`);
  };
  rate('defects', 'defects');
  rate('seriesDefects', 'series-defects');
  if (parseIsoDate(options.start) === undefined) problems.push('--start must be a date YYYY-MM-DD');
  if (![15, 30, 60].includes(options.interval)) problems.push('--interval must be 15, 30 or 60');
  if (options.seed.length === 0) problems.push('--seed must not be empty');
  return problems;
}
