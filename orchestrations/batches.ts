import { randomBytes } from 'node:crypto';

import * as df from 'durable-functions';
import { z } from 'zod';

import type { DatabricksRunRecord } from '../lib/audit';
import {
  BATCH_ORCHESTRATION,
  BATCH_QUEUE_ENTITY,
  batchCaps,
  batchCapsSchema,
  batchEventName,
  type BatchMember,
  batchMemberSchema,
  type BatchResult,
  type BatchSpec,
  batchSpecSchema,
  emptyQueue,
  finishBatch,
  goldDatesParameter,
  goldRunScope,
  joinQueue,
  queueStateSchema,
  sealBatch,
  splitMembers,
} from '../lib/pipeline/batching';
import { JOB_RESUBMITS, jobPolicySchema } from '../lib/pipeline/ingest';
import { type VeeOutcome, veeOutcomeOf, veeOutcomeSchema } from '../lib/pipeline/vee';
import { recordBatchRuns, traceparentSchema } from '../lib/telemetry';
import { stagedEntry } from '../lib/validation/stage';
import { traced } from './activities';
import { activityRetry, codedFailure, runJobToEnd, StepFailure } from './jobRuns';

/**
 * Group commit (docs/decisions/0014-group-commit.md). `batchQueue` is the durable queue of one step
 * (entity key `silver.<dataset>` or `gold`); `runBatch` runs one batch: its job run(s), a split in halves
 * when the run failed on its data, then it hands the queue to the next batch and tells each file how its
 * step ended. Files wait for that event without polling.
 */

export const joinRequestSchema = z.object({
  member: batchMemberSchema,
  caps: batchCapsSchema,
  linger: z.boolean().default(false),
});
const finishRequestSchema = z.object({ batchId: z.string(), caps: batchCapsSchema });

export const batchRunInputSchema = z.object({ spec: batchSpecSchema, policy: jobPolicySchema });
export type BatchRunInput = z.infer<typeof batchRunInputSchema>;

export function batchQueueEntity(queue: string): df.EntityId {
  return new df.EntityId(BATCH_QUEUE_ENTITY, queue);
}

/**
 * Operations never throw (a JS entity's error reaches the caller as "{}"): a bad request answers an error. A new
 * queue state gets a random epoch (entity operations are not replayed), so its batch ids differ from a lost one's.
 */
df.app.entity(BATCH_QUEUE_ENTITY, (context) => {
  const queue = context.df.entityKey;
  const state = queueStateSchema.parse(context.df.getState(() => emptyQueue(randomBytes(4).toString('hex'))));
  const operation: string = context.df.operationName ?? '';
  if (operation === 'join') {
    const request = joinRequestSchema.safeParse(context.df.getInput());
    if (!request.success) return context.df.return({ kind: 'error', message: request.error.message });
    const { member, caps, linger } = request.data;
    const { state: next, answer } = joinQueue(state, queue, member, caps, linger);
    context.df.setState(next);
    return context.df.return(answer);
  }
  if (operation === 'finish') {
    const request = finishRequestSchema.safeParse(context.df.getInput());
    if (!request.success) return context.df.return({ kind: 'error', message: request.error.message });
    const { state: next, next: batch } = finishBatch(state, queue, request.data.batchId, request.data.caps);
    context.df.setState(next);
    return context.df.return(batch);
  }
  if (operation === 'seal') {
    const batchId = z.string().safeParse(context.df.getInput());
    if (!batchId.success) return context.df.return({ kind: 'error', message: batchId.error.message });
    const { state: next, batch } = sealBatch(state, batchId.data);
    context.df.setState(next);
    return context.df.return(batch);
  }
  return context.df.return({ kind: 'error', message: `unknown operation '${operation}'` });
});

/** Starts a batch's orchestration; a batch already started (a retried call) is left as it is. */
export const startBatchActivity = df.app.activity('startBatch', {
  extraInputs: [df.input.durableClient()],
  handler: async (input: BatchRunInput, context) => {
    const client = df.getClient(context);
    const { spec } = batchRunInputSchema.parse(input);
    const trace = { traceparent: spec.members[0]?.traceparent, instanceId: spec.batchId };
    const attributes = { queue: spec.queue, step: spec.step };
    return traced('startBatch', { ...trace, attributes, rethrow: 'as-is' }, async () => {
      try {
        await client.startNew(BATCH_ORCHESTRATION, { instanceId: spec.batchId, input });
      } catch (error) {
        const existing = await client.getStatus(spec.batchId).catch(() => undefined);
        if (!existing?.instanceId) throw error;
      }
      return spec.batchId;
    });
  },
});

const deliverySchema = z.object({
  instanceId: z.string(),
  generation: z.number().int().nonnegative(),
  outcome: z.enum(['succeeded', 'failed']),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  affectedDates: z.array(z.string()).default([]),
  vee: veeOutcomeSchema.optional(),
  /** The file's trace, where its runs are recorded (absent in histories before it). */
  traceparent: traceparentSchema.optional(),
});
const notifyInputSchema = z.object({
  batchId: z.string(),
  step: z.enum(['silver', 'gold']),
  deliveries: z.array(deliverySchema),
  runs: z.array(z.custom<DatabricksRunRecord>()),
});

/**
 * Raises each file's "step done" event; a file that finished or was replaced meanwhile is skipped. Once every
 * file is told, the batch's runs are recorded in telemetry (lib/telemetry/pipelineEvents.ts).
 */
export const notifyBatchActivity = df.app.activity('notifyBatch', {
  extraInputs: [df.input.durableClient()],
  handler: async (input: z.infer<typeof notifyInputSchema>, context) => {
    const client = df.getClient(context);
    const { batchId, step, deliveries, runs } = notifyInputSchema.parse(input);
    const trace = { traceparent: deliveries[0]?.traceparent, instanceId: batchId, attributes: { step } };
    // Its errors already name their code ([BATCH_NOTIFY_FAILED]): passed on as they are.
    return traced('notifyBatch', { ...trace, rethrow: 'as-is' }, () =>
      notifyFiles(client, batchId, step, deliveries, runs),
    );
  },
});

async function notifyFiles(
  client: df.DurableClient,
  batchId: string,
  step: BatchResult['step'],
  deliveries: z.infer<typeof deliverySchema>[],
  runs: DatabricksRunRecord[],
): Promise<number> {
  const failed: string[] = [];
  for (const delivery of deliveries) {
    const result: BatchResult = {
      batchId,
      step,
      generation: delivery.generation,
      outcome: delivery.outcome,
      error: delivery.error,
      affectedDates: delivery.affectedDates,
      ...(delivery.vee ? { vee: delivery.vee } : {}),
      runs: runs.filter((run) => run.batch?.members.includes(delivery.instanceId)),
    };
    try {
      await client.raiseEvent(delivery.instanceId, batchEventName(step), result);
    } catch (error) {
      // 404: the file's instance was purged; nothing waits for this answer any more.
      if (!/No instance with ID/.test(String(error))) failed.push(delivery.instanceId);
    }
  }
  if (failed.length > 0) throw new Error(`[BATCH_NOTIFY_FAILED] could not notify ${failed.join(', ')}`);
  // After the last notification: a retried activity (a failed notification) records the runs once.
  recordBatchRuns(deliveries, runs);
  return deliveries.length;
}

type Context = df.OrchestrationContext;
type Outcome = z.infer<typeof deliverySchema>['outcome'];
interface MemberResult {
  outcome: Outcome;
  error: { code: string; message: string } | null;
  /** Gold days the successful run's reference-data changes made stale (its manifest's `affectedDates`). */
  affectedDates?: string[];
  /** Silver of meter readings: this file's VEE outcome in the successful run's manifest. */
  vee?: VeeOutcome;
}

function parametersFor(
  spec: BatchSpec,
  members: readonly BatchMember[],
  runNumber: number,
): Record<string, string> {
  if (spec.step === 'silver') {
    return {
      dataset: members[0]!.dataset,
      orchestration_id: spec.batchId,
      // Each file's staged folder is that of the generation that joined the batch (lib/validation/stage.ts).
      instance_ids: members.map((m) => stagedEntry(m.instanceId, m.generation)).join(','),
      generation: String(runNumber),
    };
  }
  const scope = goldRunScope(members);
  if (!scope) throw new StepFailure('BATCH_EMPTY', `gold batch ${spec.batchId} has no table to write`);
  return {
    orchestration_id: spec.batchId,
    generation: String(runNumber),
    date_from: scope.dateFrom,
    date_to: scope.dateTo,
    dates: goldDatesParameter(scope.dates),
    tables: scope.tables.join(','),
    dataset: scope.datasets.join(','),
  };
}

/**
 * Runs the step for `members`: a run lost by the platform is resubmitted whole; a run that failed on its data
 * is split in halves until the failing file is alone, so one bad file fails only itself.
 */
function* runGroup(
  context: Context,
  input: BatchRunInput,
  members: readonly BatchMember[],
  runs: DatabricksRunRecord[],
  results: Map<string, MemberResult>,
  counter: { next: number },
): Generator<df.Task, void, unknown> {
  const { spec, policy } = input;
  const job = spec.step === 'silver' ? policy.silverJob : policy.goldJob;
  const settle = (result: MemberResult): void => members.forEach((m) => results.set(m.instanceId, result));
  for (let attempt = 0; ; attempt++) {
    const runNumber = counter.next++;
    let ended;
    try {
      ended = yield* runJobToEnd(
        context,
        policy,
        {
          step: spec.step,
          job,
          parameters: parametersFor(spec, members, runNumber),
          owner: spec.batchId,
          runNumber,
          // The batch's runs join the trace of its first file (the others get theirs when the batch reports).
          ...(members[0]?.traceparent ? { traceparent: members[0].traceparent } : {}),
          batch: {
            id: spec.batchId,
            queue: spec.queue,
            size: members.length,
            members: members.map((m) => m.instanceId),
          },
        },
        runs,
        (runId) =>
          context.df.setCustomStatus({
            step: spec.step,
            queue: spec.queue,
            size: spec.members.length,
            running: members.length,
            runId,
          }),
      );
    } catch (error) {
      if (!(error instanceof StepFailure)) throw error;
      return settle({ outcome: 'failed', error: { code: error.code, message: error.message } });
    }
    const { state, vee } = ended;
    if (state.outcome === 'Succeeded') {
      const affectedDates = ended.record.affectedDates ?? [];
      // Each file gets its own VEE outcome (the meter-days its readings touch), not the batch's totals.
      for (const m of members) {
        const own = vee ? { vee: veeOutcomeOf(vee, m.instanceId) } : {};
        results.set(m.instanceId, { outcome: 'succeeded', error: null, affectedDates, ...own });
      }
      return;
    }
    if (state.outcome === 'Failed' && state.retryable === true && attempt < JOB_RESUBMITS) continue;
    if (state.outcome === 'Failed' && state.retryable !== true && members.length > 1) {
      const [first, second] = splitMembers(members);
      yield* runGroup(context, input, first, runs, results, counter);
      yield* runGroup(context, input, second, runs, results, counter);
      return;
    }
    return settle({
      outcome: 'failed',
      error: {
        code: `JOB_${state.outcome.toUpperCase()}`,
        message: `${job} run ${state.runId} ended ${state.outcome}: ${state.error ?? state.reason}`,
      },
    });
  }
}

/** A lingering batch waits for company, then seals its members (those that joined meanwhile included). */
function* sealedSpec(context: Context, input: BatchRunInput): Generator<df.Task, BatchSpec, unknown> {
  const { spec, policy } = input;
  if (!spec.open) return spec;
  context.df.setCustomStatus({ step: spec.step, queue: spec.queue, lingering: policy.batch.lingerSeconds });
  const until = new Date(context.df.currentUtcDateTime.getTime() + policy.batch.lingerSeconds * 1000);
  yield context.df.createTimer(until);
  const sealed = (yield context.df.callEntity(batchQueueEntity(spec.queue), 'seal', spec.batchId)) as
    BatchSpec | { kind: 'error' } | null;
  // Not the running batch any more (its queue state was lost): run the members it started with.
  return sealed && 'members' in sealed ? sealed : { ...spec, open: false };
}

export const runBatch = df.app.orchestration(BATCH_ORCHESTRATION, function* (context: Context) {
  const started = batchRunInputSchema.parse(context.df.getInput());
  const input = { ...started, spec: yield* sealedSpec(context, started) };
  const { spec, policy } = input;
  const runs: DatabricksRunRecord[] = [];
  const results = new Map<string, MemberResult>();
  context.df.setCustomStatus({ step: spec.step, queue: spec.queue, size: spec.members.length });
  try {
    yield* runGroup(context, input, spec.members, runs, results, { next: 0 });
  } catch (error) {
    // Anything unexpected still answers every file, so none waits for its wait limit.
    const failure = codedFailure(error, 'BATCH_FAILED');
    for (const member of spec.members) {
      if (!results.has(member.instanceId))
        results.set(member.instanceId, { outcome: 'failed', error: failure });
    }
  }
  // The next batch starts first: its Spark run begins while these files write their audit records.
  const caps = batchCaps(spec.step, policy.batch, spec.members[0]!.dataset);
  const next = (yield context.df.callEntity(batchQueueEntity(spec.queue), 'finish', {
    batchId: spec.batchId,
    caps,
  })) as BatchSpec | null;
  if (next) yield startBatchActivity({ spec: next, policy }).withRetry(activityRetry());
  yield notifyBatchActivity({
    batchId: spec.batchId,
    step: spec.step,
    deliveries: spec.members.map((m) => ({
      instanceId: m.instanceId,
      generation: m.generation,
      ...results.get(m.instanceId)!,
      ...(m.traceparent ? { traceparent: m.traceparent } : {}),
    })),
    runs,
  }).withRetry(activityRetry());
  const failed = spec.members.filter((m) => results.get(m.instanceId)?.outcome === 'failed').length;
  return {
    batchId: spec.batchId,
    size: spec.members.length,
    failed,
    runs: runs.map((r) => r.runId),
    next: next?.batchId ?? null,
  };
});
