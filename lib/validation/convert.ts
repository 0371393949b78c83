import type { ExportedColumn } from '../contracts/datasets';
import { type SourceContract, UNIT_TO_CANONICAL } from '../contracts/sources';
import type { ColumnBatch } from '../formats/parquet/columnBatch';
import type { ColumnBinding } from './header';
import { checkIdentifier, compileIdPattern, isIdentifierColumn } from './identifiers';
import type { MeterSeries } from './series';
import { TimestampParser, type ZoneResolver } from './timestamps';
import { type ColumnStats, describe, isEmpty, parseNumber, type RawValue, type RowErrors } from './values';

const INTEGER = /^[+-]?\d+$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Converts raw values into the typed columns of the batch: one value at a time, recording an error (and
 * returning false) when a value does not fit its canonical column. Remembers the wall-clock time of the
 * last interval start it converted, which the row rules check against the interval grid.
 */
export class ValueConverter {
  /** The wall-clock time of the last converted `interval_start`. */
  intervalWallMs = 0;
  private pendingAmbiguousWall: number | undefined;
  /** The contract's timestamp parser; the byte path (byteFields.ts) parses with it too. */
  readonly parser: TimestampParser;
  private readonly decimalComma: boolean;
  private readonly unitFactor: number;
  /** The contract's `id_patterns`, compiled once (lib/validation/identifiers.ts). */
  private readonly idPatterns: ReadonlyMap<string, RegExp>;

  constructor(
    private readonly contract: SourceContract,
    private readonly batch: ColumnBatch,
    private readonly binding: ColumnBinding,
    private readonly errors: RowErrors,
    private readonly columnStats: ColumnStats,
    /** Columns the dataset contract marks as PII: reasons name them but never quote their values. */
    private readonly piiColumns: ReadonlySet<string>,
    private readonly zone: ZoneResolver,
    private readonly series: MeterSeries,
  ) {
    this.parser = new TimestampParser(contract.timestamp.format, zone);
    this.decimalComma = contract.format.type === 'csv' && contract.format.decimal === ',';
    this.unitFactor = contract.unit ? UNIT_TO_CANONICAL[contract.unit] : 1;
    this.idPatterns = new Map(
      Object.entries(contract.id_patterns ?? {}).map(([name, source]) => [name, compileIdPattern(source)]),
    );
  }

  /** The wall-clock time of the last interval start if it fell in an ambiguous (fall-back) hour; clears it. */
  takeAmbiguousWall(): number | undefined {
    const wall = this.pendingAmbiguousWall;
    this.pendingAmbiguousWall = undefined;
    return wall;
  }

  /** What `takeAmbiguousWall` would return, left in place. */
  get ambiguousWall(): number | undefined {
    return this.pendingAmbiguousWall;
  }

  /**
   * Puts back the pending ambiguous wall time as it was before a line the byte path began to convert and
   * then handed to the split or the text path (byteFields.ts `convertLine`), which convert it from there.
   */
  restoreAmbiguousWall(wall: number | undefined): void {
    this.pendingAmbiguousWall = wall;
  }

  /** A raw value as a reason quotes it; withheld for PII, since reasons reach reports, quarantine and audit. */
  quoted(column: string, value: RawValue): string {
    return this.piiColumns.has(column) ? '(value withheld: PII)' : `'${describe(value)}'`;
  }

  /** Stores the instant `parser` just parsed, remembering an interval start's wall-clock time. */
  storeParsedTimestamp(c: number, name: string, row: number): void {
    this.batch.numbers[c]![row] = this.parser.utcMs;
    if (name === 'interval_start') {
      this.intervalWallMs = this.parser.wallMs;
      if (this.parser.ambiguous) this.pendingAmbiguousWall = this.parser.wallMs;
    }
  }

  /** Converts one raw value into the batch; records an error and returns false when it does not fit. */
  convert(c: number, column: ExportedColumn, raw: RawValue, row: number): boolean {
    const { contract, errors } = this;
    const name = column.name;
    if (isEmpty(raw)) {
      if (column.nullable) {
        const strings = this.batch.strings[c];
        if (strings) strings[row] = null;
        else this.batch.nulls[c]![row] = 1;
        this.columnStats[name]!.nulls++;
        return true;
      }
      if (name === 'interval_minutes' || name === 'resolution_minutes') {
        if (contract.interval_minutes !== undefined) {
          this.batch.numbers[c]![row] = contract.interval_minutes;
          return true;
        }
      }
      return errors.fail('REQUIRED_MISSING', `${this.binding.sourceName(name)} is empty`, name);
    }
    const nulls = this.batch.nulls[c];
    if (nulls) nulls[row] = 0;
    switch (column.type) {
      case 'string': {
        let value = typeof raw === 'string' ? raw.trim() : String(raw);
        if (name === 'quality' && contract.quality_map) {
          // Own keys only: a flag such as 'constructor' must not find Object's prototype (it crashed the engine).
          const mapped = Object.hasOwn(contract.quality_map, value) ? contract.quality_map[value] : undefined;
          if (mapped === undefined)
            return errors.fail(
              'INVALID_VALUE',
              `quality flag '${describe(value)}' is not in the quality map`,
              name,
            );
          value = mapped;
        } else if (name === 'channel' && contract.channel_map) {
          const mapped = Object.hasOwn(contract.channel_map, value) ? contract.channel_map[value] : undefined;
          if (mapped === undefined)
            return errors.fail(
              'INVALID_VALUE',
              `channel '${describe(value)}' is not in the channel map`,
              name,
            );
          value = mapped;
        }
        if (column.allowed) {
          // Store the contract's own string: short-lived copies from the file then die young, which keeps
          // the heap (and peak RSS) small on large files.
          const index = column.allowed.indexOf(value);
          if (index < 0) {
            return errors.fail(
              'INVALID_VALUE',
              `${name} ${this.quoted(name, value)} is not one of ${column.allowed.join(', ')}`,
              name,
            );
          }
          value = column.allowed[index] as string;
        } else if (isIdentifierColumn(name)) {
          const checked = checkIdentifier(this.binding.sourceName(name), value, this.idPatterns.get(name));
          if (!checked.ok) return errors.fail(checked.code, checked.message, name);
          value = name === 'meter_id' ? this.series.internMeter(checked.value) : checked.value;
        }
        if (name === 'email' && !EMAIL.test(value)) {
          const message = this.piiColumns.has(name)
            ? `${this.binding.sourceName(name)} is not a valid e-mail address (value withheld: PII)`
            : `'${describe(value)}' is not an e-mail address`;
          return errors.fail('INVALID_EMAIL', message, name);
        }
        this.batch.strings[c]![row] = value;
        return true;
      }
      case 'double': {
        const value = parseNumber(raw, this.decimalComma);
        if (value === undefined)
          return errors.fail(
            'INVALID_NUMBER',
            `${this.binding.sourceName(name)} ${this.quoted(name, raw)} is not a number`,
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
          return errors.fail(
            'INVALID_INTEGER',
            `${this.binding.sourceName(name)} ${this.quoted(name, raw)} is not an integer`,
            name,
          );
        const value = Number(text);
        if (column.allowed && !column.allowed.includes(value)) {
          const code =
            name === 'interval_minutes' || name === 'resolution_minutes'
              ? 'INVALID_INTERVAL'
              : 'INVALID_VALUE';
          const shown = this.piiColumns.has(name) ? this.quoted(name, value) : String(value);
          return errors.fail(code, `${name} ${shown} is not one of ${column.allowed.join(', ')}`, name);
        }
        this.batch.numbers[c]![row] = value;
        return true;
      }
      case 'timestamp': {
        const text = typeof raw === 'number' ? String(raw) : String(raw);
        if (!this.parser.parse(text)) {
          return this.parser.failure === 'NONEXISTENT'
            ? errors.fail(
                'TIMESTAMP_NONEXISTENT',
                `local time ${this.quoted(name, raw)} does not exist in ${this.zone.zone}`,
                name,
              )
            : errors.fail(
                'INVALID_TIMESTAMP',
                `${this.quoted(name, raw)} does not match ${contract.timestamp.format}`,
                name,
              );
        }
        this.storeParsedTimestamp(c, name, row);
        return true;
      }
      case 'date':
      case 'boolean':
        return errors.fail('INVALID_VALUE', `${name} has an unsupported type`, name);
    }
  }
}
