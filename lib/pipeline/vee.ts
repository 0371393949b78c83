import { z } from 'zod';

import { LakewattError } from '../errors';

/**
 * Meter-data VEE (validation, estimation, editing) as the silver job of meter_readings reports it in its run
 * manifest (`vee`, written by databricks/src/lakewatt/manifest.py): totals for the run, and per ingest
 * instance the meter-days that file's readings touch. Rule codes and estimation methods are open strings
 * (gap, spike, zero_run, frozen_value, high_day, low_day; linear, like_day), so a new rule needs no release here.
 */

const count = z.number().int().nonnegative();

/** Counts by rule code (findings) or by estimation method (estimated intervals). */
export const veeCountsSchema = z.record(z.string(), count);

/** One file's VEE outcome: the meter-days its readings touch (a `byInstance` entry; the audit record's `vee`). */
export const veeOutcomeSchema = z.object({
  meterDays: count,
  completeMeterDays: count,
  /** Intervals still missing after estimation. */
  missingIntervals: count,
  estimatedIntervals: veeCountsSchema,
  findings: veeCountsSchema,
});

/** A silver run's VEE totals (the job-run record's `vee`): every (meter, channel, local day) it evaluated. */
export const veeRunSummarySchema = z.object({
  /** The local calendar days evaluated. */
  days: z.array(z.iso.date()),
  meterDays: count,
  completeMeterDays: count,
  expectedIntervals: count,
  receivedIntervals: count,
  estimatedIntervals: veeCountsSchema,
  missingIntervals: count,
  findings: veeCountsSchema,
});

/** The manifest's `vee`: the run's totals and each file's outcome, keyed by its ingest instance id. */
export const veeManifestSchema = veeRunSummarySchema.extend({
  byInstance: z.record(z.string(), veeOutcomeSchema),
});

export type VeeOutcome = z.infer<typeof veeOutcomeSchema>;
export type VeeRunSummary = z.infer<typeof veeRunSummarySchema>;
export type VeeManifest = z.infer<typeof veeManifestSchema>;

/**
 * The `vee` of a run manifest, or undefined when it has none (manifests written before VEE, and runs of
 * other datasets; a null reads the same). Anything else that does not match is a job defect: MANIFEST_INVALID
 * naming the offending field.
 */
export function parseVeeManifest(value: unknown, step: string): VeeManifest | undefined {
  if (value === undefined || value === null) return undefined;
  const parsed = veeManifestSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = ['vee', ...issue.path.map(String)].join('.');
  throw new LakewattError(
    'MANIFEST_INVALID',
    `the ${step} run manifest's ${field} is invalid: ${issue.message}`,
  );
}

/** The run's totals without the per-file outcomes (each file's record carries its own). */
export function veeRunTotals(vee: VeeManifest): VeeRunSummary {
  const { byInstance: _byInstance, ...totals } = vee;
  return totals;
}

/**
 * The outcome of the file of `instanceId` in a run that evaluated VEE. A file the run lists no entry for
 * touched no meter-day: its outcome is zero, not unknown.
 */
export function veeOutcomeOf(vee: VeeManifest, instanceId: string): VeeOutcome {
  return (
    vee.byInstance[instanceId] ?? {
      meterDays: 0,
      completeMeterDays: 0,
      missingIntervals: 0,
      estimatedIntervals: {},
      findings: {},
    }
  );
}

/** `gap 5, spike 2` (codes in order), or `none`; zero counts are left out. */
export function countsText(counts: Readonly<Record<string, number>>): string {
  const shown = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, n]) => `${code} ${n}`);
  return shown.length > 0 ? shown.join(', ') : 'none';
}

/** The sum of counts by code. */
export function countsTotal(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
