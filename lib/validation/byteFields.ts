import type { ExportedColumn } from '../contracts/datasets';
import { type SourceContract, UNIT_TO_CANONICAL } from '../contracts/sources';
import type { CsvFieldBounds } from '../formats/byteCsv';
import type { ColumnBatch } from '../formats/parquet/columnBatch';
import type { ValueConverter } from './convert';
import type { ColumnBinding } from './header';
import { compileIdPattern } from './identifiers';
import type { MeterSeries } from './series';
import type { ColumnStats, RawValue } from './values';

/**
 * The byte path's conversion of CSV fields (decision 0033): the values of the common, valid shapes are read
 * straight from the line's UTF-8 bytes (plain decimals, integers, the fixed-position ISO instant and the
 * contract's timestamp patterns, enum codes, printable ASCII meter ids), and every other value, including
 * every value that fails, is decoded to text and goes through `ValueConverter.convert`. So a fast path only
 * has to agree with the text path on the values it accepts; every reason, message and column statistic comes
 * from the one implementation (convert.ts).
 */

const enum FieldKind {
  /** Decoded to text and converted by ValueConverter. */
  Text,
  /** A nullable column no field or constant fills: null, counted, as ValueConverter stores it. */
  Absent,
  Decimal,
  Integer,
  Timestamp,
  Enum,
  MeterId,
}

/** How one canonical column is read on the byte path. */
interface FieldPlan {
  kind: FieldKind;
  /** Its CSV field, or -1 (constant or unmapped: converted as the text path does). */
  field: number;
  /** Decimal: the canonical unit factor (kWh, EUR/MWh) or 1. */
  factor: number;
  /** No field: the value the text path reads (a contract constant, or undefined). */
  constant: RawValue;
  /** Enum: the codes a field may hold, as bytes (and their first byte), and the canonical string each stores. */
  codes: Array<{ bytes: Buffer; first: number; value: string }>;
  /** Integer: the column's allowed values as a set (`includes` per row is a slow generic call), or undefined. */
  allowed: ReadonlySet<unknown> | undefined;
  /** Integer: the value last found in `allowed` (a file repeats its interval length on every line). */
  lastAllowed: number;
  /** Absent: the column's statistics (looked up once: a lookup by column name per row is a slow keyed load). */
  stats: ColumnStats[string] | undefined;
}

/** The largest count of decimal digits whose integer is exact in a double (< 2^53). */
const MAX_EXACT_DIGITS = 15;
const POWERS_OF_TEN = Array.from({ length: MAX_EXACT_DIGITS + 1 }, (_, k) => 10 ** k);
const DOT = 46;
const COMMA = 44;
const PLUS = 43;
const MINUS = 45;
/** A delimiter no byte equals: the scanners then read a whole field, as the parsers do. */
const NO_DELIMITER = -1;

/**
 * `parseNumber` (values.ts) for a plain decimal (`[+-]digits[.digits]`, at most 15 digits, no exponent)
 * read from bytes; NaN for anything else, which the caller then converts as text. Exact: the digits form
 * an integer below 2^53 and 10^k is exact, so one division rounds correctly, as `Number(text)` does.
 */
export function parsePlainDecimal(bytes: Buffer, start: number, end: number, decimalComma: boolean): number {
  return scanPlainDecimal(bytes, start, end, NO_DELIMITER, decimalComma);
}

/** Where the last `scanPlainDecimal` or `scanPlainInteger` stopped: the field's delimiter or the line's end. */
let scannedEnd = 0;

/**
 * `parsePlainDecimal` of the field that starts at `start` and ends at the first `delimiter` or at `end`,
 * read in the same pass that finds that end (left in `scannedEnd` when the value is a number). The bytes
 * it reads and the value it returns are `parsePlainDecimal`'s for that field: the delimiter ends the field
 * before it could count as a sign or a decimal comma.
 */
export function scanPlainDecimal(
  bytes: Buffer,
  start: number,
  end: number,
  delimiter: number,
  decimalComma: boolean,
): number {
  let i = start;
  let negative = false;
  const first = i < end ? bytes[i]! : -1;
  if (first !== delimiter && (first === PLUS || first === MINUS)) {
    negative = first === MINUS;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let fraction = -1;
  for (; i < end; i++) {
    const byte = bytes[i]!;
    if (byte === delimiter) break;
    const digit = byte - 48;
    if (digit >= 0 && digit <= 9) {
      mantissa = mantissa * 10 + digit;
      digits++;
    } else if (fraction < 0 && (byte === DOT || (decimalComma && byte === COMMA))) {
      fraction = digits;
    } else return NaN;
  }
  if (digits === 0 || digits > MAX_EXACT_DIGITS) return NaN;
  scannedEnd = i;
  const scaled = fraction < 0 ? mantissa : mantissa / POWERS_OF_TEN[digits - fraction]!;
  return negative ? -scaled : scaled;
}

/** `parsePlainInteger` of the field from `start` to the first `delimiter` or `end`, as `scanPlainDecimal`. */
export function scanPlainInteger(bytes: Buffer, start: number, end: number, delimiter: number): number {
  let i = start;
  const first = i < end ? bytes[i]! : -1;
  const negative = first === MINUS && first !== delimiter;
  if (first !== delimiter && (first === PLUS || first === MINUS)) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const byte = bytes[i]!;
    if (byte === delimiter) break;
    const digit = byte - 48;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
    digits++;
  }
  if (digits === 0 || digits > MAX_EXACT_DIGITS) return NaN;
  scannedEnd = i;
  return negative ? -value : value;
}

/** An integer (`[+-]digits`, at most 15 digits) read from bytes, as `Number(text)` reads it; NaN otherwise. */
export function parsePlainInteger(bytes: Buffer, start: number, end: number): number {
  return scanPlainInteger(bytes, start, end, NO_DELIMITER);
}

/** Whether an integer column takes the value (`includes` of its allowed values, SameValueZero). */
function isAllowed(plan: FieldPlan, value: number): boolean {
  // -0 === 0 as SameValueZero has it; NaN never gets here.
  if (plan.allowed === undefined || value === plan.lastAllowed) return true;
  if (!plan.allowed.has(value)) return false;
  plan.lastAllowed = value;
  return true;
}

function sameBytes(a: Buffer, bytes: Buffer, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== bytes[start + i]) return false;
  return true;
}

/**
 * Whether a meter id's bytes need none of the text path's identifier work: printable ASCII (so NFC already,
 * no bidirectional or invisible character), nothing for `trim` to remove, and no formula prefix.
 */
function isPlainIdentifier(bytes: Buffer, start: number, end: number): boolean {
  if (end <= start) return false;
  const first = bytes[start]!;
  if (first === 0x3d || first === PLUS || first === MINUS || first === 0x40 || first === 0x20) return false;
  if (bytes[end - 1] === 0x20) return false;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte < 0x20 || byte > 0x7e) return false;
  }
  return true;
}

/** The codes an enum column accepts as they stand in the file, with the canonical string each stores. */
function enumCodes(contract: SourceContract, column: ExportedColumn): FieldPlan['codes'] | undefined {
  const map =
    column.name === 'quality'
      ? contract.quality_map
      : column.name === 'channel'
        ? contract.channel_map
        : undefined;
  const allowed = column.allowed?.filter((value): value is string => typeof value === 'string');
  if (!map && !allowed) return undefined;
  const codes: FieldPlan['codes'] = [];
  for (const code of map ? Object.keys(map) : allowed!) {
    // The text path trims the field and sends an empty one elsewhere: such codes never match it.
    if (code.length === 0 || code !== code.trim()) continue;
    const mapped = map ? map[code]! : code;
    let value: string = mapped;
    if (allowed) {
      const index = allowed.indexOf(mapped);
      if (index < 0) continue;
      value = allowed[index]!;
    }
    const bytes = Buffer.from(code, 'utf8');
    codes.push({ bytes, first: bytes[0]!, value });
  }
  return codes;
}

export class ByteFieldConverter {
  private readonly plans: FieldPlan[];
  private readonly decimalComma: boolean;
  private readonly idPattern: RegExp | undefined;
  /** The last meter id read and the string stored for it: a file holds a meter's readings in runs. */
  private lastMeterBytes = Buffer.alloc(0);
  private lastMeterValue = '';
  /**
   * For `convertLine`: the converted column each CSV field fills (-1: none), in field order; undefined when
   * the line cannot be read in one pass (no header, a field converted as text, a field feeding two columns,
   * an enum code holding the delimiter).
   */
  private readonly lineColumns: Int32Array | undefined;
  /** For `convertLine`: the converted columns no field fills (constants, absent ones), in column order. */
  readonly columnsWithoutField: number[];
  /**
   * Whether timestamps are the fixed ISO instant and the delimiter is none of its bytes (a digit, `-`, `:`,
   * `T`, `Z`), so `fieldEnd` may take an instant's end from its length.
   */
  private readonly isoDelimiterSafe: boolean;

  constructor(
    contract: SourceContract,
    private readonly columns: readonly ExportedColumn[],
    binding: ColumnBinding,
    private readonly batch: ColumnBatch,
    private readonly converter: ValueConverter,
    private readonly series: MeterSeries,
    columnStats: ColumnStats,
    /** The CSV delimiter byte (-1: none, so no one-pass reading of lines). */
    private readonly delimiter: number,
  ) {
    this.decimalComma = contract.format.type === 'csv' && contract.format.decimal === ',';
    const factor = contract.unit ? UNIT_TO_CANONICAL[contract.unit] : 1;
    const meterPattern = contract.id_patterns?.meter_id;
    this.idPattern = meterPattern === undefined ? undefined : compileIdPattern(meterPattern);
    this.plans = columns.map((column) => {
      const field = binding.fieldIndex(column.name) ?? -1;
      const constant = field < 0 ? binding.raw(column.name, undefined) : undefined;
      const plan: FieldPlan = {
        kind: FieldKind.Text,
        field,
        factor: 1,
        constant,
        codes: [],
        allowed: undefined,
        lastAllowed: NaN,
        stats: undefined,
      };
      if (field < 0 && constant === undefined && column.nullable && !column.lineage) {
        plan.kind = FieldKind.Absent;
        plan.stats = columnStats[column.name];
      }
      if (field < 0 || column.lineage) return plan;
      switch (column.type) {
        case 'double':
          plan.kind = FieldKind.Decimal;
          plan.factor = column.name === 'kwh' || column.name === 'price_eur_per_mwh' ? factor : 1;
          break;
        case 'integer':
        case 'long':
          plan.kind = FieldKind.Integer;
          // Same membership as `includes` (SameValueZero).
          plan.allowed = column.allowed ? new Set(column.allowed) : undefined;
          break;
        case 'timestamp':
          plan.kind = FieldKind.Timestamp;
          break;
        case 'string': {
          const codes = column.name === 'email' ? undefined : enumCodes(contract, column);
          if (codes) {
            plan.kind = FieldKind.Enum;
            plan.codes = codes;
          } else if (column.name === 'meter_id') plan.kind = FieldKind.MeterId;
          // Other strings (e-mail addresses, other identifiers, free text) are converted as text.
          break;
        }
        case 'date':
        case 'boolean':
          break;
      }
      return plan;
    });
    const converted = columns.flatMap((column, c) => (column.lineage ? [] : [c]));
    this.columnsWithoutField = converted.filter((c) => this.plans[c]!.field < 0);
    this.lineColumns = this.planLine(converted, binding.headerFields?.length);
    this.isoDelimiterSafe =
      converter.parser.format === 'iso8601' &&
      delimiter >= 0 &&
      !/[0-9\-:TZ]/.test(String.fromCharCode(delimiter));
  }

  /** The field-order plan of `convertLine`, or undefined when a line of this contract needs the split. */
  private planLine(converted: readonly number[], fieldCount: number | undefined): Int32Array | undefined {
    const delimiter = this.delimiter;
    if (fieldCount === undefined || delimiter < 0) return undefined;
    const lineColumns = new Int32Array(fieldCount).fill(-1);
    for (const c of converted) {
      const plan = this.plans[c]!;
      if (plan.field < 0) continue;
      if (plan.field >= fieldCount || lineColumns[plan.field] !== -1) return undefined;
      if (plan.kind === FieldKind.Text || plan.kind === FieldKind.Absent) return undefined;
      // A code matched in place must not hold the delimiter, or the field would end inside it.
      if (plan.codes.some((code) => code.bytes.includes(delimiter))) return undefined;
      lineColumns[plan.field] = c;
    }
    return lineColumns;
  }

  /**
   * Converts the fields of a line without a quote in one pass, each found from where the last one ended:
   * an enum code or the last meter id is matched in place (and must be followed by the delimiter or the
   * line's end), other fields are scanned to the delimiter and go through the same fast paths as `convert`.
   * True when the line has the header's field count and every field took a fast path, its value stored as
   * `convert` stores it; the caller then converts `columnsWithoutField`. False otherwise, with only the
   * pending ambiguous wall time to undo (done here): the caller splits the line and converts every column,
   * which stores each value again, or hands the line to the text path.
   */
  convertLine(bytes: Buffer, start: number, end: number, row: number): boolean {
    if (!this.lineColumns) return false;
    // An ambiguous interval start stored before a later field failed must not outlive the line: the text
    // path, which converts the line from here (or rejects it whole), never saw it.
    const pending = this.converter.ambiguousWall;
    if (this.convertFields(this.lineColumns, bytes, start, end, row)) return true;
    this.converter.restoreAmbiguousWall(pending);
    return false;
  }

  private convertFields(
    lineColumns: Int32Array,
    bytes: Buffer,
    start: number,
    end: number,
    row: number,
  ): boolean {
    const delimiter = this.delimiter;
    const batch = this.batch;
    const last = lineColumns.length - 1;
    let fieldStart = start;
    for (let k = 0; k <= last; k++) {
      const c = lineColumns[k]!;
      const plan = c < 0 ? undefined : this.plans[c]!;
      const kind = plan ? plan.kind : FieldKind.Text;
      let fieldEnd: number;
      // Numbers are parsed in the pass that finds the field's end; a field that is not a plain number
      // fails the line here, as `convertFast` would fail it after the scan.
      if (kind === FieldKind.Decimal || kind === FieldKind.Integer) {
        const value =
          kind === FieldKind.Decimal
            ? scanPlainDecimal(bytes, fieldStart, end, delimiter, this.decimalComma)
            : scanPlainInteger(bytes, fieldStart, end, delimiter);
        if (Number.isNaN(value)) return false;
        fieldEnd = scannedEnd;
        if (k === last ? fieldEnd !== end : fieldEnd === end) return false;
        if (kind === FieldKind.Integer && !isAllowed(plan!, value)) return false;
        const nulls = batch.nulls[c];
        if (nulls) nulls[row] = 0;
        batch.numbers[c]![row] = kind === FieldKind.Decimal ? value * plan!.factor : value;
        fieldStart = fieldEnd + 1;
        continue;
      }
      fieldEnd = plan ? this.storeInPlace(plan, c, row, bytes, fieldStart, end) : -1;
      const stored = fieldEnd >= 0;
      if (!stored) fieldEnd = this.fieldEnd(kind, bytes, fieldStart, end);
      if (k === last ? fieldEnd !== end : fieldEnd === end) return false;
      if (plan && !stored && !this.convertFast(plan, c, this.columns[c]!, row, bytes, fieldStart, fieldEnd)) {
        return false;
      }
      fieldStart = fieldEnd + 1;
    }
    return true;
  }

  /**
   * Where the field from `start` ends: at the first delimiter, or `end`. A fixed ISO instant of 20 bytes
   * followed by the delimiter or `end` is taken as ending there without a scan: when its bytes contain
   * the delimiter, the instant does not parse (every byte is checked as a digit or its punctuation, which
   * `isoDelimiterSafe` keeps apart from the delimiter) and the line fails either way.
   */
  private fieldEnd(kind: FieldKind, bytes: Buffer, start: number, end: number): number {
    const delimiter = this.delimiter;
    if (kind === FieldKind.Timestamp && this.isoDelimiterSafe) {
      const isoEnd = start + 20;
      if (isoEnd === end || (isoEnd < end && bytes[isoEnd] === delimiter)) return isoEnd;
    }
    let fieldEnd = start;
    while (fieldEnd < end && bytes[fieldEnd] !== delimiter) fieldEnd++;
    return fieldEnd;
  }

  /**
   * An enum code, or the last meter id, at `start` and followed by the delimiter or `end`: stores what
   * `convertFast` stores for it and returns where the field ends; -1 for anything else.
   */
  private storeInPlace(
    plan: FieldPlan,
    c: number,
    row: number,
    bytes: Buffer,
    start: number,
    end: number,
  ): number {
    if (plan.kind === FieldKind.Enum) {
      const firstByte = start < end ? bytes[start]! : -1;
      for (const code of plan.codes) {
        if (code.first !== firstByte) continue;
        const fieldEnd = start + code.bytes.length;
        if (this.endsField(bytes, fieldEnd, end) && sameBytes(code.bytes, bytes, start, fieldEnd)) {
          this.batch.strings[c]![row] = code.value;
          return fieldEnd;
        }
      }
    } else if (plan.kind === FieldKind.MeterId && this.lastMeterBytes.length > 0) {
      const fieldEnd = start + this.lastMeterBytes.length;
      if (this.endsField(bytes, fieldEnd, end) && sameBytes(this.lastMeterBytes, bytes, start, fieldEnd)) {
        this.batch.strings[c]![row] = this.lastMeterValue;
        return fieldEnd;
      }
    }
    return -1;
  }

  /** Whether a field can end at `at`: the line's end, or a delimiter before it. */
  private endsField(bytes: Buffer, at: number, end: number): boolean {
    return at === end || (at < end && bytes[at] === this.delimiter);
  }

  /** Converts column `c` of the line's fields into `row`; false (with the error recorded) when it fails. */
  convert(c: number, column: ExportedColumn, row: number, bytes: Buffer, fields: CsvFieldBounds): boolean {
    const plan = this.plans[c]!;
    const field = plan.field;
    if (plan.kind === FieldKind.Absent) {
      const strings = this.batch.strings[c];
      if (strings) strings[row] = null;
      else this.batch.nulls[c]![row] = 1;
      plan.stats!.nulls++;
      return true;
    }
    if (field < 0) return this.converter.convert(c, column, plan.constant, row);
    if (field >= fields.count) return this.converter.convert(c, column, undefined, row);
    const start = fields.starts[field]!;
    const end = fields.ends[field]!;
    if (this.convertFast(plan, c, column, row, bytes, start, end)) return true;
    return this.converter.convert(c, column, bytes.toString('utf8', start, end), row);
  }

  /** The fast paths: true when the value was stored; false sends it to the text path. */
  private convertFast(
    plan: FieldPlan,
    c: number,
    column: ExportedColumn,
    row: number,
    bytes: Buffer,
    start: number,
    end: number,
  ): boolean {
    const batch = this.batch;
    switch (plan.kind) {
      case FieldKind.Decimal: {
        const value = parsePlainDecimal(bytes, start, end, this.decimalComma);
        if (Number.isNaN(value)) return false;
        const nulls = batch.nulls[c];
        if (nulls) nulls[row] = 0;
        batch.numbers[c]![row] = value * plan.factor;
        return true;
      }
      case FieldKind.Integer: {
        const value = parsePlainInteger(bytes, start, end);
        if (Number.isNaN(value) || !isAllowed(plan, value)) return false;
        const nulls = batch.nulls[c];
        if (nulls) nulls[row] = 0;
        batch.numbers[c]![row] = value;
        return true;
      }
      case FieldKind.Timestamp: {
        if (this.converter.parser.parseBytes(bytes, start, end) !== true) return false;
        const nulls = batch.nulls[c];
        if (nulls) nulls[row] = 0;
        this.converter.storeParsedTimestamp(c, column.name, row);
        return true;
      }
      case FieldKind.Enum: {
        for (const code of plan.codes) {
          if (sameBytes(code.bytes, bytes, start, end)) {
            batch.strings[c]![row] = code.value;
            return true;
          }
        }
        return false;
      }
      case FieldKind.MeterId: {
        if (end === start) return false;
        if (!sameBytes(this.lastMeterBytes, bytes, start, end)) {
          if (!isPlainIdentifier(bytes, start, end)) return false;
          const id = bytes.toString('latin1', start, end);
          if (this.idPattern && !this.idPattern.test(id)) return false;
          this.lastMeterBytes = Buffer.from(bytes.subarray(start, end));
          this.lastMeterValue = this.series.internMeter(id);
        }
        batch.strings[c]![row] = this.lastMeterValue;
        return true;
      }
      case FieldKind.Text:
      case FieldKind.Absent:
        return false;
    }
  }
}
