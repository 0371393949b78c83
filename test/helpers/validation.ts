import { Readable } from 'node:stream';

import { type SourceContract, sourceContractSchema } from '../../lib/contracts/sources';
import type { ColumnBatch } from '../../lib/formats/parquet/columnBatch';
import { validateStream, type ValidationLimits } from '../../lib/validation/engine';
import type { RejectedRow, ValidationReport } from '../../lib/validation/report';

export const TEST_LIMITS: ValidationLimits = {
  maxFileBytes: 64 * 1024 * 1024,
  maxDecompressedBytes: 256 * 1024 * 1024,
  maxCompressionRatio: 200,
  maxLineBytes: 64 * 1024,
  maxSeries: 100_000,
};

/** A clock far enough ahead that test data from 2025 is never "in the future". */
export const TEST_NOW = new Date('2026-06-01T00:00:00Z');

export type StagedRow = Record<string, string | number | null>;

export interface ValidationRun {
  report: ValidationReport;
  rows: StagedRow[];
  rejected: RejectedRow[];
}

/** A contract from partial fields over a canonical long CSV default; validated like a contract file. */
export function contractOf(overrides: Record<string, unknown>): SourceContract {
  return sourceContractSchema.parse({
    source: 'test',
    dataset: 'meter_readings',
    description: 'test source',
    format: { type: 'csv' },
    layout: {
      kind: 'long',
      columns: {
        meter_id: 'meter_id',
        interval_start: 'interval_start',
        interval_minutes: 'interval_minutes',
        channel: 'channel',
        kwh: 'kwh',
        quality: 'quality',
      },
    },
    timestamp: { format: 'iso8601' },
    unit: 'kWh',
    ...overrides,
  });
}

function rowsOf(batch: ColumnBatch): StagedRow[] {
  const rows: StagedRow[] = [];
  for (let r = 0; r < batch.length; r++) {
    const row: StagedRow = {};
    batch.columns.forEach((column, c) => {
      const strings = batch.strings[c];
      if (strings) {
        row[column.name] = strings[r] ?? null;
        return;
      }
      if (batch.nulls[c]?.[r] === 1) {
        row[column.name] = null;
        return;
      }
      const value = batch.numbers[c]![r]!;
      row[column.name] = column.type === 'timestamp' ? new Date(value).toISOString() : value;
    });
    rows.push(row);
  }
  return rows;
}

/** Runs the engine over in-memory content, split into chunks of `chunkSize` bytes to exercise streaming. */
export async function validate(
  contract: SourceContract,
  content: string | Buffer,
  options: {
    chunkSize?: number;
    limits?: Partial<ValidationLimits>;
    now?: Date;
    /** When the file landed (the late-data reference; default `now`). */
    landedAt?: Date;
    batchSize?: number;
    /** The file's lake path (document formats read the zone from the file name). */
    path?: string;
  } = {},
): Promise<ValidationRun> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const chunkSize = options.chunkSize ?? 7;
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  const rows: StagedRow[] = [];
  const rejected: RejectedRow[] = [];
  const report = await validateStream(
    {
      source: Readable.from(chunks),
      contract,
      file: { path: options.path ?? 'bronze/landing/test/file.csv', etag: '0x1' },
      instanceId: 'instance-1',
      now: options.now ?? TEST_NOW,
      ...(options.landedAt ? { landedAt: options.landedAt } : {}),
      limits: { ...TEST_LIMITS, ...options.limits },
      batchSize: options.batchSize ?? 4,
    },
    {
      writeBatch: (batch) => {
        rows.push(...rowsOf(batch));
        return Promise.resolve();
      },
      writeRejected: (row) => void rejected.push(row),
      flush: () => Promise.resolve(),
    },
  );
  return { report, rows, rejected };
}

export const CANONICAL_HEADER = 'meter_id,interval_start,interval_minutes,channel,kwh,quality';

export function csv(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}
