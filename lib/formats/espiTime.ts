import { ZoneResolver } from '../validation/timestamps';
import { DAY, MINUTE } from '../validation/values';

/**
 * Local days of an ESPI feed (lib/formats/espi.ts), to name the days its interval defects fall on and
 * whether daylight saving starts or ends that day: from the feed's own LocalTimeParameters when it has one,
 * otherwise from the contract's zone. Interval times themselves are UTC epoch seconds and need neither.
 */
export interface LocalDays {
  /** Where the rules come from, as the notes say it. */
  readonly source: string;
  /** The local date (YYYY-MM-DD) of a UTC instant. */
  dateOf(utcMs: number): string;
  /** Whether daylight saving starts or ends on a local date. */
  changeOn(date: string): 'starts' | 'ends' | null;
}

const HOUR = 60 * MINUTE;
const dateText = (localMs: number): string => new Date(localMs).toISOString().slice(0, 10);

/**
 * A LocalTimeParameters DST rule (hexBinary, 32 bits), as the Green Button Alliance documents it: bits 0-11
 * seconds, 12-16 hours, 17-19 day of week (1-7, Monday = 1), 20-24 day of month, 25-27 operator, 28-31 month.
 * Operators: 0 the day of month; 1 the day of week on or after the day of month; 2-6 its first to fifth
 * occurrence in the month; 7 its last. `360E2000` is the second Sunday of March at 02:00, `B40E2000` the
 * first Sunday of November at 02:00. Returns the local time of the change in a year (ms as if UTC).
 */
export function dstRuleTime(rule: number, year: number): number | null {
  const seconds = rule & 0xfff;
  const hours = (rule >>> 12) & 0x1f;
  const weekday = ((rule >>> 17) & 0x7) % 7; // 7 (Sunday) → 0, as Date.getUTCDay counts
  const dayOfMonth = (rule >>> 20) & 0x1f;
  const operator = (rule >>> 25) & 0x7;
  const month = (rule >>> 28) & 0xf;
  const weekdayGiven = ((rule >>> 17) & 0x7) !== 0;
  if (month < 1 || month > 12 || hours > 23 || seconds > 3599) return null;
  if (operator > 0 && !weekdayGiven) return null;
  if (operator <= 1 && (dayOfMonth < 1 || dayOfMonth > 31)) return null;
  const first = Date.UTC(year, month - 1, 1);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const weekdayOf = (day: number): number => new Date(first + (day - 1) * DAY).getUTCDay();
  let day: number;
  if (operator === 0) day = dayOfMonth;
  else if (operator === 1) day = dayOfMonth + ((weekday - weekdayOf(dayOfMonth) + 7) % 7);
  else if (operator === 7) day = daysInMonth - ((weekdayOf(daysInMonth) - weekday + 7) % 7);
  else day = 1 + ((weekday - weekdayOf(1) + 7) % 7) + 7 * (operator - 2);
  if (day > daysInMonth) return null;
  return first + (day - 1) * DAY + hours * HOUR + seconds * 1000;
}

/**
 * The local time of LocalTimeParameters (`tzOffset` and `dstOffset` in seconds, `dstStartRule` and
 * `dstEndRule`), or what is wrong with them. The start rule is read in standard time and the end rule in
 * daylight time (02:00 local for both in North America); a rule of FFFFFFFF or a dstOffset of 0 means no
 * daylight saving.
 */
export function localTimeParameters(fields: ReadonlyMap<string, string>): LocalDays | string {
  const tz = fields.get('tzOffset') ?? '';
  const dst = fields.get('dstOffset') ?? '0';
  const [start, end] = [fields.get('dstStartRule') ?? 'FFFFFFFF', fields.get('dstEndRule') ?? 'FFFFFFFF'];
  if (!/^-?\d{1,5}$/.test(tz) || Math.abs(Number(tz)) > 14 * 3600) return `tzOffset '${tz}' is not seconds`;
  if (!/^\d{1,4}$/.test(dst) || Number(dst) > 7200) return `dstOffset '${dst}' is not 0 to 7200 seconds`;
  for (const rule of [start, end])
    if (!/^[0-9A-Fa-f]{8}$/.test(rule)) return `DST rule '${rule}' is not 8 hexadecimal digits`;
  const noDst = Number(dst) === 0 || /^f{8}$/i.test(start) || /^f{8}$/i.test(end);
  const rules = noDst ? null : { start: parseInt(start, 16), end: parseInt(end, 16) };
  if (rules !== null && (dstRuleTime(rules.start, 2000) === null || dstRuleTime(rules.end, 2000) === null))
    return `DST rules '${start}' and '${end}' do not name a day`;
  return new RuleDays(Number(tz) * 1000, Number(dst) * 1000, rules);
}

class RuleDays implements LocalDays {
  readonly source = 'LocalTimeParameters';
  private readonly years = new Map<number, { start: number; end: number } | null>();

  constructor(
    private readonly tzMs: number,
    private readonly dstMs: number,
    private readonly rules: { start: number; end: number } | null,
  ) {}

  dateOf(utcMs: number): string {
    const year = new Date(utcMs + this.tzMs).getUTCFullYear();
    const change = this.changes(year);
    let inDst = false;
    if (change !== null) {
      const startUtc = change.start - this.tzMs;
      const endUtc = change.end - this.tzMs - this.dstMs;
      inDst = startUtc < endUtc ? utcMs >= startUtc && utcMs < endUtc : utcMs >= startUtc || utcMs < endUtc;
    }
    return dateText(utcMs + this.tzMs + (inDst ? this.dstMs : 0));
  }

  changeOn(date: string): 'starts' | 'ends' | null {
    const change = this.changes(Number(date.slice(0, 4)));
    if (change === null) return null;
    return dateText(change.start) === date ? 'starts' : dateText(change.end) === date ? 'ends' : null;
  }

  private changes(year: number): { start: number; end: number } | null {
    if (!this.years.has(year)) {
      const { rules } = this;
      const start = rules === null ? null : dstRuleTime(rules.start, year);
      const end = rules === null ? null : dstRuleTime(rules.end, year);
      this.years.set(year, start !== null && end !== null ? { start, end } : null);
    }
    return this.years.get(year) ?? null;
  }
}

/** Local days of an IANA zone (the contract's), for a feed without LocalTimeParameters. */
export class ZoneDays implements LocalDays {
  readonly source: string;
  private readonly zone: ZoneResolver;

  constructor(timezone: string) {
    this.zone = new ZoneResolver(timezone);
    this.source = `the contract's zone ${timezone}`;
  }

  dateOf(utcMs: number): string {
    return dateText(utcMs + this.zone.offsetAt(utcMs) * MINUTE);
  }

  changeOn(date: string): 'starts' | 'ends' | null {
    const midnight = Date.parse(`${date}T00:00:00Z`);
    // The offsets in force at (about) the local midnights that open and close the day.
    const before = this.zone.offsetAt(midnight - this.zone.offsetAt(midnight) * MINUTE);
    const next = midnight + DAY;
    const after = this.zone.offsetAt(next - this.zone.offsetAt(next) * MINUTE);
    return after > before ? 'starts' : after < before ? 'ends' : null;
  }
}
