import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { ColumnBatch, type ColumnSpec } from '../../../lib/formats/parquet/columnBatch';
import { ParquetWriter } from '../../../lib/formats/parquet/ParquetWriter';

/**
 * The encodings the writer picks for numeric columns (decision 0033, "Round 3"): a dictionary when values
 * repeat, DELTA_BINARY_PACKED for other integers, plain where neither holds the values exactly. Every
 * file is read back by DuckDB, an independent reader, and compared with the values written.
 */

interface Sample {
  columns: ColumnSpec[];
  rows: number;
  /** The value of column c in row r, or null; numbers as the batch holds them (timestamps in ms). */
  value(c: number, r: number): number | null;
}

async function write(file: string, sample: Sample, groupRows: number): Promise<void> {
  const chunks: Buffer[] = [];
  const writer = new ParquetWriter(sample.columns, (chunk) => void chunks.push(Buffer.from(chunk)), {
    compression: 'gzip',
  });
  const batch = new ColumnBatch(sample.columns, groupRows);
  for (let start = 0; start < sample.rows; start += groupRows) {
    batch.clear();
    const n = Math.min(groupRows, sample.rows - start);
    for (let r = 0; r < n; r++) {
      sample.columns.forEach((_, c) => {
        const value = sample.value(c, start + r);
        if (value === null) batch.nulls[c]![r] = 1;
        else batch.numbers[c]![r] = value;
      });
    }
    batch.length = n;
    await writer.writeBatch(batch);
  }
  await writer.finish();
  writeFileSync(file, Buffer.concat(chunks));
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    // JavaScript values (not JSON): a DOUBLE arrives as the number it holds, -0 and NaN included.
    return (await connection.runAndReadAll(sql)).getRowObjects();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The data encoding of each column chunk, per column name (`PLAIN_DICTIONARY, RLE` and so on). */
async function encodings(file: string): Promise<Record<string, string[]>> {
  const rows = await query(
    `SELECT path_in_schema AS name, encodings FROM parquet_metadata('${file}') ORDER BY row_group_id`,
  );
  const byName: Record<string, string[]> = {};
  for (const row of rows) (byName[String(row.name)] ??= []).push(String(row.encodings));
  return byName;
}

/**
 * Every value read back by DuckDB, row by row: integers and timestamps (epoch microseconds) as exact
 * decimal strings, doubles as numbers (toEqual tells -0 from 0 and matches NaN).
 */
async function readBack(file: string, sample: Sample): Promise<Array<Array<string | number | null>>> {
  const select = sample.columns.map((column) => {
    switch (column.type) {
      case 'timestamp':
        return `epoch_us(${column.name})::VARCHAR`;
      case 'date':
        return `(${column.name} - DATE '1970-01-01')::VARCHAR`;
      case 'double':
        return column.name;
      case 'integer':
      case 'long':
      case 'boolean':
      case 'string':
        return `${column.name}::VARCHAR`;
    }
  });
  const rows = await query(
    `SELECT ${select.map((s, c) => `${s} AS c${c}`).join(', ')} FROM '${file}' ORDER BY row_no`,
  );
  return rows.map((row) => sample.columns.map((_, c) => (row[`c${c}`] ?? null) as string | number | null));
}

/** What readBack should return for a written value, computed without the writer. */
function expected(column: ColumnSpec, value: number | null): string | number | null {
  if (value === null) return null;
  switch (column.type) {
    case 'timestamp':
      return (BigInt(value) * 1000n).toString();
    case 'double':
      return value;
    case 'date':
    case 'integer':
    case 'long':
    case 'boolean':
    case 'string':
      return BigInt(value).toString();
  }
}

describe('ParquetWriter numeric encodings', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-parquet-encodings-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when readings repeat their interval starts, lengths and kWh values, then each chunk is a dictionary and reads back exactly', async () => {
    const start = Date.UTC(2025, 9, 26);
    const sample: Sample = {
      columns: [
        { name: 'row_no', type: 'long', nullable: false },
        { name: 'interval_start', type: 'timestamp', nullable: false },
        { name: 'interval_minutes', type: 'integer', nullable: false },
        { name: 'kwh', type: 'double', nullable: true },
        { name: 'day', type: 'date', nullable: false },
      ],
      rows: 5000,
      value: (c, r) =>
        [
          r,
          start + (r % 48) * 1_800_000,
          30,
          r % 13 === 0 ? null : [0, -0, 0.125, 1e-3, NaN, -2.5][r % 6]!,
          20_000 + Math.floor(r / 1000),
        ][c]!,
    };
    const file = path.join(dir, 'repeating.parquet');
    await write(file, sample, 2048);

    const chunks = await encodings(file);
    for (const name of ['interval_start', 'interval_minutes', 'kwh', 'day']) {
      expect(chunks[name]).toEqual([
        'PLAIN_DICTIONARY, RLE',
        'PLAIN_DICTIONARY, RLE',
        'PLAIN_DICTIONARY, RLE',
      ]);
    }
    const rows = await readBack(file, sample);
    expect(rows).toEqual(
      Array.from({ length: sample.rows }, (_, r) =>
        sample.columns.map((column, c) => expected(column, sample.value(c, r))),
      ),
    );
  });

  it('when integers rarely repeat, then they are DELTA_BINARY_PACKED and read back exactly, nulls and extremes included', async () => {
    const sample: Sample = {
      columns: [
        { name: 'row_no', type: 'long', nullable: false },
        { name: 'line', type: 'long', nullable: false },
        { name: 'scattered', type: 'long', nullable: true },
        { name: 'small', type: 'integer', nullable: true },
        { name: 'instant', type: 'timestamp', nullable: false },
      ],
      rows: 3000,
      value: (c, r) => {
        switch (c) {
          case 0:
            return r;
          case 1:
            return 1_000_000 + r;
          case 2:
            // Wide deltas both ways, up to 2^51 apart: miniblocks of up to 53 bits.
            return r % 7 === 3 ? null : (r % 2 === 0 ? 1 : -1) * (2 ** 50 - r * 7919);
          case 3:
            // INT32 deltas near ±2^31: a span just below 2^32.
            return r % 5 === 0 ? null : r % 2 === 0 ? 1_000_000_000 - r : -1_000_000_000 + r;
          default:
            return Date.UTC(2030, 0, 1) - r * 60_001;
        }
      },
    };
    const file = path.join(dir, 'distinct.parquet');
    await write(file, sample, 1000);

    const chunks = await encodings(file);
    for (const name of ['row_no', 'line', 'scattered', 'small', 'instant']) {
      expect(chunks[name]).toEqual(Array(3).fill('DELTA_BINARY_PACKED, RLE'));
    }
    const rows = await readBack(file, sample);
    expect(rows).toEqual(
      Array.from({ length: sample.rows }, (_, r) =>
        sample.columns.map((column, c) => expected(column, sample.value(c, r))),
      ),
    );
  });

  it('when deltas reach 2^53 (INT64) or span 2^32 (INT32), then the column is written plain and reads back exactly', async () => {
    const sample: Sample = {
      columns: [
        { name: 'row_no', type: 'long', nullable: false },
        { name: 'huge', type: 'long', nullable: false },
        { name: 'extreme', type: 'integer', nullable: false },
      ],
      rows: 800,
      // Distinct values alternating near ±2^52, and near the ends of the INT32 range.
      value: (c, r) =>
        c === 0
          ? r
          : c === 1
            ? (r % 2 === 0 ? 1 : -1) * (2 ** 52 + 2 * r)
            : r % 2 === 0
              ? 2_147_483_647 - r
              : -2_147_483_648 + r,
    };
    const file = path.join(dir, 'huge.parquet');
    await write(file, sample, 800);

    const chunks = await encodings(file);
    expect([chunks.huge, chunks.extreme]).toEqual([['PLAIN, RLE'], ['PLAIN, RLE']]);
    const rows = await readBack(file, sample);
    expect(rows).toEqual(
      Array.from({ length: sample.rows }, (_, r) =>
        sample.columns.map((column, c) => expected(column, sample.value(c, r))),
      ),
    );
  });
});
