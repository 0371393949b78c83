import { z } from 'zod';

import { DATASET_NAMES, type DatasetName } from '../contracts/datasets';
import { LakewattError } from '../errors';
import { type RunKind, runKindOfId } from './instanceIds';

/**
 * The requests of the operator API (functions/runsApi.ts), free of the Functions runtime: what a query
 * string, a body or a route id may hold, and the JSON error every route answers with. Listing and paging
 * are in runsList.ts, replays in runsReplay.ts.
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

export const RUN_KINDS = ['ingest', 'pricePull'] as const satisfies readonly RunKind[];

export interface ListRunsQuery extends RunFilter {
  /** Only runs of this kind (ingestions of one file, or day-ahead price pulls); both when absent. */
  kind?: RunKind;
  top: number;
  continuationToken?: string;
}

/** Query parameters the platform adds (the function key) and that are not filters. */
const PLATFORM_PARAMETERS = new Set(['code']);

const listQuerySchema = z
  .strictObject(
    {
      ...filterShape,
      kind: z
        .enum(RUN_KINDS, {
          error: (issue) => `'${String(issue.input)}' is not a run kind (one of ${RUN_KINDS.join(', ')})`,
        })
        .optional(),
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
  /** Runs that ended Completed are replayed only when the operator says so explicitly. */
  includeCompleted: boolean;
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
      includeCompleted: z.boolean({ error: 'expected true or false' }).default(false),
    },
    { error: 'unknown field' },
  )
  .superRefine(checkWindow);

/**
 * `POST /api/runs/replay` body. Replaying runs that completed redoes finished work (and, for many files,
 * many Spark runs): a filter that selects Completed runs needs `includeCompleted: true`.
 */
export function parseBulkReplayRequest(body: unknown): BulkReplayRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('body: expected a JSON object');
  }
  const request = parseOrThrow(bulkReplaySchema, body);
  if (request.runtimeStatus.includes('Completed') && !request.includeCompleted) {
    throw new RunsApiError(
      400,
      'COMPLETED_REPLAY_NOT_CONFIRMED',
      'runtimeStatus: selects Completed runs; set includeCompleted: true to replay runs that completed',
    );
  }
  return request;
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

/**
 * An instance id from a route: exactly one of the shapes Lakewatt creates (instanceIds.ts). Anything else
 * never reaches the durable backend.
 */
export function parseInstanceId(value: string | undefined): string {
  if (value === undefined || runKindOfId(value) === undefined) {
    throw new RunsApiError(
      400,
      'INVALID_INSTANCE_ID',
      'id: expected an ingestion id (ingest-<dataset>-<32 hex>) or a price pull id (prices-<provider>-<zone>-<yyyy-mm-dd>)',
    );
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
