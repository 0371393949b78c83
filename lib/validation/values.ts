import type { RowReasonCode } from './reasons';

/**
 * Raw values as the engine reads them from a record, the helpers that look at them, and the error list of
 * the row being checked (shared by the conversion, the row rules and the file validator).
 */

export const MINUTE = 60_000;
export const DAY = 86_400_000;

/** Largest |value| and step for which `isMultipleOf` skips `%`: their quotient times step is exact. */
const EXACT_VALUE = 2 ** 52;
const EXACT_STEP = 2 ** 31;

/**
 * `value % step === 0`, for every pair. `%` on numbers outside the 32-bit range (epoch milliseconds) is a
 * call into C's fmod in V8; for an integer step and |value| below 2^52, flooring the quotient and
 * multiplying back is exact (a multiple divides to its exact quotient, and the product is below 2^53), so
 * the test is the same without it. Any other pair (NaN, infinities, fractional or huge steps) uses `%`.
 */
export function isMultipleOf(value: number, step: number): boolean {
  if (Math.abs(value) <= EXACT_VALUE && step >= 1 && step <= EXACT_STEP && Number.isInteger(step)) {
    return Math.floor(value / step) * step === value;
  }
  return value % step === 0;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export type RawValue = string | number | boolean | null | undefined;

export interface RowError {
  code: RowReasonCode;
  message: string;
  column?: string;
}

/** Nulls and rule failures per canonical column, as the report lists them. */
export type ColumnStats = Record<string, { nulls: number; outOfRange: number }>;

export function describe(value: RawValue): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

export function parseNumber(raw: RawValue, decimalComma: boolean): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw !== 'string') return undefined;
  let text = raw.trim();
  if (decimalComma) text = text.replace(',', '.');
  if (!NUMBER.test(text)) return undefined;
  return Number(text);
}

export function isEmpty(raw: RawValue): boolean {
  return raw === undefined || raw === null || (typeof raw === 'string' && raw.trim().length === 0);
}

/** The wall-clock minute of day encoded in a clock label such as "00:30", "[24:00]" or "01:30:00". */
export function clockLabelMinutes(label: string): number | undefined {
  const match = /(\d{1,2}):(\d{2})/.exec(label);
  if (!match) return undefined;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  return minutes <= 24 * 60 ? minutes : undefined;
}

/** The errors of the row being checked; a failure naming a column counts it as out of range. */
export class RowErrors {
  readonly list: RowError[] = [];

  constructor(private readonly columnStats: ColumnStats) {}

  fail(code: RowReasonCode, message: string, column?: string): false {
    this.list.push(column ? { code, message, column } : { code, message });
    if (column && this.columnStats[column]) this.columnStats[column].outOfRange++;
    return false;
  }
}
