import * as df from 'durable-functions';

import { type AuditRecord, writeAuditRecord } from '../lib/audit';
import { ensureError, LakewattError } from '../lib/errors';
import { ingestInputSchema, type PipelineStep } from '../lib/pipeline/ingest';
import {
  describeJobRun,
  type JobRunRequest,
  readJobManifest,
  stageFile,
  startJobRun,
} from '../lib/pipeline/steps';
import {
  type ActiveSpan,
  activitySpanName,
  emitEvent,
  ingestRunEnded,
  inSpan,
  type SpanAttributesOf,
  traceparentIn,
} from '../lib/telemetry';
import { services } from './services';

/**
 * The activities of `ingestFile`: thin wrappers that unpack their input and call lib/pipeline. A
 * thrown error's message starts with its code in brackets (`[CODE] message`), the only part of an
 * error that survives the trip through the orchestration history. Each runs in a span of the file's
 * trace, named by the `traceparent` its input carries (docs/decisions/0035-telemetry.md).
 */

/** Which trace an activity's span joins, and what it is about. */
export interface ActivityTrace {
  traceparent: string | undefined;
  /** The orchestration the activity serves: a file's instance id, or a batch's id. */
  instanceId?: string | undefined;
  attributes?: SpanAttributesOf;
  /** 'coded' (default): rethrown as `[CODE] message`; 'as-is': rethrown unchanged (it names its code itself). */
  rethrow?: 'coded' | 'as-is';
}

/**
 * Runs an activity's work in its span. A failure is coded (`[CODE] message`), counted as an
 * `ActivityFailed` event and rethrown, so the orchestration's retries and failure handling see it as before.
 */
export function traced<T>(
  activity: string,
  trace: ActivityTrace,
  work: (span: ActiveSpan) => Promise<T>,
): Promise<T> {
  const attributes: SpanAttributesOf = { activity, ...trace.attributes };
  if (trace.instanceId !== undefined) attributes.instance_id = trace.instanceId;
  return inSpan(activitySpanName(activity), { parent: trace.traceparent, attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      const failure = ensureError(error);
      const named = /^\[([A-Z][A-Z0-9_]*)\]/.exec(failure.message)?.[1];
      const code = failure instanceof LakewattError ? failure.code : (named ?? (failure.name || 'ERROR'));
      span.set({ code });
      emitEvent(
        'ActivityFailed',
        {
          activity,
          instance_id: trace.instanceId ?? null,
          code,
          message: (failure.message.split('\n')[0] ?? '').slice(0, 500),
        },
        { traceparent: trace.traceparent, severity: 'error' },
      );
      if (trace.rethrow === 'as-is' || named !== undefined) throw error;
      throw new Error(`[${code}] ${failure.message}`, { cause: failure });
    }
  });
}

export const validateAndStageActivity = df.app.activity('validateAndStage', {
  handler: (input: { instanceId: string; input: unknown }) =>
    traced(
      'validateAndStage',
      { traceparent: traceparentIn(input.input), instanceId: input.instanceId },
      async (span) => {
        const app = services();
        const ingest = ingestInputSchema.parse(input.input);
        const { file } = ingest;
        span.set({ dataset: file.dataset, source: file.source, generation: ingest.generation });
        const outcome = await stageFile(
          { lake: app.lake, contracts: await app.contracts(), limits: app.config.validation },
          { instanceId: input.instanceId, input: ingest, now: new Date() },
        );
        span.set({ verdict: outcome.verdict });
        return outcome;
      },
    ),
});

/**
 * Submits a run. Its `traceparent` job parameter is this activity's span, so the run's Delta commits name the
 * span that started them, in the trace of the batch's first file.
 */
export const startJobRunActivity = df.app.activity('startJobRun', {
  handler: (request: JobRunRequest) =>
    traced(
      'startJobRun',
      { traceparent: request.traceparent, attributes: { job: request.job } },
      async (span) => {
        const started = await startJobRun(services().jobs(), { ...request, traceparent: span.traceparent });
        span.set({ run_id: started.runId });
        return started;
      },
    ),
});

export const getJobRunActivity = df.app.activity('getJobRun', {
  handler: (input: { runId: number; traceparent?: string }) =>
    traced(
      'getJobRun',
      { traceparent: input.traceparent, attributes: { run_id: input.runId } },
      async (span) => {
        const state = await describeJobRun(services().jobs(), input.runId);
        span.set({ outcome: state.outcome });
        return state;
      },
    ),
});

export const cancelJobRunActivity = df.app.activity('cancelJobRun', {
  handler: (input: { runId: number; traceparent?: string }) =>
    traced('cancelJobRun', { traceparent: input.traceparent, attributes: { run_id: input.runId } }, () =>
      services().jobs().cancelRun(input.runId),
    ),
});

// Registered as 'readJobCommits' (its name before it also read affectedDates): histories name it so.
export const readJobManifestActivity = df.app.activity('readJobCommits', {
  handler: (input: { instanceId: string; generation: number; step: PipelineStep; traceparent?: string }) =>
    traced(
      'readJobCommits',
      { traceparent: input.traceparent, instanceId: input.instanceId, attributes: { step: input.step } },
      () => readJobManifest(services().lake, input),
    ),
});

/** Writes the audit record; the first write of a generation also emits its `IngestRunEnded` event. */
export const writeAuditActivity = df.app.activity('writeAudit', {
  handler: (record: AuditRecord) =>
    traced(
      'writeAudit',
      {
        traceparent: record.traceparent,
        instanceId: record.instanceId,
        attributes: {
          dataset: record.sourceContract.dataset,
          source: record.sourceContract.source,
          generation: record.generation,
          status: record.status,
          ...(record.verdict ? { verdict: record.verdict } : {}),
        },
      },
      async () => {
        const written = await writeAuditRecord(services().lake, record);
        if (written.created) {
          emitEvent('IngestRunEnded', ingestRunEnded(record), {
            traceparent: record.traceparent,
            severity: record.status === 'failed' ? 'error' : 'info',
          });
        }
        return written;
      },
    ),
});
