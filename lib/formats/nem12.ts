import type { DocumentRecord } from '../validation/documents/types';
import { FileRejection, type RowReasonCode } from '../validation/reasons';

/**
 * AEMO NEM12 meter data files (MDFF), fed one line at a time so a file of any size streams with bounded
 * memory: the reader keeps the current 200 record (the channel) and a day of variable quality (300 with V)
 * until its 400 records have arrived. 100 header · 200 NMI details · 300 interval day · 400 per-interval
 * quality of a V day · 500 B2B details (ignored) · 900 end. Each interval value becomes one record (`line` =
 * its 300 record) with the fields meter_id (NMI), channel, nmi_suffix, interval_start, interval_minutes, kwh,
 * quality, source_quality (the raw flag), quality_method, reason_code, reason_description.
 *
 * Import and export are named from the market's point of view: E suffixes are what the customer draws, B
 * what the solar system sends out. Other suffixes (Q/K reactive, …) and non-energy units are counted in
 * the summary as reported, not ingested.
 */

export type CanonicalQuality = 'actual' | 'estimated' | 'substituted' | 'missing';
export type Nem12Channel = 'import' | 'export';

export interface Nem12ChannelSummary {
  meterId: string;
  channel: Nem12Channel;
  nmiSuffixes: string[];
  days: number;
  intervals: number;
  kwh: number;
  quality: Record<CanonicalQuality, number>;
}

export interface Nem12NotIngested {
  meterId: string;
  nmiSuffix: string;
  uom: string;
  reason: string;
  days: number;
  intervals: number;
}

export interface Nem12Summary {
  /** 300 records read, of every channel. */
  daysRead: number;
  /** Interval values handed over with errors (including whole days rejected). */
  rejectedIntervals: number;
  channels: Nem12ChannelSummary[];
  notIngested: Nem12NotIngested[];
  notes: string[];
}

type RecordError = NonNullable<DocumentRecord['errors']>[number];

interface Quality {
  flag: string;
  canonical: CanonicalQuality | 'variable';
  method: string | null;
  reasonCode: string | null;
  reasonDescription: string | null;
}

interface ChannelContext {
  meterId: string;
  /** The meter id its records carry: the NMI for the first register (E1, B1), `NMI/suffix` for others. */
  seriesId: string;
  nmiSuffix: string;
  uom: string;
  intervalMinutes: number;
  /** null: the channel is reported, not ingested (see `notIngestedReason`). */
  channel: Nem12Channel | null;
  notIngestedReason: string;
  kwhExponent: number;
  /** A broken 200 record: every day under it is rejected with this error. */
  problem: RecordError | null;
}

/** A day of quality V is released before the next non-400 record, so the channel is still the day's. */
interface Day {
  line: number;
  midnightMs: number;
  values: string[];
  /** Per interval: the day's quality, or (V) that of the 400 records, bounded by the intervals, not the 400s. */
  intervalQuality: Array<Quality | undefined>;
  problem: RecordError | null;
}

const MINUTE_MS = 60_000;
const MINUTES_PER_DAY = 1440;
const INTERVAL_LENGTHS = new Set([5, 15, 30]);
/** A 300 record holds its values between the record type and date before and five quality/time fields after. */
const DAY_FIELDS_BESIDES_VALUES = 7;
/** Applied to the decimal text (`${raw}e-3`) so Wh → kWh is exact to the digit, with no binary-float noise. */
const KWH_EXPONENT: Record<string, number> = { wh: -3, kwh: 0, mwh: 3 };
const QUALITY_FLAG = /^([AEFNSV])(\d{2})?$/;
const DECIMAL = /^-?(?:\d+\.?\d*|\.\d+)$/;
const CANONICAL: Record<string, Quality['canonical']> = {
  A: 'actual',
  E: 'estimated',
  F: 'substituted',
  S: 'substituted',
  N: 'missing',
  V: 'variable',
};

const clip = (text: string): string => (text.length > 40 ? `${text.slice(0, 40)}…` : text);
const orNull = (text: string | undefined): string | null => (text ? text : null);

function parseQuality(flag: string, reasonCode?: string, reasonDescription?: string): Quality | null {
  const match = QUALITY_FLAG.exec(flag);
  if (!match) return null;
  return {
    flag,
    canonical: CANONICAL[match[1]!]!,
    method: match[2] ?? null,
    reasonCode: orNull(reasonCode),
    reasonDescription: orNull(reasonDescription),
  };
}

/** Midnight of a YYYYMMDD date as UTC milliseconds of the same wall clock, or null when no such date. */
function parseDate(text: string): number | null {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  if (!match) return null;
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  // Date.UTC rolls 20230230 over into March: only a date that prints back as itself exists.
  return new Date(ms).toISOString().slice(0, 10).replaceAll('-', '') === text ? ms : null;
}

/**
 * The meter id of an NMI's datastream. A site can have several registers of one direction (E1 general
 * supply and E2 controlled load, B1 and B2 for two inverters); as one meter they would share every
 * (meter, channel, interval) key. The first register keeps the NMI, so contracts keyed on the NMI apply to it;
 * any other is a meter of its own, `NMI/E2`.
 */
export function seriesIdOf(nmi: string, nmiSuffix: string): string {
  return /^[EB]1$/i.test(nmiSuffix) ? nmi : `${nmi}/${nmiSuffix}`;
}

export class Nem12Reader {
  private headerSeen = false;
  private endSeen = false;
  private context: ChannelContext | null = null;
  private pending: Day | null = null;
  /** The 400 records that follow belong to a day already handled (rejected or not ingested). */
  private skipEvents = false;
  private daysRead = 0;
  private rejectedIntervals = 0;
  private b2bRecords = 0;
  private readonly channels = new Map<string, Nem12ChannelSummary>();
  private readonly notIngested = new Map<string, Nem12NotIngested>();
  private readonly notes: string[] = [];

  push(line: string, lineNumber: number): DocumentRecord[] {
    const text = line.replace(/^\uFEFF/, '').replace(/\r$/, '');
    if (text.trim() === '') return [];
    const fields = text.split(',').map((field) => field.trim());
    const type = fields[0] ?? '';
    if (!this.headerSeen) return this.readHeader(fields, type, lineNumber);
    const at = `line ${lineNumber}`;
    if (this.endSeen) throw new FileRejection('DOCUMENT_UNRECOGNISED', `${at} follows the 900 end record`);
    if (type === '400') return this.readEvent(fields, lineNumber);
    const released = this.releaseVariableDay();
    this.skipEvents = false;
    if (type === '200') this.readChannel(fields);
    else if (type === '300') released.push(...this.readDay(fields, lineNumber));
    else if (type === '500') this.b2bRecords++;
    else if (type === '900') this.endSeen = true;
    else {
      const what = type === '100' ? 'a second 100 header' : `'${clip(type)}', not a NEM12 record type`;
      throw new FileRejection('DOCUMENT_UNRECOGNISED', `${at}: ${what}`);
    }
    return released;
  }

  end(): DocumentRecord[] {
    if (!this.headerSeen) throw new FileRejection('HEADER_MISSING', 'no NEM12 100 header record');
    const released = this.releaseVariableDay();
    if (!this.endSeen) this.notes.push('no 900 end record: the file may be truncated');
    return released;
  }

  get summary(): Nem12Summary {
    const notes = [...this.notes];
    if (this.b2bRecords > 0) notes.push(`${this.b2bRecords} 500 (B2B details) record(s) read and ignored`);
    return {
      daysRead: this.daysRead,
      rejectedIntervals: this.rejectedIntervals,
      channels: [...this.channels.values()].map((c) => ({
        ...c,
        nmiSuffixes: [...c.nmiSuffixes],
        quality: { ...c.quality },
      })),
      notIngested: [...this.notIngested.values()].map((n) => ({ ...n })),
      notes,
    };
  }

  private readHeader(fields: string[], type: string, lineNumber: number): DocumentRecord[] {
    const found = `line ${lineNumber} is a '${clip(type)}' record`;
    if (type !== '100')
      throw new FileRejection('HEADER_MISSING', `a NEM12 file starts with a 100 record; ${found}`);
    const version = fields[1] ?? '';
    if (version !== 'NEM12') {
      const detail =
        version === 'NEM13'
          ? 'NEM13 holds accumulated register reads, not interval data, and is not ingested'
          : `the 100 header names version '${clip(version)}', not NEM12`;
      throw new FileRejection('DOCUMENT_UNRECOGNISED', detail);
    }
    this.headerSeen = true;
    return [];
  }

  private readChannel(fields: string[]): void {
    const [, meterId = '', , , nmiSuffix = '', , , uom = '', lengthText = ''] = fields;
    const intervalMinutes = /^\d{1,4}$/.test(lengthText) ? Number(lengthText) : NaN;
    const exponent = KWH_EXPONENT[uom.toLowerCase()];
    const letter = nmiSuffix.charAt(0).toUpperCase();
    const channel = letter === 'E' ? 'import' : letter === 'B' ? 'export' : null;
    let notIngestedReason = '';
    if (channel === null)
      notIngestedReason = `suffix '${clip(nmiSuffix)}' is not an E (import) or B (export) active-energy channel`;
    else if (exponent === undefined)
      notIngestedReason = `unit '${clip(uom)}' is not an energy unit (Wh, kWh, MWh)`;
    const problem: RecordError | null =
      fields.length < 9
        ? { code: 'FIELD_COUNT_MISMATCH', message: `its 200 record has ${fields.length} fields, not 10` }
        : meterId === '' || nmiSuffix === ''
          ? { code: 'REQUIRED_MISSING', message: 'its 200 record lacks the NMI or the NMI suffix' }
          : INTERVAL_LENGTHS.has(intervalMinutes)
            ? null
            : { code: 'INVALID_INTERVAL', message: `its 200 record gives interval '${clip(lengthText)}'` };
    this.context = {
      meterId,
      seriesId: seriesIdOf(meterId, nmiSuffix),
      nmiSuffix,
      uom,
      intervalMinutes,
      channel: notIngestedReason === '' ? channel : null,
      notIngestedReason,
      kwhExponent: exponent ?? 0,
      problem,
    };
  }

  private readDay(fields: string[], line: number): DocumentRecord[] {
    this.daysRead++;
    this.skipEvents = true;
    const context = this.context;
    const valueCount = fields.length - DAY_FIELDS_BESIDES_VALUES;
    const rows = Math.max(1, valueCount);
    if (context === null)
      return this.reject(line, rows, 'MALFORMED_ROW', 'a 300 interval record before any 200 record');
    if (context.channel === null) return this.countNotIngested(context, Math.max(0, valueCount));
    if (context.problem) return this.reject(line, rows, context.problem.code, context.problem.message);
    const perDay = MINUTES_PER_DAY / context.intervalMinutes;
    if (valueCount !== perDay) {
      const message = `${context.intervalMinutes}-minute intervals need ${perDay} values (${perDay + DAY_FIELDS_BESIDES_VALUES} fields); the 300 record has ${fields.length} fields`;
      return this.reject(line, perDay, 'FIELD_COUNT_MISMATCH', message);
    }
    const [, date = ''] = fields;
    const midnightMs = parseDate(date);
    if (midnightMs === null)
      return this.reject(line, perDay, 'INVALID_DATE', `'${clip(date)}' is not a YYYYMMDD date`);
    const [flag = '', reasonCode, reasonDescription] = fields.slice(2 + perDay);
    const quality = parseQuality(flag, reasonCode, reasonDescription);
    if (quality === null)
      return this.reject(line, perDay, 'INVALID_VALUE', `'${clip(flag)}' is not a NEM12 quality flag`);
    const values = fields.slice(2, 2 + perDay);
    this.skipEvents = false;
    const variable = quality.canonical === 'variable';
    const intervalQuality = new Array<Quality | undefined>(perDay).fill(variable ? undefined : quality);
    const parsed: Day = { line, midnightMs, values, intervalQuality, problem: null };
    if (!variable) return this.emitDay(parsed, context);
    this.pending = parsed;
    return [];
  }

  private readEvent(fields: string[], line: number): DocumentRecord[] {
    if (this.skipEvents) return [];
    const day = this.pending;
    if (day === null)
      return this.reject(line, 1, 'MALFORMED_ROW', 'a 400 record that follows no 300 record of quality V');
    if (day.problem) return [];
    const [, startText = '', endText = '', flag = '', reasonCode, reasonDescription] = fields;
    const where = `the 400 record on line ${line}`;
    const start = /^\d{1,4}$/.test(startText) ? Number(startText) : NaN;
    const end = /^\d{1,4}$/.test(endText) ? Number(endText) : NaN;
    const quality = parseQuality(flag, reasonCode, reasonDescription);
    const count = day.intervalQuality.length;
    if (!(start >= 1 && start <= end && end <= count)) {
      day.problem = { code: 'INVALID_VALUE', message: `${where} gives no range within 1-${count}` };
    } else if (quality === null || quality.canonical === 'variable') {
      day.problem = { code: 'INVALID_VALUE', message: `${where} has quality '${clip(flag)}'` };
    } else {
      for (let k = start - 1; k < end; k++) {
        if (day.intervalQuality[k] !== undefined) {
          day.problem = { code: 'MALFORMED_ROW', message: `${where} covers interval ${k + 1} a second time` };
          return [];
        }
        day.intervalQuality[k] = quality;
      }
    }
    return [];
  }

  private releaseVariableDay(): DocumentRecord[] {
    const day = this.pending;
    if (day === null) return [];
    this.pending = null;
    const gap = day.intervalQuality.indexOf(undefined);
    const uncovered = `no 400 record covers interval ${gap + 1}`;
    const problem =
      day.problem ?? (gap === -1 ? null : { code: 'MALFORMED_ROW' as const, message: uncovered });
    const rows = day.values.length;
    if (problem) return this.reject(day.line, rows, problem.code, `day of quality V: ${problem.message}`);
    return this.emitDay(day, this.context!);
  }

  private emitDay(day: Day, context: ChannelContext): DocumentRecord[] {
    const { line, midnightMs, values } = day;
    const channel = context.channel!;
    const totals = this.channelTotals(context.seriesId, channel, context.nmiSuffix);
    totals.days++;
    const records: DocumentRecord[] = [];
    const stepMs = context.intervalMinutes * MINUTE_MS;
    for (let k = 0; k < values.length; k++) {
      const quality = day.intervalQuality[k]!;
      const canonical = quality.canonical as CanonicalQuality;
      const raw = values[k]!;
      const isNumber = canonical === 'missing' || DECIMAL.test(raw);
      const kwh =
        canonical === 'missing' ? null : isNumber ? Number(`${raw}e${context.kwhExponent}`) : clip(raw);
      const error: RecordError | null = isNumber
        ? null
        : { code: 'INVALID_NUMBER', message: `interval ${k + 1} is not a number`, column: 'kwh' };
      // Values are interval-ENDING and positional in market time (AEST, UTC+10, no DST): value k (1-based) of
      // day D covers D 00:00 + (k-1)·len to D 00:00 + k·len. Keeping +10:00 (not UTC) keeps the source's
      // day visible; it is exact because market time has no DST.
      const wall = new Date(midnightMs + k * stepMs).toISOString().slice(0, 19);
      records.push({
        line,
        fields: {
          meter_id: context.seriesId,
          channel,
          nmi_suffix: context.nmiSuffix,
          interval_start: `${wall}+10:00`,
          interval_minutes: context.intervalMinutes,
          kwh,
          quality: canonical,
          source_quality: quality.flag,
          quality_method: quality.method,
          reason_code: quality.reasonCode,
          reason_description: quality.reasonDescription,
        },
        ...(error ? { errors: [error] } : {}),
      });
      if (error) {
        this.rejectedIntervals++;
        continue;
      }
      totals.intervals++;
      totals.quality[canonical]++;
      if (typeof kwh === 'number') totals.kwh += kwh;
    }
    return records;
  }

  /** Rejects a whole day (or a stray record) standing for `rows` intervals. */
  private reject(line: number, rows: number, code: RowReasonCode, message: string): DocumentRecord[] {
    this.rejectedIntervals += rows;
    return [{ line, fields: {}, rows, errors: [{ code, message }] }];
  }

  private channelTotals(meterId: string, channel: Nem12Channel, nmiSuffix: string): Nem12ChannelSummary {
    const key = `${meterId}\u0000${channel}`;
    let totals = this.channels.get(key);
    if (totals === undefined) {
      const quality = { actual: 0, estimated: 0, substituted: 0, missing: 0 };
      totals = { meterId, channel, nmiSuffixes: [], days: 0, intervals: 0, kwh: 0, quality };
      this.channels.set(key, totals);
    }
    if (!totals.nmiSuffixes.includes(nmiSuffix)) {
      totals.nmiSuffixes.push(nmiSuffix);
      if (meterId.includes('/'))
        this.notes.push(`${channel} register ${clip(nmiSuffix)} staged as its own meter ${clip(meterId)}`);
    }
    return totals;
  }

  private countNotIngested(context: ChannelContext, intervals: number): DocumentRecord[] {
    const { meterId, nmiSuffix, uom, notIngestedReason: reason } = context;
    const key = `${meterId}\u0000${nmiSuffix}\u0000${uom}`;
    const entry = this.notIngested.get(key) ?? { meterId, nmiSuffix, uom, reason, days: 0, intervals: 0 };
    entry.days++;
    entry.intervals += intervals;
    this.notIngested.set(key, entry);
    return [];
  }
}
