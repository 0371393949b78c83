import { z } from 'zod';

import { DATASET_NAMES } from '../contracts/datasets';

/**
 * The validation report: what one file held and what became of it. Versioned, since the audit trail
 * keeps reports for years: add fields compatibly, bump `schemaVersion` when a meaning changes.
 */
export const VALIDATION_REPORT_VERSION = 1;

const finding = z.object({ code: z.string(), message: z.string() });

export const validationReportSchema = z.object({
  schemaVersion: z.literal(VALIDATION_REPORT_VERSION),
  file: z.object({
    path: z.string(),
    etag: z.string(),
    size: z.number().int().nonnegative(),
    sha256: z.string(),
    compressed: z.boolean(),
    decompressedSize: z.number().int().nonnegative(),
    encoding: z.string().nullable(),
  }),
  contract: z.object({ dataset: z.enum(DATASET_NAMES), source: z.string(), maxRejectedShare: z.number() }),
  instanceId: z.string(),
  counts: z.object({
    linesRead: z.number().int().nonnegative(),
    blankLines: z.number().int().nonnegative(),
    rowsRead: z.number().int().nonnegative(),
    rowsValid: z.number().int().nonnegative(),
    rowsRejected: z.number().int().nonnegative(),
    duplicatesDropped: z.number().int().nonnegative(),
    emptyValues: z.number().int().nonnegative(),
    ambiguousTimesResolved: z.number().int().nonnegative(),
  }),
  rejectedShare: z.number(),
  /** Rejected records per reason code; a record counts once per code, however many columns fail it. */
  ruleFailures: z.record(z.string(), z.number().int()),
  columns: z.record(
    z.string(),
    z.object({ nulls: z.number().int().nonnegative(), outOfRange: z.number().int().nonnegative() }),
  ),
  distinctMeters: z.number().int().nonnegative().nullable(),
  firstInterval: z.string().nullable(),
  lastInterval: z.string().nullable(),
  affectedDates: z.array(z.string()),
  lineEndings: z.object({ lf: z.number(), crlf: z.number(), cr: z.number(), mixed: z.boolean() }),
  notes: z.array(z.string()),
  performance: z.object({
    durationMs: z.number().nonnegative(),
    bytesPerSecond: z.number().nonnegative(),
    rowsPerSecond: z.number().nonnegative(),
  }),
  verdict: z.enum(['accepted', 'accepted_with_rejections', 'rejected']),
  reasons: z.array(finding),
  startedAt: z.string(),
});

export type ValidationReport = z.infer<typeof validationReportSchema>;
export type Verdict = ValidationReport['verdict'];

/** One rejected row as written to quarantine/{dataset}/{instanceId}/rejected.ndjson. */
export interface RejectedRow {
  line: number;
  /** Value column of a wide row, when only one reading of the row was rejected. */
  column?: string;
  /** How many canonical rows this record stands for (a wide row rejected whole holds several). */
  rows: number;
  raw: string;
  reasons: Array<{ code: string; message: string; column?: string }>;
}

export const RAW_LINE_LIMIT = 1000;
