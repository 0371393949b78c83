/**
 * The runs list's filter: what the form holds, how it travels in the page address (`#/runs?...`, so a
 * filtered list can be linked) and how it becomes the runs API's query string. Times are UTC: the form's
 * `datetime-local` value `2026-01-02T03:04` means 03:04 UTC, whatever the browser's zone.
 */

export interface RunFilter {
  runtimeStatus: string;
  verdict: string;
  dataset: string;
  source: string;
  /** `YYYY-MM-DDTHH:MM`, UTC; '' for none. */
  from: string;
  to: string;
}

export const EMPTY_FILTER: RunFilter = {
  runtimeStatus: '',
  verdict: '',
  dataset: '',
  source: '',
  from: '',
  to: '',
};

const KEYS = Object.keys(EMPTY_FILTER) as Array<keyof RunFilter>;

/** The filter named in the page address; unknown keys are ignored. */
export function filterFromParams(params: URLSearchParams): RunFilter {
  const filter = { ...EMPTY_FILTER };
  for (const key of KEYS) filter[key] = params.get(key)?.trim() ?? '';
  return filter;
}

/** The page address's query for a filter: only the fields that are set. */
export function filterToParams(filter: RunFilter): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of KEYS) if (filter[key] !== '') params.set(key, filter[key]);
  return params;
}

/** A form time (`YYYY-MM-DDTHH:MM`, UTC) as the API's ISO 8601 time with a zone. */
export function utcTime(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00Z` : value;
}

/** `GET /api/runs` query string of a filter, a page size and a continuation token. */
export function runsQuery(filter: RunFilter, top: number, continuationToken?: string | null): string {
  const params = new URLSearchParams();
  if (filter.runtimeStatus) params.set('runtimeStatus', filter.runtimeStatus);
  if (filter.verdict) params.set('verdict', filter.verdict);
  if (filter.dataset) params.set('dataset', filter.dataset);
  if (filter.source) params.set('source', filter.source);
  if (filter.from) params.set('from', utcTime(filter.from));
  if (filter.to) params.set('to', utcTime(filter.to));
  params.set('top', String(top));
  if (continuationToken) params.set('continuationToken', continuationToken);
  return params.toString();
}

/**
 * `POST /api/runs/replay` body for the runs a filter shows: Failed ones unless the filter names a status.
 * Completed runs need the operator's explicit `includeCompleted` (the API refuses them otherwise).
 */
export function bulkReplayBody(
  filter: RunFilter,
  options: { max: number; dryRun: boolean; includeCompleted: boolean },
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    runtimeStatus: [filter.runtimeStatus || 'Failed'],
    max: options.max,
    dryRun: options.dryRun,
  };
  if (options.includeCompleted) body.includeCompleted = true;
  if (filter.verdict) body.verdict = [filter.verdict];
  if (filter.dataset) body.dataset = filter.dataset;
  if (filter.source) body.source = filter.source;
  if (filter.from) body.from = utcTime(filter.from);
  if (filter.to) body.to = utcTime(filter.to);
  return body;
}
