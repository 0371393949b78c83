import * as df from 'durable-functions';

import type { AuditRecord, DatabricksRunRecord, StageTiming } from '../lib/audit';
import { auditRecordPath } from '../lib/audit/store';
import {
  batchCaps,
  batchEventName,
  type BatchMember,
  type BatchResult,
  type BatchStep,
  goldDays,
  goldTablesOf,
  type JoinAnswer,
  queueKey,
} from '../lib/pipeline/batching';
import {
  INGEST_ORCHESTRATION,
  type IngestCustomStatus,
  type IngestInput,
  ingestInputSchema,
  type IngestStage,
  type PipelineStep,
} from '../lib/pipeline/ingest';
import type { StageOutcome } from '../lib/pipeline/steps';
import type { VeeOutcome } from '../lib/pipeline/vee';
import { validateAndStageActivity, writeAuditActivity } from './activities';
import { batchQueueEntity, startBatchActivity } from './batches';
import { activityRetry, codedFailure } from './jobRuns';

/**
 * ingestFile: validate and stage one bronze file version, then silver, then gold for the days it
 * touched (each in a shared batch run, see batches.ts), then the audit record. Deterministic: every time comes from `currentUtcDateTime`, every
 * setting from the input, every side effect from an activity. On any failure the audit record of the
 * failed stage is written first, then the orchestration fails, so it is listed and can be replayed.
 */

/** A stage failure carrying the code the audit record names. */
class StageFailure extends Error {
  constructor(
    readonly stage: PipelineStep,
    readonly code: string,
    message: string,
  ) {
    super(`[${code}] ${message}`);
  }
}

/** The stage and code of a failure: a StageFailure's own, or the `[CODE]` an activity put in its message. */
export function failureOf(
  error: unknown,
  stage: PipelineStep,
): { stage: PipelineStep; code: string; message: string } {
  if (error instanceof StageFailure) return { stage: error.stage, code: error.code, message: error.message };
  return { stage, ...codedFailure(error, 'ACTIVITY_FAILED') };
}

type Context = df.OrchestrationContext;

const iso = (date: Date): string => date.toISOString();

/**
 * The file's place in a step's batch (group commit): join the step's queue; when no batch was running, this
 * file starts one at once; then wait, without polling, for the batch's event. An event of an earlier
 * generation of this file (a batch that outlived the replaced run) is skipped. The wait is bounded.
 */
function* inBatch(
  context: Context,
  input: IngestInput,
  step: BatchStep,
  member: BatchMember,
  runs: DatabricksRunRecord[],
): Generator<df.Task, BatchResult, unknown> {
  const { policy } = input;
  const queue = queueKey(step, input.file.dataset);
  const caps = batchCaps(step, policy.batch, input.file.dataset);
  const linger = policy.batch.lingerSeconds > 0;
  const answer = (yield context.df.callEntity(batchQueueEntity(queue), 'join', { member, caps, linger })) as
    JoinAnswer | { kind: 'error'; message: string };
  if (answer.kind === 'error') throw new StageFailure(step, 'BATCH_QUEUE_REFUSED', answer.message);
  if (answer.kind === 'start') {
    yield startBatchActivity({ spec: answer.batch, policy }).withRetry(activityRetry());
  }
  const batch =
    answer.kind === 'start' ? answer.batch.batchId : answer.kind === 'running' ? answer.batchId : null;
  context.df.setCustomStatus(
    status(
      input,
      step,
      batch ? { batch } : { waitingBehind: answer.kind === 'waiting' ? answer.behind : '' },
    ),
  );
  const limit = new Date(context.df.currentUtcDateTime.getTime() + policy.batch.waitMinutes * 60_000);
  for (;;) {
    const done = context.df.waitForExternalEvent(batchEventName(step));
    const timeout = context.df.createTimer(limit);
    const winner = yield context.df.Task.any([done, timeout]);
    if (winner === timeout) {
      throw new StageFailure(
        step,
        'BATCH_WAIT_EXCEEDED',
        `no ${step} batch reported within ${policy.batch.waitMinutes} min`,
      );
    }
    timeout.cancel();
    const result = done.result as BatchResult;
    if (result.generation !== input.generation) continue;
    runs.push(...result.runs);
    if (result.outcome === 'failed') {
      throw new StageFailure(step, result.error?.code ?? 'BATCH_FAILED', result.error?.message ?? 'failed');
    }
    return result;
  }
}

function status(
  input: IngestInput,
  stage: IngestStage,
  extra: Partial<IngestCustomStatus> = {},
): IngestCustomStatus {
  return {
    stage,
    generation: input.generation,
    dataset: input.file.dataset,
    source: input.file.source,
    ...extra,
  };
}

export interface IngestResult {
  status: AuditRecord['status'];
  verdict: AuditRecord['verdict'];
  auditPath: string;
  runIds: number[];
}

export const ingestFile = df.app.orchestration(INGEST_ORCHESTRATION, function* (context: Context) {
  const input = ingestInputSchema.parse(context.df.getInput());
  const instanceId = context.df.instanceId;
  const startedAt = context.df.currentUtcDateTime;
  const stages: StageTiming[] = [];
  const runs: DatabricksRunRecord[] = [];
  let outcome: StageOutcome | undefined;
  // Meter readings: the file's own VEE outcome, reported by its silver batch.
  let vee: VeeOutcome | undefined;
  // An object, not a variable: updated inside closures, read in the catch block.
  const progress: { stage: PipelineStep } = { stage: 'validate' };
  let stageStart = startedAt;

  const endStage = (stage: PipelineStep, result: StageTiming['status']): void => {
    const now = context.df.currentUtcDateTime;
    stages.push({
      stage,
      startedAt: iso(stageStart),
      endedAt: iso(now),
      durationMs: now.getTime() - stageStart.getTime(),
      status: result,
    });
    stageStart = now;
  };
  const beginStage = (stage: PipelineStep, shown: IngestStage): void => {
    progress.stage = stage;
    stageStart = context.df.currentUtcDateTime;
    context.df.setCustomStatus(status(input, shown, outcome ? { verdict: outcome.verdict } : {}));
  };

  const record = (result: AuditRecord['status'], error: AuditRecord['error']): AuditRecord => ({
    schemaVersion: 1,
    kind: 'ingestFile',
    instanceId,
    generation: input.generation,
    trigger: input.trigger,
    requestedAt: input.requestedAt,
    requestedBy: input.requestedBy ?? null,
    startedAt: iso(startedAt),
    endedAt: iso(context.df.currentUtcDateTime),
    file: {
      container: input.file.container,
      path: input.file.path,
      etag: input.file.etag,
      size: outcome?.report?.file.size ?? input.file.size,
      sha256: outcome?.report?.file.sha256 ?? null,
      sequencer: input.file.sequencer,
      eventId: input.file.eventId,
    },
    sourceContract: { dataset: input.file.dataset, source: input.file.source },
    outputs: outcome?.outputs ?? { staging: null, quarantine: null },
    verdict: outcome?.verdict ?? null,
    status: result,
    validation: outcome?.report ?? null,
    ...(vee ? { vee } : {}),
    reasons: outcome?.reasons ?? [],
    databricksRuns: runs,
    stages,
    error,
    ...(input.traceparent ? { traceparent: input.traceparent } : {}),
  });

  const auditPath = auditRecordPath(instanceId, input.generation, input.requestedAt);
  const result = (final: AuditRecord['status']): IngestResult => ({
    status: final,
    verdict: outcome?.verdict ?? null,
    auditPath: `audit/${auditPath}`,
    runIds: runs.flatMap((run) => (run.runId === null ? [] : [run.runId])),
  });

  try {
    beginStage('validate', 'validating');
    outcome = (yield validateAndStageActivity({ instanceId, input }).withRetry(
      activityRetry(),
    )) as StageOutcome;
    endStage('validate', 'succeeded');

    if (outcome.verdict === 'rejected') {
      // Bad data costs no compute: quarantined by the activity, recorded here, no Spark run.
      beginStage('audit', 'auditing');
      yield writeAuditActivity(record('rejected', null)).withRetry(activityRetry());
      context.df.setCustomStatus(status(input, 'rejected', { verdict: outcome.verdict }));
      return result('rejected');
    }

    const member: BatchMember = {
      instanceId,
      generation: input.generation,
      dataset: input.file.dataset,
      rows: outcome.report?.counts.rowsValid ?? 0,
      bytes: outcome.report?.file.size ?? input.file.size ?? 0,
      dates: [...(outcome.report?.affectedDates ?? [])].sort(),
      // The batch records its runs in this file's trace (from the input: replays see the same value).
      ...(input.traceparent ? { traceparent: input.traceparent } : {}),
    };
    beginStage('silver', 'silver');
    const silver = yield* inBatch(context, input, 'silver', member, runs);
    vee = silver.vee;
    endStage('silver', 'succeeded');

    beginStage('gold', 'gold');
    // A contract or customer change also makes past days' gold stale (their costs, segments, profiles), and
    // changes the dimensions even when it makes no day stale.
    const goldMember = { ...member, dates: goldDays(member.dates, silver.affectedDates) };
    if (goldTablesOf(goldMember).length > 0) {
      yield* inBatch(context, input, 'gold', goldMember, runs);
      endStage('gold', 'succeeded');
    } else {
      endStage('gold', 'skipped');
    }

    beginStage('audit', 'auditing');
    // The record cannot time its own write: its stages end where the write begins (its `endedAt`).
    yield writeAuditActivity(record('completed', null)).withRetry(activityRetry());
    context.df.setCustomStatus(status(input, 'completed', { verdict: outcome.verdict }));
    return result('completed');
  } catch (error) {
    const current = progress.stage;
    const failure = failureOf(error, current);
    if (current !== 'audit') endStage(current, 'failed');
    context.df.setCustomStatus(status(input, 'failed', outcome ? { verdict: outcome.verdict } : {}));
    if (current !== 'audit') {
      // The record of the failed stage comes first; only then does the orchestration fail.
      yield writeAuditActivity(record('failed', failure)).withRetry(activityRetry());
    }
    throw new Error(`[${failure.code}] ${failure.stage}: ${failure.message}`);
  }
});
