import { createReadStream } from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { isDatasetName } from '../lib/contracts/datasets';
import { UsageError } from '../lib/errors';
import { ingestInstanceId, landingPlace } from '../lib/events/blobCreated';
import { createLakeStore, type LakeStore } from '../lib/lake';
import type { Runtime } from './cli/dev';
import { LandingWatcher, landingWatcherStateFile } from './events/landingWatcher';
import { type HostEndpoint, hostKeyHeaders } from './host/endpoint';
import { deliverBlobCreated } from './runtime';

/**
 * Landing files in the local bronze container and announcing them to the Event Grid trigger, exactly
 * as Azure Storage and Event Grid would: the `drop` and `demo` commands and the end-to-end tests use it.
 */

export interface Dropped {
  path: string;
  etag: string;
  instanceId: string;
  /** False when this version had been announced already (by a watcher or an earlier drop). */
  announced: boolean;
}

export function landingPath(dataset: string, source: string, date: string, fileName: string): string {
  const [yyyy, mm, dd] = date.split('-');
  const candidate = `landing/${dataset}/${source}/${yyyy}/${mm}/${dd}/${fileName}`;
  const place = landingPlace('bronze', candidate);
  if (place.kind === 'ignore')
    throw new UsageError(`cannot land ${fileName} there: ${place.reason} ${place.detail}`);
  return candidate;
}

/**
 * Writes `file` to `bronze/landing/{dataset}/{source}/{yyyy}/{mm}/{dd}/{name}` (replacing an earlier
 * file of that name: a source re-sending a file gives a new version) and delivers its BlobCreated event.
 */
export async function dropFile(
  runtime: Pick<Runtime, 'baseUrl' | 'key' | 'config'>,
  file: string,
  target: { dataset: string; source: string; date: string; name?: string },
  lake: LakeStore = createLakeStore(runtime.config.lake),
): Promise<Dropped> {
  if (!isDatasetName(target.dataset)) throw new UsageError(`unknown dataset '${target.dataset}'`);
  const objectPath = landingPath(
    target.dataset,
    target.source,
    target.date,
    target.name ?? path.basename(file),
  );
  await lake.ensureContainer('bronze');
  await lake.overwrite('bronze', objectPath, createReadStream(file));
  return announce(runtime, objectPath, lake);
}

/** Delivers the BlobCreated event of the current version of a bronze landing file, once per version. */
export async function announce(
  runtime: Pick<Runtime, 'baseUrl' | 'key' | 'config'>,
  objectPath: string,
  lake: LakeStore = createLakeStore(runtime.config.lake),
): Promise<Dropped> {
  // Not started: used only to claim and announce this one version in the shared record of announcements,
  // so a running watcher does not announce it a second time.
  const watcher = new LandingWatcher({
    lake,
    stateFile: landingWatcherStateFile(runtime.config.home),
    onEvents: async (events) => {
      const result = await deliverBlobCreated(runtime, events);
      if (!result.ok) {
        throw new Error(`the Event Grid trigger answered HTTP ${result.status ?? 'nothing'}: ${result.body}`);
      }
    },
  });
  try {
    const result = await watcher.announce(objectPath);
    const etag = result.announced ? (await lake.properties('bronze', objectPath)).etag : result.etag;
    if (etag === undefined) throw new UsageError(`${objectPath} is not a landing file`);
    const place = landingPlace('bronze', objectPath);
    if (place.kind === 'ignore') throw new UsageError(`${objectPath}: ${place.reason} ${place.detail}`);
    const { dataset } = place;
    return {
      path: objectPath,
      etag,
      instanceId: ingestInstanceId({ container: 'bronze', path: objectPath, etag, dataset }),
      announced: result.announced,
    };
  } finally {
    await watcher.stop();
  }
}

export interface InstanceStatus {
  instanceId: string;
  runtimeStatus: string;
  customStatus: unknown;
  output: unknown;
}

const TERMINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

export interface WaitOptions {
  pollMs?: number;
  /** Called with every status polled, the last one included: `drop --wait` shows the stage from it. */
  onStatus?: (status: InstanceStatus) => void;
}

/** Polls the durable management API until the instance ends (or `timeoutMs` passes: the last status). */
export async function waitForInstance(
  host: HostEndpoint,
  instanceId: string,
  timeoutMs: number,
  { pollMs = 250, onStatus }: WaitOptions = {},
): Promise<InstanceStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(
      `${host.baseUrl}/runtime/webhooks/durabletask/instances/${encodeURIComponent(instanceId)}`,
      { headers: hostKeyHeaders(host) },
    );
    if (response.status === 401 || response.status === 403 || response.status === 421)
      throw new Error(`the host at ${host.baseUrl} refused the status query: HTTP ${response.status}`);
    const body = (await response.json().catch(() => undefined)) as Partial<InstanceStatus> | undefined;
    const status: InstanceStatus = {
      instanceId,
      runtimeStatus: response.status === 404 ? 'NotFound' : String(body?.runtimeStatus ?? 'Unknown'),
      customStatus: body?.customStatus ?? null,
      output: body?.output ?? null,
    };
    onStatus?.(status);
    if (TERMINAL.has(status.runtimeStatus) || Date.now() >= deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

// ---- what a waiting command shows ----------------------------------------------------------------------

/** The four steps of an ingestion, in order, as the audit record names them. */
export const INGEST_STEPS = ['validate', 'silver', 'gold', 'audit'] as const;

/** The orchestration's custom status names its stage as it shows it (lib/pipeline/ingest.ts IngestStage). */
const SHOWN_STEP: Record<string, (typeof INGEST_STEPS)[number]> = {
  validating: 'validate',
  silver: 'silver',
  gold: 'gold',
  auditing: 'audit',
};

const ingestCustomStatusSchema = z.looseObject({
  stage: z.string().optional(),
  batch: z.string().optional(),
  waitingBehind: z.string().optional(),
});

export interface IngestProgress {
  /** A step of INGEST_STEPS, an end (completed, rejected, failed) or before any: queued, starting. */
  stage: string;
  /** Steps ended before this one (0 to 4), when the stage is a step. */
  stepsDone: number | null;
  /** The batch the step runs in, or the one it waits behind. */
  detail: string | null;
}

/** Where an ingestion is, from its polled status (the custom status its orchestration sets). */
export function ingestProgress(status: InstanceStatus): IngestProgress {
  const parsed = ingestCustomStatusSchema.safeParse(status.customStatus);
  const custom = parsed.success ? parsed.data : {};
  // An empty `waitingBehind`: queued for a batch not started yet (it lingers to gather files).
  const detail = custom.batch
    ? `batch ${custom.batch}`
    : custom.waitingBehind !== undefined
      ? custom.waitingBehind
        ? `waiting behind ${custom.waitingBehind}`
        : 'queued for a batch'
      : null;
  const step = custom.stage === undefined ? undefined : SHOWN_STEP[custom.stage];
  if (step) return { stage: step, stepsDone: INGEST_STEPS.indexOf(step), detail };
  if (custom.stage === 'completed')
    return { stage: custom.stage, stepsDone: INGEST_STEPS.length, detail: null };
  if (custom.stage) return { stage: custom.stage, stepsDone: null, detail: null };
  const before = status.runtimeStatus === 'Running' ? 'starting' : status.runtimeStatus.toLowerCase();
  return {
    stage: ['pending', 'notfound'].includes(before) ? 'queued' : before,
    stepsDone: null,
    detail: null,
  };
}

const ingestOutputSchema = z.looseObject({ status: z.string().optional() });

export type IngestOutcome = 'completed' | 'rejected' | 'failed' | 'unfinished';

/** How an ingestion ended, from its last polled status (`unfinished`: still running when the wait gave up). */
export function ingestOutcome(status: InstanceStatus): IngestOutcome {
  if (!TERMINAL.has(status.runtimeStatus)) return 'unfinished';
  const output = ingestOutputSchema.safeParse(status.output);
  const ended = status.runtimeStatus === 'Completed' && output.success ? output.data.status : undefined;
  return ended === 'completed' || ended === 'rejected' ? ended : 'failed';
}
