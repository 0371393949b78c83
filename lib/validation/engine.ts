import { datasetColumns, type DatasetName, type ExportedColumn } from '../contracts/datasets';
import { isDocumentFormat, type SourceContract, UNIT_TO_CANONICAL } from '../contracts/sources';
import { splitCsvLine } from '../formats/csv';
import { type DecodeLimits, TextFileDecoder } from '../formats/decode';
import { type LineSink, LineSplitter, type LineStats } from '../formats/lines';
import { ColumnBatch, type ColumnSpec } from '../formats/parquet/columnBatch';
import { type DocumentRecord, parseDocument } from './documents';
import { fingerprint, KeyDuplicates, ReadingDuplicates, readingFingerprint } from './duplicates';
import { checkIdentifier, compileIdPattern, isIdentifierColumn } from './identifiers';
import { FILE_REASONS, type FileReasonCode, FileRejection, ROW_REASONS, type RowReasonCode } from './reasons';
import { RAW_LINE_LIMIT, type RejectedRow, VALIDATION_REPORT_VERSION, type ValidationReport } from './report';
import { TimestampParser, ZoneResolver } from './timestamps';

/**
 * The validation engine: streams one source file through its source contract into canonical rows.
 * Valid rows go to `sinks.writeBatch` as typed column batches, rejected rows to `sinks.writeRejected`
 * with reasons, and the returned report says what happened. It never throws for bad data: file-level
 * problems become a `rejected` verdict. Memory stays bounded: one batch of rows plus the duplicate index.
 */

export interface ValidationLimits extends DecodeLimits {
  maxLineBytes: number;
}

export interface ValidationInput {
  source: AsyncIterable<Buffer | string>;
  contract: SourceContract;
  file: { path: string; etag: string };
  instanceId: string;
  /** The staging time: written as `ingested_at` and the reference for "too far in the future". */
  now: Date;
  limits: ValidationLimits;
  batchSize?: number;
}

export interface ValidationSinks {
  writeBatch(batch: ColumnBatch): Promise<void>;
  writeRejected(row: RejectedRow): void;
  /** Called after each batch and every few thousand rejections, so buffered rejections stay bounded. */
  flush(): Promise<void>;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const MIN_TIME = Date.UTC(2000, 0, 1);
const MAX_TIME = Date.UTC(2100, 0, 1);
const METER_FUTURE_GRACE_MS = 60 * MINUTE;
const PRICE_FUTURE_LIMIT_MS = 3 * DAY;
const PRICE_MIN = -500;
const PRICE_MAX = 4000;
/** Default ceiling: a 100 kW connection running flat out for the interval. */
const DEFAULT_MAX_KW = 100;
const REJECTION_FLUSH_EVERY = 5000;
/** Rows per Parquet row group: 16K keeps the text they reference small (measured: 80 MB less peak RSS than 64K). */
const DEFAULT_BATCH_ROWS = 16_384;
const MAX_INTERNED_METERS = 200_000;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const ALLOWED_RESOLUTIONS = new Set([15, 60]);

type RawValue = string | number | boolean | null | undefined;

interface RowError {
  code: RowReasonCode;
  message: string;
  column?: string;
}

/** How a canonical column gets its raw value from a record. */
type ValueSource =
  | { kind: 'field'; index: number; name: string }
  | { kind: 'path'; path: string[]; name: string }
  | { kind: 'constant'; value: string | number }
  | { kind: 'none' };

function describe(value: RawValue): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function parseNumber(raw: RawValue, decimalComma: boolean): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw !== 'string') return undefined;
  let text = raw.trim();
  if (decimalComma) text = text.replace(',', '.');
  if (!NUMBER.test(text)) return undefined;
  return Number(text);
}

function isEmpty(raw: RawValue): boolean {
  return raw === undefined || raw === null || (typeof raw === 'string' && raw.trim().length === 0);
}

/** The wall-clock minute of day encoded in a clock label such as "00:30", "[24:00]" or "01:30:00". */
function clockLabelMinutes(label: string): number | undefined {
  const match = /(\d{1,2}):(\d{2})/.exec(label);
  if (!match) return undefined;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  return minutes <= 24 * 60 ? minutes : undefined;
}

interface EngineState {
  rowsRead: number;
  rowsValid: number;
  rowsRejected: number;
  duplicatesDropped: number;
  emptyValues: number;
  ambiguousResolved: number;
  ruleFailures: Record<string, number>;
  columnStats: Record<string, { nulls: number; outOfRange: number }>;
  meters: Set<string>;
  firstInterval: number;
  lastInterval: number;
  /** UTC days (days since the epoch) of the staged intervals. */
  days: Set<number>;
  notes: string[];
}

class FileValidator implements LineSink {
  readonly columns: ExportedColumn[];
  readonly batch: ColumnBatch;
  readonly state: EngineState;
  private readonly dataset: DatasetName;
  private readonly sources = new Map<string, ValueSource>();
  private readonly zone: ZoneResolver;
  private readonly parser: TimestampParser;
  private readonly dateParser: TimestampParser | undefined;
  private readonly decimalComma: boolean;
  private readonly unitFactor: number;
  private readonly ceilingKwhPerMinute: number;
  private readonly readingDuplicates = new ReadingDuplicates();
  private readonly keyDuplicates = new KeyDuplicates();
  private readonly ambiguousSeen = new Set<string>();
  private readonly fields: string[] = [];
  /** Fields of the current CSV row; entries past it in `fields` are left over from longer rows. */
  private fieldCount = 0;
  private readonly meterIds = new Map<string, string>();
  /** The contract's `id_patterns`, compiled once (lib/validation/identifiers.ts). */
  private readonly idPatterns: ReadonlyMap<string, RegExp>;
  private readonly errors: RowError[] = [];
  private readonly columnIndex: Record<string, number> = {};
  /** Columns the dataset contract marks as PII: reasons name them but never quote their values. */
  private readonly piiColumns: ReadonlySet<string>;
  private readonly nowMs: number;
  private readonly ingestedAt: number;
  private headerFields: string[] | undefined;
  private valueColumns: Array<{ name: string; index: number; clockMinutes?: number }> = [];
  private pendingRejections = 0;
  private sepLineAllowed = true;

  constructor(
    readonly input: ValidationInput,
    readonly sinks: ValidationSinks,
  ) {
    const { contract } = input;
    this.dataset = contract.dataset;
    this.columns = datasetColumns(contract.dataset);
    const specs: ColumnSpec[] = this.columns.map((c) => ({
      name: c.name,
      type: c.type,
      nullable: c.nullable,
    }));
    this.batch = new ColumnBatch(specs, input.batchSize ?? DEFAULT_BATCH_ROWS);
    this.columns.forEach((c, i) => (this.columnIndex[c.name] = i));
    this.piiColumns = new Set(this.columns.filter((c) => c.pii).map((c) => c.name));
    this.idPatterns = new Map(
      Object.entries(contract.id_patterns ?? {}).map(([name, source]) => [name, compileIdPattern(source)]),
    );
    this.zone = new ZoneResolver(contract.timestamp.timezone);
    this.parser = new TimestampParser(contract.timestamp.format, this.zone);
    this.dateParser =
      contract.layout.kind === 'wide'
        ? new TimestampParser(contract.layout.date_format, new ZoneResolver('UTC'))
        : undefined;
    this.decimalComma = contract.format.type === 'csv' && contract.format.decimal === ',';
    this.unitFactor = contract.unit ? UNIT_TO_CANONICAL[contract.unit] : 1;
    const maxKwh = contract.max_kwh_per_interval;
    this.ceilingKwhPerMinute =
      maxKwh !== undefined && contract.interval_minutes !== undefined
        ? maxKwh / contract.interval_minutes
        : maxKwh !== undefined
          ? maxKwh / 30
          : DEFAULT_MAX_KW / 60;
    this.nowMs = input.now.getTime();
    this.ingestedAt = this.nowMs;
    this.state = {
      rowsRead: 0,
      rowsValid: 0,
      rowsRejected: 0,
      duplicatesDropped: 0,
      emptyValues: 0,
      ambiguousResolved: 0,
      ruleFailures: {},
      columnStats: Object.fromEntries(
        this.columns.filter((c) => !c.lineage).map((c) => [c.name, { nulls: 0, outOfRange: 0 }]),
      ),
      meters: new Set(),
      firstInterval: Infinity,
      lastInterval: -Infinity,
      days: new Set(),
      notes: [],
    };
    if (contract.format.type === 'ndjson' || isDocumentFormat(contract.format.type)) {
      for (const [column, path] of Object.entries(contract.layout.columns)) {
        this.sources.set(column, { kind: 'path', path: path.split('.'), name: path });
      }
    }
    for (const [column, value] of Object.entries(contract.constants)) {
      if (!contract.layout.columns[column]) this.sources.set(column, { kind: 'constant', value });
    }
    if (contract.format.type === 'csv' && !contract.format.header) this.bindHeader(undefined);
  }

  // ---- header ---------------------------------------------------------------------------------

  /** Resolves mapped columns to field positions: by header name, or by 1-based position without a header. */
  private bindHeader(header: string[] | undefined): void {
    const { contract } = this.input;
    const mapping = contract.layout.columns;
    if (!header) {
      for (const [column, position] of Object.entries(mapping)) {
        this.sources.set(column, { kind: 'field', index: Number(position) - 1, name: `#${position}` });
      }
      if (contract.layout.kind === 'wide') {
        this.sources.set('__date', {
          kind: 'field',
          index: Number(contract.layout.date_column) - 1,
          name: `#${contract.layout.date_column}`,
        });
        this.valueColumns = contract.layout.value_columns.map((name) => ({ name, index: Number(name) - 1 }));
      }
      return;
    }
    const positions = new Map<string, number>();
    const duplicates = new Set<string>();
    header.forEach((name, index) => {
      const key = name.trim();
      if (positions.has(key)) duplicates.add(key);
      else positions.set(key, index);
    });
    const find = (name: string): number | undefined =>
      positions.get(name) ??
      [...positions.entries()].find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
    const wanted = [
      ...Object.values(mapping),
      ...(contract.layout.kind === 'wide'
        ? [contract.layout.date_column, ...contract.layout.value_columns]
        : []),
    ];
    const missing = wanted.filter((name) => find(name) === undefined);
    // Data, not names: plain numbers and dates/timestamps (clock labels such as "00:30" are names).
    const numeric = header.filter((field) =>
      /^\s*(?:[-+]?\d+(?:\.\d+)?|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\S*)\s*$/.test(field),
    ).length;
    if (missing.length === wanted.length && numeric * 2 >= header.length) {
      // The first line of a PII dataset is a person's record: say what it looks like, not what it holds.
      throw new FileRejection(
        'HEADER_MISSING',
        this.piiColumns.size > 0
          ? 'the first line looks like data (not quoted: the dataset holds PII)'
          : `the first line looks like data: ${describe(header.slice(0, 3).join(','))}`,
      );
    }
    if (missing.length > 0) {
      throw new FileRejection(
        'HEADER_MISSING_COLUMNS',
        missing.slice(0, 8).join(', ') + (missing.length > 8 ? ', …' : ''),
      );
    }
    const clashes = wanted.filter((name) => duplicates.has(name));
    if (clashes.length > 0) throw new FileRejection('HEADER_DUPLICATE_COLUMN', clashes.join(', '));
    for (const [column, name] of Object.entries(mapping)) {
      this.sources.set(column, { kind: 'field', index: find(name)!, name });
    }
    if (contract.layout.kind === 'wide') {
      this.sources.set('__date', {
        kind: 'field',
        index: find(contract.layout.date_column)!,
        name: contract.layout.date_column,
      });
      this.valueColumns = contract.layout.value_columns.map((name) => ({ name, index: find(name)! }));
    }
    this.headerFields = header;
  }

  private prepareClockColumns(): void {
    const { contract } = this.input;
    if (contract.layout.kind !== 'wide' || contract.layout.addressing !== 'clock') return;
    for (const column of this.valueColumns) {
      const minutes = clockLabelMinutes(column.name);
      if (minutes === undefined) {
        throw new FileRejection(
          'HEADER_MISSING_COLUMNS',
          `value column '${column.name}' carries no HH:MM clock label`,
        );
      }
      column.clockMinutes = minutes;
    }
  }

  // ---- lines ----------------------------------------------------------------------------------

  private currentLine = '';

  onLine(line: string, lineNumber: number): void {
    const { contract } = this.input;
    this.currentLine = line;
    this.batch.reserve(Math.max(1, this.valueColumns.length));
    if (this.sepLineAllowed) {
      this.sepLineAllowed = false;
      const sep = /^sep=(.)$/i.exec(line.trim());
      if (sep && contract.format.type === 'csv') {
        if (sep[1] !== contract.format.delimiter) {
          throw new FileRejection(
            'DELIMITER_MISMATCH',
            `sep=${sep[1]} but the contract says ${JSON.stringify(contract.format.delimiter)}`,
          );
        }
        this.state.notes.push(`line ${lineNumber}: skipped the 'sep=${sep[1]}' line`);
        this.sepLineAllowed = false;
        return;
      }
    }
    if (contract.format.type === 'csv') {
      const count = splitCsvLine(line, contract.format.delimiter, contract.format.quote, this.fields);
      this.fieldCount = Math.max(count, 0);
      if (contract.format.header && !this.headerFields) {
        if (count < 0) throw new FileRejection('HEADER_MISSING', 'the header line has broken quoting');
        this.bindHeader(this.fields.slice(0, count));
        this.prepareClockColumns();
        return;
      }
      if (
        contract.layout.kind === 'wide' &&
        this.valueColumns.length > 0 &&
        this.valueColumns[0]!.clockMinutes === undefined
      ) {
        this.prepareClockColumns();
      }
      if (count < 0) {
        this.rejectWhole(line, lineNumber, [
          { code: 'MALFORMED_ROW', message: 'unbalanced quotes in the row' },
        ]);
        return;
      }
      const expected = this.headerFields?.length;
      if (expected !== undefined && count !== expected) {
        this.rejectWhole(line, lineNumber, [
          { code: 'FIELD_COUNT_MISMATCH', message: `${count} fields where the header has ${expected}` },
        ]);
        return;
      }
      this.processRecord(line, lineNumber, undefined);
    } else {
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        this.rejectWhole(line, lineNumber, [
          { code: 'MALFORMED_ROW', message: 'the line is not valid JSON' },
        ]);
        return;
      }
      if (record === null || typeof record !== 'object' || Array.isArray(record)) {
        this.rejectWhole(line, lineNumber, [
          { code: 'MALFORMED_ROW', message: 'the line is not a JSON object' },
        ]);
        return;
      }
      this.processRecord(line, lineNumber, record as Record<string, unknown>);
    }
  }

  /**
   * One record of a document format. A record standing for a group (`rows`, e.g. a whole ENTSO-E period
   * with an unusable resolution) is rejected whole with its errors; a single record's errors join the
   * reasons its values earn in the usual checks.
   */
  onDocumentRecord(record: DocumentRecord): void {
    this.batch.reserve(1);
    const raw = JSON.stringify(record.fields);
    this.currentLine = raw;
    if (record.rows !== undefined) {
      this.rejectWhole(raw, record.line, record.errors ?? [], record.rows);
      return;
    }
    this.processRecord(raw, record.line, record.fields, record.errors);
  }

  private raw(column: string, record: Record<string, unknown> | undefined): RawValue {
    const source = this.sources.get(column);
    if (!source) return undefined;
    switch (source.kind) {
      case 'field':
        return source.index < this.fieldCount ? this.fields[source.index] : undefined;
      case 'constant':
        return source.value;
      case 'path': {
        let value: unknown = record;
        for (const key of source.path) {
          if (value === null || typeof value !== 'object') return undefined;
          value = (value as Record<string, unknown>)[key];
        }
        return value === undefined || value === null || typeof value === 'object'
          ? (value as null | undefined)
          : (value as RawValue);
      }
      case 'none':
        return undefined;
    }
  }

  /** One string per meter id, for the same reason as canonical enum values (bounded: ids beyond the cap are kept as read). */
  private internMeter(id: string): string {
    const known = this.meterIds.get(id);
    if (known !== undefined) return known;
    if (this.meterIds.size < MAX_INTERNED_METERS) this.meterIds.set(id, id);
    return id;
  }

  private field(index: number): string | undefined {
    return index < this.fieldCount ? this.fields[index] : undefined;
  }

  /** A raw value as a reason quotes it; withheld for PII, since reasons reach reports, quarantine and audit. */
  private quoted(column: string, value: RawValue): string {
    return this.piiColumns.has(column) ? '(value withheld: PII)' : `'${describe(value)}'`;
  }

  private sourceName(column: string): string {
    const source = this.sources.get(column);
    return source && (source.kind === 'field' || source.kind === 'path') ? source.name : column;
  }

  // ---- rows -----------------------------------------------------------------------------------

  private fail(code: RowReasonCode, message: string, column?: string): false {
    this.errors.push(column ? { code, message, column } : { code, message });
    if (column && this.state.columnStats[column]) this.state.columnStats[column].outOfRange++;
    return false;
  }

  private processRecord(
    line: string,
    lineNumber: number,
    record: Record<string, unknown> | undefined,
    recordErrors?: readonly RowError[],
  ): void {
    if (this.input.contract.layout.kind === 'wide') {
      this.processWide(line, lineNumber);
      return;
    }
    this.state.rowsRead++;
    this.errors.length = 0;
    const row = this.batch.length;
    let ok = true;
    for (const error of recordErrors ?? []) ok = this.fail(error.code, error.message, error.column);
    for (let c = 0; c < this.columns.length; c++) {
      const column = this.columns[c]!;
      if (column.lineage) continue;
      ok = this.convert(c, column, this.raw(column.name, record), row) && ok;
    }
    if (ok) ok = this.checkRow(row);
    if (!ok) {
      this.reject(line, lineNumber, 1);
      return;
    }
    this.accept(row, lineNumber);
  }

  /** Wide layout: one record holds a local day of readings for one meter, one per value column. */
  private processWide(line: string, lineNumber: number): void {
    const { contract } = this.input;
    if (contract.layout.kind !== 'wide') return;
    const intervalMinutes = contract.interval_minutes ?? 30;
    const cells = this.valueColumns.map((column) => this.field(column.index));
    const present = cells.filter((cell) => !isEmpty(cell)).length;
    this.errors.length = 0;
    const dateRaw = this.field((this.sources.get('__date') as { index: number }).index);
    if (!this.dateParser!.parse(String(dateRaw ?? ''))) {
      this.fail(
        'INVALID_DATE',
        `'${describe(dateRaw)}' does not match ${contract.layout.date_format}`,
        'interval_start',
      );
    }
    // Validate the row-level columns once on a scratch row, then copy them into each reading.
    const row = this.batch.length;
    let ok = this.errors.length === 0;
    for (let c = 0; c < this.columns.length; c++) {
      const column = this.columns[c]!;
      if (column.lineage || column.name === 'interval_start' || column.name === 'kwh') continue;
      ok = this.convert(c, column, this.raw(column.name, undefined), row) && ok;
    }
    if (!ok) {
      this.state.rowsRead += Math.max(1, present);
      this.reject(line, lineNumber, Math.max(1, present));
      return;
    }
    const wall = this.dateParser!.wallMs;
    const dayStart = Date.UTC(
      new Date(wall).getUTCFullYear(),
      new Date(wall).getUTCMonth(),
      new Date(wall).getUTCDate(),
    );
    const midnight = this.zone.toUtc(dayStart);
    const nextMidnight = this.zone.toUtc(dayStart + DAY);
    const periods = Math.round((nextMidnight - midnight) / (intervalMinutes * MINUTE));
    const template = this.copyRow(row);
    for (let k = 0; k < this.valueColumns.length; k++) {
      const cell = cells[k];
      const column = this.valueColumns[k]!;
      if (isEmpty(cell)) {
        if (contract.layout.addressing === 'period' ? k < periods : true) this.state.emptyValues++;
        continue;
      }
      this.state.rowsRead++;
      this.errors.length = 0;
      const target = this.batch.length;
      this.pasteRow(template, target);
      let start: number;
      if (contract.layout.addressing === 'period') {
        if (k >= periods) {
          this.fail(
            'PERIOD_OUT_OF_RANGE',
            `period ${k + 1} on a day of ${periods} periods`,
            'interval_start',
          );
          this.rejectReading(line, lineNumber, column.name);
          continue;
        }
        start = midnight + k * intervalMinutes * MINUTE;
      } else {
        const labelMinutes = column.clockMinutes!;
        const startMinutes =
          contract.timestamp.marks === 'end' ? labelMinutes - intervalMinutes : labelMinutes;
        const local = dayStart + startMinutes * MINUTE;
        start = this.zone.toUtc(local);
        if (Number.isNaN(start)) {
          this.fail(
            'TIMESTAMP_NONEXISTENT',
            `local time ${column.name} does not exist on this day`,
            'interval_start',
          );
          this.rejectReading(line, lineNumber, column.name);
          continue;
        }
        if (this.zone.laterOf(local) !== undefined) this.state.ambiguousResolved++;
      }
      this.batch.numbers[this.columnIndex.interval_start!]![target] = start;
      const kwhOk = this.convert(this.columnIndex.kwh!, this.columns[this.columnIndex.kwh!]!, cell, target);
      if (!kwhOk || !this.checkRow(target)) {
        this.rejectReading(line, lineNumber, column.name);
        continue;
      }
      this.accept(target, lineNumber);
    }
  }

  private copyRow(row: number): Array<number | string | null | undefined> {
    return this.columns.map((_, c) => {
      const strings = this.batch.strings[c];
      if (strings) return strings[row];
      return this.batch.nulls[c]?.[row] === 1 ? null : this.batch.numbers[c]![row];
    });
  }

  private pasteRow(values: Array<number | string | null | undefined>, row: number): void {
    for (let c = 0; c < values.length; c++) {
      const value = values[c];
      const strings = this.batch.strings[c];
      if (strings) strings[row] = value as string | null;
      else if (value === null) this.batch.nulls[c]![row] = 1;
      else {
        this.batch.numbers[c]![row] = value as number;
        const nulls = this.batch.nulls[c];
        if (nulls) nulls[row] = 0;
      }
    }
  }

  /** Converts one raw value into the batch; records an error and returns false when it does not fit. */
  private convert(c: number, column: ExportedColumn, raw: RawValue, row: number): boolean {
    const { contract } = this.input;
    const name = column.name;
    if (isEmpty(raw)) {
      if (column.nullable) {
        const strings = this.batch.strings[c];
        if (strings) strings[row] = null;
        else this.batch.nulls[c]![row] = 1;
        this.state.columnStats[name]!.nulls++;
        return true;
      }
      if (name === 'interval_minutes' || name === 'resolution_minutes') {
        if (contract.interval_minutes !== undefined) {
          this.batch.numbers[c]![row] = contract.interval_minutes;
          return true;
        }
      }
      return this.fail('REQUIRED_MISSING', `${this.sourceName(name)} is empty`, name);
    }
    const nulls = this.batch.nulls[c];
    if (nulls) nulls[row] = 0;
    switch (column.type) {
      case 'string': {
        let value = typeof raw === 'string' ? raw.trim() : String(raw);
        if (name === 'quality' && contract.quality_map) {
          const mapped = contract.quality_map[value];
          if (mapped === undefined)
            return this.fail(
              'INVALID_VALUE',
              `quality flag '${describe(value)}' is not in the quality map`,
              name,
            );
          value = mapped;
        } else if (name === 'channel' && contract.channel_map) {
          const mapped = contract.channel_map[value];
          if (mapped === undefined)
            return this.fail('INVALID_VALUE', `channel '${describe(value)}' is not in the channel map`, name);
          value = mapped;
        }
        if (column.allowed) {
          // Store the contract's own string: short-lived copies from the file then die young, which keeps
          // the heap (and peak RSS) small on large files.
          const index = column.allowed.indexOf(value);
          if (index < 0) {
            return this.fail(
              'INVALID_VALUE',
              `${name} ${this.quoted(name, value)} is not one of ${column.allowed.join(', ')}`,
              name,
            );
          }
          value = column.allowed[index] as string;
        } else if (isIdentifierColumn(name)) {
          const checked = checkIdentifier(this.sourceName(name), value, this.idPatterns.get(name));
          if (!checked.ok) return this.fail(checked.code, checked.message, name);
          value = name === 'meter_id' ? this.internMeter(checked.value) : checked.value;
        }
        if (name === 'email' && !EMAIL.test(value)) {
          const message = this.piiColumns.has(name)
            ? `${this.sourceName(name)} is not a valid e-mail address (value withheld: PII)`
            : `'${describe(value)}' is not an e-mail address`;
          return this.fail('INVALID_EMAIL', message, name);
        }
        this.batch.strings[c]![row] = value;
        return true;
      }
      case 'double': {
        const value = parseNumber(raw, this.decimalComma);
        if (value === undefined)
          return this.fail(
            'INVALID_NUMBER',
            `${this.sourceName(name)} ${this.quoted(name, raw)} is not a number`,
            name,
          );
        const scaled = name === 'kwh' || name === 'price_eur_per_mwh' ? value * this.unitFactor : value;
        this.batch.numbers[c]![row] = scaled;
        return true;
      }
      case 'integer':
      case 'long': {
        const text = typeof raw === 'number' ? String(raw) : String(raw).trim();
        if (!INTEGER.test(text))
          return this.fail(
            'INVALID_INTEGER',
            `${this.sourceName(name)} ${this.quoted(name, raw)} is not an integer`,
            name,
          );
        const value = Number(text);
        if (column.allowed && !column.allowed.includes(value)) {
          const code =
            name === 'interval_minutes' || name === 'resolution_minutes'
              ? 'INVALID_INTERVAL'
              : 'INVALID_VALUE';
          const shown = this.piiColumns.has(name) ? this.quoted(name, value) : String(value);
          return this.fail(code, `${name} ${shown} is not one of ${column.allowed.join(', ')}`, name);
        }
        this.batch.numbers[c]![row] = value;
        return true;
      }
      case 'timestamp': {
        const text = typeof raw === 'number' ? String(raw) : String(raw);
        if (!this.parser.parse(text)) {
          return this.parser.failure === 'NONEXISTENT'
            ? this.fail(
                'TIMESTAMP_NONEXISTENT',
                `local time ${this.quoted(name, raw)} does not exist in ${this.zone.zone}`,
                name,
              )
            : this.fail(
                'INVALID_TIMESTAMP',
                `${this.quoted(name, raw)} does not match ${contract.timestamp.format}`,
                name,
              );
        }
        this.batch.numbers[c]![row] = this.parser.utcMs;
        if (name === 'interval_start') this.intervalWallMs = this.parser.wallMs;
        if (this.parser.ambiguous && name === 'interval_start')
          this.pendingAmbiguousWall = this.parser.wallMs;
        return true;
      }
      case 'date':
      case 'boolean':
        return this.fail('INVALID_VALUE', `${name} has an unsupported type`, name);
    }
  }

  private intervalWallMs = 0;
  private pendingAmbiguousWall: number | undefined;

  /**
   * The interval start of a converted row: moved to the start of its interval when the source marks ends,
   * checked against the interval grid of the source's wall clock (`fromWallClock`: long layouts; wide
   * layouts compute their starts from the grid) and against the plausible range.
   */
  private checkIntervalStart(row: number, minutes: number, fromWallClock: boolean): number | undefined {
    const column = this.batch.numbers[this.columnIndex.interval_start!]!;
    let start = column[row]!;
    if (fromWallClock) {
      if (this.input.contract.timestamp.marks === 'end') start -= minutes * MINUTE;
      column[row] = start;
      if (Math.floor(this.intervalWallMs / MINUTE) % minutes !== 0 || this.intervalWallMs % MINUTE !== 0) {
        this.fail(
          'TIMESTAMP_MISALIGNED',
          `interval start is not on a ${minutes}-minute boundary`,
          'interval_start',
        );
        return undefined;
      }
    }
    if (start < MIN_TIME || start >= MAX_TIME) {
      this.fail(
        'TIMESTAMP_OUT_OF_RANGE',
        `${new Date(start).toISOString()} is outside 2000-2100`,
        'interval_start',
      );
      return undefined;
    }
    return start;
  }

  /** Dataset rules that look at several columns of a converted row. */
  private checkRow(row: number): boolean {
    const n = (name: string): number => this.batch.numbers[this.columnIndex[name]!]![row]!;
    const s = (name: string): string | null | undefined => this.batch.strings[this.columnIndex[name]!]![row];
    const isNull = (name: string): boolean => {
      const c = this.columnIndex[name]!;
      const strings = this.batch.strings[c];
      return strings ? strings[row] === null : this.batch.nulls[c]?.[row] === 1;
    };
    const wide = this.input.contract.layout.kind === 'wide';
    switch (this.dataset) {
      case 'meter_readings': {
        const minutes = n('interval_minutes');
        if (!wide) {
          const ambiguousWall = this.pendingAmbiguousWall;
          this.pendingAmbiguousWall = undefined;
          if (ambiguousWall !== undefined) {
            // Fall-back overlap: the first reading of a wall-clock time is the earlier instant, a second
            // reading of the same meter, channel and wall time is the later one (docs/validation.md).
            const key = `${s('meter_id')}|${s('channel')}|${ambiguousWall}`;
            if (this.ambiguousSeen.has(key)) {
              const later = this.zone.laterOf(ambiguousWall);
              if (later !== undefined) this.batch.numbers[this.columnIndex.interval_start!]![row] = later;
            } else this.ambiguousSeen.add(key);
            this.state.ambiguousResolved++;
          }
        }
        const start = this.checkIntervalStart(row, minutes, !wide);
        if (start === undefined) return false;
        if (start + minutes * MINUTE > this.nowMs + METER_FUTURE_GRACE_MS) {
          return this.fail(
            'TIMESTAMP_IN_FUTURE',
            `interval ${new Date(start).toISOString()} has not ended yet`,
            'interval_start',
          );
        }
        const kwh = n('kwh');
        if (kwh < 0)
          return this.fail('NEGATIVE_VALUE', `${s('channel')} energy ${kwh} kWh is negative`, 'kwh');
        const ceiling = this.ceilingKwhPerMinute * minutes;
        if (kwh > ceiling) {
          return this.fail(
            'VALUE_ABOVE_CEILING',
            `${kwh} kWh is above the ${ceiling} kWh ceiling for ${minutes} minutes`,
            'kwh',
          );
        }
        return true;
      }
      case 'prices': {
        const minutes = n('resolution_minutes');
        if (!ALLOWED_RESOLUTIONS.has(minutes))
          return this.fail('INVALID_INTERVAL', `resolution ${minutes} is not 15 or 60`, 'resolution_minutes');
        const start = this.checkIntervalStart(row, minutes, true);
        if (start === undefined) return false;
        if (start > this.nowMs + PRICE_FUTURE_LIMIT_MS) {
          return this.fail(
            'TIMESTAMP_IN_FUTURE',
            `delivery ${new Date(start).toISOString()} is more than 3 days ahead`,
            'interval_start',
          );
        }
        const price = n('price_eur_per_mwh');
        if (price < PRICE_MIN || price > PRICE_MAX) {
          return this.fail(
            'PRICE_OUT_OF_RANGE',
            `${price} EUR/MWh is outside ${PRICE_MIN} to ${PRICE_MAX}`,
            'price_eur_per_mwh',
          );
        }
        return true;
      }
      case 'contracts': {
        const type = s('tariff_type');
        const need: Record<string, string[]> = {
          fixed: ['unit_rate_eur_per_kwh'],
          time_of_use: [
            'peak_rate_eur_per_kwh',
            'offpeak_rate_eur_per_kwh',
            'peak_start_local',
            'peak_end_local',
          ],
          dynamic: ['spot_markup_eur_per_kwh'],
        };
        const missing = (need[type ?? ''] ?? []).filter(isNull);
        if (missing.length > 0)
          return this.fail('TARIFF_INCOMPLETE', `a ${type} tariff needs ${missing.join(', ')}`, missing[0]);
        try {
          new Intl.DateTimeFormat('en-GB', { timeZone: s('tariff_timezone') ?? '' });
        } catch {
          return this.fail(
            'INVALID_TIMEZONE',
            `'${describe(s('tariff_timezone'))}' is not an IANA zone`,
            'tariff_timezone',
          );
        }
        if (!isNull('valid_to') && n('valid_to') <= n('valid_from')) {
          return this.fail('INVALID_VALIDITY', 'valid_to is not after valid_from', 'valid_to');
        }
        return true;
      }
      case 'customers':
        return true;
    }
  }

  private accept(row: number, lineNumber: number): void {
    const batch = this.batch;
    const idx = this.columnIndex;
    const { contract } = this.input;
    // Duplicate keys within the file: identical repeats are dropped, conflicting ones rejected.
    let outcome: 'new' | 'identical' | 'conflict';
    if (this.dataset === 'meter_readings') {
      const meter = batch.strings[idx.meter_id!]![row]!;
      const channel = batch.strings[idx.channel!]![row]!;
      const start = batch.numbers[idx.interval_start!]![row]!;
      const minutes = batch.numbers[idx.interval_minutes!]![row]!;
      const print = readingFingerprint(
        batch.numbers[idx.kwh!]![row]!,
        batch.strings[idx.quality!]![row]!,
        minutes,
      );
      outcome = this.readingDuplicates.check(meter, channel, start, minutes, print);
    } else {
      const key = this.keyOf(row);
      outcome = this.keyDuplicates.check(key, fingerprint(this.copyRow(row)));
    }
    if (outcome === 'identical') {
      this.state.duplicatesDropped++;
      return;
    }
    if (outcome === 'conflict') {
      this.fail('DUPLICATE_CONFLICT', 'the key repeats an earlier row with different values');
      this.reject(undefined, lineNumber, 1);
      return;
    }
    batch.strings[idx.source_system!]![row] = contract.source;
    batch.strings[idx.source_file!]![row] = this.input.file.path;
    batch.strings[idx.source_etag!]![row] = this.input.file.etag;
    batch.numbers[idx.source_line!]![row] = lineNumber;
    batch.strings[idx.ingest_instance_id!]![row] = this.input.instanceId;
    batch.numbers[idx.ingested_at!]![row] = this.ingestedAt;
    if (this.dataset === 'meter_readings' || this.dataset === 'prices') {
      const start = batch.numbers[idx.interval_start!]![row]!;
      if (start < this.state.firstInterval) this.state.firstInterval = start;
      if (start > this.state.lastInterval) this.state.lastInterval = start;
      this.state.days.add(Math.floor(start / DAY));
    }
    if (this.dataset === 'meter_readings') this.state.meters.add(batch.strings[idx.meter_id!]![row]!);
    batch.length++;
    this.state.rowsValid++;
  }

  private keyOf(row: number): string {
    const key = {
      customers: ['customer_id', 'updated_at'],
      contracts: ['contract_id', 'valid_from'],
      prices: ['bidding_zone', 'interval_start', 'resolution_minutes'],
      meter_readings: [],
    }[this.dataset];
    return key
      .map((name) => {
        const c = this.columnIndex[name]!;
        return this.batch.strings[c] ? this.batch.strings[c][row] : this.batch.numbers[c]![row];
      })
      .join('\u0000');
  }

  // ---- rejections -----------------------------------------------------------------------------

  private reject(line: string | undefined, lineNumber: number, rows: number, column?: string): void {
    const raw = line ?? this.currentLine;
    this.state.rowsRejected += rows;
    for (const error of this.errors)
      this.state.ruleFailures[error.code] = (this.state.ruleFailures[error.code] ?? 0) + 1;
    this.sinks.writeRejected({
      line: lineNumber,
      ...(column ? { column } : {}),
      rows,
      raw: raw.length > RAW_LINE_LIMIT ? `${raw.slice(0, RAW_LINE_LIMIT)}…` : raw,
      reasons: this.errors.map((e) => ({ ...e })),
    });
    this.pendingRejections++;
    this.errors.length = 0;
  }

  private rejectWhole(
    line: string,
    lineNumber: number,
    errors: readonly RowError[],
    groupRows?: number,
  ): void {
    let rows = groupRows ?? 1;
    if (groupRows === undefined && this.input.contract.layout.kind === 'wide') {
      const count = this.valueColumns.filter((c) => !isEmpty(this.field(c.index))).length;
      rows = Math.max(1, count);
    }
    this.state.rowsRead += rows;
    this.errors.length = 0;
    this.errors.push(...errors);
    this.reject(line, lineNumber, rows);
  }

  private rejectReading(line: string, lineNumber: number, column: string): void {
    this.reject(line, lineNumber, 1, column);
  }

  get needsFlush(): boolean {
    return this.batch.full || this.pendingRejections >= REJECTION_FLUSH_EVERY;
  }

  async flush(final = false): Promise<void> {
    if (this.batch.length > 0 && (this.batch.full || final)) {
      await this.sinks.writeBatch(this.batch);
      this.batch.clear();
    }
    this.pendingRejections = 0;
    await this.sinks.flush();
  }
}

/** Line statistics of a document read whole (documents are not split into lines). */
class DocumentLines {
  private readonly counts = { lf: 0, crlf: 0, cr: 0 };
  private characters = 0;
  private lastWasCr = false;
  private lastWasNewline = true;

  push(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === 10) {
        if (this.lastWasCr) {
          this.counts.cr--;
          this.counts.crlf++;
        } else this.counts.lf++;
      } else if (code === 13) this.counts.cr++;
      this.lastWasCr = code === 13;
      this.lastWasNewline = code === 10 || code === 13;
    }
    this.characters += text.length;
  }

  get stats(): LineStats {
    const { lf, crlf, cr } = this.counts;
    const breaks = lf + crlf + cr;
    const lines = this.characters === 0 ? 0 : breaks + (this.lastWasNewline ? 0 : 1);
    return { lines, blankLines: 0, lf, crlf, cr };
  }

  get mixed(): boolean {
    const { lf, crlf, cr } = this.counts;
    return (lf > 0 ? 1 : 0) + (crlf > 0 ? 1 : 0) + (cr > 0 ? 1 : 0) > 1;
  }
}

/**
 * The report of a file rejected before any byte was read (for example an unsafe name): identity and reason,
 * nothing counted.
 */
export function rejectedUnread(
  input: Omit<ValidationInput, 'source'>,
  code: FileReasonCode,
  detail: string,
): ValidationReport {
  const { contract } = input;
  return {
    schemaVersion: VALIDATION_REPORT_VERSION,
    file: {
      path: input.file.path,
      etag: input.file.etag,
      size: 0,
      sha256: '',
      compressed: false,
      decompressedSize: 0,
      encoding: null,
    },
    contract: {
      dataset: contract.dataset,
      source: contract.source,
      maxRejectedShare: contract.max_rejected_share,
    },
    instanceId: input.instanceId,
    counts: {
      linesRead: 0,
      blankLines: 0,
      rowsRead: 0,
      rowsValid: 0,
      rowsRejected: 0,
      duplicatesDropped: 0,
      emptyValues: 0,
      ambiguousTimesResolved: 0,
    },
    rejectedShare: 0,
    ruleFailures: {},
    columns: {},
    distinctMeters: null,
    firstInterval: null,
    lastInterval: null,
    affectedDates: [],
    lineEndings: { lf: 0, crlf: 0, cr: 0, mixed: false },
    notes: [],
    performance: { durationMs: 0, bytesPerSecond: 0, rowsPerSecond: 0 },
    verdict: 'rejected',
    reasons: [{ code, message: `${FILE_REASONS[code]}: ${detail}` }],
    startedAt: input.now.toISOString(),
  };
}

/** Runs the whole file through the engine and returns its report. */
export async function validateStream(
  input: ValidationInput,
  sinks: ValidationSinks,
): Promise<ValidationReport> {
  const started = Date.now();
  const { contract } = input;
  const format = contract.format;
  const decoder = new TextFileDecoder(input.source, {
    ...input.limits,
    compression: contract.compression,
    encoding: contract.encoding,
    markup: format.type === 'entsoe_xml' ? 'xml' : 'reject',
  });
  const validator = new FileValidator(input, sinks);
  const splitter = new LineSplitter(input.limits.maxLineBytes, validator);
  const documentLines = new DocumentLines();
  const lines = (): { stats: LineStats; mixed: boolean } =>
    'max_bytes' in format
      ? { stats: documentLines.stats, mixed: documentLines.mixed }
      : { stats: splitter.stats, mixed: splitter.mixedLineEndings };
  const reasons: Array<{ code: string; message: string }> = [];
  try {
    if ('max_bytes' in format) {
      // Document formats: the whole (size-limited) document, then its records through the row checks.
      const parts: string[] = [];
      for await (const text of decoder.text()) {
        if (decoder.stats.decompressedBytes > format.max_bytes) {
          throw new FileRejection('DOCUMENT_TOO_LARGE', `over ${format.max_bytes} bytes`);
        }
        documentLines.push(text);
        parts.push(text);
      }
      const path = input.file.path;
      const parsed = parseDocument(contract, parts.join(''), path.slice(path.lastIndexOf('/') + 1));
      validator.state.notes.push(...parsed.notes);
      validator.state.emptyValues += parsed.gaps;
      for (const record of parsed.records) {
        validator.onDocumentRecord(record);
        if (validator.needsFlush) await validator.flush();
      }
    } else {
      for await (const text of decoder.text()) {
        splitter.push(text);
        if (validator.needsFlush) await validator.flush();
      }
      splitter.end();
    }
    if (
      contract.format.type === 'csv' &&
      contract.format.header &&
      validator.state.rowsRead === 0 &&
      splitter.stats.lines - splitter.stats.blankLines <= 1
    ) {
      throw new FileRejection(
        splitter.stats.lines === splitter.stats.blankLines ? 'HEADER_MISSING' : 'NO_DATA_ROWS',
      );
    }
    if (validator.state.rowsRead === 0) throw new FileRejection('NO_DATA_ROWS');
    await validator.flush(true);
  } catch (error) {
    if (!(error instanceof FileRejection)) throw error;
    reasons.push({ code: error.code, message: error.message });
    await decoder.finish();
  }
  const state = validator.state;
  const rejectedShare = state.rowsRead === 0 ? 0 : state.rowsRejected / state.rowsRead;
  if (reasons.length === 0 && rejectedShare > contract.max_rejected_share) {
    reasons.push({
      code: 'REJECTED_SHARE_EXCEEDED',
      message: `${FILE_REASONS.REJECTED_SHARE_EXCEEDED}: ${(rejectedShare * 100).toFixed(1)}% of ${state.rowsRead} rows rejected, threshold ${(contract.max_rejected_share * 100).toFixed(1)}%`,
    });
  }
  const verdict =
    reasons.length > 0 ? 'rejected' : state.rowsRejected > 0 ? 'accepted_with_rejections' : 'accepted';
  const durationMs = Date.now() - started;
  const seconds = Math.max(durationMs, 1) / 1000;
  const { stats: lineStats, mixed: mixedLineEndings } = lines();
  if (mixedLineEndings)
    state.notes.push(`mixed line endings: ${lineStats.lf} LF, ${lineStats.crlf} CRLF, ${lineStats.cr} CR`);
  if (lineStats.blankLines > 0) state.notes.push(`${lineStats.blankLines} blank lines skipped`);
  if (decoder.stats.bom) state.notes.push(`${decoder.stats.encoding ?? ''} byte-order mark`);
  const hasIntervals = state.firstInterval !== Infinity;
  return {
    schemaVersion: VALIDATION_REPORT_VERSION,
    file: {
      path: input.file.path,
      etag: input.file.etag,
      size: decoder.stats.bytes,
      sha256: decoder.stats.sha256,
      compressed: decoder.stats.compressed,
      decompressedSize: decoder.stats.decompressedBytes,
      encoding: decoder.stats.encoding ?? null,
    },
    contract: {
      dataset: contract.dataset,
      source: contract.source,
      maxRejectedShare: contract.max_rejected_share,
    },
    instanceId: input.instanceId,
    counts: {
      linesRead: lineStats.lines,
      blankLines: lineStats.blankLines,
      rowsRead: state.rowsRead,
      rowsValid: state.rowsValid,
      rowsRejected: state.rowsRejected,
      duplicatesDropped: state.duplicatesDropped,
      emptyValues: state.emptyValues,
      ambiguousTimesResolved: state.ambiguousResolved,
    },
    rejectedShare,
    ruleFailures: state.ruleFailures,
    columns: state.columnStats,
    distinctMeters: contract.dataset === 'meter_readings' ? state.meters.size : null,
    firstInterval: hasIntervals ? new Date(state.firstInterval).toISOString() : null,
    lastInterval: hasIntervals ? new Date(state.lastInterval).toISOString() : null,
    affectedDates: [...state.days]
      .sort((a, b) => a - b)
      .map((day) => new Date(day * DAY).toISOString().slice(0, 10)),
    lineEndings: {
      lf: lineStats.lf,
      crlf: lineStats.crlf,
      cr: lineStats.cr,
      mixed: mixedLineEndings,
    },
    notes: state.notes,
    performance: {
      durationMs,
      bytesPerSecond: Math.round(decoder.stats.bytes / seconds),
      rowsPerSecond: Math.round(state.rowsRead / seconds),
    },
    verdict,
    reasons,
    startedAt: new Date(started).toISOString(),
  };
}

export { ROW_REASONS };
