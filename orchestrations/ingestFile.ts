import * as df from 'durable-functions';

import type { AuditRecord, DatabricksRunRecord, DeltaCommit, StageTiming } from '../lib/audit';
import { auditRecordPath } from '../lib/audit/store';
import {
  goldDateRange,
  idempotencyToken,
  INGEST_ORCHESTRATION,
  type IngestCustomStatus,
  type IngestInput,
  ingestInputSchema,
  type IngestStage,
  JOB_RESUBMITS,
  type PipelineStep,
  pollDelaySeconds,
} from '../lib/pipeline/ingest';
import type { JobRunRequest, JobRunState, StageOutcome, StartedJobRun } from '../lib/pipeline/steps';

/**
 * ingestFile: validate and stage one bronze file version, then silver, then gold for the days it
 * touched, then the audit record. Deterministic: every time comes from `currentUtcDateTime`, every
 * setting from the input, every side effect from an activity. On any failure the audit record of the
 * failed stage is written first, then the orchestration fails, so it is listed and can be replayed.
 */

/** Transient failures (network, throttling, a restarting emulator) get four attempts, 2 s doubling to 60 s. */
function activityRetry(): df.RetryOptions {
  const retry = new df.RetryOptions(2_000, 4);
  retry.backoffCoefficient = 2;
  retry.maxRetryIntervalInMilliseconds = 60_000;
  return retry;
}

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

/** The `[CODE]` an activity put in front of its message, and the message's first line without it. */
export function failureOf(
  error: unknown,
  stage: PipelineStep,
): { stage: PipelineStep; code: string; message: string } {
  if (error instanceof StageFailure) return { stage: error.stage, code: error.code, message: error.message };
  const text = error instanceof Error ? error.message : String(error);
  const match = /\[([A-Z][A-Z0-9_]*)\]\s*([^\n]*)/.exec(text);
  if (match) return { stage, code: match[1]!, message: match[2]!.trim() };
  return { stage, code: 'ACTIVITY_FAILED', message: text.split('\n')[0]!.trim().slice(0, 500) };
}

type Context = df.OrchestrationContext;

const iso = (date: Date): string => date.toISOString();

/**
 * One step's job, run to its end. A run the platform lost or refused (a retryable failure: INTERNAL_ERROR
 * when its cluster, or the local emulator's process, died with it; a run limit) is followed by a new run of
 * the step, up to JOB_RESUBMITS times: the job's own task retries cannot help once the run as a whole ended,
 * and every step is idempotent. Each run gets its own record; the deadline counts from the first submit.
 */
function* pollJob(
  context: Context,
  input: IngestInput,
  step: 'silver' | 'gold',
  job: string,
  parameters: Record<string, string>,
  runs: DatabricksRunRecord[],
): Generator<df.Task, DatabricksRunRecord, unknown> {
  const { policy, generation } = input;
  const deadline = context.df.currentUtcDateTime.getTime() + policy.deadlineMinutes * 60_000;
  for (let attempt = 0; ; attempt++) {
    const { record, state, started } = yield* runJob(context, input, step, job, parameters, runs, {
      attempt,
      deadline,
    });
    if (state.outcome === 'Succeeded') {
      record.commits = ((yield context.df.callActivityWithRetry('readJobCommits', activityRetry(), {
        instanceId: started.sharedWith?.orchestrationId ?? context.df.instanceId,
        generation: started.sharedWith?.generation ?? generation,
        step,
      })) ?? []) as DeltaCommit[];
      return record;
    }
    if (state.outcome === 'Failed' && state.retryable === true && attempt < JOB_RESUBMITS) continue;
    throw new StageFailure(
      step,
      `JOB_${state.outcome.toUpperCase()}`,
      `${job} run ${started.runId} ended ${state.outcome}: ${state.error ?? state.reason}`,
    );
  }
}

/** Submits one run of a step's job and polls it until it ends (or cancels it at the deadline and fails). */
function* runJob(
  context: Context,
  input: IngestInput,
  step: 'silver' | 'gold',
  job: string,
  parameters: Record<string, string>,
  runs: DatabricksRunRecord[],
  { attempt, deadline }: { attempt: number; deadline: number },
): Generator<df.Task, { record: DatabricksRunRecord; state: JobRunState; started: StartedJobRun }, unknown> {
  const { policy, generation } = input;
  const token = idempotencyToken(context.df.instanceId, generation, step, attempt);
  const submitted = context.df.currentUtcDateTime;
  const record: DatabricksRunRecord = {
    step,
    job,
    runId: null,
    runPageUrl: null,
    idempotencyToken: token,
    sharedWith: null,
    parameters,
    outcome: null,
    lifeCycleState: null,
    resultState: null,
    stateMessage: null,
    submittedAt: iso(submitted),
    endedAt: null,
    durationMs: null,
    polls: 0,
    commits: [],
  };
  runs.push(record);
  const request: JobRunRequest = { job, parameters, idempotencyToken: token };
  if (step === 'gold')
    request.shareQueuedRunFor = { dateFrom: parameters.date_from!, dateTo: parameters.date_to! };
  const started = (yield context.df.callActivityWithRetry(
    'startJobRun',
    activityRetry(),
    request,
  )) as StartedJobRun;
  record.runId = started.runId;
  record.sharedWith = started.sharedWith?.orchestrationId ?? null;
  let state: JobRunState | undefined;
  for (let poll = 0; !state?.terminal; poll++) {
    const wakeAt = context.df.currentUtcDateTime.getTime() + pollDelaySeconds(poll, policy) * 1000;
    if (wakeAt > deadline) {
      // A shared run belongs to another orchestration, whose own deadline decides its fate.
      if (!started.sharedWith) {
        yield context.df.callActivityWithRetry('cancelJobRun', activityRetry(), { runId: started.runId });
        record.outcome = 'Canceled';
      }
      record.endedAt = iso(context.df.currentUtcDateTime);
      throw new StageFailure(
        step,
        'JOB_DEADLINE_EXCEEDED',
        `${job} run ${started.runId} did not end within ${policy.deadlineMinutes} min` +
          (started.sharedWith
            ? ` (shared with ${started.sharedWith.orchestrationId}, left running)`
            : '; it was cancelled'),
      );
    }
    yield context.df.createTimer(new Date(wakeAt));
    state = (yield context.df.callActivityWithRetry('getJobRun', activityRetry(), {
      runId: started.runId,
    })) as JobRunState;
    record.polls += 1;
    record.outcome = state.outcome;
    record.lifeCycleState = state.lifeCycleState;
    record.resultState = state.resultState;
    record.stateMessage = state.error ?? state.reason;
    record.runPageUrl = state.runPageUrl;
    context.df.setCustomStatus(status(input, step, { runId: started.runId }));
  }
  const ended = context.df.currentUtcDateTime;
  record.endedAt = iso(ended);
  record.durationMs =
    state.startTime !== null && state.endTime !== null
      ? Math.max(0, state.endTime - state.startTime)
      : ended.getTime() - submitted.getTime();
  return { record, state, started };
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
    reasons: outcome?.reasons ?? [],
    databricksRuns: runs,
    stages,
    error,
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
    outcome = (yield context.df.callActivityWithRetry('validateAndStage', activityRetry(), {
      instanceId,
      input,
    })) as StageOutcome;
    endStage('validate', 'succeeded');

    if (outcome.verdict === 'rejected') {
      // Bad data costs no compute: quarantined by the activity, recorded here, no Spark run.
      beginStage('audit', 'auditing');
      yield context.df.callActivityWithRetry('writeAudit', activityRetry(), record('rejected', null));
      context.df.setCustomStatus(status(input, 'rejected', { verdict: outcome.verdict }));
      return result('rejected');
    }

    const { policy, generation } = input;
    beginStage('silver', 'silver');
    yield* pollJob(
      context,
      input,
      'silver',
      policy.silverJob,
      {
        dataset: input.file.dataset,
        orchestration_id: instanceId,
        instance_ids: instanceId,
        generation: String(generation),
      },
      runs,
    );
    endStage('silver', 'succeeded');

    const dates = goldDateRange(outcome.report?.affectedDates ?? []);
    beginStage('gold', 'gold');
    if (dates) {
      yield* pollJob(
        context,
        input,
        'gold',
        policy.goldJob,
        {
          orchestration_id: instanceId,
          generation: String(generation),
          date_from: dates.from,
          date_to: dates.to,
          dataset: input.file.dataset,
        },
        runs,
      );
      endStage('gold', 'succeeded');
    } else {
      endStage('gold', 'skipped');
    }

    beginStage('audit', 'auditing');
    // The record cannot time its own write: its stages end where the write begins (its `endedAt`).
    yield context.df.callActivityWithRetry('writeAudit', activityRetry(), record('completed', null));
    context.df.setCustomStatus(status(input, 'completed', { verdict: outcome.verdict }));
    return result('completed');
  } catch (error) {
    const current = progress.stage;
    const failure = failureOf(error, current);
    if (current !== 'audit') endStage(current, 'failed');
    context.df.setCustomStatus(status(input, 'failed', outcome ? { verdict: outcome.verdict } : {}));
    if (current !== 'audit') {
      // The record of the failed stage comes first; only then does the orchestration fail.
      yield context.df.callActivityWithRetry('writeAudit', activityRetry(), record('failed', failure));
    }
    throw new Error(`[${failure.code}] ${failure.stage}: ${failure.message}`);
  }
});
