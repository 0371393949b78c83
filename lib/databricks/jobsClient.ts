import type { z } from 'zod';

import { DatabricksApiError, DatabricksJobNotFoundError, DatabricksRequestError } from './errors';
import { type CallSpec, DatabricksHttp, type DatabricksHttpOptions } from './http';
import { type RunOutcome, runOutcome } from './runOutcome';
import {
  EmptySchema,
  ListJobsResponseSchema,
  ListRunsResponseSchema,
  RunNowResponseSchema,
  RunOutputSchema,
  RunSchema,
  type WireRun,
  type WireRunTask,
} from './schemas';

export const API_PREFIX = '/api/2.2/jobs/';
export const MAX_IDEMPOTENCY_TOKEN_LENGTH = 64;

export { DEFAULT_RETRY_POLICY, parseRetryAfter, type RetryNotice, type RetryPolicy } from './http';

export interface JobsClientOptions extends DatabricksHttpOptions {
  /** How long a job id resolved from its name is reused (default 10 minutes). */
  jobIdCacheTtlMs?: number;
}

export interface JobSummary {
  jobId: number;
  name: string | undefined;
  createdTime: number | undefined;
}

export interface RunNowRequest {
  jobId: number;
  /** Job-level parameters; every key must be declared on the job. */
  jobParameters?: Record<string, string>;
  /**
   * At most 64 characters. The same token always yields the same run, so a retried request (including
   * this client's own retries after a 5xx or a timeout) can never start a second run.
   */
  idempotencyToken?: string;
  /** Queue the run when the job is at its concurrency limit, instead of skipping it. */
  queue?: boolean;
  /** Run only these task keys. */
  only?: string[];
}

export interface StartedRun {
  runId: number;
  numberInJob: number | undefined;
}

export interface TaskRunInfo {
  taskKey: string;
  /** The task run id: what `getRunOutput` takes. */
  runId: number | undefined;
  outcome: RunOutcome;
  attemptNumber: number | undefined;
  startTime: number | undefined;
  endTime: number | undefined;
  runPageUrl: string | undefined;
}

export interface RunInfo {
  runId: number;
  jobId: number | undefined;
  runName: string | undefined;
  runPageUrl: string | undefined;
  outcome: RunOutcome;
  /** Epoch milliseconds; `endTime` is undefined while the run has not ended (the API sends 0). */
  startTime: number | undefined;
  endTime: number | undefined;
  durations: {
    queueMs: number | undefined;
    setupMs: number | undefined;
    executionMs: number | undefined;
    cleanupMs: number | undefined;
    runMs: number | undefined;
  };
  tasks: TaskRunInfo[];
  jobParameters: Record<string, string>;
  /** The parsed answer, unknown fields included. */
  raw: WireRun;
}

export interface RunOutputInfo {
  logs: string | undefined;
  logsTruncated: boolean;
  error: string | undefined;
  errorTrace: string | undefined;
  notebookResult: string | undefined;
  metadata: RunInfo | undefined;
}

/** The operations the orchestrations need; implemented over HTTP by `JobsClient`, and by fakes in tests. */
export interface JobsApi {
  resolveJobId(name: string): Promise<number>;
  runNow(request: RunNowRequest): Promise<StartedRun>;
  getRun(runId: number): Promise<RunInfo>;
  /** The job's runs that have not ended (queued, pending, running), newest first. */
  listActiveRuns(jobId: number): Promise<RunInfo[]>;
  cancelRun(runId: number): Promise<void>;
  getRunOutput(taskRunId: number): Promise<RunOutputInfo>;
}

const ERROR_CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'RESOURCE_CONFLICT',
  429: 'TOO_MANY_REQUESTS',
  499: 'CANCELLED',
  500: 'INTERNAL_ERROR',
  501: 'NOT_IMPLEMENTED',
  503: 'TEMPORARILY_UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function optionalTime(value: number | undefined): number | undefined {
  return value === undefined || value === 0 ? undefined : value;
}

function toTaskRunInfo(task: WireRunTask): TaskRunInfo {
  return {
    taskKey: task.task_key,
    runId: task.run_id,
    outcome: runOutcome(task),
    attemptNumber: task.attempt_number,
    startTime: optionalTime(task.start_time),
    endTime: optionalTime(task.end_time),
    runPageUrl: task.run_page_url,
  };
}

/** The domain view of a `runs/get` answer. */
export function toRunInfo(run: WireRun): RunInfo {
  const startTime = optionalTime(run.start_time);
  const endTime = optionalTime(run.end_time);
  const parts = [run.setup_duration, run.execution_duration, run.cleanup_duration];
  const summed = parts.some((part) => part !== undefined && part > 0)
    ? parts.reduce<number>((sum, part) => sum + (part ?? 0), 0)
    : undefined;
  const jobParameters: Record<string, string> = {};
  for (const parameter of run.job_parameters ?? []) {
    if (parameter.name === undefined) continue;
    const value = parameter.value ?? parameter.default;
    if (value !== undefined) jobParameters[parameter.name] = value;
  }
  return {
    runId: run.run_id,
    jobId: run.job_id,
    runName: run.run_name,
    runPageUrl: run.run_page_url,
    outcome: runOutcome(run),
    startTime,
    endTime,
    durations: {
      queueMs: run.queue_duration,
      setupMs: run.setup_duration,
      executionMs: run.execution_duration,
      cleanupMs: run.cleanup_duration,
      runMs:
        optionalTime(run.run_duration) ??
        summed ??
        (startTime !== undefined && endTime !== undefined ? endTime - startTime : undefined),
    },
    tasks: (run.tasks ?? []).map(toTaskRunInfo),
    jobParameters,
    raw: run,
  };
}

function checkRunId(runId: number, what: string): void {
  if (!Number.isSafeInteger(runId) || runId < 0) {
    throw new DatabricksRequestError(`${what} must be a non-negative integer, got ${runId}`);
  }
}

/**
 * A small client for the Jobs API 2.2 routes Lakewatt uses, over Node's fetch. The same code talks to an
 * Azure Databricks workspace and to the local emulator; only the host and the token provider differ.
 *
 * Every request has a timeout. 429 and 503 are retried after `Retry-After` (or a backoff when absent);
 * other 5xx, connection errors and timeouts are retried only for requests that are safe to repeat (reads,
 * cancel, and run-now with an idempotency token). A 401 refreshes the token once.
 */
export class JobsClient implements JobsApi {
  readonly host: string;
  private readonly http: DatabricksHttp;
  private readonly cacheTtlMs: number;
  private readonly jobIds = new Map<string, { jobId: number; at: number }>();

  constructor(options: JobsClientOptions) {
    this.http = new DatabricksHttp(options, {
      prefix: API_PREFIX,
      routeLabel: '',
      userAgent: 'lakewatt-jobs-client/0.1',
      errorCodeByStatus: ERROR_CODE_BY_STATUS,
    });
    this.host = this.http.host;
    this.cacheTtlMs = options.jobIdCacheTtlMs ?? 10 * 60_000;
  }

  /** Jobs whose name equals `name` (case-insensitive, as the API filters), or all jobs; follows pagination. */
  async listJobs(name?: string): Promise<JobSummary[]> {
    const jobs: JobSummary[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const answer = await this.call({
        method: 'GET',
        path: 'list',
        query: { name, limit: 100, page_token: pageToken },
        schema: ListJobsResponseSchema,
        idempotent: true,
      });
      for (const job of answer.jobs ?? []) {
        jobs.push({ jobId: job.job_id, name: job.settings?.name, createdTime: job.created_time });
      }
      pageToken = answer.has_more ? answer.next_page_token : undefined;
      if (!pageToken) break;
    }
    return jobs;
  }

  /** The id of the one job with this exact name; cached for `jobIdCacheTtlMs`. */
  async resolveJobId(name: string): Promise<number> {
    const cached = this.jobIds.get(name);
    if (cached && this.http.now() - cached.at < this.cacheTtlMs) return cached.jobId;
    const matches = (await this.listJobs(name)).filter((job) => job.name === name);
    const only = matches[0];
    if (matches.length !== 1 || only === undefined) {
      throw new DatabricksJobNotFoundError(
        name,
        this.host,
        matches.map((job) => job.jobId),
      );
    }
    this.jobIds.set(name, { jobId: only.jobId, at: this.http.now() });
    return only.jobId;
  }

  /** Forgets cached job ids (all, or one name), e.g. after a redeploy. */
  forgetJobIds(name?: string): void {
    if (name === undefined) this.jobIds.clear();
    else this.jobIds.delete(name);
  }

  async runNow(request: RunNowRequest): Promise<StartedRun> {
    checkRunId(request.jobId, 'job_id');
    const token = request.idempotencyToken;
    if (token !== undefined && (token.length === 0 || token.length > MAX_IDEMPOTENCY_TOKEN_LENGTH)) {
      throw new DatabricksRequestError(
        `idempotency_token must have 1 to ${MAX_IDEMPOTENCY_TOKEN_LENGTH} characters, got ${token.length}`,
      );
    }
    const answer = await this.call({
      method: 'POST',
      path: 'run-now',
      body: {
        job_id: request.jobId,
        job_parameters: request.jobParameters,
        idempotency_token: token,
        queue: request.queue === undefined ? undefined : { enabled: request.queue },
        only: request.only,
      },
      schema: RunNowResponseSchema,
      idempotent: token !== undefined,
    });
    return { runId: answer.run_id, numberInJob: answer.number_in_job };
  }

  /**
   * run-now by job name. If the cached id no longer exists (the job was redeployed), the name is resolved
   * again once.
   */
  async runJob(jobName: string, request: Omit<RunNowRequest, 'jobId'>): Promise<StartedRun> {
    const jobId = await this.resolveJobId(jobName);
    try {
      return await this.runNow({ ...request, jobId });
    } catch (thrown) {
      const stale =
        thrown instanceof DatabricksApiError &&
        (thrown.errorCode === 'RESOURCE_DOES_NOT_EXIST' || thrown.errorCode === 'INVALID_PARAMETER_VALUE') &&
        /job/i.test(thrown.apiMessage) &&
        /does not exist|not found/i.test(thrown.apiMessage);
      if (!stale) throw thrown;
      this.forgetJobIds(jobName);
      return this.runNow({ ...request, jobId: await this.resolveJobId(jobName) });
    }
  }

  async getRun(runId: number): Promise<RunInfo> {
    checkRunId(runId, 'run_id');
    const run = await this.call({
      method: 'GET',
      path: 'runs/get',
      query: { run_id: runId },
      schema: RunSchema,
      idempotent: true,
    });
    return toRunInfo(run);
  }

  async listActiveRuns(jobId: number): Promise<RunInfo[]> {
    // One page: a job's active runs are bounded by its concurrency limit and its queue.
    const answer = await this.call({
      method: 'GET',
      path: 'runs/list',
      query: { job_id: jobId, active_only: true, limit: 25 },
      schema: ListRunsResponseSchema,
      idempotent: true,
    });
    return (answer.runs ?? []).map(toRunInfo);
  }

  /** Asks for the run to stop. Asynchronous on the server: poll `getRun` until the outcome is terminal. */
  async cancelRun(runId: number): Promise<void> {
    checkRunId(runId, 'run_id');
    await this.call({
      method: 'POST',
      path: 'runs/cancel',
      body: { run_id: runId },
      schema: EmptySchema,
      idempotent: true,
    });
  }

  /** Output of one task run (use `RunInfo.tasks[].runId`; the job run id is rejected for multi-task jobs). */
  async getRunOutput(taskRunId: number): Promise<RunOutputInfo> {
    checkRunId(taskRunId, 'run_id');
    const output = await this.call({
      method: 'GET',
      path: 'runs/get-output',
      query: { run_id: taskRunId },
      schema: RunOutputSchema,
      idempotent: true,
    });
    return {
      logs: output.logs,
      logsTruncated: output.logs_truncated ?? false,
      error: output.error,
      errorTrace: output.error_trace,
      notebookResult: output.notebook_output?.result,
      metadata: output.metadata ? toRunInfo(output.metadata) : undefined,
    };
  }

  private call<S extends z.ZodType>(spec: CallSpec<S>): Promise<z.output<S>> {
    return this.http.call(spec);
  }
}
