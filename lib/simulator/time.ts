/**
 * Calendar and time-zone arithmetic for the simulator, without Intl: the zones it uses all follow the
 * EU daylight-saving rule (summer time from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
 * Sunday of October), which is also the rule Europe/London has followed since 1996. Tests check these
 * results against Intl independently.
 *
 * Calendar days are "epoch days": whole days since 1970-01-01 (day 0).
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const TIME_ZONES = ['UTC', 'Europe/London', 'Europe/Berlin', 'Europe/Amsterdam'] as const;
export type TimeZone = (typeof TIME_ZONES)[number];

/** Offset from UTC outside summer time, minutes. */
const STANDARD_OFFSET: Record<TimeZone, number> = {
  UTC: 0,
  'Europe/London': 0,
  'Europe/Berlin': 60,
  'Europe/Amsterdam': 60,
};

/** 01:00 UTC on the last Sunday of `month` (1-12) of `year`, as epoch milliseconds. */
export function lastSundayAt0100Utc(year: number, month: number): number {
  const lastDay = Date.UTC(year, month, 0); // day 0 of the next month = last day of this month
  const weekday = new Date(lastDay).getUTCDay(); // 0 = Sunday
  return lastDay - weekday * DAY_MS + HOUR_MS;
}

/** Whether EU summer time is in force at the UTC instant `utcMs`. */
export function isEuSummerTime(utcMs: number): boolean {
  const year = new Date(utcMs).getUTCFullYear();
  return utcMs >= lastSundayAt0100Utc(year, 3) && utcMs < lastSundayAt0100Utc(year, 10);
}

/** Offset of local time from UTC at `utcMs`, minutes (local = UTC + offset). */
export function utcOffsetMinutes(zone: TimeZone, utcMs: number): number {
  if (zone === 'UTC') return 0;
  return STANDARD_OFFSET[zone] + (isEuSummerTime(utcMs) ? 60 : 0);
}

/** The UTC instant of local midnight starting calendar day `day` in `zone`. */
export function localMidnightUtc(zone: TimeZone, day: number): number {
  const wallClock = day * DAY_MS;
  const standard = wallClock - STANDARD_OFFSET[zone] * MINUTE_MS;
  if (zone === 'UTC') return standard;
  // Transitions happen at 01:00 UTC, never at local midnight, so one of the two candidates is consistent.
  const summer = standard - HOUR_MS;
  return isEuSummerTime(summer) ? summer : standard;
}

/** UTC bounds [start, end) of local calendar day `day` in `zone`. */
export function localDayBounds(zone: TimeZone, day: number): { start: number; end: number } {
  return { start: localMidnightUtc(zone, day), end: localMidnightUtc(zone, day + 1) };
}

export function parseIsoDate(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const [year, month, date] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, date);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== date) {
    return undefined;
  }
  return ms / DAY_MS;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

export interface DateParts {
  year: number;
  month: number;
  date: number;
}

export function dayParts(day: number): DateParts {
  const d = new Date(day * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, date: d.getUTCDate() };
}

/** `YYYY-MM-DD` of an epoch day. */
export function formatDay(day: number): string {
  const { year, month, date } = dayParts(day);
  return `${year}-${pad2(month)}-${pad2(date)}`;
}

/** `DD/MM/YYYY` of an epoch day (UK style). */
export function formatDayUk(day: number): string {
  const { year, month, date } = dayParts(day);
  return `${pad2(date)}/${pad2(month)}/${year}`;
}

/** Day of week of an epoch day: 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday). */
export function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

/** Day of the year, 1-based. */
export function dayOfYear(day: number): number {
  const { year } = dayParts(day);
  return day - Date.UTC(year, 0, 1) / DAY_MS + 1;
}

/** `YYYY-MM-DDTHH:MM:SSZ`. */
export function formatUtc(utcMs: number): string {
  return `${new Date(utcMs).toISOString().slice(0, 19)}Z`;
}

/** Local wall-clock time with its offset: `YYYY-MM-DDTHH:MM:SS+01:00`. */
export function formatWithOffset(zone: TimeZone, utcMs: number): string {
  const offset = utcOffsetMinutes(zone, utcMs);
  const local = new Date(utcMs + offset * MINUTE_MS).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${local}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

/** Local hour of day as a fraction (e.g. 13.5 for 13:30) at `utcMs` in `zone`. */
export function localHour(zone: TimeZone, utcMs: number): number {
  const local = utcMs + utcOffsetMinutes(zone, utcMs) * MINUTE_MS;
  return (((local % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
}

/** Local calendar day (epoch day) containing `utcMs` in `zone`. */
export function localDay(zone: TimeZone, utcMs: number): number {
  return Math.floor((utcMs + utcOffsetMinutes(zone, utcMs) * MINUTE_MS) / DAY_MS);
}
