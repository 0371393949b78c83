import { createHash } from 'node:crypto';

import { z } from 'zod';

import { auditRecordPath } from '../audit/store';
import type { Caller } from './caller';
import { INGEST_ORCHESTRATION, type IngestInput, ingestInputSchema } from './ingest';
import type { RunKind } from './instanceIds';
import { PULL_ORCHESTRATION, type PullInput, pullInputSchema } from './prices';
import { invalidRequest, type ListRunsQuery, type RunFilter, type Verdict, VERDICTS } from './runsRequest';

/**
 * The runs the operator API lists: ingestions of one file (`ingestFile`) and day-ahead price pulls
 * (`pullPrices`), each as a summary; which of them match a filter; how a listing is paged; one run in
 * detail.
 */

/** An orchestration instance as the durable client returns it (status queries, with input). */
export interface InstanceLike {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input?: unknown;
  output?: unknown;
  customStatus?: unknown;
  createdTime: Date | string;
  lastUpdatedTime: Date | string;
}

/** One run in a listing: an ingestion, or a price pull (which has no verdict, generation or audit record). */
export interface RunSummary {
  kind: RunKind;
  instanceId: string;
  runtimeStatus: string;
  /**
   * The orchestration's stage (custom status). Ingestion: validating, silver, gold, auditing, completed,
   * rejected, failed. Price pull: asking, waiting, landed.
   */
  stage: string | null;
  /**
   * Group commit, while the file waits in silver or gold: the batch orchestration running its step
   * (`in`), or the one it waits behind for the next batch (`behind`).
   */
  batch: { in: string } | { behind: string } | null;
  verdict: Verdict | null;
  generation: number | null;
  dataset: string | null;
  source: string | null;
  /** Path of the file version inside the bronze container (`landing/...`); a pull's once it landed. */
  path: string | null;
  etag: string | null;
  createdTime: string;
  lastUpdatedTime: string;
  /** Where this generation's audit record is (or will be) written: `audit/runs/...`. */
  auditPath: string | null;
}

const customStatusSchema = z.looseObject({
  stage: z.string().optional(),
  generation: z.number().int().nonnegative().optional(),
  dataset: z.string().optional(),
  source: z.string().optional(),
  verdict: z.enum(VERDICTS).optional(),
  batch: z.string().optional(),
  waitingBehind: z.string().optional(),
});

const outputSchema = z.looseObject({
  verdict: z.enum(VERDICTS).nullable().optional(),
  auditPath: z.string().optional(),
});

const isoOf = (time: Date | string): string => {
  const date = typeof time === 'string' ? new Date(time) : time;
  return Number.isNaN(date.getTime()) ? String(time) : date.toISOString();
};

/** The input of an ingestion instance, when it has a readable one. */
export function ingestInputOf(instance: Pick<InstanceLike, 'input'>): IngestInput | undefined {
  const parsed = ingestInputSchema.safeParse(instance.input);
  return parsed.success ? parsed.data : undefined;
}

const pullOutputSchema = z.looseObject({
  path: z.string(),
  etag: z.string(),
  ingestInstanceId: z.string(),
});

const pullStatusSchema = z.looseObject({ stage: z.string().optional() });

/** The input of a price pull instance, when it has a readable one. */
export function pullInputOf(instance: Pick<InstanceLike, 'input'>): PullInput | undefined {
  const parsed = pullInputSchema.safeParse(instance.input);
  return parsed.success ? parsed.data : undefined;
}

/** The listing entry of an `ingestFile` or `pullPrices` instance; undefined for any other orchestration. */
export function summarizeRun(instance: InstanceLike): RunSummary | undefined {
  if (instance.name === INGEST_ORCHESTRATION) return summarizeIngestion(instance);
  if (instance.name === PULL_ORCHESTRATION) return summarizePull(instance);
  return undefined;
}

function summarizePull(instance: InstanceLike): RunSummary {
  const input = pullInputOf(instance);
  const custom = pullStatusSchema.safeParse(instance.customStatus);
  const output = pullOutputSchema.safeParse(instance.output);
  const landed = output.success ? output.data : undefined;
  return {
    kind: 'pricePull',
    instanceId: instance.instanceId,
    runtimeStatus: String(instance.runtimeStatus),
    stage: (custom.success ? custom.data.stage : undefined) ?? null,
    batch: null,
    verdict: null,
    generation: null,
    dataset: 'prices',
    source: input?.provider ?? null,
    path: landed ? landed.path.replace(/^bronze\//, '') : null,
    etag: landed?.etag ?? null,
    createdTime: isoOf(instance.createdTime),
    lastUpdatedTime: isoOf(instance.lastUpdatedTime),
    auditPath: null,
  };
}

function summarizeIngestion(instance: InstanceLike): RunSummary {
  const input = ingestInputOf(instance);
  const custom = customStatusSchema.safeParse(instance.customStatus);
  const status = custom.success ? custom.data : {};
  const output = outputSchema.safeParse(instance.output);
  const result = output.success ? output.data : {};
  const generation = input?.generation ?? status.generation ?? null;
  return {
    kind: 'ingest',
    instanceId: instance.instanceId,
    runtimeStatus: String(instance.runtimeStatus),
    stage: status.stage ?? null,
    batch: status.batch
      ? { in: status.batch }
      : status.waitingBehind !== undefined
        ? { behind: status.waitingBehind }
        : null,
    verdict: status.verdict ?? result.verdict ?? null,
    generation,
    dataset: input?.file.dataset ?? status.dataset ?? null,
    source: input?.file.source ?? status.source ?? null,
    path: input?.file.path ?? null,
    etag: input?.file.etag ?? null,
    createdTime: isoOf(instance.createdTime),
    lastUpdatedTime: isoOf(instance.lastUpdatedTime),
    auditPath:
      result.auditPath ??
      (input ? `audit/${auditRecordPath(instance.instanceId, input.generation, input.requestedAt)}` : null),
  };
}

export function matchesFilter(run: RunSummary, filter: RunFilter & { kind?: RunKind }): boolean {
  if (filter.kind && run.kind !== filter.kind) return false;
  if (filter.runtimeStatus && !(filter.runtimeStatus as readonly string[]).includes(run.runtimeStatus)) {
    return false;
  }
  if (filter.verdict && (run.verdict === null || !filter.verdict.includes(run.verdict))) return false;
  if (filter.dataset && run.dataset !== filter.dataset) return false;
  if (filter.source && run.source !== filter.source) return false;
  const created = Date.parse(run.createdTime);
  if (filter.from && !(created >= filter.from.getTime())) return false;
  if (filter.to && !(created <= filter.to.getTime())) return false;
  return true;
}

/** Newest first; instances created in the same millisecond by id, so the order is total. */
export function compareRuns(a: RunSummary, b: RunSummary): number {
  return comparePositions(
    { time: Date.parse(a.createdTime), id: a.instanceId },
    { time: Date.parse(b.createdTime), id: b.instanceId },
  );
}

function comparePositions(a: { time: number; id: string }, b: { time: number; id: string }): number {
  if (a.time !== b.time) return b.time - a.time;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The runs among `instances` that match `filter`, newest first. */
export function selectRuns(
  instances: Iterable<InstanceLike>,
  filter: RunFilter & { kind?: RunKind },
): RunSummary[] {
  const runs: RunSummary[] = [];
  for (const instance of instances) {
    const run = summarizeRun(instance);
    if (run && matchesFilter(run, filter)) runs.push(run);
  }
  return runs.sort(compareRuns);
}

// ---- paging ------------------------------------------------------------------------------------------

const tokenSchema = z.object({
  v: z.literal(1),
  /** createdTime (ms) and id of the last run of the previous page. */
  t: z.number(),
  i: z.string(),
  /** The filter the token was issued for. */
  f: z.string(),
});

/** A short digest of a filter: a token only continues the listing it came from. */
export function filterKey(filter: RunFilter & { kind?: RunKind }): string {
  const canonical = JSON.stringify([
    filter.kind ?? null,
    filter.runtimeStatus ? [...filter.runtimeStatus].sort() : null,
    filter.verdict ? [...filter.verdict].sort() : null,
    filter.dataset ?? null,
    filter.source ?? null,
    filter.from?.toISOString() ?? null,
    filter.to?.toISOString() ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

function encodeToken(last: RunSummary, filter: ListRunsQuery): string {
  const token = { v: 1, t: Date.parse(last.createdTime), i: last.instanceId, f: filterKey(filter) };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(token: string, filter: ListRunsQuery): { t: number; i: string } {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const parsed = tokenSchema.safeParse(decoded);
  if (!parsed.success) throw invalidRequest('continuationToken: not a token this API issued');
  if (parsed.data.f !== filterKey(filter)) {
    throw invalidRequest('continuationToken: issued for a different filter; repeat the same filters');
  }
  return parsed.data;
}

export interface RunsPage {
  runs: RunSummary[];
  continuationToken: string | null;
}

/**
 * One page of `runs` (sorted by `compareRuns`): the `top` runs after the token's position. The token
 * names a position, not an offset, so runs started meanwhile do not shift the pages that follow.
 */
export function pageRuns(runs: readonly RunSummary[], query: ListRunsQuery): RunsPage {
  let start = 0;
  if (query.continuationToken) {
    const after = decodeToken(query.continuationToken, query);
    const position = { time: after.t, id: after.i };
    start = runs.findIndex(
      (run) => comparePositions(position, { time: Date.parse(run.createdTime), id: run.instanceId }) < 0,
    );
    if (start < 0) start = runs.length;
  }
  const page = runs.slice(start, start + query.top);
  const more = start + query.top < runs.length;
  return { runs: page, continuationToken: more ? encodeToken(page[page.length - 1]!, query) : null };
}

// ---- one run -----------------------------------------------------------------------------------------

export interface RunDetail extends RunSummary {
  /** event, replay, reprocess or reconcile (ingestion); timer (price pull). */
  trigger: string | null;
  requestedAt: string | null;
  /** The operator who asked for this generation (replay, reprocess); null for events and timers. */
  requestedBy: Caller | null;
  /** A price pull's request and, once landed, the ingestion its file started. */
  pull: { provider: string; zone: string; deliveryDay: string; ingestInstanceId: string | null } | null;
  customStatus: unknown;
  output: unknown;
  /** The orchestration's failure message, when it failed. */
  error: string | null;
}

export function runDetail(instance: InstanceLike, run: RunSummary): RunDetail {
  const input = run.kind === 'ingest' ? ingestInputOf(instance) : undefined;
  const pull = run.kind === 'pricePull' ? pullInputOf(instance) : undefined;
  const landed = pullOutputSchema.safeParse(instance.output);
  return {
    ...run,
    trigger: input?.trigger ?? (run.kind === 'pricePull' ? 'timer' : null),
    requestedAt: input?.requestedAt ?? pull?.requestedAt ?? null,
    requestedBy: input?.requestedBy ?? null,
    pull: pull
      ? {
          provider: pull.provider,
          zone: pull.zone,
          deliveryDay: pull.deliveryDay,
          ingestInstanceId: landed.success ? landed.data.ingestInstanceId : null,
        }
      : null,
    customStatus: instance.customStatus ?? null,
    output: instance.output ?? null,
    error:
      run.runtimeStatus === 'Failed' && typeof instance.output === 'string'
        ? instance.output.split('\n')[0]!.slice(0, 1000)
        : null,
  };
}
