import type { RowReasonCode } from './reasons';

/**
 * Rules for identifier columns (meter, customer and contract ids): values that travel into reports, CSV
 * exports and spreadsheets, and are compared as keys in silver. Checked on the trimmed value:
 *
 * - NFC: a value is normalised to Unicode NFC before anything else, so the same id typed on two systems
 *   (precomposed `é` or `e` + combining accent) is one key. Normalising, not rejecting: both spellings are
 *   legitimate text, and rejecting would drop rows of sources that write NFD.
 * - ID_FORMULA_PREFIX: starts with `=`, `+`, `-`, `@`, a tab or a carriage return, which a spreadsheet
 *   opening an export would run as a formula (CSV injection).
 * - ID_BIDI_CONTROL: holds a bidirectional control (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F), which
 *   makes an id display differently from what it is ("Trojan Source").
 * - ID_INVISIBLE_CHARACTER: holds a zero-width character (U+200B–U+200D, U+2060, U+FEFF): two ids that look
 *   the same would be different keys.
 * - ID_PATTERN_MISMATCH: the source contract declares `id_patterns` for the column and the value does not
 *   match it whole.
 */

export const IDENTIFIER_COLUMNS = ['meter_id', 'customer_id', 'contract_id'] as const;
export type IdentifierColumn = (typeof IDENTIFIER_COLUMNS)[number];

export function isIdentifierColumn(name: string): name is IdentifierColumn {
  return (IDENTIFIER_COLUMNS as readonly string[]).includes(name);
}

const FORMULA_PREFIX = /^[=+\-@\t\r]/;
const BIDI_CONTROL = /[\u200E\u200F\u202A-\u202E\u2066-\u2069]/;
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF]/;
// Anything but printable ASCII (an ASCII control only takes the slower path).
const NON_ASCII = /[^\x20-\x7E]/;
const NOT_PRINTABLE_ASCII = /[^\x20-\x7E]/g;

/** The value for a message: at most 40 characters, anything outside printable ASCII as `\u{...}`. */
export function shownIdentifier(value: string): string {
  const cut = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return cut.replace(NOT_PRINTABLE_ASCII, (ch) =>
    ch === '…' ? ch : `\\u{${ch.codePointAt(0)!.toString(16).toUpperCase()}}`,
  );
}

export type IdentifierCheck =
  { ok: true; value: string } | { ok: false; code: Extract<RowReasonCode, `ID_${string}`>; message: string };

/**
 * Checks one identifier value (already trimmed) of column `column`; returns the value to store (NFC) or the
 * reason it is refused. `pattern` is the contract's compiled `id_patterns` entry, anchored at both ends.
 */
export function checkIdentifier(column: string, raw: string, pattern?: RegExp): IdentifierCheck {
  // Printable ASCII is always NFC, and nearly every id is: skip the normalisation cost for those.
  const value = NON_ASCII.test(raw) ? raw.normalize('NFC') : raw;
  if (FORMULA_PREFIX.test(value)) {
    return {
      ok: false,
      code: 'ID_FORMULA_PREFIX',
      message: `${column} '${shownIdentifier(value)}' starts with a spreadsheet formula character`,
    };
  }
  if (NON_ASCII.test(value)) {
    if (BIDI_CONTROL.test(value)) {
      return {
        ok: false,
        code: 'ID_BIDI_CONTROL',
        message: `${column} '${shownIdentifier(value)}' contains a bidirectional control character`,
      };
    }
    if (INVISIBLE.test(value)) {
      return {
        ok: false,
        code: 'ID_INVISIBLE_CHARACTER',
        message: `${column} '${shownIdentifier(value)}' contains a zero-width character`,
      };
    }
  }
  if (pattern && !pattern.test(value)) {
    return {
      ok: false,
      code: 'ID_PATTERN_MISMATCH',
      message: `${column} '${shownIdentifier(value)}' does not match the source contract's id pattern`,
    };
  }
  return { ok: true, value };
}

/** A contract's `id_patterns` entry as a regular expression that must match the whole value. */
export function compileIdPattern(source: string): RegExp {
  return new RegExp(`^(?:${source})$`, 'u');
}
