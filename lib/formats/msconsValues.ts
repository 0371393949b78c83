import type { RowReasonCode } from '../validation/reasons';
import { MINUTE } from '../validation/values';
import type { CanonicalQuality } from './nem12';

/**
 * The values of MSCONS segments (lib/formats/mscons.ts): DTM times, the PIA product and the QTY
 * qualifier, value and unit.
 */

export type MsconsChannel = 'import' | 'export';
export type RecordError = { code: RowReasonCode; message: string; column?: string };

/** A DTM time of format 303: the instant, and the notations a record and a message use. */
export interface Instant {
  utcMs: number;
  /** `2015-12-01T20:00:00+01:00`: the wall clock and offset of the file. */
  iso: string;
  /** `2015-12-01T20:00+01:00`, as a message shows it. */
  shown: string;
  date: string;
  clock: string;
  offset: string;
}

export interface Product {
  /** The OBIS code, or null for a product that is not OBIS. */
  obis: string | null;
  /** The PIA as given: `1-1:1.29.0:SRW`, `AUA:Z08`. */
  productId: string;
  /** null: reported, not ingested (see `notIngestedReason`). */
  channel: MsconsChannel | null;
  notIngestedReason: string;
}

/** QTY qualifiers: 220 true value (Wahrer Wert), 67 substitute value (Ersatzwert), 201 proposed value. */
export const QTY_QUALITY: Readonly<Record<string, CanonicalQuality>> = {
  '220': 'actual',
  '67': 'substituted',
  '201': 'estimated',
};

const DTM_303 = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})([+-])(\d{2})(\d{2})?$/;
const OBIS = /^(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\*\d{1,3})?$/;
/** Decimal exponent to kWh of each unit code (UN/ECE Rec. 20: KWH, MWH, WHR; WH as some senders write it). */
const KWH_EXPONENT: Readonly<Record<string, number>> = { KWH: 0, MWH: 3, WHR: -3, WH: -3 };
const NUMBER: Readonly<Record<string, RegExp>> = {
  '.': /^-?(?:\d+\.?\d*|\.\d+)$/,
  ',': /^-?(?:\d+,?\d*|,\d+)$/,
};

/**
 * A copy of `text` that does not share memory with it: a value cut from a segment is a slice of the chunk of
 * text it came from, and keeping it (in totals, notes) would keep the whole chunk (decision 0017).
 */
export const flatCopy = (text: string): string => Buffer.from(text, 'utf8').toString('utf8');

export const clip = (text: string): string => (text.length > 40 ? `${text.slice(0, 40)}…` : text);

/**
 * Reads a DTM value of format 303 (`CCYYMMDDHHMM` and a UTC offset, `201512010000?+01` in the file); a
 * string saying what is wrong otherwise. Format 203 (no offset) is refused for interval times: which of a
 * fall-back day's two 02:30 it means would be a guess.
 */
export function parseDtm303(value: string, format: string): Instant | string {
  if (format !== '303') {
    const what = format === '203' ? 'format 203 has no UTC offset' : `format '${clip(format)}' is not 303`;
    return `'${clip(value)}': ${what}`;
  }
  const match = DTM_303.exec(value);
  if (!match) return `'${clip(value)}' is not CCYYMMDDHHMM with a UTC offset`;
  const [, y = '', mo = '', d = '', h = '', mi = '', sign = '+', oh = '', om = '00'] = match;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi));
  // Date.UTC rolls 20151232 or 24:00 over into the next day: only a time that prints back as itself exists.
  const printed = new Date(wall).toISOString();
  if (printed.slice(0, 16) !== `${y}-${mo}-${d}T${h}:${mi}` || Number(oh) > 14 || Number(om) > 59)
    return `'${clip(value)}' is not a valid time`;
  const offset = `${sign}${oh}:${om}`;
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const date = `${y}-${mo}-${d}`;
  const clock = `${h}:${mi}`;
  return {
    utcMs: wall - offsetMinutes * MINUTE,
    iso: `${date}T${clock}:00${offset}`,
    shown: `${date}T${clock}${offset}`,
    date,
    clock,
    offset,
  };
}

/**
 * The product of a PIA+5: an OBIS code `A-B:C.D.E` (C = 1 import, C = 2 export; another C, or a medium A
 * other than 1, electricity, is reported, not ingested), or a product that is not OBIS (`AUA:Z08`, a medium
 * code of the EDI@Energy code list), which is read as import: the caller notes it, since which direction it
 * measures is not known (UNVERIFIED).
 */
export function productOf(code: string, type: string): Product {
  const productId = flatCopy(type === '' ? code : `${code}:${type}`);
  const obis = OBIS.exec(code);
  if (!obis) return { obis: null, productId, channel: 'import', notIngestedReason: '' };
  const [, medium, , kind] = obis;
  const electricity = medium === '1';
  return {
    obis: flatCopy(code),
    productId,
    channel: electricity && kind === '1' ? 'import' : electricity && kind === '2' ? 'export' : null,
    notIngestedReason: electricity
      ? `OBIS ${code} is not active energy import (1.x.x) or export (2.x.x)`
      : `OBIS ${code} is not electricity (medium ${medium}, not 1)`,
  };
}

/**
 * A QTY value in kWh, exact to the digit (the unit is applied to the decimal text, `0,5` in WH is
 * `0.5e-3`), read with the interchange's decimal mark; no unit is read as kWh. The error otherwise.
 */
export function kwhOf(value: string, unit: string, decimal: string): number | RecordError {
  const exponent = unit === '' ? 0 : KWH_EXPONENT[unit.toUpperCase()];
  if (exponent === undefined)
    return {
      code: 'INVALID_VALUE',
      message: `unit '${clip(unit)}' is not KWH, WH (WHR) or MWH`,
      column: 'kwh',
    };
  if (!(NUMBER[decimal] ?? NUMBER['.']!).test(value)) {
    const message = `QTY value '${clip(value)}' is not a number with decimal mark '${decimal}'`;
    return { code: 'INVALID_NUMBER', message, column: 'kwh' };
  }
  return Number(`${value.replace(',', '.')}e${exponent}`);
}
