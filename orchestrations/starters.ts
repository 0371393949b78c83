import type * as df from 'durable-functions';

import type { LakewattConfig } from '../lib/config';
import { ingestInstanceId } from '../lib/events/blobCreated';
import type { Caller } from '../lib/pipeline/caller';
import {
  INGEST_ORCHESTRATION,
  type IngestFile,
  type IngestInput,
  ingestInputSchema,
  type IngestTrigger,
  type JobPolicy,
} from '../lib/pipeline/ingest';
import { decideEventStart, decideReplay, type ExistingInstance } from '../lib/pipeline/start';
import { emitEvent, inSpan, SPANS } from '../lib/telemetry';

/**
 * Starting orchestrations from the triggers and the HTTP API: look the instance up, let lib/pipeline
 * decide, start. Two concurrent starts of one id cannot both win: the durable backend refuses to replace
 * an active instance, and the loser reports the winner's instance as already active.
 */

export type StartResult =
  | { action: 'started'; instanceId: string; generation: number }
  | { action: 'skipped'; instanceId: string; reason: string; detail: string }
  | { action: 'refused'; instanceId: string; code: string; message: string };

/** The instance with this id, or undefined (the client signals "no such instance" only through HTTP 404). */
export async function findInstance(
  client: df.DurableClient,
  instanceId: string,
): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(instanceId, { showInput: true });
  } catch (error) {
    if (error instanceof Error && /\b404\b/.test(error.message)) return undefined;
    throw error;
  }
}

export function jobPolicy(config: LakewattConfig): JobPolicy {
  return {
    pollMinSeconds: config.databricks.pollMinSeconds,
    pollMaxSeconds: config.databricks.pollMaxSeconds,
    deadlineMinutes: config.databricks.deadlineMinutes,
    outageMinutes: config.databricks.outageMinutes,
    silverJob: config.databricks.silverJob,
    goldJob: config.databricks.goldJob,
    batch: { ...config.batch },
  };
}

function existing(status: df.DurableOrchestrationStatus | undefined): ExistingInstance | undefined {
  return status ? { runtimeStatus: String(status.runtimeStatus), input: status.input } : undefined;
}

async function startOrReportConflict(
  client: df.DurableClient,
  instanceId: string,
  input: IngestInput,
): Promise<StartResult> {
  try {
    await client.startNew(INGEST_ORCHESTRATION, { instanceId, input });
    return { action: 'started', instanceId, generation: input.generation };
  } catch (error) {
    // Lost a race with a concurrent start of the same id: that start is the one orchestration.
    const now = await findInstance(client, instanceId);
    if (now && decideEventStart(existing(now)).action === 'skip') {
      return { action: 'skipped', instanceId, reason: 'ALREADY_ACTIVE', detail: 'started concurrently' };
    }
    throw error;
  }
}

/**
 * Starts a generation in a trace of its own: its `ingest.start` span (a child of the invoking function's span
 * when the host traces it) goes into the input as `traceparent`, so every activity and Databricks run of the
 * generation joins it. A replay's span links to the previous generation's trace.
 */
async function startTraced(
  client: df.DurableClient,
  instanceId: string,
  input: Omit<IngestInput, 'traceparent'>,
  previous?: string,
): Promise<StartResult> {
  const dimensions = {
    instance_id: instanceId,
    generation: input.generation,
    dataset: input.file.dataset,
    source: input.file.source,
    trigger: input.trigger,
  };
  const links = previous === undefined ? [] : [previous];
  return inSpan(SPANS.ingestStart, { attributes: dimensions, links }, async (span) => {
    const result = await startOrReportConflict(client, instanceId, {
      ...input,
      traceparent: span.traceparent,
    });
    span.set({ status: result.action });
    if (result.action === 'started')
      emitEvent('IngestStarted', dimensions, { traceparent: span.traceparent });
    return result;
  });
}

/** A delivered BlobCreated event: start generation 0, or the next one after a failure, or nothing. */
export async function startIngestionForEvent(
  client: df.DurableClient,
  file: IngestFile,
  config: LakewattConfig,
  now: Date,
): Promise<StartResult> {
  return startUnlessSkipped(client, file, config, now, 'event', decideEventStart);
}

/**
 * The landing reconciliation found a file version: start generation 0 only when it has no ingestion at all
 * (a failed one waits for an operator, as after its event).
 */
export async function startIngestionIfUnknown(
  client: df.DurableClient,
  file: IngestFile,
  config: LakewattConfig,
  now: Date,
): Promise<StartResult> {
  return startUnlessSkipped(client, file, config, now, 'reconcile', (found) =>
    found
      ? { action: 'skip', reason: 'KNOWN', detail: found.runtimeStatus }
      : { action: 'start', generation: 0 },
  );
}

async function startUnlessSkipped(
  client: df.DurableClient,
  file: IngestFile,
  config: LakewattConfig,
  now: Date,
  trigger: Extract<IngestTrigger, 'event' | 'reconcile'>,
  decide: (
    found: ExistingInstance | undefined,
  ) => { action: 'start'; generation: number } | { action: 'skip'; reason: string; detail: string },
): Promise<StartResult> {
  const instanceId = ingestInstanceId(file);
  const decision = decide(existing(await findInstance(client, instanceId)));
  if (decision.action === 'skip') {
    return { action: 'skipped', instanceId, reason: decision.reason, detail: decision.detail };
  }
  return startTraced(client, instanceId, {
    file,
    generation: decision.generation,
    requestedAt: now.toISOString(),
    trigger,
    policy: jobPolicy(config),
  });
}

/**
 * An operator's replay (or reprocess) of an ingestion: the same id and file, the next generation, the
 * current settings, and who asked (recorded in the input and, from there, in the audit record). Refused
 * while the run is active.
 */
export async function replayIngestion(
  client: df.DurableClient,
  instanceId: string,
  config: LakewattConfig,
  now: Date,
  trigger: Extract<IngestTrigger, 'replay' | 'reprocess'> = 'replay',
  requestedBy?: Caller,
): Promise<StartResult> {
  const status = await findInstance(client, instanceId);
  const decision = decideReplay(instanceId, existing(status));
  if (decision.action === 'refuse') {
    return { action: 'refused', instanceId, code: decision.code, message: decision.message };
  }
  const previous = ingestInputSchema.safeParse(status?.input);
  if (!previous.success) {
    return {
      action: 'refused',
      instanceId,
      code: 'RUN_INPUT_UNREADABLE',
      message: `run ${instanceId} is not an ingestion run`,
    };
  }
  // The earlier generation's requester and trace are not this one's.
  const { requestedBy: _earlier, traceparent: earlierTrace, ...earlier } = previous.data;
  return startTraced(
    client,
    instanceId,
    {
      ...earlier,
      generation: decision.generation,
      requestedAt: now.toISOString(),
      trigger,
      policy: jobPolicy(config),
      ...(requestedBy ? { requestedBy } : {}),
    },
    earlierTrace,
  );
}

/**
 * An operator's reprocess of a bronze file's current version: the next generation when an ingestion of
 * that version exists (refused while it runs), otherwise generation 0 of a new one. Either way the
 * trigger is 'reprocess' and the settings are the current ones.
 */
export async function reprocessIngestion(
  client: df.DurableClient,
  file: IngestFile,
  config: LakewattConfig,
  now: Date,
  requestedBy?: Caller,
): Promise<StartResult> {
  const instanceId = ingestInstanceId(file);
  if (await findInstance(client, instanceId)) {
    return replayIngestion(client, instanceId, config, now, 'reprocess', requestedBy);
  }
  return startTraced(client, instanceId, {
    file,
    generation: 0,
    requestedAt: now.toISOString(),
    trigger: 'reprocess',
    policy: jobPolicy(config),
    ...(requestedBy ? { requestedBy } : {}),
  });
}
