/**
 * Timestamp parsing for source contracts: ISO 8601, epoch seconds/milliseconds, or a pattern of tokens
 * (yyyy yy MMM MM dd HH hh mm ss SSS XXX a) with literal punctuation between them. A time without an
 * offset is a wall-clock time in the contract's IANA zone and is converted to UTC here.
 *
 * Daylight-saving rule (docs/sources.md): a local time inside a spring-forward gap does not exist and is
 * rejected; a local time in a fall-back overlap is ambiguous and resolves to the earlier instant, unless
 * the caller sees the same key a second time, in which case it takes `ambiguousLaterMs` (see engine).
 */

import { TIMESTAMP_PATTERN_TOKENS } from '../contracts/sources';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MINUTE = 60_000;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1] ?? 0;
}

/** Two ASCII digits at `i` as a number, or -1. */
function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Two ASCII digits at `i` of a byte buffer as a number, or -1. */
function byteDigits2(bytes: Buffer, i: number): number {
  const a = bytes[i]! - 48;
  const b = bytes[i + 1]! - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** UTC offsets of one IANA zone, cached per quarter hour of UTC time. */
export class ZoneResolver {
  private readonly format: Intl.DateTimeFormat | undefined;
  private readonly offsets = new Map<number, number>();
  private readonly locals = new Map<number, number>();
  private readonly ambiguousLocals = new Map<number, number>();

  constructor(readonly zone: string) {
    this.format =
      zone === 'UTC' || zone === 'Etc/UTC'
        ? undefined
        : new Intl.DateTimeFormat('en-US', {
            timeZone: zone,
            hourCycle: 'h23',
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
            second: 'numeric',
          });
  }

  /** Offset from UTC in minutes at a UTC instant (local = utc + offset). */
  offsetAt(utcMs: number): number {
    if (!this.format) return 0;
    const bucket = Math.floor(utcMs / (15 * MINUTE));
    let offset = this.offsets.get(bucket);
    if (offset === undefined) {
      const parts: Record<string, number> = {};
      for (const part of this.format.formatToParts(new Date(bucket * 15 * MINUTE))) {
        if (part.type !== 'literal') parts[part.type] = Number(part.value);
      }
      const local = Date.UTC(
        parts.year!,
        parts.month! - 1,
        parts.day,
        parts.hour,
        parts.minute,
        parts.second,
      );
      offset = Math.round((local - bucket * 15 * MINUTE) / MINUTE);
      this.offsets.set(bucket, offset);
    }
    return offset;
  }

  /**
   * UTC instant of a wall-clock time given as if it were UTC (`localMs`). Returns NaN in a daylight-saving
   * gap. For an ambiguous time returns the earlier instant and `laterOf` answers the later one.
   */
  toUtc(localMs: number): number {
    if (!this.format) return localMs;
    const key = Math.floor(localMs / (15 * MINUTE));
    const cached = this.locals.get(key);
    if (cached !== undefined) return Number.isNaN(cached) ? NaN : localMs - cached * MINUTE;
    const before = this.offsetAt(localMs - 14 * 60 * MINUTE);
    const after = this.offsetAt(localMs + 14 * 60 * MINUTE);
    const candidates = before === after ? [before] : [before, after];
    const valid = candidates.filter((offset) => this.offsetAt(localMs - offset * MINUTE) === offset);
    if (valid.length === 0) {
      this.locals.set(key, NaN);
      return NaN;
    }
    // The earlier instant has the larger offset.
    const earlier = Math.max(...valid);
    this.locals.set(key, earlier);
    if (valid.length > 1) this.ambiguousLocals.set(key, Math.min(...valid));
    return localMs - earlier * MINUTE;
  }

  /** For an ambiguous wall-clock time, the later of its two instants; undefined when not ambiguous. */
  laterOf(localMs: number): number | undefined {
    const offset = this.ambiguousLocals.get(Math.floor(localMs / (15 * MINUTE)));
    return offset === undefined ? undefined : localMs - offset * MINUTE;
  }
}

export type TimeFailure = 'INVALID' | 'NONEXISTENT';

/**
 * A compiled parser for one contract's timestamp format. After `parse` returns true, `utcMs` holds the
 * instant, `wallMs` the wall-clock reading (as if UTC; for alignment checks) and `ambiguous` tells whether
 * the local time occurred twice. After it returns false, `failure` says why.
 */
export class TimestampParser {
  utcMs = 0;
  wallMs = 0;
  ambiguous = false;
  failure: TimeFailure = 'INVALID';
  private readonly tokens: Array<{ token: string } | { literal: string }> = [];
  /** Whether the pattern's literals are ASCII, which the byte parser compares byte for byte. */
  private readonly asciiPattern: boolean;
  private lastYear = NaN;
  private lastMonth = NaN;
  private lastDay = NaN;
  private lastDayMs = 0;

  constructor(
    readonly format: string,
    readonly zone: ZoneResolver,
  ) {
    if (format !== 'iso8601' && format !== 'epoch_seconds' && format !== 'epoch_millis') {
      const pattern = new RegExp(TIMESTAMP_PATTERN_TOKENS.source, 'g');
      let last = 0;
      for (let match = pattern.exec(format); match; match = pattern.exec(format)) {
        if (match.index > last) this.tokens.push({ literal: format.slice(last, match.index) });
        this.tokens.push({ token: match[0] });
        last = match.index + match[0].length;
      }
      if (last < format.length) this.tokens.push({ literal: format.slice(last) });
    }
    this.asciiPattern = this.tokens.every(
      (part) => !('literal' in part) || /^[\x20-\x7e]*$/.test(part.literal),
    );
  }

  parse(text: string): boolean {
    this.ambiguous = false;
    this.failure = 'INVALID';
    const value = text.trim();
    if (value.length === 0) return false;
    switch (this.format) {
      case 'iso8601':
        return this.parseIso(value);
      case 'epoch_seconds':
      case 'epoch_millis': {
        if (!/^-?\d+(\.\d+)?$/.test(value)) return false;
        const ms = Number(value) * (this.format === 'epoch_seconds' ? 1000 : 1);
        this.utcMs = ms;
        this.wallMs = ms + this.zone.offsetAt(ms) * MINUTE;
        return true;
      }
      default:
        return this.parsePattern(value);
    }
  }

  /**
   * `parse` of a field read straight from its UTF-8 bytes, for the shapes of nearly every row: the
   * fixed-position `YYYY-MM-DDTHH:MM:SSZ` (iso8601) and a contract pattern over ASCII. True when the field
   * parsed (the same instant `parse` of its text gives); false or undefined when it did not, or has another
   * shape: the caller then parses its text, so every failure and its reason come from `parse`.
   */
  parseBytes(bytes: Buffer, start: number, end: number): boolean | undefined {
    if (this.format === 'iso8601') return this.parseFixedIsoBytes(bytes, start, end);
    if (this.tokens.length > 0 && this.asciiPattern) return this.parsePatternBytes(bytes, start, end);
    return undefined;
  }

  private parseFixedIsoBytes(bytes: Buffer, start: number, end: number): boolean | undefined {
    if (
      end - start !== 20 ||
      bytes[start + 19] !== 90 ||
      bytes[start + 4] !== 45 ||
      bytes[start + 7] !== 45 ||
      bytes[start + 10] !== 84 ||
      bytes[start + 13] !== 58 ||
      bytes[start + 16] !== 58
    ) {
      return undefined;
    }
    const century = byteDigits2(bytes, start);
    const yy = byteDigits2(bytes, start + 2);
    const month = byteDigits2(bytes, start + 5);
    const day = byteDigits2(bytes, start + 8);
    const hour = byteDigits2(bytes, start + 11);
    const minute = byteDigits2(bytes, start + 14);
    const second = byteDigits2(bytes, start + 17);
    if ((century | yy | month | day | hour | minute | second) < 0) return undefined;
    this.ambiguous = false;
    this.failure = 'INVALID';
    return this.finish(century * 100 + yy, month, day, hour, minute, second, 0, 0);
  }

  /**
   * `parsePattern` of an ASCII field without outer spaces (what `trim` leaves alone), on its latin1 text: a
   * short string per field, and one pattern parser for both paths. Undefined for any other field or when the
   * pattern does not parse, so the caller parses the text and the reason comes from `parse`.
   */
  private parsePatternBytes(bytes: Buffer, start: number, end: number): true | undefined {
    if (end <= start || bytes[start] === 0x20 || bytes[end - 1] === 0x20) return undefined;
    for (let i = start; i < end; i++) if (bytes[i]! < 0x20 || bytes[i]! > 0x7e) return undefined;
    this.ambiguous = false;
    this.failure = 'INVALID';
    return this.parsePattern(bytes.toString('latin1', start, end)) ? true : undefined;
  }

  private finish(
    year: number,
    month: number,
    day: number,
    hour: number,
    minute: number,
    second: number,
    millis: number,
    offsetMinutes: number | undefined,
  ): boolean {
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
    if (hour > 23 || minute > 59 || second > 59) return false;
    // Date.UTC of the day, cached: consecutive readings share their day, and the time of day adds exactly.
    if (year !== this.lastYear || month !== this.lastMonth || day !== this.lastDay) {
      this.lastYear = year;
      this.lastMonth = month;
      this.lastDay = day;
      this.lastDayMs = Date.UTC(year, month - 1, day);
    }
    const wall = this.lastDayMs + ((hour * 60 + minute) * 60 + second) * 1000 + millis;
    this.wallMs = wall;
    if (offsetMinutes !== undefined) {
      this.utcMs = wall - offsetMinutes * MINUTE;
      return true;
    }
    const utc = this.zone.toUtc(wall);
    if (Number.isNaN(utc)) {
      this.failure = 'NONEXISTENT';
      return false;
    }
    this.utcMs = utc;
    this.ambiguous = this.zone.laterOf(wall) !== undefined;
    return true;
  }

  private parseIso(s: string): boolean {
    // Fast path for the common `YYYY-MM-DDTHH:MM:SSZ` (the canonical and most machine exports).
    if (
      s.length === 20 &&
      s.charCodeAt(19) === 90 &&
      s.charCodeAt(4) === 45 &&
      s.charCodeAt(7) === 45 &&
      s.charCodeAt(10) === 84
    ) {
      const century = digits2(s, 0);
      const yy = digits2(s, 2);
      const month = digits2(s, 5);
      const day = digits2(s, 8);
      const hour = digits2(s, 11);
      const minute = digits2(s, 14);
      const second = digits2(s, 17);
      if (
        century >= 0 &&
        yy >= 0 &&
        month >= 0 &&
        day >= 0 &&
        hour >= 0 &&
        minute >= 0 &&
        second >= 0 &&
        s.charCodeAt(13) === 58 &&
        s.charCodeAt(16) === 58
      ) {
        return this.finish(century * 100 + yy, month, day, hour, minute, second, 0, 0);
      }
    }
    const match =
      /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(
        s,
      );
    if (!match) return false;
    const offset = match[8] === undefined ? undefined : parseOffset(match[8]);
    if (offset === null) return false;
    return this.finish(
      Number(match[1]),
      Number(match[2]),
      Number(match[3]),
      Number(match[4] ?? 0),
      Number(match[5] ?? 0),
      Number(match[6] ?? 0),
      match[7] ? Number(match[7].slice(0, 3).padEnd(3, '0')) : 0,
      offset,
    );
  }

  private parsePattern(s: string): boolean {
    let pos = 0;
    let year = 0;
    let month = 1;
    let day = 1;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let millis = 0;
    let offset: number | undefined;
    let pm: boolean | undefined;
    const digits = (min: number, max: number): number => {
      let end = pos;
      while (end < s.length && end - pos < max && s.charCodeAt(end) >= 48 && s.charCodeAt(end) <= 57) end++;
      if (end - pos < min) return -1;
      const value = Number(s.slice(pos, end));
      pos = end;
      return value;
    };
    for (const part of this.tokens) {
      if ('literal' in part) {
        for (const ch of part.literal) {
          if (ch === ' ') {
            if (s[pos] !== ' ') return false;
            while (s[pos] === ' ') pos++;
          } else if (s[pos++] !== ch) return false;
        }
        continue;
      }
      let value: number;
      switch (part.token) {
        case 'yyyy':
          year = value = digits(4, 4);
          break;
        case 'yy':
          value = digits(2, 2);
          year = 2000 + value;
          break;
        case 'MMM': {
          const index = MONTHS.indexOf(s.slice(pos, pos + 3).toLowerCase());
          value = index;
          month = index + 1;
          pos += 3;
          break;
        }
        case 'MM':
          month = value = digits(1, 2);
          break;
        case 'dd':
          day = value = digits(1, 2);
          break;
        case 'HH':
        case 'hh':
          hour = value = digits(1, 2);
          break;
        case 'mm':
          minute = value = digits(1, 2);
          break;
        case 'ss':
          second = value = digits(1, 2);
          break;
        case 'SSS':
          millis = value = digits(3, 3);
          break;
        case 'a': {
          const marker = s.slice(pos, pos + 2).toUpperCase();
          value = marker === 'AM' || marker === 'PM' ? 0 : -1;
          pm = marker === 'PM';
          pos += 2;
          break;
        }
        default: {
          const match = /^(Z|[+-]\d{2}(?::?\d{2})?)/i.exec(s.slice(pos));
          const parsed = match ? parseOffset(match[1]!) : null;
          value = parsed === null ? -1 : 0;
          offset = parsed ?? undefined;
          pos += match ? match[0].length : 0;
        }
      }
      if (value < 0) return false;
    }
    if (pos !== s.length) return false;
    if (pm !== undefined) {
      if (hour < 1 || hour > 12) return false;
      hour = (hour % 12) + (pm ? 12 : 0);
    }
    return this.finish(year, month, day, hour, minute, second, millis, offset);
  }
}

/** Minutes east of UTC for `Z`, `+01:00`, `+0100` or `+01`; null when malformed. */
function parseOffset(text: string): number | null {
  if (text === 'Z' || text === 'z') return 0;
  const match = /^([+-])(\d{2}):?(\d{2})?$/.exec(text);
  if (!match) return null;
  const hours = Number(match[2]);
  const minutes = Number(match[3] ?? 0);
  if (hours > 18 || minutes > 59) return null;
  return (match[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

/** Local calendar date (YYYY-MM-DD) of a UTC instant in a zone. */
export function localDate(zone: ZoneResolver, utcMs: number): string {
  return new Date(utcMs + zone.offsetAt(utcMs) * MINUTE).toISOString().slice(0, 10);
}
