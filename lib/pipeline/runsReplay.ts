import type { LandingPlace } from '../events/blobCreated';
import type { IngestFile } from './ingest';
import { ingestInputOf, type InstanceLike, type RunSummary, selectRuns } from './runsList';
import { type BulkReplayRequest, RunsApiError } from './runsRequest';
import { decideReplay } from './start';

/**
 * Replays and reprocessing through the operator API: how a start that did not happen is answered, which
 * runs a bulk replay works on, what a dry run reports, and what a started run's reply holds.
 */

/** What a starter in orchestrations/starters.ts reports (its StartResult). */
export type StartOutcome =
  | { action: 'started'; instanceId: string; generation: number }
  | { action: 'skipped'; instanceId: string; reason: string; detail: string }
  | { action: 'refused'; instanceId: string; code: string; message: string };

const REFUSAL_STATUS: Record<string, number> = {
  RUN_NOT_FOUND: 404,
  RUN_ACTIVE: 409,
  RUN_INPUT_UNREADABLE: 409,
};

/** A start that did not happen, as the error the API answers with. */
export function refusalError(outcome: Exclude<StartOutcome, { action: 'started' }>): RunsApiError {
  if (outcome.action === 'skipped') {
    // Only a concurrent start of the same id makes a replay skip: that run is active now.
    return new RunsApiError(409, 'RUN_ACTIVE', `run ${outcome.instanceId} is active (${outcome.detail})`);
  }
  return new RunsApiError(REFUSAL_STATUS[outcome.code] ?? 409, outcome.code, outcome.message);
}

export interface ReplayedRun {
  instanceId: string;
  /** The generation started (or, in a dry run, that would start). */
  generation: number;
  dataset: string | null;
  source: string | null;
  path: string | null;
}

export interface RefusedRun {
  instanceId: string;
  code: string;
  message: string;
}

export interface BulkReplayResult {
  /** How many runs match the filter (at most `max` of them were considered). */
  matched: number;
  replayed: ReplayedRun[];
  refused: RefusedRun[];
  dryRun: boolean;
}

export interface BulkReplayCandidate {
  run: RunSummary;
  instance: InstanceLike;
}

/**
 * The runs a bulk replay works on: the matching ingestion runs, oldest first (a backlog drains in the
 * order it built up), at most `max` of them. Price pulls are left out: the timer starts a failed pull
 * again, and a landed file's ingestion is the run to replay.
 */
export function bulkReplayCandidates(
  instances: readonly InstanceLike[],
  request: BulkReplayRequest,
): { matched: number; candidates: BulkReplayCandidate[] } {
  const byId = new Map(instances.map((instance) => [instance.instanceId, instance]));
  const runs = selectRuns(instances, { ...request, kind: 'ingest' }).reverse();
  return {
    matched: runs.length,
    candidates: runs.slice(0, request.max).map((run) => ({ run, instance: byId.get(run.instanceId)! })),
  };
}

export function replayedRun(run: RunSummary, generation: number): ReplayedRun {
  return { instanceId: run.instanceId, generation, dataset: run.dataset, source: run.source, path: run.path };
}

/** A dry run: what `replayIngestion` would decide for each candidate, starting nothing. */
export function dryRunReplay(matched: number, candidates: readonly BulkReplayCandidate[]): BulkReplayResult {
  const result: BulkReplayResult = { matched, replayed: [], refused: [], dryRun: true };
  for (const { run, instance } of candidates) {
    const decision = decideReplay(run.instanceId, {
      runtimeStatus: String(instance.runtimeStatus),
      input: instance.input,
    });
    if (decision.action === 'start' && ingestInputOf(instance)) {
      result.replayed.push(replayedRun(run, decision.generation));
    } else {
      result.refused.push({
        instanceId: run.instanceId,
        code: decision.action === 'refuse' ? decision.code : 'RUN_INPUT_UNREADABLE',
        message:
          decision.action === 'refuse' ? decision.message : `run ${run.instanceId} is not an ingestion run`,
      });
    }
  }
  return result;
}

// ---- reprocess ---------------------------------------------------------------------------------------

/** The file an operator asks to reprocess: the blob's current version under `landing/`. */
export function reprocessFile(
  container: string,
  path: string,
  place: LandingPlace,
  properties: { etag: string; size: number },
): IngestFile {
  return {
    container,
    path,
    etag: properties.etag,
    dataset: place.dataset,
    source: place.source,
    fileName: place.fileName,
    size: properties.size,
    sequencer: null,
    eventId: null,
    eventTime: null,
  };
}

// ---- the reply to a start ----------------------------------------------------------------------------

/** The API's own address of a run. */
export const runLink = (instanceId: string): string => `/api/runs/${encodeURIComponent(instanceId)}`;

export interface StartedReply {
  instanceId: string;
  generation: number;
  trigger: string;
  /** The API's own routes for this run; never the durable task hub's management URLs (they carry its key). */
  links: { run: string; replay: string };
}

export function startedReply(instanceId: string, generation: number, trigger: string): StartedReply {
  return {
    instanceId,
    generation,
    trigger,
    links: { run: runLink(instanceId), replay: `${runLink(instanceId)}/replay` },
  };
}
