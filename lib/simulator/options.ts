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
}

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
};

export const LIMITS = { meters: [3, 1_000_000], days: [1, 3660], defects: [0, 0.5] } as const;

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
  const [dmin, dmax] = LIMITS.defects;
  if (!Number.isFinite(options.defects) || options.defects < dmin || options.defects > dmax) {
    problems.push(`--defects must be a rate from ${dmin} to ${dmax}`);
  }
  if (parseIsoDate(options.start) === undefined) problems.push('--start must be a date YYYY-MM-DD');
  if (![15, 30, 60].includes(options.interval)) problems.push('--interval must be 15, 30 or 60');
  if (options.seed.length === 0) problems.push('--seed must not be empty');
  return problems;
}
