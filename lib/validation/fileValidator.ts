import { datasetColumns, type DatasetName, type ExportedColumn } from '../contracts/datasets';
import type { SourceContract } from '../contracts/sources';
import { CsvFieldBounds } from '../formats/byteCsv';
import type { ByteLineSink } from '../formats/byteLines';
import { splitCsvLine } from '../formats/csv';
import type { DecodeLimits } from '../formats/decode';
import type { LineSink } from '../formats/lines';
import { ColumnBatch, type ColumnSpec } from '../formats/parquet/columnBatch';
import { type RecordFormatReader, recordReaderFor } from '../formats/recordFormats';
import { ByteFieldConverter } from './byteFields';
import { ValueConverter } from './convert';
import type { DocumentRecord } from './documents';
import { fingerprint, KeyDuplicates, readingFingerprint } from './duplicates';
import { ColumnBinding } from './header';
import { FileRejection } from './reasons';
import { RAW_LINE_LIMIT, type RejectedRow } from './report';
import { RowRules } from './rowRules';
import { MeterSeries } from './series';
import { TimestampParser, ZoneResolver } from './timestamps';
import { type ColumnStats, DAY, describe, isEmpty, MINUTE, type RowError, RowErrors } from './values';

export interface ValidationLimits extends DecodeLimits {
  maxLineBytes: number;
  /** Most (meter, channel) series in one meter-readings file: bounds the engine's memory (VALIDATION_MAX_SERIES). */
  maxSeries: number;
}

export interface ValidationInput {
  source: AsyncIterable<Buffer | string>;
  contract: SourceContract;
  file: { path: string; etag: string };
  instanceId: string;
  /** The staging time: written as `ingested_at` and the reference for "too far in the future". */
  now: Date;
  /** When the file landed (its event's time): the reference for the late-data policy (default `now`). */
  landedAt?: Date;
  limits: ValidationLimits;
  batchSize?: number;
  /**
   * Reads a CSV long layout as text, like every other layout, instead of from its bytes: the reference the
   * differential test (test/unit/validation/bytePath.test.ts) holds the byte path to.
   */
  textPath?: boolean;
}

export interface ValidationSinks {
  writeBatch(batch: ColumnBatch): Promise<void>;
  writeRejected(row: RejectedRow): void;
  /** Called after each batch and every few thousand rejections, so buffered rejections stay bounded. */
  flush(): Promise<void>;
}

const REJECTION_FLUSH_EVERY = 5000;
/** Rows per Parquet row group: 16K keeps the text they reference small (measured: 80 MB less peak RSS than 64K). */
const DEFAULT_BATCH_ROWS = 16_384;

export interface EngineState {
  rowsRead: number;
  rowsValid: number;
  rowsRejected: number;
  duplicatesDropped: number;
  emptyValues: number;
  ambiguousResolved: number;
  ruleFailures: Record<string, number>;
  columnStats: ColumnStats;
  firstInterval: number;
  lastInterval: number;
  /** UTC days (days since the epoch) of the staged intervals. */
  days: Set<number>;
  notes: string[];
}

/**
 * One file's records (CSV or NDJSON lines, or the records of a document) into canonical rows: each record
 * is converted column by column, checked by the dataset rules and the duplicate index, and either added to
 * the batch with its lineage or rejected with its reasons.
 */
export class FileValidator implements LineSink, ByteLineSink {
  readonly columns: ExportedColumn[];
  /** Positions of the columns a record's values fill (all but lineage), in column order. */
  private readonly convertedColumns: number[];
  readonly batch: ColumnBatch;
  readonly state: EngineState;
  readonly series: MeterSeries;
  private readonly dataset: DatasetName;
  private readonly binding: ColumnBinding;
  private readonly zone: ZoneResolver;
  private readonly dateParser: TimestampParser | undefined;
  private readonly converter: ValueConverter;
  private readonly rules: RowRules;
  private readonly keyDuplicates = new KeyDuplicates();
  private readonly errors: RowErrors;
  private readonly columnIndex: Record<string, number> = {};
  private readonly ingestedAt: number;
  /** The reader of a market record format (NEM12, MSCONS): a line or segment gives its interval records. */
  private readonly recordReader: RecordFormatReader | undefined;
  private pendingRejections = 0;
  private sepLineAllowed = true;
  private currentLine = '';
  /** The byte path's line (a range of `lineBytes`), decoded into `currentLine` only when it is rejected. */
  private lineBytes: Buffer | undefined;
  private lineStart = 0;
  private lineEnd = 0;
  /** The byte path's field splitter: a CSV long layout with ASCII delimiter and quote, unless `textPath`. */
  private readonly fieldBounds: CsvFieldBounds | undefined;
  /** The UTC day last added to `state.days` (rows come in runs of one day). */
  private lastDay = NaN;
  private byteFields: ByteFieldConverter | undefined;

  constructor(
    readonly input: ValidationInput,
    readonly sinks: ValidationSinks,
  ) {
    const { contract } = input;
    this.dataset = contract.dataset;
    this.columns = datasetColumns(contract.dataset);
    this.convertedColumns = this.columns.flatMap((column, c) => (column.lineage ? [] : [c]));
    const specs: ColumnSpec[] = this.columns.map((c) => ({
      name: c.name,
      type: c.type,
      nullable: c.nullable,
    }));
    this.batch = new ColumnBatch(specs, input.batchSize ?? DEFAULT_BATCH_ROWS);
    this.columns.forEach((c, i) => (this.columnIndex[c.name] = i));
    /** Columns the dataset contract marks as PII: reasons name them but never quote their values. */
    const piiColumns = new Set(this.columns.filter((c) => c.pii).map((c) => c.name));
    this.zone = new ZoneResolver(contract.timestamp.timezone);
    this.dateParser =
      contract.layout.kind === 'wide'
        ? new TimestampParser(contract.layout.date_format, new ZoneResolver('UTC'))
        : undefined;
    this.ingestedAt = input.now.getTime();
    this.series = new MeterSeries(input.limits.maxSeries);
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
      firstInterval: Infinity,
      lastInterval: -Infinity,
      days: new Set(),
      notes: [],
    };
    this.recordReader = recordReaderFor(contract);
    this.errors = new RowErrors(this.state.columnStats);
    this.binding = new ColumnBinding(contract, piiColumns);
    this.converter = new ValueConverter(
      contract,
      this.batch,
      this.binding,
      this.errors,
      this.state.columnStats,
      piiColumns,
      this.zone,
      this.series,
    );
    this.rules = new RowRules(
      contract,
      this.batch,
      this.columnIndex,
      this.errors,
      this.zone,
      this.converter,
      this.series,
      { now: input.now, landedAt: input.landedAt ?? input.now },
      () => this.state.ambiguousResolved++,
    );
    const { format, layout } = contract;
    if (format.type === 'csv' && layout.kind === 'long' && !input.textPath) {
      const delimiter = format.delimiter.charCodeAt(0);
      const quote = format.quote.charCodeAt(0);
      if (delimiter < 0x80 && quote < 0x80) this.fieldBounds = new CsvFieldBounds(delimiter, quote);
    }
  }

  /** Whether the file's lines go to `onLineBytes` (a CSV long layout with ASCII delimiter and quote). */
  get readsBytes(): boolean {
    return this.fieldBounds !== undefined;
  }

  // ---- lines ----------------------------------------------------------------------------------

  onLine(line: string, lineNumber: number): void {
    if (this.recordReader) {
      for (const record of this.recordReader.push(line, lineNumber)) this.onDocumentRecord(record);
      return;
    }
    const { contract } = this.input;
    const binding = this.binding;
    this.currentLine = line;
    this.batch.reserve(Math.max(1, binding.valueColumns.length));
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
      const count = splitCsvLine(line, contract.format.delimiter, contract.format.quote, binding.fields);
      binding.fieldCount = Math.max(count, 0);
      if (contract.format.header && !binding.headerFields) {
        if (count < 0) throw new FileRejection('HEADER_MISSING', 'the header line has broken quoting');
        binding.bind(binding.fields.slice(0, count));
        binding.prepareClockColumns();
        return;
      }
      if (
        contract.layout.kind === 'wide' &&
        binding.valueColumns.length > 0 &&
        binding.valueColumns[0]!.clockMinutes === undefined
      ) {
        binding.prepareClockColumns();
      }
      if (count < 0) {
        this.rejectWhole(line, lineNumber, [
          { code: 'MALFORMED_ROW', message: 'unbalanced quotes in the row' },
        ]);
        return;
      }
      const expected = binding.headerFields?.length;
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
   * A line of a CSV long layout as UTF-8 bytes. The `sep=` line, the header, and any line the byte path does
   * not read itself (one with quotes, or with a field count the header does not have) go through `onLine`
   * as text, so what they yield comes from one implementation.
   */
  onLineBytes(bytes: Buffer, start: number, end: number, lineNumber: number): void {
    const binding = this.binding;
    if (!this.byteFields) {
      const header = this.input.contract.format.type === 'csv' && this.input.contract.format.header;
      if (this.sepLineAllowed || (header && !binding.headerFields)) {
        this.onLine(bytes.toString('utf8', start, end), lineNumber);
        return;
      }
      this.byteFields = new ByteFieldConverter(
        this.input.contract,
        this.columns,
        binding,
        this.batch,
        this.converter,
        this.series,
        this.state.columnStats,
        this.fieldBounds?.delimiter ?? -1,
      );
    }
    const fields = this.fieldBounds;
    if (!fields || fields.holdsQuote(bytes, start, end)) {
      this.onLine(bytes.toString('utf8', start, end), lineNumber);
      return;
    }
    const converter = this.byteFields;
    this.batch.reserve(1);
    const row = this.batch.length;
    // Nearly every line: its fields converted in one pass. Any other goes through the split below, which
    // converts every column again (and sends a line with a field count the header does not have to onLine).
    const onePass = converter.convertLine(bytes, start, end, row);
    if (!onePass) {
      const count = fields.split(bytes, start, end);
      const expected = binding.headerFields?.length;
      if (expected !== undefined && count !== expected) {
        this.onLine(bytes.toString('utf8', start, end), lineNumber);
        return;
      }
    }
    this.lineBytes = bytes;
    this.lineStart = start;
    this.lineEnd = end;
    this.state.rowsRead++;
    // Setting an array's length is a runtime call, and the list is nearly always empty already.
    if (this.errors.list.length > 0) this.errors.list.length = 0;
    let ok = true;
    for (const c of onePass ? converter.columnsWithoutField : this.convertedColumns) {
      ok = converter.convert(c, this.columns[c]!, row, bytes, fields) && ok;
    }
    if (ok) ok = this.rules.check(row);
    if (ok) this.accept(row, lineNumber);
    else this.reject(undefined, lineNumber, 1);
    this.lineBytes = undefined;
  }

  /** After the last line: what a record format's reader still holds, and its notes for the report. */
  endOfLines(): void {
    if (!this.recordReader) return;
    for (const record of this.recordReader.end()) this.onDocumentRecord(record);
    this.state.notes.push(...this.recordReader.notes());
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

  // ---- rows -----------------------------------------------------------------------------------

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
    this.errors.list.length = 0;
    const row = this.batch.length;
    let ok = true;
    for (const error of recordErrors ?? []) ok = this.errors.fail(error.code, error.message, error.column);
    // A column the record reader already failed (an MSCONS 16-minute interval) keeps that one, more specific
    // reason instead of gaining the engine's generic one as well.
    const failedByReader = ok ? undefined : new Set(recordErrors!.map((error) => error.column));
    for (let c = 0; c < this.columns.length; c++) {
      const column = this.columns[c]!;
      if (column.lineage || failedByReader?.has(column.name)) continue;
      ok = this.converter.convert(c, column, this.binding.raw(column.name, record), row) && ok;
    }
    if (ok) ok = this.rules.check(row);
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
    const binding = this.binding;
    const intervalMinutes = contract.interval_minutes ?? 30;
    const cells = binding.valueColumns.map((column) => binding.field(column.index));
    const present = cells.filter((cell) => !isEmpty(cell)).length;
    this.errors.list.length = 0;
    const dateRaw = binding.raw('__date', undefined);
    if (!this.dateParser!.parse(String(dateRaw ?? ''))) {
      this.errors.fail(
        'INVALID_DATE',
        `'${describe(dateRaw)}' does not match ${contract.layout.date_format}`,
        'interval_start',
      );
    }
    // Validate the row-level columns once on a scratch row, then copy them into each reading.
    const row = this.batch.length;
    let ok = this.errors.list.length === 0;
    for (let c = 0; c < this.columns.length; c++) {
      const column = this.columns[c]!;
      if (column.lineage || column.name === 'interval_start' || column.name === 'kwh') continue;
      ok = this.converter.convert(c, column, binding.raw(column.name, undefined), row) && ok;
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
    const template = this.batch.rowValues(row);
    for (let k = 0; k < binding.valueColumns.length; k++) {
      const cell = cells[k];
      const column = binding.valueColumns[k]!;
      if (isEmpty(cell)) {
        if (contract.layout.addressing === 'period' ? k < periods : true) this.state.emptyValues++;
        continue;
      }
      this.state.rowsRead++;
      this.errors.list.length = 0;
      const target = this.batch.length;
      this.batch.setRow(target, template);
      let start: number;
      if (contract.layout.addressing === 'period') {
        if (k >= periods) {
          this.errors.fail(
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
          this.errors.fail(
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
      const kwhIndex = this.columnIndex.kwh!;
      const kwhOk = this.converter.convert(kwhIndex, this.columns[kwhIndex]!, cell, target);
      if (!kwhOk || !this.rules.check(target)) {
        this.rejectReading(line, lineNumber, column.name);
        continue;
      }
      this.accept(target, lineNumber);
    }
  }

  private accept(row: number, lineNumber: number): void {
    const batch = this.batch;
    const idx = this.columnIndex;
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
      outcome = this.series.check(meter, channel, start, minutes, print);
    } else {
      const key = this.keyOf(row);
      outcome = this.keyDuplicates.check(key, fingerprint(this.batch.rowValues(row)));
    }
    if (outcome === 'identical') {
      this.state.duplicatesDropped++;
      return;
    }
    if (outcome === 'conflict') {
      this.errors.fail('DUPLICATE_CONFLICT', 'the key repeats an earlier row with different values');
      this.reject(undefined, lineNumber, 1);
      return;
    }
    // The lineage constants are filled in for the whole batch before it is written (fillLineageConstants).
    batch.numbers[idx.source_line!]![row] = lineNumber;
    if (this.dataset === 'meter_readings' || this.dataset === 'prices') {
      const start = batch.numbers[idx.interval_start!]![row]!;
      if (start < this.state.firstInterval) this.state.firstInterval = start;
      if (start > this.state.lastInterval) this.state.lastInterval = start;
      const day = Math.floor(start / DAY);
      if (day !== this.lastDay) {
        this.state.days.add(day);
        this.lastDay = day;
      }
    }
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
    const raw = line ?? this.lineBytes?.toString('utf8', this.lineStart, this.lineEnd) ?? this.currentLine;
    const errors = this.errors.list;
    this.state.rowsRejected += rows;
    // Rejected records per reason code: a record failing one rule in two columns counts once.
    for (const code of new Set(errors.map((error) => error.code)))
      this.state.ruleFailures[code] = (this.state.ruleFailures[code] ?? 0) + 1;
    this.sinks.writeRejected({
      line: lineNumber,
      ...(column ? { column } : {}),
      rows,
      raw: raw.length > RAW_LINE_LIMIT ? `${raw.slice(0, RAW_LINE_LIMIT)}…` : raw,
      reasons: errors.map((e) => ({ ...e })),
    });
    this.pendingRejections++;
    errors.length = 0;
  }

  private rejectWhole(
    line: string,
    lineNumber: number,
    errors: readonly RowError[],
    groupRows?: number,
  ): void {
    let rows = groupRows ?? 1;
    if (groupRows === undefined && this.input.contract.layout.kind === 'wide') {
      const count = this.binding.valueColumns.filter((c) => !isEmpty(this.binding.field(c.index))).length;
      rows = Math.max(1, count);
    }
    this.state.rowsRead += rows;
    this.errors.list.length = 0;
    this.errors.list.push(...errors);
    this.reject(line, lineNumber, rows);
  }

  private rejectReading(line: string, lineNumber: number, column: string): void {
    this.reject(line, lineNumber, 1, column);
  }

  /**
   * The lineage columns every staged row of the file shares, for the batch's rows (all accepted). Written
   * here once per batch rather than per row in `accept`; a slot keeps them after `clear`, as it did when
   * `accept` wrote them, so a row's `rowValues` before acceptance reads what it read before.
   */
  private fillLineageConstants(): void {
    const { batch, columnIndex: idx, input } = this;
    const rows = batch.length;
    batch.strings[idx.source_system!]!.fill(input.contract.source, 0, rows);
    batch.strings[idx.source_file!]!.fill(input.file.path, 0, rows);
    batch.strings[idx.source_etag!]!.fill(input.file.etag, 0, rows);
    batch.strings[idx.ingest_instance_id!]!.fill(input.instanceId, 0, rows);
    batch.numbers[idx.ingested_at!]!.fill(this.ingestedAt, 0, rows);
  }

  get needsFlush(): boolean {
    return this.batch.full || this.pendingRejections >= REJECTION_FLUSH_EVERY;
  }

  async flush(final = false): Promise<void> {
    if (this.batch.length > 0 && (this.batch.full || final)) {
      this.fillLineageConstants();
      await this.sinks.writeBatch(this.batch);
      this.batch.clear();
    }
    this.pendingRejections = 0;
    await this.sinks.flush();
  }
}
