import { createHash } from 'node:crypto';

import { z } from 'zod';

import { auditRecordPath } from '../audit/store';
import { DATASET_NAMES, type DatasetName } from '../contracts/datasets';
import { LakewattError } from '../errors';
import type { LandingPlace } from '../events/blobCreated';
import { INGEST_ORCHESTRATION, type IngestFile, type IngestInput, ingestInputSchema } from './ingest';
import { decideReplay } from './start';

/**
 * The operator API over ingestion runs (functions/runsApi.ts), free of the Functions runtime: what a
 * query string or body may hold, which runs match a filter, how a listing is paged, what a run looks
 * like in a listing, and the JSON error every route answers with.
 */

export const RUNTIME_STATUSES = [
  'Running',
  'Completed',
  'ContinuedAsNew',
  'Failed',
  'Canceled',
  'Terminated',
  'Pending',
  'Suspended',
] as const;
export type RuntimeStatus = (typeof RUNTIME_STATUSES)[number];

export const VERDICTS = ['accepted', 'accepted_with_rejections', 'rejected'] as const;
export type Verdict = (typeof VERDICTS)[number];

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
export const MAX_BULK_REPLAY = 1000;

// ---- errors ------------------------------------------------------------------------------------------

/** An error the API answers with: its HTTP status and the `{code, message}` body. */
export class RunsApiError extends LakewattError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

export interface ApiErrorBody {
  code: string;
  message: string;
}

export const invalidRequest = (message: string): RunsApiError =>
  new RunsApiError(400, 'INVALID_REQUEST', message);

/**
 * The status and body answering a thrown error. Anything that is not a RunsApiError is an internal
 * failure: its details stay in the log, the caller gets a generic 500.
 */
export function errorReply(error: unknown, reference?: string): { status: number; body: ApiErrorBody } {
  if (error instanceof RunsApiError) {
    return { status: error.status, body: { code: error.code, message: error.message } };
  }
  return {
    status: 500,
    body: {
      code: 'INTERNAL',
      message: `internal error${reference ? ` (invocation ${reference})` : ''}; the details are in the function log`,
    },
  };
}

/** One line naming each bad field: `max: required; runtimeStatus: 'Runing' is not a runtime status (...)`. */
export function describeIssues(error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return `${issue.keys.join(', ')}: ${issue.message}`;
    const field = issue.path.length > 0 ? String(issue.path[0]) : 'request';
    return `${field}: ${issue.message}`;
  });
  return [...new Set(lines)].join('; ');
}

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidRequest(describeIssues(parsed.error));
  return parsed.data;
}

// ---- field schemas -----------------------------------------------------------------------------------

const lowerStatus = new Map(RUNTIME_STATUSES.map((s) => [s.toLowerCase(), s]));

const runtimeStatusValue = z.string().transform((value, ctx): RuntimeStatus => {
  const status = lowerStatus.get(value.trim().toLowerCase());
  if (status) return status;
  ctx.addIssue({
    code: 'custom',
    message: `'${value}' is not a runtime status (one of ${RUNTIME_STATUSES.join(', ')})`,
  });
  return z.NEVER;
});

const verdictValue = z.string().transform((value, ctx): Verdict => {
  const verdict = value.trim().toLowerCase();
  if ((VERDICTS as readonly string[]).includes(verdict)) return verdict as Verdict;
  ctx.addIssue({ code: 'custom', message: `'${value}' is not a verdict (one of ${VERDICTS.join(', ')})` });
  return z.NEVER;
});

const splitList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** A comma list in a query string, or (in a body) a comma list or an array of strings. */
function listOf<T extends z.ZodType<unknown, string>>(item: T) {
  return z
    .union([z.string(), z.array(z.string())], { error: 'expected a string or an array of strings' })
    .transform((value) => (Array.isArray(value) ? value.flatMap(splitList) : splitList(value)))
    .pipe(z.array(item).min(1, 'expected at least one value'));
}

const datasetValue = z.enum(DATASET_NAMES, {
  error: (issue) => `'${String(issue.input)}' is not a dataset (one of ${DATASET_NAMES.join(', ')})`,
});

const sourceValue = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected a source id (lowercase letters, digits, - and _)');

const timeValue = z
  .string({ error: 'expected an ISO 8601 time such as 2026-01-01T00:00:00Z' })
  .refine((value) => z.iso.datetime({ offset: true }).safeParse(value).success, {
    error: (issue) =>
      `'${String(issue.input)}' is not an ISO 8601 time with a zone, such as 2026-01-01T00:00:00Z`,
  })
  .transform((value) => new Date(value));

const filterShape = {
  runtimeStatus: listOf(runtimeStatusValue).optional(),
  verdict: listOf(verdictValue).optional(),
  dataset: datasetValue.optional(),
  source: sourceValue.optional(),
  from: timeValue.optional(),
  to: timeValue.optional(),
};

function checkWindow(value: { from?: Date; to?: Date }, ctx: z.RefinementCtx): void {
  if (value.from && value.to && value.from.getTime() > value.to.getTime()) {
    ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be later than to' });
  }
}

// ---- filters -----------------------------------------------------------------------------------------

export interface RunFilter {
  runtimeStatus?: RuntimeStatus[];
  verdict?: Verdict[];
  dataset?: DatasetName;
  source?: string;
  from?: Date;
  to?: Date;
}

export interface ListRunsQuery extends RunFilter {
  top: number;
  continuationToken?: string;
}

/** Query parameters the platform adds (the function key) and that are not filters. */
const PLATFORM_PARAMETERS = new Set(['code']);

const listQuerySchema = z
  .strictObject(
    {
      ...filterShape,
      top: z
        .string()
        .regex(/^\d+$/, 'expected a whole number')
        .transform(Number)
        .pipe(
          z
            .number()
            .int()
            .min(1, 'must be at least 1')
            .max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`),
        )
        .default(DEFAULT_PAGE_SIZE),
      continuationToken: z.string().min(1).optional(),
    },
    { error: 'unknown parameter' },
  )
  .superRefine(checkWindow);

/** `GET /api/runs` query string: filters, `top` (default 50, at most 500), `continuationToken`. */
export function parseListRunsQuery(query: Iterable<[string, string]>): ListRunsQuery {
  const values: Record<string, string> = {};
  for (const [key, value] of query) {
    if (PLATFORM_PARAMETERS.has(key)) continue;
    // A repeated list parameter (?runtimeStatus=Failed&runtimeStatus=Terminated) adds to the list.
    values[key] = key in values ? `${values[key]},${value}` : value;
  }
  return parseOrThrow(listQuerySchema, values);
}

export interface BulkReplayRequest extends RunFilter {
  runtimeStatus: RuntimeStatus[];
  max: number;
  dryRun: boolean;
}

const bulkReplaySchema = z
  .strictObject(
    {
      ...filterShape,
      runtimeStatus: listOf(runtimeStatusValue).default(['Failed']),
      max: z
        .number({ error: (issue) => (issue.input === undefined ? 'required' : 'expected a whole number') })
        .int('expected a whole number')
        .min(1, 'must be at least 1')
        .max(MAX_BULK_REPLAY, `must be at most ${MAX_BULK_REPLAY}`),
      dryRun: z.boolean({ error: 'expected true or false' }).default(false),
    },
    { error: 'unknown field' },
  )
  .superRefine(checkWindow);

/** `POST /api/runs/replay` body. */
export function parseBulkReplayRequest(body: unknown): BulkReplayRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('body: expected a JSON object');
  }
  return parseOrThrow(bulkReplaySchema, body);
}

const reprocessSchema = z.strictObject(
  {
    path: z
      .string({ error: (issue) => (issue.input === undefined ? 'required' : 'expected a string') })
      .min(1, 'required'),
  },
  { error: 'unknown field' },
);

/** `POST /api/files/reprocess` body: `{path}`, a bronze path under `landing/`. */
export function parseReprocessRequest(body: unknown): { path: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('body: expected a JSON object');
  }
  return parseOrThrow(reprocessSchema, body);
}

/** A request body as JSON; an empty body is `{}`. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalidRequest('body: not valid JSON');
  }
}

/** An instance id from a route: the durable backends' ids are short and never contain '/' or controls. */
export function parseInstanceId(value: string | undefined): string {
  if (!value || value.length > 256 || /[/\\\p{Cc}]/u.test(value)) {
    throw invalidRequest('id: expected an orchestration instance id');
  }
  return value;
}

/** What the durable client's `getStatusBy` can filter on itself; the rest is filtered here. */
export function instanceFilter(filter: RunFilter): {
  runtimeStatus?: RuntimeStatus[];
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
} {
  return {
    ...(filter.runtimeStatus ? { runtimeStatus: filter.runtimeStatus } : {}),
    ...(filter.from ? { createdTimeFrom: filter.from } : {}),
    ...(filter.to ? { createdTimeTo: filter.to } : {}),
  };
}

// ---- runs --------------------------------------------------------------------------------------------

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

/** One ingestion run in a listing. */
export interface RunSummary {
  instanceId: string;
  runtimeStatus: string;
  /** The orchestration's stage (custom status): validating, silver, gold, auditing, completed, rejected, failed. */
  stage: string | null;
  verdict: Verdict | null;
  generation: number | null;
  dataset: string | null;
  source: string | null;
  /** Path of the file version inside the bronze container (`landing/...`). */
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

/** The listing entry of an `ingestFile` instance; undefined for any other orchestration. */
export function summarizeRun(instance: InstanceLike): RunSummary | undefined {
  if (instance.name !== INGEST_ORCHESTRATION) return undefined;
  const input = ingestInputOf(instance);
  const custom = customStatusSchema.safeParse(instance.customStatus);
  const status = custom.success ? custom.data : {};
  const output = outputSchema.safeParse(instance.output);
  const result = output.success ? output.data : {};
  const generation = input?.generation ?? status.generation ?? null;
  return {
    instanceId: instance.instanceId,
    runtimeStatus: String(instance.runtimeStatus),
    stage: status.stage ?? null,
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

export function matchesFilter(run: RunSummary, filter: RunFilter): boolean {
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

/** The ingestion runs among `instances` that match `filter`, newest first. */
export function selectRuns(instances: Iterable<InstanceLike>, filter: RunFilter): RunSummary[] {
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
export function filterKey(filter: RunFilter): string {
  const canonical = JSON.stringify([
    filter.runtimeStatus ? [...filter.runtimeStatus].sort() : null,
    filter.verdict ? [...filter.verdict].sort() : null,
    filter.dataset ?? null,
    filter.source ?? null,
    filter.from?.toISOString() ?? null,
    filter.to?.toISOString() ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

function encodeToken(last: RunSummary, filter: RunFilter): string {
  const token = { v: 1, t: Date.parse(last.createdTime), i: last.instanceId, f: filterKey(filter) };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(token: string, filter: RunFilter): { t: number; i: string } {
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
  trigger: string | null;
  requestedAt: string | null;
  customStatus: unknown;
  output: unknown;
  /** The orchestration's failure message, when it failed. */
  error: string | null;
}

export function runDetail(instance: InstanceLike, run: RunSummary): RunDetail {
  const input = ingestInputOf(instance);
  return {
    ...run,
    trigger: input?.trigger ?? null,
    requestedAt: input?.requestedAt ?? null,
    customStatus: instance.customStatus ?? null,
    output: instance.output ?? null,
    error:
      run.runtimeStatus === 'Failed' && typeof instance.output === 'string'
        ? instance.output.split('\n')[0]!.slice(0, 1000)
        : null,
  };
}

// ---- replays -----------------------------------------------------------------------------------------

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
 * The runs a bulk replay works on: the matching runs, oldest first (a backlog drains in the order it
 * built up), at most `max` of them.
 */
export function bulkReplayCandidates(
  instances: readonly InstanceLike[],
  request: BulkReplayRequest,
): { matched: number; candidates: BulkReplayCandidate[] } {
  const byId = new Map(instances.map((instance) => [instance.instanceId, instance]));
  const runs = selectRuns(instances, request).reverse();
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

// ---- CLI helpers -------------------------------------------------------------------------------------

const DURATION_UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * `--since` of `lakewatt runs list`: a duration back from `now` (`90s`, `30m`, `2h`, `7d`, `1w`) or an ISO
 * time; undefined when it is neither.
 */
export function sinceTime(value: string, now: Date): Date | undefined {
  const duration = /^(\d+)\s*([smhdw])$/i.exec(value.trim());
  if (duration) {
    return new Date(now.getTime() - Number(duration[1]) * DURATION_UNITS[duration[2]!.toLowerCase()]!);
  }
  return timeValue.safeParse(value.trim()).data;
}
