import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

import { ApiError, type Json } from './api';
import type { RunScheduler } from './runs';
import type { JobsStore, LifeCycle, RunRow } from './store';

const MAX_LOG_BYTES = 5 * 1024 * 1024;
const RUN_ID = /^\d{1,15}$/;

function statusState(lifeCycle: LifeCycle): string {
  return lifeCycle === 'SKIPPED' || lifeCycle === 'INTERNAL_ERROR' ? 'TERMINATED' : lifeCycle;
}

function duration(from: number | null, to: number | null): number {
  return from !== null && to !== null ? Math.max(0, to - from) : 0;
}

function readLog(file: string | null): { logs: string; truncated: boolean } {
  if (!file || !existsSync(file)) return { logs: '', truncated: false };
  const size = statSync(file).size;
  const length = Math.min(size, MAX_LOG_BYTES);
  const buffer = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  return { logs: buffer.toString('utf8'), truncated: size > MAX_LOG_BYTES };
}

/** The service's JSON for runs (runs/get, runs/list, runs/get-output) and the run page, from the store. */
export class RunViews {
  constructor(
    private readonly store: JobsStore,
    private readonly scheduler: RunScheduler,
    private readonly baseUrl: () => string,
  ) {}

  private runPageUrl(jobId: number, runId: number): string {
    return `${this.baseUrl()}/jobs/${jobId}/runs/${runId}`;
  }

  private stateJson(row: RunRow): { state: Json; status: Json } {
    const terminal = row.end_time !== null;
    const state: Json = {
      life_cycle_state: row.life_cycle_state,
      state_message: row.state_message,
      user_cancelled_or_timedout: row.result_state === 'CANCELED' || row.result_state === 'TIMEDOUT',
    };
    if (terminal && row.result_state) state.result_state = row.result_state;
    if (row.life_cycle_state === 'QUEUED' && row.queue_code)
      state.queue_reason = 'Queued due to reaching maximum concurrent runs of the job.';
    const status: Json = { state: statusState(row.life_cycle_state) };
    if (terminal && row.termination_code) {
      status.termination_details = {
        code: row.termination_code,
        type: row.termination_type,
        message: row.state_message,
      };
    }
    if (row.life_cycle_state === 'QUEUED' && row.queue_code) {
      status.queue_details = {
        code: row.queue_code,
        message: 'Queued due to reaching maximum concurrent runs of the job.',
      };
    }
    return { state, status };
  }

  private timings(row: RunRow): Json {
    const queueEnd = row.start_time ?? (row.end_time !== null ? row.end_time : null);
    return {
      start_time: row.created_time,
      end_time: row.end_time ?? 0,
      queue_duration: duration(row.created_time, row.parent_run_id === null ? queueEnd : row.created_time),
      setup_duration: duration(row.start_time, row.exec_start_time ?? row.terminating_time ?? row.end_time),
      execution_duration: duration(row.exec_start_time, row.terminating_time ?? row.end_time),
      cleanup_duration: duration(row.terminating_time, row.end_time),
      run_duration: row.end_time !== null ? duration(row.created_time, row.end_time) : 0,
    };
  }

  private taskJson(row: RunRow): Json {
    return {
      task_key: row.task_key,
      run_id: row.run_id,
      attempt_number: row.attempt_number,
      run_page_url: this.runPageUrl(row.job_id, row.run_id),
      ...this.stateJson(row),
      ...this.timings(row),
    };
  }

  runJson(row: RunRow): Json {
    if (row.parent_run_id !== null) {
      return {
        job_id: row.job_id,
        run_id: row.run_id,
        run_name: row.task_key,
        run_type: 'SUBMIT_RUN',
        ...this.taskJson(row),
      };
    }
    const latest = new Map<string, RunRow>();
    for (const task of this.store.taskRuns(row.run_id)) latest.set(task.task_key ?? '', task);
    const job = this.scheduler.jobOfRun(row);
    return {
      job_id: row.job_id,
      run_id: row.run_id,
      number_in_job: row.number_in_job,
      original_attempt_run_id: row.run_id,
      run_name: job?.name ?? `job ${row.job_id}`,
      creator_user_name: 'lakewatt-local',
      run_type: 'JOB_RUN',
      trigger: 'ONE_TIME',
      attempt_number: 0,
      format: 'MULTI_TASK',
      run_page_url: this.runPageUrl(row.job_id, row.run_id),
      ...this.stateJson(row),
      ...this.timings(row),
      job_parameters: JSON.parse(row.job_parameters ?? '[]') as unknown,
      queue: { enabled: row.queue_enabled === 1 },
      tasks: [...latest.values()].map((t) => this.taskJson(t)),
      has_more: false,
    };
  }

  getRunRow(query: URLSearchParams): RunRow {
    const text = query.get('run_id') ?? '';
    if (!RUN_ID.test(text))
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: run_id');
    const run = this.store.run(Number(text));
    if (!run) throw new ApiError(400, 'RESOURCE_DOES_NOT_EXIST', `Run ${text} does not exist.`);
    return run;
  }

  output(query: URLSearchParams): Json {
    const run = this.getRunRow(query);
    if (run.parent_run_id === null) {
      const tasks = this.store.taskRuns(run.run_id);
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        tasks.length > 1
          ? 'Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead.'
          : `Run ${run.run_id} is a job run; retrieve the output of its task run instead (tasks[].run_id: ${tasks.map((t) => t.run_id).join(', ')}).`,
      );
    }
    const { logs, truncated } = readLog(run.log_path);
    const out: Json = { metadata: this.runJson(run), logs, logs_truncated: truncated };
    if (run.error) out.error = run.error;
    if (run.error_trace) out.error_trace = run.error_trace;
    return out;
  }

  listRuns(query: URLSearchParams): Json {
    const jobText = query.get('job_id');
    const limit = Math.min(25, Number(query.get('limit') ?? 20) || 20);
    const offset = Number(query.get('offset') ?? 0) || 0;
    const rows = this.store.jobRuns(
      jobText ? Number(jobText) : undefined,
      query.get('active_only') === 'true',
      limit + 1,
      offset,
    );
    return { runs: rows.slice(0, limit).map((r) => this.runJson(r)), has_more: rows.length > limit };
  }

  /** run_page_url: a plain page with the run's state and, for a task run, its log. */
  runPage(runId: number): { status: number; contentType: string; body: string } {
    const run = this.store.run(runId);
    const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    if (!run) return { status: 404, contentType: 'text/plain', body: `run ${runId} does not exist\n` };
    const json = JSON.stringify(this.runJson(run), null, 2);
    const log = run.parent_run_id !== null ? readLog(run.log_path).logs : '';
    const html = `<!doctype html><meta charset="utf-8"><title>Run ${runId}</title><h1>Run ${runId}</h1><pre>${escape(json)}</pre>${log ? `<h2>Log</h2><pre>${escape(log)}</pre>` : ''}`;
    return { status: 200, contentType: 'text/html; charset=utf-8', body: html };
  }
}
