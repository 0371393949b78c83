import { authHeaders } from './auth';
import { bulkReplayBody, type RunFilter, runsQuery } from './filters';
import type { BulkReplayResult, RejectedRowsPage, RunDetail, RunsPage, StartedReply } from './types';

/**
 * The runs API as the page calls it, on its own origin (the console server forwards `/api/runs...` to the
 * Functions host; in Azure the same routes sit behind the same sign-in). Every error becomes an ApiError
 * with the API's `{code, message}`.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface ErrorBody {
  code?: unknown;
  error_code?: unknown;
  message?: unknown;
}

export async function call<T>(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { ...init, headers, signal: signal ?? null });
  const body = (await response.json().catch(() => null)) as unknown;
  if (!response.ok) {
    const error = (body ?? {}) as ErrorBody;
    const code = typeof error.code === 'string' ? error.code : error.error_code;
    throw new ApiError(
      response.status,
      typeof code === 'string' ? code : `HTTP_${response.status}`,
      typeof error.message === 'string' ? error.message : response.statusText,
    );
  }
  return body as T;
}

const runPath = (id: string): string => `/api/runs/${encodeURIComponent(id)}`;

export const listRuns = (filter: RunFilter, top: number, token: string | null, signal?: AbortSignal) =>
  call<RunsPage>(`/api/runs?${runsQuery(filter, top, token)}`, {}, signal);

export const showRun = (id: string, signal?: AbortSignal) => call<RunDetail>(runPath(id), {}, signal);

export const rejectedRows = (id: string, generation: number, offset: number, signal?: AbortSignal) =>
  call<RejectedRowsPage>(
    `${runPath(id)}/rejected?generation=${generation}&offset=${offset}&top=50`,
    {},
    signal,
  );

export const replayRun = (id: string) =>
  call<StartedReply>(`${runPath(id)}/replay`, { method: 'POST', body: '{}' });

export const bulkReplay = (
  filter: RunFilter,
  options: { max: number; dryRun: boolean; includeCompleted: boolean },
) =>
  call<BulkReplayResult>('/api/runs/replay', {
    method: 'POST',
    body: JSON.stringify(bulkReplayBody(filter, options)),
  });

/** Every run matching a filter, page after page, up to `limit` runs. */
export async function allRuns(
  filter: RunFilter,
  limit: number,
  signal?: AbortSignal,
): Promise<RunsPage['runs']> {
  const runs: RunsPage['runs'] = [];
  let token: string | null = null;
  do {
    const page: RunsPage = await listRuns(filter, 500, token, signal);
    runs.push(...page.runs);
    token = page.continuationToken;
  } while (token && runs.length < limit);
  return runs.slice(0, limit);
}
