import path from 'node:path';

import { ensureError } from '../../lib/errors';
import type { BundleJob, BundleTask } from './bundle';
import type { JobCatalog } from './catalog';
import type { FaultInjector } from './faults';
import { type ReferenceContext, resolveReferences } from './references';
import type { JobsStore, LifeCycle, RunRow, Termination } from './store';
import type { TaskCommand, TaskResult, WorkerPool } from './worker';

export interface TaskOutcome {
  result: string;
  lifeCycle: LifeCycle;
  message: string;
}

export interface TaskRunnerOptions {
  store: JobsStore;
  pool: WorkerPool;
  faults: FaultInjector;
  catalog: JobCatalog;
  /** Where each task run's log goes (`<run id>.log`). */
  logDir: string;
  /** Environment variables every task sees. */
  taskEnv: Record<string, string>;
  /** The tasks' working folder (the repository root). */
  cwd: string;
  /** The emulator's base URL ({{workspace.url}}). */
  workspaceUrl: () => string;
  /** True once the emulator is stopping: outcomes are no longer recorded. */
  closing: () => boolean;
}

/** One attempt of one task on a Spark worker: its command, its fault injection, its recorded outcome. */
export class TaskRunner {
  private readonly store: JobsStore;
  private readonly pool: WorkerPool;
  private readonly faults: FaultInjector;
  private readonly catalog: JobCatalog;
  private readonly logDir: string;
  private readonly taskEnv: Record<string, string>;

  constructor(private readonly options: TaskRunnerOptions) {
    this.store = options.store;
    this.pool = options.pool;
    this.faults = options.faults;
    this.catalog = options.catalog;
    this.logDir = options.logDir;
    this.taskEnv = options.taskEnv;
  }

  async attempt(
    runId: number,
    job: BundleJob,
    task: BundleTask,
    row: RunRow,
    controller: AbortController,
    results: Map<string, { result: string; runId: number }>,
  ): Promise<TaskOutcome> {
    const finish = (end: Termination, extra: Partial<RunRow> = {}): TaskOutcome => {
      if (Object.keys(extra).length > 0) this.store.update(row.run_id, extra);
      this.store.terminate(row.run_id, end, Date.now());
      return { result: end.result, lifeCycle: end.lifeCycle, message: end.message };
    };
    const given = JSON.parse(this.store.run(runId)?.job_parameters ?? '[]') as Array<{
      name: string;
      value: string;
    }>;
    const fault = this.faults.takeTask(
      job.name,
      task.taskKey,
      Object.fromEntries(given.map((p) => [p.name, p.value])),
    );
    if (fault) {
      const message =
        fault.message ?? `Injected ${fault.outcome} for task ${task.taskKey} (emulator fault injection)`;
      return fault.outcome === 'INTERNAL_ERROR'
        ? finish(lostTermination(message), { error: message })
        : finish(
            {
              lifeCycle: 'TERMINATED',
              result: 'FAILED',
              code: 'RUN_EXECUTION_ERROR',
              type: 'CLIENT_ERROR',
              message,
            },
            { error: message },
          );
    }
    let command: TaskCommand;
    try {
      command = this.commandFor(runId, job, task, row, results);
    } catch (thrown) {
      const message = ensureError(thrown).message;
      return finish(
        {
          lifeCycle: 'TERMINATED',
          result: 'FAILED',
          code: 'INVALID_RUN_CONFIGURATION',
          type: 'CLIENT_ERROR',
          message,
        },
        { error: message },
      );
    }
    const log = path.join(this.logDir, `${row.run_id}.log`);
    this.store.update(row.run_id, {
      life_cycle_state: 'PENDING',
      start_time: Date.now(),
      log_path: log,
      state_message: 'Waiting for a local Spark worker',
    });
    const taskController = new AbortController();
    const forward = (): void => taskController.abort(controller.signal.reason);
    controller.signal.addEventListener('abort', forward, { once: true });
    const taskTimer = task.timeoutSeconds
      ? setTimeout(() => taskController.abort('timeout'), task.timeoutSeconds * 1000)
      : undefined;
    let result: TaskResult;
    try {
      let worker;
      try {
        worker = await this.pool.acquire(taskController.signal);
      } catch {
        result = {
          status: 'canceled',
          reason: String(taskController.signal.reason ?? 'canceled'),
          endedAt: Date.now(),
        };
      }
      if (worker) {
        const acquired = worker;
        try {
          result = await acquired.run(
            {
              id: String(row.run_id),
              command,
              log,
              env: this.taskEnv,
              cwd: this.options.cwd,
            },
            (at) => {
              this.store.update(row.run_id, {
                life_cycle_state: 'RUNNING',
                exec_start_time: at,
                state_message: '',
              });
              const parent = this.store.run(runId);
              if (parent && parent.life_cycle_state === 'PENDING') {
                this.store.update(runId, {
                  life_cycle_state: 'RUNNING',
                  exec_start_time: at,
                  state_message: '',
                });
              }
            },
            taskController.signal,
          );
        } finally {
          this.pool.release(acquired);
        }
      }
    } finally {
      clearTimeout(taskTimer);
      controller.signal.removeEventListener('abort', forward);
    }
    result ??= { status: 'lost', endedAt: Date.now() };
    if (this.options.closing())
      return { result: 'FAILED', lifeCycle: 'INTERNAL_ERROR', message: 'emulator stopped' };
    this.store.update(row.run_id, { life_cycle_state: 'TERMINATING', terminating_time: result.endedAt });
    switch (result.status) {
      case 'ok':
        return finish({
          lifeCycle: 'TERMINATED',
          result: 'SUCCESS',
          code: 'SUCCESS',
          type: 'SUCCESS',
          message: '',
        });
      case 'failed':
        return finish(
          {
            lifeCycle: 'TERMINATED',
            result: 'FAILED',
            code: 'RUN_EXECUTION_ERROR',
            type: 'CLIENT_ERROR',
            message: `Workload failed: ${result.error ?? 'unknown error'}`,
          },
          { error: result.error ?? null, error_trace: result.trace ?? null },
        );
      case 'canceled':
        if (result.reason === 'timeout') {
          const limit =
            task.timeoutSeconds &&
            taskController.signal.reason === 'timeout' &&
            controller.signal.reason !== 'timeout'
              ? `${task.timeoutSeconds} s (task timeout_seconds)`
              : `${job.timeoutSeconds} s (job timeout_seconds)`;
          const message = `Timed out after ${limit}`;
          return finish(
            {
              lifeCycle: 'TERMINATED',
              result: 'TIMEDOUT',
              code: 'RUN_EXECUTION_ERROR',
              type: 'CLIENT_ERROR',
              message,
            },
            { error: message },
          );
        }
        return finish({
          lifeCycle: 'TERMINATED',
          result: 'CANCELED',
          code: 'USER_CANCELED',
          type: 'SUCCESS',
          message: 'The run was canceled',
        });
      case 'setup_failed': {
        const message = `The local SparkSession could not start: ${result.error ?? 'unknown error'}`;
        return finish(
          {
            lifeCycle: 'INTERNAL_ERROR',
            result: 'FAILED',
            code: 'DRIVER_ERROR',
            type: 'INTERNAL_ERROR',
            message,
          },
          { error: message, error_trace: result.trace ?? null },
        );
      }
      case 'lost': {
        const message = result.error ?? 'the local Spark worker stopped while the task was running';
        return finish(lostTermination(message), { error: message });
      }
    }
  }

  private commandFor(
    runId: number,
    job: BundleJob,
    task: BundleTask,
    row: RunRow,
    results: Map<string, { result: string; runId: number }>,
  ): TaskCommand {
    const run = this.store.run(runId)!;
    const given = JSON.parse(run.job_parameters ?? '[]') as Array<{ name: string; value: string }>;
    const ctx: ReferenceContext = {
      jobId: run.job_id,
      jobName: job.name,
      runId,
      startTime: run.created_time,
      parameters: {},
      taskKey: task.taskKey,
      taskRunId: row.run_id,
      attempt: row.attempt_number,
      tasks: Object.fromEntries(
        this.store.taskRuns(runId).map((t) => [
          t.task_key ?? '',
          {
            runId: results.get(t.task_key ?? '')?.runId ?? t.run_id,
            resultState: results.get(t.task_key ?? '')?.result,
          },
        ]),
      ),
      jobIdsByKey: Object.fromEntries(this.catalog.entries().map((e) => [e.job.key, e.row.job_id])),
      jobNamesByKey: Object.fromEntries(this.catalog.entries().map((e) => [e.job.key, e.job.name])),
      workspaceUrl: this.options.workspaceUrl(),
    };
    // Parameter values may themselves hold references ({{job.run_id}} as a default, for instance).
    for (const p of given) ctx.parameters[p.name] = p.value;
    for (const p of given) ctx.parameters[p.name] = resolveReferences(p.value, ctx);
    const resolve = (text: string): string => resolveReferences(text, ctx);
    const kind = task.kind;
    switch (kind.type) {
      case 'spark_python_task':
        return { kind: 'python_file', file: resolve(kind.pythonFile), args: kind.parameters.map(resolve) };
      case 'python_wheel_task': {
        const named = Object.entries(kind.namedParameters);
        const args =
          named.length > 0 ? named.map(([k, v]) => `--${k}=${resolve(v)}`) : kind.parameters.map(resolve);
        return { kind: 'wheel', package: kind.packageName, entryPoint: kind.entryPoint, args };
      }
      case 'unsupported':
        throw new Error(
          `task ${task.taskKey}: ${kind.taskType} is not supported by the local emulator (spark_python_task and python_wheel_task are)`,
        );
    }
  }
}

/** How a run the platform lost ends (an injected fault or a dead worker): INTERNAL_ERROR, retryable. */
function lostTermination(message: string): Termination {
  return {
    lifeCycle: 'INTERNAL_ERROR',
    result: 'FAILED',
    code: 'INTERNAL_ERROR',
    type: 'INTERNAL_ERROR',
    message,
  };
}
