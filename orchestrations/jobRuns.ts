import * as df from 'durable-functions';

import type { DatabricksRunRecord, DeltaCommit } from '../lib/audit';
import type { BatchStep } from '../lib/pipeline/batching';
import { idempotencyToken, type JobPolicy, pollDelaySeconds, runDeadline } from '../lib/pipeline/ingest';
import type { JobManifestSummary, JobRunState, StartedJobRun } from '../lib/pipeline/steps';
import { type VeeManifest, veeRunTotals } from '../lib/pipeline/vee';
import {
  cancelJobRunActivity,
  getJobRunActivity,
  readJobManifestActivity,
  startJobRunActivity,
} from './activities';

/**
 * Submitting and polling one Databricks run from an orchestration (the batch orchestrations use it). Every
 * time comes from `currentUtcDateTime`, every side effect from an activity.
 */

type Context = df.OrchestrationContext;

/** Transient failures (network, throttling, a restarting emulator) get four attempts, 2 s doubling to 60 s. */
export function activityRetry(): df.RetryOptions {
  const retry = new df.RetryOptions(2_000, 4);
  retry.backoffCoefficient = 2;
  retry.maxRetryIntervalInMilliseconds = 60_000;
  return retry;
}

/** Codes of a Jobs API that is down or throttling (not one that refuses the request). */
const OUTAGE_CODES = new Set(['DATABRICKS_UNREACHABLE', 'DATABRICKS_UNAVAILABLE']);
const OUTAGE_FIRST_WAIT_MS = 30_000;
const OUTAGE_MAX_WAIT_MS = 300_000;

/**
 * One Jobs API activity (start, get, cancel: all safe to repeat) that rides out an outage: after the
 * activity's own retries, an outage code waits on a durable timer (30 s doubling to 5 min) and calls again,
 * until `policy.outageMinutes` have passed since the first failure; then JOBS_API_UNAVAILABLE.
 */
function* throughOutage<T>(
  context: Context,
  policy: JobPolicy,
  call: () => df.Task,
): Generator<df.Task, T, unknown> {
  let firstFailureMs: number | null = null;
  for (let wait = 0; ; wait++) {
    try {
      return (yield call()) as T;
    } catch (error) {
      const failure = codedFailure(error, 'ACTIVITY_FAILED');
      if (!OUTAGE_CODES.has(failure.code)) throw error;
      const now = context.df.currentUtcDateTime.getTime();
      firstFailureMs ??= now;
      if (now - firstFailureMs >= policy.outageMinutes * 60_000) {
        throw new StepFailure(
          'JOBS_API_UNAVAILABLE',
          `the Jobs API kept failing for ${policy.outageMinutes} min (JOBS_API_OUTAGE_MINUTES); last: ${failure.code} ${failure.message}`,
        );
      }
      const delay = Math.min(OUTAGE_FIRST_WAIT_MS * 2 ** wait, OUTAGE_MAX_WAIT_MS);
      yield context.df.createTimer(new Date(now + delay));
    }
  }
}

/** A step that failed, with the code the audit record names. */
export class StepFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`[${code}] ${message}`);
    this.name = 'StepFailure';
  }
}

const iso = (date: Date): string => date.toISOString();

/** The `[CODE]` an activity put in front of its message (or `fallback`), and the message's first line without it. */
export function codedFailure(error: unknown, fallback: string): { code: string; message: string } {
  if (error instanceof StepFailure)
    return { code: error.code, message: error.message.replace(/^\[[A-Z0-9_]+\]\s*/, '') };
  const text = error instanceof Error ? error.message : String(error);
  const match = /\[([A-Z][A-Z0-9_]*)\]\s*([^\n]*)/.exec(text);
  if (match) return { code: match[1]!, message: match[2]!.trim() };
  return { code: fallback, message: text.split('\n')[0]!.trim().slice(0, 500) };
}

export interface RunRequest {
  step: BatchStep;
  job: string;
  parameters: Record<string, string>;
  /** Who owns the run's manifest: `audit/job-runs/{owner}/{runNumber}/{step}.json`. */
  owner: string;
  runNumber: number;
  batch: NonNullable<DatabricksRunRecord['batch']>;
  /** The trace the run's activities join (the batch's first file's); absent in histories before it. */
  traceparent?: string;
}

/**
 * Submits one run and polls it until it ends; at its deadline (`runDeadline`: queue time does not count) it
 * cancels the run and throws JOB_DEADLINE_EXCEEDED (or JOB_QUEUED_TOO_LONG). The record is pushed to `runs` at once, so a failure still shows it.
 * A successful silver run of meter readings also returns its manifest's VEE summary with each file's outcome
 * (`vee`); the record keeps only the run's totals.
 */
export function* runJobToEnd(
  context: Context,
  policy: JobPolicy,
  request: RunRequest,
  runs: DatabricksRunRecord[],
  onStarted: (runId: number) => void = () => undefined,
): Generator<df.Task, { record: DatabricksRunRecord; state: JobRunState; vee?: VeeManifest }, unknown> {
  const token = idempotencyToken(request.owner, request.runNumber, request.step);
  // Spread into each activity input: inputs recorded before traces existed stay exactly as they were.
  const traced = request.traceparent === undefined ? {} : { traceparent: request.traceparent };
  const submitted = context.df.currentUtcDateTime;
  const clock = { submittedMs: submitted.getTime(), runningSinceMs: null as number | null };
  let everQueued = false;
  const record: DatabricksRunRecord = {
    step: request.step,
    job: request.job,
    runId: null,
    runPageUrl: null,
    idempotencyToken: token,
    sharedWith: null,
    batch: request.batch,
    parameters: request.parameters,
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
  const started = yield* throughOutage<StartedJobRun>(context, policy, () =>
    startJobRunActivity({
      job: request.job,
      parameters: request.parameters,
      idempotencyToken: token,
      ...traced,
    }).withRetry(activityRetry()),
  );
  record.runId = started.runId;
  onStarted(started.runId);
  let state: JobRunState | undefined;
  for (let poll = 0; !state?.terminal; poll++) {
    const wakeAt = context.df.currentUtcDateTime.getTime() + pollDelaySeconds(poll, policy) * 1000;
    const deadline = runDeadline(clock, policy);
    if (wakeAt > deadline.atMs) {
      yield* throughOutage(context, policy, () =>
        cancelJobRunActivity({ runId: started.runId, ...traced }).withRetry(activityRetry()),
      );
      record.outcome = 'Canceled';
      record.endedAt = iso(context.df.currentUtcDateTime);
      const what = deadline.code === 'JOB_QUEUED_TOO_LONG' ? 'left the queue' : 'end';
      throw new StepFailure(
        deadline.code,
        `${request.job} run ${started.runId} did not ${what} within ${deadline.minutes} min; it was cancelled`,
      );
    }
    yield context.df.createTimer(new Date(wakeAt));
    state = yield* throughOutage<JobRunState>(context, policy, () =>
      getJobRunActivity({ runId: started.runId, ...traced }).withRetry(activityRetry()),
    );
    if (state.lifeCycleState === 'QUEUED') everQueued = true;
    else if (clock.runningSinceMs === null)
      clock.runningSinceMs = everQueued ? context.df.currentUtcDateTime.getTime() : clock.submittedMs;
    record.polls += 1;
    record.outcome = state.outcome;
    record.lifeCycleState = state.lifeCycleState;
    record.resultState = state.resultState;
    record.stateMessage = state.error ?? state.reason;
    record.runPageUrl = state.runPageUrl;
  }
  const ended = context.df.currentUtcDateTime;
  record.endedAt = iso(ended);
  record.durationMs =
    state.startTime !== null && state.endTime !== null
      ? Math.max(0, state.endTime - state.startTime)
      : ended.getTime() - submitted.getTime();
  if (state.outcome === 'Succeeded') {
    const read = (yield readJobManifestActivity({
      instanceId: request.owner,
      generation: request.runNumber,
      step: request.step,
      ...traced,
    }).withRetry(activityRetry())) as JobManifestSummary | DeltaCommit[] | null;
    // Histories recorded before the summary held only the commits.
    record.commits = Array.isArray(read) ? read : (read?.commits ?? []);
    const affected = Array.isArray(read) ? [] : (read?.affectedDates ?? []);
    if (affected.length > 0) record.affectedDates = affected;
    const vee = Array.isArray(read) ? undefined : read?.vee;
    if (vee) {
      record.vee = veeRunTotals(vee);
      return { record, state, vee };
    }
  }
  return { record, state };
}
