import type { SourceSchedule } from '../contracts/schedule';
import { isCalendarDate } from '../contracts/schedule';
import { ZoneResolver } from '../validation/timestamps';

/**
 * The calendar of a delivery schedule: which data dates are due, and the UTC instant each is due at. Dates
 * are calendar days written YYYY-MM-DD; instants are UTC milliseconds. Deadlines are wall-clock times in the
 * schedule's zone, so two consecutive deadlines are 23 or 25 hours apart across a daylight-saving change.
 */

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

const resolvers = new Map<string, ZoneResolver>();

function resolverOf(zone: string): ZoneResolver {
  let resolver = resolvers.get(zone);
  if (!resolver) {
    resolver = new ZoneResolver(zone);
    resolvers.set(zone, resolver);
  }
  return resolver;
}

/** `date` moved by `days` calendar days. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whole calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** The calendar date in `zone` at a UTC instant. */
export function localDateAt(zone: string, utcMs: number): string {
  const offset = resolverOf(zone).offsetAt(utcMs);
  return new Date(utcMs + offset * MINUTE_MS).toISOString().slice(0, 10);
}

/**
 * The UTC instant of wall-clock time `hhmm` on `date` in `zone`. A time in the spring-forward gap does not
 * exist: it is read with the offset in force before the gap, so it lands as far after the gap's start as it
 * was meant to (01:30 on the day London moves to BST is 02:30 BST). A time in the autumn overlap happens
 * twice: the first one counts, so a deadline is never later than the clock said.
 */
export function localTimeToUtc(zone: string, date: string, hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number) as [number, number];
  const wall = Date.parse(`${date}T00:00:00Z`) + (hours * 60 + minutes) * MINUTE_MS;
  const resolver = resolverOf(zone);
  const utc = resolver.toUtc(wall);
  if (!Number.isNaN(utc)) return utc;
  return wall - resolver.offsetAt(wall - 14 * 60 * MINUTE_MS) * MINUTE_MS;
}

/** When the file of data date `date` is due: `expected_by` on the delivery day (date + lag_days). */
export function deadlineOf(schedule: SourceSchedule, date: string): number {
  return localTimeToUtc(schedule.time_zone, addDays(date, schedule.lag_days), schedule.expected_by);
}

/** The deadline plus grace: a file landing after it is late, and none by then is missing. */
export function dueByOf(schedule: SourceSchedule, date: string): number {
  return deadlineOf(schedule, date) + schedule.grace_minutes * MINUTE_MS;
}

/**
 * The data dates a check at `now` judges: those whose delivery day is one of the last `lookbackDays` days
 * or today, in the schedule's zone, and not before `since`. `to` may still be ahead of its deadline; the
 * check decides that per date. Empty (from > to) before `since`.
 */
export function checkWindow(
  schedule: SourceSchedule,
  now: number,
  lookbackDays: number,
): { from: string; to: string } {
  const today = localDateAt(schedule.time_zone, now);
  const to = addDays(today, -schedule.lag_days);
  const earliest = addDays(to, -lookbackDays);
  const from = schedule.since !== undefined && schedule.since > earliest ? schedule.since : earliest;
  return { from, to };
}

/** Every date from `from` to `to`, inclusive. */
export function* datesFrom(from: string, to: string): Generator<string> {
  for (let date = from; date <= to; date = addDays(date, 1)) yield date;
}

const ISO_DATE_IN_NAME = /(\d{4})-(\d{2})-(\d{2})/g;

/**
 * The data date of a landed file, as the schedule says to read it: the first YYYY-MM-DD in its name that is
 * a calendar day, or its landing folder. Undefined when the name carries no date.
 */
export function dataDateOf(
  schedule: Pick<SourceSchedule, 'data_date'>,
  file: { fileName: string; landingDate: string },
): string | undefined {
  if (schedule.data_date === 'landing_folder') return file.landingDate;
  for (const match of file.fileName.matchAll(ISO_DATE_IN_NAME)) {
    if (isCalendarDate(match[0])) return match[0];
  }
  return undefined;
}
