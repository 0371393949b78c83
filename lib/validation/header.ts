import { isDocumentFormat, isRecordFormat, type SourceContract } from '../contracts/sources';
import { FileRejection } from './reasons';
import { clockLabelMinutes, describe, type RawValue } from './values';

/** How a canonical column gets its raw value from a record. */
type ValueSource =
  | { kind: 'field'; index: number; name: string }
  | { kind: 'path'; path: string[]; name: string }
  | { kind: 'constant'; value: string | number }
  | { kind: 'none' };

/** A value column of a wide layout: its header name, field position and (clock addressing) minute of day. */
export interface ValueColumn {
  name: string;
  index: number;
  clockMinutes?: number;
}

/**
 * Where each canonical column of the contract comes from: a CSV field (by header name or position), a path
 * into a JSON record, or a constant. Holds the fields of the current CSV row.
 */
export class ColumnBinding {
  /** Fields of the current CSV row; entries past `fieldCount` are left over from longer rows. */
  readonly fields: string[] = [];
  fieldCount = 0;
  valueColumns: ValueColumn[] = [];
  headerFields: string[] | undefined;
  private readonly sources = new Map<string, ValueSource>();

  constructor(
    private readonly contract: SourceContract,
    /** PII columns: a header that looks like data is described, not quoted. */
    private readonly piiColumns: ReadonlySet<string>,
  ) {
    const { type } = contract.format;
    if (type === 'ndjson' || isDocumentFormat(type) || isRecordFormat(type)) {
      for (const [column, path] of Object.entries(contract.layout.columns)) {
        this.sources.set(column, { kind: 'path', path: path.split('.'), name: path });
      }
    }
    for (const [column, value] of Object.entries(contract.constants)) {
      if (!contract.layout.columns[column]) this.sources.set(column, { kind: 'constant', value });
    }
    if (contract.format.type === 'csv' && !contract.format.header) this.bind(undefined);
  }

  /** Resolves mapped columns to field positions: by header name, or by 1-based position without a header. */
  bind(header: string[] | undefined): void {
    const { contract } = this;
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

  prepareClockColumns(): void {
    const { contract } = this;
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

  /** The raw value of a canonical column (or `__date`) in the current CSV row or the given JSON record. */
  raw(column: string, record: Record<string, unknown> | undefined): RawValue {
    const source = this.sources.get(column);
    if (!source) return undefined;
    switch (source.kind) {
      case 'field':
        return this.field(source.index);
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

  /** The CSV field position a canonical column is read from; undefined for a constant or path. */
  fieldIndex(column: string): number | undefined {
    const source = this.sources.get(column);
    return source?.kind === 'field' ? source.index : undefined;
  }

  field(index: number): string | undefined {
    return index < this.fieldCount ? this.fields[index] : undefined;
  }

  /** The name the source file gives a canonical column (header name, `#position` or JSON path). */
  sourceName(column: string): string {
    const source = this.sources.get(column);
    return source && (source.kind === 'field' || source.kind === 'path') ? source.name : column;
  }
}
