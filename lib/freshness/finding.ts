import { createHash } from 'node:crypto';

import { z } from 'zod';

import { DATASET_NAMES } from '../contracts/datasets';

/**
 * A freshness finding: a data date of a scheduled source whose file is `missing` (none landed by the
 * deadline plus grace) or `late` (the first file landed after it). Its id is a hash of dataset, source, date
 * and kind alone, so every run of the check that sees the same breach names it the same way and the
 * create-only audit write keeps the first record (docs/operations.md "Late and missing files").
 */

export const FINDING_KINDS = ['missing', 'late'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

const isoTime = z.iso.datetime();
const isoDate = z.iso.date();

export const freshnessFindingSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{32}$/),
  kind: z.enum(FINDING_KINDS),
  dataset: z.enum(DATASET_NAMES),
  source: z.string().min(1),
  /** The data date the file is for. */
  date: isoDate,
  /** `expected_by` on the delivery day, as a UTC instant. */
  deadline: isoTime,
  graceMinutes: z.number().int().nonnegative(),
  /** The deadline plus grace. */
  dueBy: isoTime,
  /** Late: when the date's first file landed (its last write). Missing: null. */
  landedAt: isoTime.nullable(),
  /** Late: that file's bronze path. Missing: null. */
  path: z.string().nullable(),
  /** Minutes from the deadline to the landing (late) or to the check that found nothing (missing). */
  delayMinutes: z.number().int(),
  /** When the check that recorded it ran. */
  detectedAt: isoTime,
});

export type FreshnessFinding = z.output<typeof freshnessFindingSchema>;

export function findingId(dataset: string, source: string, date: string, kind: FindingKind): string {
  return createHash('sha256')
    .update(`freshness\n${dataset}\n${source}\n${date}\n${kind}`)
    .digest('hex')
    .slice(0, 32);
}
