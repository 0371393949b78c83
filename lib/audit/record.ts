import { z } from 'zod';

import { DATASET_NAMES } from '../contracts/datasets';
import { callerSchema } from '../pipeline/caller';
import { INGEST_TRIGGERS } from '../pipeline/ingest';
import { veeOutcomeSchema, veeRunSummarySchema } from '../pipeline/vee';
import { traceparentSchema } from '../telemetry/traceContext';
import { validationReportSchema } from '../validation/report';

/**
 * The audit record: one immutable JSON document per orchestration and generation, at
 * `audit/runs/{yyyy}/{mm}/{dd}/{instanceId}/{generation}.json` (the date is the day the generation was
 * requested, UTC). Versioned like the validation report: add fields compatibly, bump the version when a
 * meaning changes, since records are kept for years.
 */
export const AUDIT_RECORD_VERSION = 1;

const isoTime = z.iso.datetime();

export const deltaCommitSchema = z.object({
  table: z.string(),
  action: z.string(),
  version: z.number().int().nullable(),
  previousVersion: z.number().int().nullable(),
  operation: z.string().nullable(),
  operationMetrics: z.record(z.string(), z.string()),
});

export const databricksRunRecordSchema = z.object({
  step: z.enum(['silver', 'gold']),
  job: z.string(),
  runId: z.number().int().nullable(),
  runPageUrl: z.string().nullable(),
  idempotencyToken: z.string(),
  /** Records from before group commit: the orchestration whose queued gold run this one joined. Now null. */
  sharedWith: z.string().nullable(),
  /** The batch this run was for (group commit): its orchestration id, queue, and member files. */
  batch: z
    .object({
      id: z.string(),
      queue: z.string(),
      size: z.number().int().positive(),
      members: z.array(z.string()),
    })
    .nullable()
    .optional(),
  parameters: z.record(z.string(), z.string()),
  /** The run's outcome: Succeeded, Failed, Canceled, TimedOut (and Running only if the record was cut short). */
  outcome: z.string().nullable(),
  lifeCycleState: z.string().nullable(),
  resultState: z.string().nullable(),
  stateMessage: z.string().nullable(),
  submittedAt: isoTime,
  endedAt: isoTime.nullable(),
  durationMs: z.number().int().nonnegative().nullable(),
  polls: z.number().int().nonnegative(),
  /** The Delta commits the job's run manifest lists (empty until the job succeeded). */
  commits: z.array(deltaCommitSchema),
  /**
   * A silver run of reference data (contracts, customers): the UTC days with readings whose gold its changes
   * made stale, which the batch's files then recompute. Absent in records written before it existed.
   */
  affectedDates: z.array(z.string()).optional(),
  /**
   * A silver run of meter readings: the VEE totals of its manifest (meter-days evaluated and complete,
   * intervals estimated, findings by rule) over every file of the batch. Absent in records written before it
   * and for other datasets.
   */
  vee: veeRunSummarySchema.optional(),
});

export const stageTimingSchema = z.object({
  stage: z.enum(['validate', 'silver', 'gold', 'audit']),
  startedAt: isoTime,
  endedAt: isoTime,
  durationMs: z.number().int().nonnegative(),
  status: z.enum(['succeeded', 'failed', 'skipped']),
});

export const auditErrorSchema = z.object({
  stage: z.enum(['validate', 'silver', 'gold', 'audit']),
  code: z.string(),
  message: z.string(),
});

export const auditRecordSchema = z.object({
  schemaVersion: z.literal(AUDIT_RECORD_VERSION),
  kind: z.literal('ingestFile'),
  instanceId: z.string().min(1),
  generation: z.number().int().nonnegative(),
  trigger: z.enum(INGEST_TRIGGERS),
  requestedAt: isoTime,
  /**
   * The operator who asked for this generation (replay, reprocess through the API); null for an event.
   * Added compatibly (version 1): records written before it have no such field.
   */
  requestedBy: callerSchema.nullable().optional(),
  startedAt: isoTime,
  endedAt: isoTime,
  file: z.object({
    container: z.string(),
    path: z.string(),
    etag: z.string(),
    size: z.number().int().nonnegative().nullable(),
    sha256: z.string().nullable(),
    sequencer: z.string().nullable(),
    eventId: z.string().nullable(),
  }),
  sourceContract: z.object({ dataset: z.enum(DATASET_NAMES), source: z.string() }),
  /** Where the file's outputs went: the staged folder, or the quarantine folder. */
  outputs: z.object({ staging: z.string().nullable(), quarantine: z.string().nullable() }),
  verdict: z.enum(['accepted', 'accepted_with_rejections', 'rejected']).nullable(),
  /** completed: in silver and gold; rejected: quarantined, no Spark; failed: a stage failed (replayable). */
  status: z.enum(['completed', 'rejected', 'failed']),
  validation: validationReportSchema.nullable(),
  /**
   * Meter readings: this file's VEE outcome, the meter-days its readings touch, from its silver run's
   * manifest. Absent when the file did not reach silver, for other datasets, and in records written before it.
   */
  vee: veeOutcomeSchema.optional(),
  /** File-level reasons when no report could be produced (e.g. no source contract for the file). */
  reasons: z.array(z.object({ code: z.string(), message: z.string() })),
  databricksRuns: z.array(databricksRunRecordSchema),
  stages: z.array(stageTimingSchema),
  error: auditErrorSchema.nullable(),
  /**
   * The generation's trace (W3C traceparent; its trace id is Application Insights' operation id). Added
   * compatibly (version 1): absent in records written before it.
   */
  traceparent: traceparentSchema.optional(),
});

export type AuditRecord = z.infer<typeof auditRecordSchema>;
export type DatabricksRunRecord = z.infer<typeof databricksRunRecordSchema>;
export type StageTiming = z.infer<typeof stageTimingSchema>;
export type DeltaCommit = z.infer<typeof deltaCommitSchema>;
