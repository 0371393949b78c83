import type { SparkType } from '../../contracts/datasets';

export interface ColumnSpec {
  name: string;
  type: SparkType;
  nullable: boolean;
}

/**
 * A fixed-capacity batch of rows held column by column, the unit the Parquet writer turns into a row group.
 * Numbers (doubles, integers, epoch milliseconds for timestamps, epoch days for dates, 0/1 for booleans)
 * live in Float64Arrays; strings in plain arrays. A null is flagged in `nulls` (numeric columns) or stored
 * as `null` (string columns). Filling columns in place avoids allocating one object per row.
 */
export class ColumnBatch {
  length = 0;
  readonly numbers: Array<Float64Array | undefined>;
  readonly strings: Array<Array<string | null> | undefined>;
  readonly nulls: Array<Uint8Array | undefined>;
  private allocated: number;

  /** `capacity` is the row count at which the batch counts as full; `reserve` may grow it past that. */
  constructor(
    readonly columns: readonly ColumnSpec[],
    readonly capacity: number,
  ) {
    this.allocated = capacity;
    this.numbers = columns.map((c) => (c.type === 'string' ? undefined : new Float64Array(capacity)));
    this.strings = columns.map((c) => (c.type === 'string' ? new Array<string | null>(capacity) : undefined));
    this.nulls = columns.map((c) =>
      c.nullable && c.type !== 'string' ? new Uint8Array(capacity) : undefined,
    );
  }

  get full(): boolean {
    return this.length >= this.capacity;
  }

  /** Makes room for `rows` more rows; the batch grows when a record arrives after it is full. */
  reserve(rows: number): void {
    const needed = this.length + rows;
    if (needed <= this.allocated) return;
    const size = Math.max(needed, this.allocated * 2);
    for (let c = 0; c < this.columns.length; c++) {
      const numbers = this.numbers[c];
      if (numbers) {
        const grown = new Float64Array(size);
        grown.set(numbers);
        this.numbers[c] = grown;
      }
      const nulls = this.nulls[c];
      if (nulls) {
        const grown = new Uint8Array(size);
        grown.set(nulls);
        this.nulls[c] = grown;
      }
    }
    this.allocated = size;
  }

  /** A row's values: strings, numbers, or null. */
  rowValues(row: number): Array<number | string | null | undefined> {
    return this.columns.map((_, c) => {
      const strings = this.strings[c];
      if (strings) return strings[row];
      return this.nulls[c]?.[row] === 1 ? null : this.numbers[c]![row];
    });
  }

  /** Sets a row to values read by `rowValues`. */
  setRow(row: number, values: ReadonlyArray<number | string | null | undefined>): void {
    for (let c = 0; c < values.length; c++) {
      const value = values[c];
      const strings = this.strings[c];
      if (strings) strings[row] = value as string | null;
      else if (value === null) this.nulls[c]![row] = 1;
      else {
        this.numbers[c]![row] = value as number;
        const nulls = this.nulls[c];
        if (nulls) nulls[row] = 0;
      }
    }
  }

  clear(): void {
    this.length = 0;
    for (const flags of this.nulls) flags?.fill(0);
  }

  /** Index of a column by name; throws for an unknown name (a programming error). */
  indexOf(name: string): number {
    const index = this.columns.findIndex((c) => c.name === name);
    if (index < 0) throw new Error(`No column ${name} in batch`);
    return index;
  }
}
