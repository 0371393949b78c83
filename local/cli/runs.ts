import os from 'node:os';

import { type Command, Option } from 'commander';

import type { AuditRecord } from '../../lib/audit';
import { LakewattError, UsageError } from '../../lib/errors';
import { LOCAL_CALLER_HEADER } from '../../lib/pipeline/caller';
import type {
  ApiErrorBody,
  BulkReplayResult,
  RefusedRun,
  ReplayedRun,
  RunDetail,
  RunsPage,
  RunSummary,
} from '../../lib/pipeline/runsQuery';
import { MAX_BULK_REPLAY, MAX_PAGE_SIZE, sinceTime } from '../../lib/pipeline/runsQuery';
import { countsText, countsTotal, type VeeOutcome } from '../../lib/pipeline/vee';
import { hostKeyHeaders } from '../host/endpoint';
import { type Runtime, withRuntime } from './dev';
import { type Progress, startProgress } from './progress';

/**
 * `lakewatt runs list | show | replay`: the operator HTTP API (functions/runsApi.ts) from the command
 * line, through the runtime of the state folder (a running `lakewatt dev`, or an embedded host for the
 * command's duration). Errors print one line with the API's code; a 400 from the API is a usage error.
 */

/** The API refused the request as invalid: a usage error (exit 2) that keeps the API's code. */
class InvalidRequestError extends UsageError {
  declare readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Who the local API records as the requester of a replay: `cli:<OS user>` (a label; loopback has no sign-in). */
export function cliCaller(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (some containers): the label stays generic.
  }
  return `cli:${user.replace(/[^\w.@-]/g, '_').slice(0, 90) || 'unknown'}`;
}

interface ApiAnswer<T> {
  status: number;
  body: T;
}

async function request<T>(
  runtime: Runtime,
  method: string,
  route: string,
  body?: unknown,
): Promise<ApiAnswer<T>> {
  let response: Response;
  try {
    response = await fetch(`${runtime.baseUrl}${route}`, {
      method,
      headers: hostKeyHeaders(runtime, {
        [LOCAL_CALLER_HEADER]: cliCaller(),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      }),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(120_000),
    });
  } catch (error) {
    throw new LakewattError(
      'RUNTIME_UNREACHABLE',
      `cannot reach the runtime at ${runtime.baseUrl}: ${String(error)}`,
    );
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed as T };
}

function apiError(answer: ApiAnswer<unknown>): LakewattError {
  const body = (answer.body ?? {}) as Partial<ApiErrorBody>;
  const code = typeof body.code === 'string' ? body.code : `HTTP_${answer.status}`;
  const message = typeof body.message === 'string' ? body.message : `the runtime answered ${answer.status}`;
  return answer.status === 400 ? new InvalidRequestError(code, message) : new LakewattError(code, message);
}

async function call<T>(runtime: Runtime, method: string, route: string, body?: unknown): Promise<T> {
  const answer = await request<T>(runtime, method, route, body);
  if (answer.status < 200 || answer.status > 299) throw apiError(answer);
  return answer.body;
}

const print = (text: string): void => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};
const printJson = (value: unknown): void => print(JSON.stringify(value, null, 2));

function positiveInt(flag: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`${flag} must be a whole number from 1 to ${max}`);
  }
  return n;
}

function since(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const time = sinceTime(value, new Date());
  if (!time)
    throw new UsageError(`--since ${value}: expected a duration (90s, 30m, 2h, 7d, 1w) or an ISO time`);
  return time.toISOString();
}

// ---- human output ------------------------------------------------------------------------------------

/** `2026-01-01T00:00:00.000Z` as `2026-01-01 00:00:00Z`. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  if (minutes < 60) return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function runsTable(runs: readonly RunSummary[]): string {
  return table(
    ['INSTANCE', 'STATUS', 'STAGE', 'VERDICT', 'GEN', 'DATASET/SOURCE', 'CREATED', 'FILE'],
    runs.map((run) => [
      run.instanceId,
      run.runtimeStatus,
      run.stage ?? '-',
      run.verdict ?? '-',
      run.generation === null ? '-' : String(run.generation),
      `${run.dataset ?? '-'}/${run.source ?? '-'}`,
      shortTime(run.createdTime),
      run.path ?? '-',
    ]),
  );
}

export function runSummaryText(run: RunDetail & { audit: AuditRecord | null }): string {
  const audit = run.audit;
  const lines = [
    `${run.instanceId}`,
    `  status      ${run.runtimeStatus}${run.stage ? ` (stage ${run.stage})` : ''}, generation ${run.generation ?? '-'}, trigger ${run.trigger ?? '-'}`,
    ...(run.batch
      ? [
          'in' in run.batch
            ? `  batch       in ${run.batch.in}`
            : `  batch       waiting behind ${run.batch.behind || '-'}`,
        ]
      : []),
    `  file        bronze/${run.path ?? '-'}  eTag ${run.etag ?? '-'}`,
    `  dataset     ${run.dataset ?? '-'} from ${run.source ?? '-'}`,
    `  verdict     ${run.verdict ?? '-'}`,
    `  created     ${shortTime(run.createdTime)}, updated ${shortTime(run.lastUpdatedTime)}, requested ${shortTime(run.requestedAt)}`,
    `  audit       ${run.auditPath ?? '-'}${audit ? '' : ' (not written yet)'}`,
  ];
  if (audit?.validation) {
    const c = audit.validation.counts;
    lines.push(
      `  rows        read ${c.rowsRead}, valid ${c.rowsValid}, rejected ${c.rowsRejected}, duplicates dropped ${c.duplicatesDropped}`,
    );
  }
  if (audit?.vee) lines.push(...veeLines(audit.vee));
  for (const reason of audit?.reasons ?? []) lines.push(`  reason      ${reason.code}: ${reason.message}`);
  if (audit && audit.stages.length > 0) {
    lines.push('  stages');
    lines.push(
      indent(
        table(
          ['STAGE', 'STATUS', 'DURATION', 'STARTED'],
          audit.stages.map((s) => [s.stage, s.status, duration(s.durationMs), shortTime(s.startedAt)]),
        ),
        4,
      ),
    );
  }
  if (audit && audit.databricksRuns.length > 0) {
    lines.push('  databricks runs');
    lines.push(
      indent(
        table(
          ['STEP', 'JOB', 'RUN', 'BATCH', 'FILES', 'OUTCOME', 'STATE', 'DURATION', 'URL'],
          audit.databricksRuns.map((r) => [
            r.step,
            r.job,
            r.runId === null ? '-' : String(r.runId),
            r.batch?.id ?? '-',
            r.batch ? String(r.batch.size) : '-',
            r.outcome ?? '-',
            [r.lifeCycleState, r.resultState].filter((s) => s !== null).join('/') || '-',
            duration(r.durationMs),
            r.runPageUrl ?? '-',
          ]),
        ),
        4,
      ),
    );
  }
  if (audit?.error)
    lines.push(`  error       ${audit.error.stage} ${audit.error.code}: ${audit.error.message}`);
  else if (run.error) lines.push(`  error       ${run.error}`);
  return `${lines.join('\n')}\n`;
}

/** A file's VEE outcome: its meter-days complete, the intervals estimated per method, the rules that fired. */
export function veeLines(vee: VeeOutcome): string[] {
  const estimated = countsTotal(vee.estimatedIntervals);
  return [
    `  vee         ${vee.completeMeterDays} of ${vee.meterDays} meter-days complete, ${vee.missingIntervals} intervals still missing`,
    `  estimated   ${estimated === 0 ? 'none' : `${estimated} intervals: ${countsText(vee.estimatedIntervals)}`}`,
    `  findings    ${countsText(vee.findings)}`,
  ];
}

const indent = (text: string, n: number): string =>
  text
    .split('\n')
    .map((line) => `${' '.repeat(n)}${line}`)
    .join('\n');

function replayText(result: {
  replayed: ReplayedRun[];
  refused: RefusedRun[];
  dryRun: boolean;
  matched?: number;
}): string {
  const verb = result.dryRun ? 'would replay' : 'replayed';
  const lines: string[] = [];
  if (result.matched !== undefined) {
    lines.push(
      `${result.matched} run(s) matched; ${verb} ${result.replayed.length}, refused ${result.refused.length}` +
        (result.dryRun ? ' (dry run: nothing started)' : ''),
    );
  }
  for (const run of result.replayed) {
    lines.push(
      `${verb} ${run.instanceId} as generation ${run.generation}${run.path ? ` (${run.path})` : ''}`,
    );
  }
  for (const run of result.refused) lines.push(`refused ${run.instanceId}: ${run.code}: ${run.message}`);
  if (lines.length === 0) lines.push('nothing to replay');
  return `${lines.join('\n')}\n`;
}

function embeddedNote(runtime: Runtime, started: number): void {
  if (runtime.host && started > 0) {
    process.stderr.write(
      'lakewatt: no `lakewatt dev` runs on this state folder; the replayed runs continue when the runtime next starts\n',
    );
  }
}

// ---- commands ----------------------------------------------------------------------------------------

interface ListOptions {
  kind?: string;
  status?: string;
  dataset?: string;
  source?: string;
  verdict?: string;
  since?: string;
  limit?: string;
  json?: boolean;
}

async function listRuns(options: ListOptions): Promise<void> {
  const limit = positiveInt('--limit', options.limit, 100_000) ?? 50;
  const from = since(options.since);
  await withRuntime(async (runtime) => {
    const runs: RunSummary[] = [];
    let token: string | null = null;
    let more = false;
    do {
      const query = new URLSearchParams();
      if (options.kind) query.set('kind', options.kind);
      if (options.status) query.set('runtimeStatus', options.status);
      if (options.dataset) query.set('dataset', options.dataset);
      if (options.source) query.set('source', options.source);
      if (options.verdict) query.set('verdict', options.verdict);
      if (from) query.set('from', from);
      query.set('top', String(Math.min(MAX_PAGE_SIZE, limit - runs.length)));
      if (token) query.set('continuationToken', token);
      const page: RunsPage = await call<RunsPage>(runtime, 'GET', `/api/runs?${query.toString()}`);
      runs.push(...page.runs);
      token = page.continuationToken;
      more = token !== null;
    } while (token !== null && runs.length < limit);
    if (options.json) {
      printJson({ runs, more });
      return;
    }
    if (runs.length === 0) {
      print('no runs match');
      return;
    }
    print(runsTable(runs));
    print(more ? `${runs.length} run(s) shown; more match (raise --limit)` : `${runs.length} run(s)`);
  });
}

async function showRun(id: string, options: { json?: boolean }): Promise<void> {
  await withRuntime(async (runtime) => {
    const run = await call<RunDetail & { audit: AuditRecord | null }>(
      runtime,
      'GET',
      `/api/runs/${encodeURIComponent(id)}`,
    );
    if (options.json) printJson(run);
    else print(runSummaryText(run));
  });
}

interface ReplayOptions {
  allFailed?: boolean;
  dataset?: string;
  source?: string;
  verdict?: string;
  since?: string;
  max?: string;
  dryRun?: boolean;
  json?: boolean;
  progress?: boolean;
}

type ReplayOutcome = { replayed: ReplayedRun[]; refused: RefusedRun[]; dryRun: boolean; matched?: number };

/**
 * `--all-failed`: the runs API's dry run picks the runs (its filters, oldest first, `max`), then each is
 * replayed by id, as the bulk call would in the same order, so the progress can count them: the outcome
 * has the bulk call's shape. Runs the dry run refuses are not asked again.
 */
async function replayPreviewed(
  runtime: Runtime,
  preview: BulkReplayResult,
  progress: Progress,
): Promise<ReplayOutcome> {
  const outcome: ReplayOutcome = {
    matched: preview.matched,
    replayed: [],
    refused: [...preview.refused],
    dryRun: false,
  };
  const total = preview.replayed.length;
  const show = (current?: string): void =>
    progress.update({
      stage: 'replaying',
      done: outcome.replayed.length + outcome.refused.length - preview.refused.length,
      total,
      unit: 'runs',
      counts: [
        { name: 'replayed', value: outcome.replayed.length, tone: 'good' },
        { name: 'refused', value: outcome.refused.length - preview.refused.length, tone: 'warn' },
      ],
      detail: current,
    });
  if (total > 0) show();
  for (const run of preview.replayed) {
    const before = outcome.replayed.length;
    await replayOne(runtime, run.instanceId, outcome);
    // The id route answers the generation only: the rest comes from the dry run's entry.
    const started = outcome.replayed[before];
    if (started) outcome.replayed[before] = { ...run, generation: started.generation };
    show(run.instanceId);
  }
  return outcome;
}

async function replayRuns(ids: string[], options: ReplayOptions): Promise<void> {
  const filters = ['dataset', 'source', 'verdict', 'since', 'max'] as const;
  if (options.allFailed && ids.length > 0) throw new UsageError('give run ids or --all-failed, not both');
  if (!options.allFailed && ids.length === 0)
    throw new UsageError('give the ids of the runs to replay, or --all-failed');
  if (!options.allFailed) {
    const stray = filters.filter((key) => options[key] !== undefined);
    if (stray.length > 0)
      throw new UsageError(`${stray.map((k) => `--${k}`).join(', ')} only go with --all-failed`);
  }
  const max = positiveInt('--max', options.max, MAX_BULK_REPLAY) ?? 100;
  const from = since(options.since);
  const result = await withRuntime(async (runtime) => {
    let outcome: ReplayOutcome;
    if (options.allFailed) {
      const preview = await call<BulkReplayResult>(runtime, 'POST', '/api/runs/replay', {
        runtimeStatus: ['Failed'],
        ...(options.dataset ? { dataset: options.dataset } : {}),
        ...(options.source ? { source: options.source } : {}),
        ...(options.verdict ? { verdict: options.verdict } : {}),
        ...(from ? { from } : {}),
        max,
        dryRun: true,
      });
      if (options.dryRun) {
        outcome = preview;
      } else {
        // Runs started so far on stderr; stdout keeps the outcome alone.
        const progress = startProgress({ task: 'replay', live: options.progress !== false });
        try {
          outcome = await replayPreviewed(runtime, preview, progress);
        } finally {
          progress.end();
        }
      }
    } else {
      outcome = { replayed: [], refused: [], dryRun: options.dryRun === true };
      for (const id of ids) await replayOne(runtime, id, outcome);
    }
    if (!outcome.dryRun) embeddedNote(runtime, outcome.replayed.length);
    return outcome;
  });
  if (options.json) printJson(result);
  else print(replayText(result));
  process.exitCode = result.refused.length > 0 ? 1 : 0;
}

/** One id: replayed, or refused with the API's code (a dry run asks the run's state and starts nothing). */
async function replayOne(
  runtime: Runtime,
  id: string,
  outcome: { replayed: ReplayedRun[]; refused: RefusedRun[]; dryRun: boolean },
): Promise<void> {
  const route = `/api/runs/${encodeURIComponent(id)}`;
  if (outcome.dryRun) {
    const answer = await request<RunDetail & ApiErrorBody>(runtime, 'GET', route);
    if (answer.status !== 200) {
      const error = apiError(answer);
      if (answer.status >= 500 || answer.status === 400) throw error;
      outcome.refused.push({ instanceId: id, code: error.code, message: error.message });
    } else if (['Pending', 'Running', 'ContinuedAsNew', 'Suspended'].includes(answer.body.runtimeStatus)) {
      outcome.refused.push({
        instanceId: id,
        code: 'RUN_ACTIVE',
        message: `run ${id} is ${answer.body.runtimeStatus}; replay it once it has ended`,
      });
    } else {
      const run = answer.body;
      outcome.replayed.push({
        instanceId: id,
        generation: (run.generation ?? -1) + 1,
        dataset: run.dataset,
        source: run.source,
        path: run.path,
      });
    }
    return;
  }
  const answer = await request<{ generation: number } & ApiErrorBody>(runtime, 'POST', `${route}/replay`);
  if (answer.status === 202) {
    outcome.replayed.push({
      instanceId: id,
      generation: answer.body.generation,
      dataset: null,
      source: null,
      path: null,
    });
    return;
  }
  const error = apiError(answer);
  if (answer.status >= 500 || answer.status === 400) throw error;
  outcome.refused.push({ instanceId: id, code: error.code, message: error.message });
}

export function registerRuns(program: Command): void {
  const runs = program
    .command('runs')
    .description('list, inspect and replay runs (through the runtime of the state folder)');

  runs
    .command('list')
    .description('list runs (ingestions and price pulls), newest first')
    .option('--kind <kind>', 'only ingest runs or pricePull runs')
    .option('--status <statuses>', 'runtime status, or a comma list (e.g. Failed,Terminated)')
    .option('--dataset <dataset>', 'only this dataset')
    .option('--source <source>', 'only this source system')
    .option('--verdict <verdicts>', 'accepted, accepted_with_rejections or rejected (comma list)')
    .option('--since <when>', 'created within a duration (90s, 30m, 2h, 7d) or since an ISO time')
    .option('--limit <n>', 'at most this many runs (default 50)')
    .option('--json', 'print the runs as JSON')
    .action((options: ListOptions) => listRuns(options));

  runs
    .command('show')
    .description('show one run: status, stages with durations, Databricks runs, verdict, error')
    .argument('<id>', 'the run (orchestration instance) id')
    .option('--json', 'print the run and its audit record as JSON')
    .action((id: string, options: { json?: boolean }) => showRun(id, options));

  runs
    .command('replay')
    .description('replay runs as their next generation: the given ids, or every failed run matching filters')
    .argument('[ids...]', 'ids of the runs to replay')
    .option('--all-failed', 'replay failed runs (with the filters below), oldest first')
    .option('--dataset <dataset>', 'with --all-failed: only this dataset')
    .option('--source <source>', 'with --all-failed: only this source system')
    .option('--verdict <verdicts>', 'with --all-failed: only these verdicts')
    .option('--since <when>', 'with --all-failed: created within a duration or since an ISO time')
    .addOption(
      new Option(
        '--max <n>',
        `with --all-failed: at most this many runs (default 100, at most ${MAX_BULK_REPLAY})`,
      ),
    )
    .option('--dry-run', 'say what would be replayed; start nothing')
    .option('--json', 'print the outcome as JSON')
    .option('--no-progress', 'with --all-failed: plain progress lines on stderr, even on a terminal')
    .action((ids: string[], options: ReplayOptions) => replayRuns(ids, options));
}
