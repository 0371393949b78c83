import { createHash } from 'node:crypto';

import { z } from 'zod';

import { DATASET_NAMES } from '../contracts/datasets';
import type { LandedFile } from '../events/blobCreated';
import { traceparentSchema } from '../telemetry/traceContext';
import { datasetCapsSchema } from './batching';
import { callerSchema } from './caller';

/**
 * The input of one `ingestFile` orchestration and the rules the orchestrator follows. Everything the
 * orchestrator needs that could change between replays of its history (settings, the request time) is
 * in its input, so the orchestrator itself reads nothing but its input and its history.
 */

export const INGEST_ORCHESTRATION = 'ingestFile';

/** `reconcile`: the landing reconciliation found the file version with no run (its event was lost). */
export const INGEST_TRIGGERS = ['event', 'replay', 'reprocess', 'reconcile'] as const;
export type IngestTrigger = (typeof INGEST_TRIGGERS)[number];

export const jobPolicySchema = z.object({
  pollMinSeconds: z.number().int().positive(),
  pollMaxSeconds: z.number().int().positive(),
  deadlineMinutes: z.number().int().positive(),
  /** How long Jobs API calls ride out an outage (histories before it: the default). */
  outageMinutes: z.number().int().positive().default(60),
  silverJob: z.string().min(1),
  goldJob: z.string().min(1),
  /** Group commit: caps per batch run and how long a file waits for its batch (histories before it: defaults). */
  batch: z
    .object({
      maxFiles: z.number().int().positive(),
      maxRows: z.number().int().positive(),
      maxBytes: z.number().int().positive(),
      waitMinutes: z.number().int().positive(),
      lingerSeconds: z.number().int().nonnegative().default(0),
      byDataset: z.partialRecord(z.enum(DATASET_NAMES), datasetCapsSchema).default({}),
    })
    .default({
      maxFiles: 500,
      maxRows: 20_000_000,
      maxBytes: 10 * 2 ** 30,
      waitMinutes: 360,
      lingerSeconds: 0,
      byDataset: {},
    }),
});
export type JobPolicy = z.infer<typeof jobPolicySchema>;

export const ingestFileSchema = z.object({
  container: z.string().min(1),
  path: z.string().min(1),
  etag: z.string().min(1),
  dataset: z.enum(DATASET_NAMES),
  source: z.string().min(1),
  fileName: z.string().min(1),
  size: z.number().int().nonnegative().nullable(),
  sequencer: z.string().nullable(),
  eventId: z.string().nullable(),
  eventTime: z.string().nullable(),
});
export type IngestFile = z.infer<typeof ingestFileSchema>;

export const ingestInputSchema = z.object({
  file: ingestFileSchema,
  /** 0 for the first run of a file version; each replay adds one. */
  generation: z.number().int().nonnegative(),
  /** When this generation was requested (UTC, ISO 8601): dates the audit record's folder. */
  requestedAt: z.iso.datetime(),
  trigger: z.enum(INGEST_TRIGGERS),
  policy: jobPolicySchema,
  /** The operator who asked for a replay or reprocess; absent for events (and in inputs written before it). */
  requestedBy: callerSchema.optional(),
  /**
   * This generation's trace (W3C traceparent of its `ingest.start` span), made by the starter: the
   * orchestrator only hands it on, so its activities and Databricks runs join the file's trace. Absent in
   * inputs written before it.
   */
  traceparent: traceparentSchema.optional(),
});
export type IngestInput = z.infer<typeof ingestInputSchema>;

export function ingestFileOf(file: LandedFile): IngestFile {
  return {
    container: file.container,
    path: file.path,
    etag: file.etag,
    dataset: file.dataset,
    source: file.source,
    fileName: file.fileName,
    size: file.size ?? null,
    sequencer: file.sequencer ?? null,
    eventId: file.eventId,
    eventTime: file.eventTime ?? null,
  };
}

export const PIPELINE_STEPS = ['validate', 'silver', 'gold', 'audit'] as const;
export type PipelineStep = (typeof PIPELINE_STEPS)[number];

/**
 * The Jobs API idempotency token of one step of one generation: a retried `run-now` (activity retry,
 * host restart, duplicate orchestration) returns the run already started instead of starting another,
 * while a replay (next generation) starts a fresh run. `attempt` > 0 names a new run of the step after the
 * platform lost the earlier one (see JOB_RESUBMITS); attempt 0 keeps the token it always had. At most 64
 * characters, as the API requires.
 */
export function idempotencyToken(
  instanceId: string,
  generation: number,
  step: PipelineStep,
  attempt = 0,
): string {
  const suffix = attempt === 0 ? '' : `:${attempt}`;
  const plain = `${instanceId}:${generation}:${step}${suffix}`;
  if (plain.length <= 64) return plain;
  const digest = createHash('sha256').update(plain).digest('hex').slice(0, 40);
  return `lw:${digest}:${generation}:${step}${suffix}`.slice(0, 64);
}

/**
 * New runs a step gets after a run that failed for a platform reason (retryable: INTERNAL_ERROR, a lost
 * cluster or emulator process, a run limit). The job's own task retries cannot help there: the run as a whole
 * ended. Safe because every step is idempotent (silver MERGE, gold partition replace).
 */
export const JOB_RESUBMITS = 2;

/**
 * Seconds to wait before poll number `attempt` (0-based) of a Databricks run: doubling from `min` to
 * the `max` cap, so short runs are seen quickly and long runs cost few polls.
 */
export function pollDelaySeconds(
  attempt: number,
  policy: Pick<JobPolicy, 'pollMinSeconds' | 'pollMaxSeconds'>,
): number {
  const exponent = Math.min(attempt, 30);
  return Math.min(policy.pollMaxSeconds, policy.pollMinSeconds * 2 ** exponent);
}

/**
 * When a run is given up (epoch ms). JOB_DEADLINE_MINUTES counts the run's own time, from when it was first
 * seen out of the Jobs queue (a run seen running at its first poll counts from its submit); a run still
 * QUEUED behind others (the job's concurrency) is bounded by BATCH_WAIT_MINUTES from its submit instead, the
 * longest its files wait anyway.
 */
export function runDeadline(
  run: { submittedMs: number; runningSinceMs: number | null },
  policy: Pick<JobPolicy, 'deadlineMinutes' | 'batch'>,
): { atMs: number; code: 'JOB_DEADLINE_EXCEEDED' | 'JOB_QUEUED_TOO_LONG'; minutes: number } {
  if (run.runningSinceMs === null) {
    const minutes = policy.batch.waitMinutes;
    return { atMs: run.submittedMs + minutes * 60_000, code: 'JOB_QUEUED_TOO_LONG', minutes };
  }
  const minutes = policy.deadlineMinutes;
  return { atMs: run.runningSinceMs + minutes * 60_000, code: 'JOB_DEADLINE_EXCEEDED', minutes };
}

/** The UTC days a gold run recomputes: the span of the validation report's affected dates. */
export function goldDateRange(affectedDates: readonly string[]): { from: string; to: string } | undefined {
  if (affectedDates.length === 0) return undefined;
  const sorted = [...affectedDates].sort();
  return { from: sorted[0]!, to: sorted[sorted.length - 1]! };
}

/** The stage an ingestion is in, shown as the orchestration's custom status. */
export type IngestStage = 'validating' | 'silver' | 'gold' | 'auditing' | 'completed' | 'rejected' | 'failed';

export interface IngestCustomStatus {
  stage: IngestStage;
  generation: number;
  dataset: string;
  source: string;
  verdict?: string;
  runId?: number;
  /** The batch orchestration running this file's step, or the one it waits behind. */
  batch?: string;
  waitingBehind?: string;
}
