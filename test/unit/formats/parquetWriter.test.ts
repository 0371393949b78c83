import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { ColumnBatch, type ColumnSpec } from '../../../lib/formats/parquet/columnBatch';
import { type ParquetCompression, ParquetWriter } from '../../../lib/formats/parquet/ParquetWriter';

const columns: ColumnSpec[] = [
  { name: 'meter_id', type: 'string', nullable: false },
  { name: 'note', type: 'string', nullable: true },
  { name: 'interval_start', type: 'timestamp', nullable: false },
  { name: 'delta', type: 'integer', nullable: true },
  { name: 'source_line', type: 'long', nullable: false },
  { name: 'kwh', type: 'double', nullable: true },
  { name: 'flag', type: 'boolean', nullable: false },
  { name: 'day', type: 'date', nullable: false },
  { name: 'unique_text', type: 'string', nullable: false },
];

const START = Date.UTC(2025, 2, 30);

/** Writes `groups` row groups of `size` rows with values that follow simple formulas of the row number k. */
async function writeSample(
  file: string,
  groups: number,
  size: number,
  compression: ParquetCompression,
): Promise<void> {
  const chunks: Buffer[] = [];
  const writer = new ParquetWriter(columns, (chunk) => void chunks.push(Buffer.from(chunk)), {
    compression,
    metadata: { 'lakewatt.instance': 'test' },
  });
  const batch = new ColumnBatch(columns, size);
  for (let g = 0; g < groups; g++) {
    batch.clear();
    for (let r = 0; r < size; r++) {
      const k = g * size + r;
      batch.strings[0]![r] = `m${k % 37}`;
      batch.strings[1]![r] = k % 5 === 0 ? null : `é${k % 3}`;
      batch.numbers[2]![r] = START + k * 60_000;
      if (k % 7 === 0) batch.nulls[3]![r] = 1;
      else batch.numbers[3]![r] = k - 1500;
      batch.numbers[4]![r] = 5e12 + k;
      if (k % 11 === 0) batch.nulls[5]![r] = 1;
      else batch.numbers[5]![r] = k / 8;
      batch.numbers[6]![r] = k % 3 === 0 ? 1 : 0;
      batch.numbers[7]![r] = 20_000 + k;
      batch.strings[8]![r] = `unique-${k}`;
    }
    batch.length = size;
    await writer.writeBatch(batch);
  }
  await writer.finish();
  writeFileSync(file, Buffer.concat(chunks));
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('ParquetWriter', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-parquet-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each<ParquetCompression>(['none', 'gzip'])(
    'when rows of every type are written with %s compression, then DuckDB reads back the same values',
    async (compression) => {
      const file = path.join(dir, 'sample.parquet');
      await writeSample(file, 3, 1000, compression);
      const n = 3000;
      const ks = Array.from({ length: n }, (_, k) => k);
      const notSeven = ks.filter((k) => k % 7 !== 0);
      const notEleven = ks.filter((k) => k % 11 !== 0);
      const [stats] = await query(`
        SELECT count(*) AS rows, count(note) AS notes, count(delta) AS deltas, sum(delta) AS delta_sum,
               count(kwh) AS kwhs, sum(kwh) AS kwh_sum, sum(flag::INT) AS flags, sum(source_line) AS line_sum,
               count(DISTINCT meter_id) AS meters, count(DISTINCT unique_text) AS uniques,
               epoch_ms(min(interval_start)) AS first_ms, epoch_ms(max(interval_start)) AS last_ms,
               min(day)::VARCHAR AS first_day
        FROM '${file}'`);
      expect(stats).toEqual({
        rows: String(n),
        notes: String(ks.filter((k) => k % 5 !== 0).length),
        deltas: String(notSeven.length),
        delta_sum: String(notSeven.reduce((sum, k) => sum + k - 1500, 0)),
        kwhs: String(notEleven.length),
        kwh_sum: notEleven.reduce((sum, k) => sum + k / 8, 0),
        flags: String(ks.filter((k) => k % 3 === 0).length),
        line_sum: String(ks.reduce((sum, k) => sum + 5_000_000_000_000n + BigInt(k), 0n)),
        meters: '37',
        uniques: String(n),
        first_ms: String(START),
        last_ms: String(START + (n - 1) * 60_000),
        first_day: new Date(20_000 * 86_400_000).toISOString().slice(0, 10),
      });
    },
  );

  it('when a row is read back, then strings, nulls and the UTC instant are exact', async () => {
    const file = path.join(dir, 'sample.parquet');
    await writeSample(file, 1, 10, 'none');
    const rows = await query(
      `SELECT meter_id, note, strftime(interval_start AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S') AS ts, delta, kwh
       FROM '${file}' WHERE source_line = 5000000000001`,
    );
    expect(rows).toEqual([
      { meter_id: 'm1', note: 'é1', ts: '2025-03-30T00:01:00', delta: -1499, kwh: 0.125 },
    ]);
  });

  it('when the file is described, then timestamps are UTC-adjusted and nullability follows the spec', async () => {
    const file = path.join(dir, 'sample.parquet');
    await writeSample(file, 1, 10, 'none');
    const schema = await query(
      `SELECT name, type, repetition_type FROM parquet_schema('${file}') WHERE name <> 'schema'`,
    );
    expect(schema.map((c) => [c.name, c.repetition_type])).toEqual(
      columns.map((c) => [c.name, c.nullable ? 'OPTIONAL' : 'REQUIRED']),
    );
    const [timestamp] = await query(`SELECT typeof(interval_start) AS t FROM '${file}' LIMIT 1`);
    expect(timestamp).toEqual({ t: 'TIMESTAMP WITH TIME ZONE' });
  });

  it('when no rows are written, then the file is still a valid empty table', async () => {
    const file = path.join(dir, 'empty.parquet');
    const chunks: Buffer[] = [];
    const writer = new ParquetWriter(columns, (chunk) => void chunks.push(Buffer.from(chunk)));
    await writer.finish();
    writeFileSync(file, Buffer.concat(chunks));
    expect(await query(`SELECT count(*) AS n FROM '${file}'`)).toEqual([{ n: '0' }]);
  });

  it('when the footer carries metadata, then it is readable as key/value pairs', async () => {
    const file = path.join(dir, 'sample.parquet');
    await writeSample(file, 1, 10, 'none');
    const rows = await query(
      `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${file}')`,
    );
    expect(rows).toEqual([{ k: 'lakewatt.instance', v: 'test' }]);
  });
});
