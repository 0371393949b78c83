import { ensureError } from '../../lib/errors';
import { ApiError, type Json } from './api';
import type { BundleJob, BundleTask } from './bundle';
import type { JobCatalog } from './catalog';
import type { JobsStore, LifeCycle, RunRow, Termination } from './store';
import type { TaskOutcome, TaskRunner } from './tasks';

interface ActiveRun {
  controller: AbortController;
  jobId: number;
  done: Promise<void>;
}

function runIfSatisfied(runIf: string, upstream: string[]): boolean {
  const ok = (r: string): boolean => r === 'SUCCESS';
  const failed = (r: string): boolean => r === 'FAILED' || r === 'TIMEDOUT' || r === 'UPSTREAM_FAILED';
  switch (runIf) {
    case 'ALL_DONE':
      return true;
    case 'NONE_FAILED':
      return !upstream.some(failed);
    case 'AT_LEAST_ONE_SUCCESS':
      return upstream.length === 0 || upstream.some(ok);
    case 'ALL_FAILED':
      return upstream.every(failed);
    case 'AT_LEAST_ONE_FAILED':
      return upstream.some(failed);
    default:
      return upstream.every(ok);
  }
}

export interface RunSchedulerOptions {
  store: JobsStore;
  catalog: JobCatalog;
  tasks: TaskRunner;
  /** This process's id in the store: runs of other boot ids were lost with their process. */
  bootId: string;
  log: (line: string) => void;
}

/**
 * Runs: run-now (parameters, idempotency, max_concurrent_runs and the queue), the order of a run's tasks
 * (depends_on, run_if, retries, timeouts), cancel, and the state each step leaves in the store.
 */
export class RunScheduler {
  private readonly active = new Map<number, ActiveRun>();
  /** Job definitions as they were at run-now, for runs of this process. */
  private readonly runJobs = new Map<number, BundleJob>();
  private readonly store: JobsStore;
  private readonly catalog: JobCatalog;
  private readonly bootId: string;
  private readonly log: (line: string) => void;
  private closing = false;

  constructor(private readonly options: RunSchedulerOptions) {
    this.store = options.store;
    this.catalog = options.catalog;
    this.bootId = options.bootId;
    this.log = options.log;
  }

  /** The job definition of a run: as it was at run-now for runs of this process, else the bundle's. */
  jobOfRun(row: RunRow): BundleJob | undefined {
    return this.runJobs.get(row.run_id) ?? this.catalog.jobOf(row.job_id);
  }

  get stopping(): boolean {
    return this.closing;
  }

  /** Ends, INTERNAL_ERROR, the runs an earlier emulator process left executing; returns their ids. */
  endRunsLostEarlier(): number[] {
    return this.store.endRunsLostWith(this.bootId, Date.now());
  }

  /** From now on no run starts and no outcome is recorded (the emulator is stopping). */
  markStopping(): void {
    this.closing = true;
  }

  /** Aborts the executing runs; resolves once they returned. */
  async stop(): Promise<void> {
    this.closing = true;
    for (const run of this.active.values()) run.controller.abort('shutdown');
    await Promise.all([...this.active.values()].map((run) => run.done));
  }

  runNow(body: Json): Json {
    this.catalog.reload();
    const jobId = body.job_id;
    if (typeof jobId !== 'number' || !Number.isInteger(jobId)) {
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: job_id');
    }
    const job = this.catalog.jobOf(jobId);
    if (!job) throw new ApiError(400, 'RESOURCE_DOES_NOT_EXIST', `Job ${jobId} does not exist.`);
    for (const legacy of [
      'python_params',
      'notebook_params',
      'jar_params',
      'python_named_params',
      'spark_submit_params',
      'sql_params',
    ]) {
      if (body[legacy] !== undefined) {
        throw new ApiError(
          400,
          'INVALID_PARAMETER_VALUE',
          `${legacy} is not supported by the local emulator; use job_parameters`,
        );
      }
    }
    const token = body.idempotency_token;
    if (token !== undefined && (typeof token !== 'string' || token.length === 0 || token.length > 64)) {
      throw new ApiError(
        400,
        'INVALID_PARAMETER_VALUE',
        'idempotency_token must be a string of at most 64 characters',
      );
    }
    const given = body.job_parameters ?? {};
    if (typeof given !== 'object' || given === null || Array.isArray(given)) {
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'job_parameters must be a map of strings');
    }
    const declared = new Set(job.parameters.map((p) => p.name));
    for (const [name, value] of Object.entries(given as Json)) {
      if (!declared.has(name)) {
        throw new ApiError(
          400,
          'INVALID_PARAMETER_VALUE',
          `Job parameter '${name}' is not defined in job ${jobId} (${job.name}); defined: ${[...declared].join(', ') || 'none'}`,
        );
      }
      if (typeof value !== 'string') {
        throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Job parameter '${name}' must be a string`);
      }
    }
    let tasks = job.tasks;
    if (body.only !== undefined) {
      const only = body.only;
      if (
        !Array.isArray(only) ||
        only.some((k) => typeof k !== 'string' || !job.tasks.some((t) => t.taskKey === k))
      ) {
        throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `only must list task keys of job ${jobId}`);
      }
      tasks = job.tasks.filter((t) => (only as string[]).includes(t.taskKey));
    }
    const queueSetting = body.queue as { enabled?: unknown } | undefined;
    const queueEnabled = typeof queueSetting?.enabled === 'boolean' ? queueSetting.enabled : job.queueEnabled;
    const parameters = job.parameters.map((p) => ({
      name: p.name,
      default: p.default,
      value: (given as Record<string, string>)[p.name] ?? p.default,
    }));
    const now = Date.now();
    const busy =
      this.activeCount(jobId) + this.store.queued().filter((r) => r.job_id === jobId).length >=
      job.maxConcurrentRuns;
    const state: LifeCycle = busy ? (queueEnabled ? 'QUEUED' : 'SKIPPED') : 'PENDING';
    const { run, created } = this.store.createRun({
      jobId,
      token: token,
      parameters,
      queueEnabled,
      state: state === 'SKIPPED' ? 'QUEUED' : state,
      queueCode: busy ? 'MAX_CONCURRENT_RUNS_REACHED' : null,
      taskKeys: tasks.map((t) => t.taskKey),
      now,
      bootId: this.bootId,
    });
    if (created) {
      this.runJobs.set(run.run_id, { ...job, tasks });
      if (state === 'SKIPPED') {
        const end: Termination = {
          lifeCycle: 'SKIPPED',
          result: 'MAXIMUM_CONCURRENT_RUNS_REACHED',
          code: 'MAX_CONCURRENT_RUNS_EXCEEDED',
          type: 'CLIENT_ERROR',
          message: `Skipped: job ${job.name} already has ${job.maxConcurrentRuns} active run(s) (max_concurrent_runs) and queueing is disabled`,
        };
        for (const task of this.store.taskRuns(run.run_id)) this.store.terminate(task.run_id, end, now);
        this.store.terminate(run.run_id, end, now);
      } else {
        this.pump();
      }
    }
    return { run_id: run.run_id, number_in_job: run.number_in_job };
  }

  private activeCount(jobId: number): number {
    return [...this.active.values()].filter((r) => r.jobId === jobId).length;
  }

  /** Starts queued runs (oldest first) while their jobs are under max_concurrent_runs. */
  pump(): void {
    if (this.closing) return;
    for (const run of this.store.queued().concat(this.pendingNotStarted())) {
      if (this.active.has(run.run_id)) continue;
      const job = this.runJobs.get(run.run_id) ?? this.catalog.jobOf(run.job_id);
      if (!job) {
        this.store.terminate(
          run.run_id,
          {
            lifeCycle: 'INTERNAL_ERROR',
            result: 'FAILED',
            code: 'RESOURCE_NOT_FOUND',
            type: 'CLIENT_ERROR',
            message: `Job ${run.job_id} no longer exists in the bundle`,
          },
          Date.now(),
        );
        continue;
      }
      if (this.activeCount(run.job_id) >= job.maxConcurrentRuns) continue;
      this.startRun(run, job);
    }
  }

  private pendingNotStarted(): RunRow[] {
    return this.store
      .jobRuns(undefined, true, 1000, 0)
      .filter(
        (r) => r.life_cycle_state === 'PENDING' && r.boot_id === this.bootId && !this.active.has(r.run_id),
      )
      .reverse();
  }

  private startRun(run: RunRow, job: BundleJob): void {
    const controller = new AbortController();
    const entry: ActiveRun = { controller, jobId: run.job_id, done: Promise.resolve() };
    this.active.set(run.run_id, entry);
    entry.done = this.executeRun(run.run_id, job, controller)
      .catch((thrown: unknown) => {
        if (this.closing) return;
        const message = `The local Jobs emulator failed while running this run: ${ensureError(thrown).message}`;
        this.log(message);
        const end: Termination = {
          lifeCycle: 'INTERNAL_ERROR',
          result: 'FAILED',
          code: 'INTERNAL_ERROR',
          type: 'INTERNAL_ERROR',
          message,
        };
        for (const task of this.store.taskRuns(run.run_id))
          this.store.terminate(task.run_id, end, Date.now());
        this.store.terminate(run.run_id, end, Date.now());
      })
      .finally(() => {
        this.active.delete(run.run_id);
        this.pump();
      });
  }

  private async executeRun(runId: number, job: BundleJob, controller: AbortController): Promise<void> {
    const started = Date.now();
    this.store.update(runId, {
      life_cycle_state: 'PENDING',
      start_time: started,
      queue_code: null,
      state_message: 'Waiting for a local Spark worker',
      boot_id: this.bootId,
    });
    const timer = job.timeoutSeconds
      ? setTimeout(() => controller.abort('timeout'), job.timeoutSeconds * 1000)
      : undefined;
    const results = new Map<
      string,
      { result: string; runId: number; lifeCycle: LifeCycle; message: string }
    >();
    try {
      for (const task of job.tasks) {
        if (this.closing) return;
        const row = this.latestTaskRow(runId, task.taskKey);
        if (!row) continue;
        const upstream = task.dependsOn
          .map((d) => results.get(d.taskKey)?.result)
          .filter((r): r is string => r !== undefined);
        const now = Date.now();
        if (controller.signal.aborted) {
          const timedOut = controller.signal.reason === 'timeout';
          this.store.terminate(
            row.run_id,
            {
              lifeCycle: 'TERMINATED',
              result: timedOut ? 'TIMEDOUT' : 'CANCELED',
              code: timedOut ? 'RUN_EXECUTION_ERROR' : 'CANCELED',
              type: timedOut ? 'CLIENT_ERROR' : 'SUCCESS',
              message: 'The run ended before this task started',
            },
            now,
          );
          results.set(task.taskKey, {
            result: timedOut ? 'TIMEDOUT' : 'CANCELED',
            runId: row.run_id,
            lifeCycle: 'TERMINATED',
            message: '',
          });
          continue;
        }
        if (!runIfSatisfied(task.runIf, upstream)) {
          const canceled = upstream.includes('CANCELED');
          const result = canceled ? 'UPSTREAM_CANCELED' : 'UPSTREAM_FAILED';
          const message = `Skipped: run_if ${task.runIf} not met by upstream tasks ${task.dependsOn.map((d) => d.taskKey).join(', ')}`;
          this.store.terminate(
            row.run_id,
            { lifeCycle: 'TERMINATED', result, code: 'SKIPPED', type: 'CLIENT_ERROR', message },
            now,
          );
          results.set(task.taskKey, { result, runId: row.run_id, lifeCycle: 'TERMINATED', message });
          continue;
        }
        const outcome = await this.runTask(runId, job, task, row, controller, results);
        if (this.closing) return;
        results.set(task.taskKey, {
          ...outcome,
          runId: this.latestTaskRow(runId, task.taskKey)?.run_id ?? row.run_id,
        });
      }
    } finally {
      clearTimeout(timer);
    }
    if (this.closing) return;
    const terminating = Date.now();
    this.store.update(runId, {
      life_cycle_state: 'TERMINATING',
      terminating_time: terminating,
      state_message: '',
    });
    const all = [...results.entries()];
    const reason = controller.signal.reason as string | undefined;
    const failedTask = all.find(([, r]) => r.result !== 'SUCCESS' && !r.result.startsWith('UPSTREAM'));
    let end: Termination;
    if (reason === 'timeout') {
      end = {
        lifeCycle: 'TERMINATED',
        result: 'TIMEDOUT',
        code: 'RUN_EXECUTION_ERROR',
        type: 'CLIENT_ERROR',
        message: `The run timed out after ${job.timeoutSeconds} s (job timeout_seconds)`,
      };
    } else if (reason === 'canceled') {
      end = {
        lifeCycle: 'TERMINATED',
        result: 'CANCELED',
        code: 'USER_CANCELED',
        type: 'SUCCESS',
        message: 'The run was canceled',
      };
    } else if (all.some(([, r]) => r.lifeCycle === 'INTERNAL_ERROR')) {
      const [key, r] = all.find(([, x]) => x.lifeCycle === 'INTERNAL_ERROR')!;
      end = {
        lifeCycle: 'INTERNAL_ERROR',
        result: 'FAILED',
        code: 'INTERNAL_ERROR',
        type: 'INTERNAL_ERROR',
        message: `Task ${key} ended with an internal error: ${r.message}`,
      };
    } else if (!failedTask) {
      end = { lifeCycle: 'TERMINATED', result: 'SUCCESS', code: 'SUCCESS', type: 'SUCCESS', message: '' };
    } else {
      const [key, r] = failedTask;
      end =
        r.result === 'TIMEDOUT'
          ? {
              lifeCycle: 'TERMINATED',
              result: 'TIMEDOUT',
              code: 'RUN_EXECUTION_ERROR',
              type: 'CLIENT_ERROR',
              message: `Task ${key} timed out: ${r.message}`,
            }
          : {
              lifeCycle: 'TERMINATED',
              result: 'FAILED',
              code: 'RUN_EXECUTION_ERROR',
              type: 'CLIENT_ERROR',
              message: `Task ${key} failed with message: ${r.message}. Downstream tasks were skipped.`,
            };
    }
    this.store.terminate(runId, end, Date.now());
  }

  private latestTaskRow(runId: number, taskKey: string): RunRow | undefined {
    return this.store
      .taskRuns(runId)
      .filter((t) => t.task_key === taskKey)
      .pop();
  }

  private async runTask(
    runId: number,
    job: BundleJob,
    task: BundleTask,
    firstRow: RunRow,
    controller: AbortController,
    results: Map<string, { result: string; runId: number }>,
  ): Promise<TaskOutcome> {
    let row = firstRow;
    for (;;) {
      const outcome = await this.options.tasks.attempt(runId, job, task, row, controller, results);
      if (this.closing) return outcome;
      const retryable =
        outcome.result === 'FAILED' ||
        outcome.lifeCycle === 'INTERNAL_ERROR' ||
        (outcome.result === 'TIMEDOUT' && task.retryOnTimeout);
      if (!retryable || row.attempt_number >= task.maxRetries || controller.signal.aborted) return outcome;
      await new Promise((resolve) => setTimeout(resolve, task.minRetryIntervalMs));
      row = this.store.createTaskRun(
        runId,
        row.job_id,
        task.taskKey,
        row.attempt_number + 1,
        'PENDING',
        Date.now(),
      );
    }
  }

  cancel(body: Json): Json {
    const runId = body.run_id;
    if (typeof runId !== 'number' || !Number.isInteger(runId)) {
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: run_id');
    }
    let run = this.store.run(runId);
    if (!run) throw new ApiError(400, 'RESOURCE_DOES_NOT_EXIST', `Run ${runId} does not exist.`);
    if (run.parent_run_id !== null) run = this.store.run(run.parent_run_id)!;
    const active = this.active.get(run.run_id);
    if (active) {
      active.controller.abort('canceled');
    } else if (run.life_cycle_state === 'QUEUED') {
      const end: Termination = {
        lifeCycle: 'TERMINATED',
        result: 'CANCELED',
        code: 'USER_CANCELED',
        type: 'SUCCESS',
        message: 'The run was canceled while queued',
      };
      for (const task of this.store.taskRuns(run.run_id)) this.store.terminate(task.run_id, end, Date.now());
      this.store.terminate(run.run_id, end, Date.now());
    }
    return {};
  }
}
