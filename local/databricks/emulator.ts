import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { ensureError } from '../../lib/errors';
import { type Bundle, type BundleJob, type BundleTask, loadBundle, type LoadBundleOptions } from './bundle';
import { type FaultConfig, FaultInjector } from './faults';
import { type ReferenceContext, resolveReferences } from './references';
import { lakeRootVariables, type LocalRunSettings, localRunSettings } from './settings';
import { StatementApiError, StatementService } from './statements';
import { type JobRow, JobsStore, type LifeCycle, type RunRow, type Termination } from './store';
import { type TaskCommand, type TaskResult, WorkerPool } from './worker';

export interface EmulatorOptions {
  /** Asset Bundle folder (holds databricks.yml). */
  bundleDir: string;
  /** Bundle target (default 'local'). */
  target?: string;
  /** State folder: jobs.sqlite, task logs, worker logs, Spark warehouse. */
  home: string;
  /** Loopback port; 0 (default) picks a free one. */
  port?: number;
  /** Bearer token requests must carry; without one the token check is off. */
  token?: string;
  /** 'warm' (default): long-lived Spark workers; 'fresh': a new process (and JVM) per task. */
  execution?: 'warm' | 'fresh';
  /** Workers running tasks in parallel (default 1). */
  workers?: number;
  /** Repository root: where `.venv/bin/python` and `local/databricks/worker.py` are found. */
  repoRoot?: string;
  python?: string;
  /** After a cancel or a timeout, how long a task may take to stop before its worker is killed (default 10 s). */
  cancelGraceMs?: number;
  /** Extra JVM options for the workers' Spark drivers. */
  javaOptions?: string[];
  sparkConf?: Record<string, string>;
  faults?: FaultConfig;
  /** Environment variables every task sees. */
  taskEnv?: Record<string, string>;
  /**
   * Local lake root (one folder per container). The bundle variables `staging_root`, `silver_root`,
   * `gold_root`, `audit_root` and `bronze_root` (those the bundle declares) become `file://<root>/<container>/`.
   * Default: LAKE_ROOT, else $LAKEWATT_HOME/lake, read from `env`.
   */
  lakeRoot?: string;
  /**
   * The PII hashing key, handed to every task as PII_HASH_KEY in its environment (so it never shows in job
   * parameters, runs/get or the run manifests). Default: PII_HASH_KEY from `env`.
   */
  piiHashKey?: string;
  /** Bundle variable values that win over everything else (`--var=name=value`); each must be declared. */
  variables?: Record<string, string>;
  /**
   * Where BUNDLE_VAR_*, LAKE_ROOT, LAKEWATT_HOME and PII_HASH_KEY are read (default: process.env). Not the
   * tasks' environment.
   */
  env?: Record<string, string | undefined>;
  /** Start a worker and its SparkSession right away instead of on the first run. */
  prewarm?: boolean;
  log?: (line: string) => void;
}

/**
 * Spark settings of the emulator's workers on top of `build_local_spark`'s. Its Delta log cache of 3 tables
 * suits a test session; a worker that stays up across runs, like a cluster, touches ~20 tables (a gold run
 * alone reads or writes 14), and with 3 cached logs every switch replays a table's log again: a warm gold
 * run took 51 s of CPU with 3, 35 s with a large cache (docs/jobs-emulator.md).
 */
export const WARM_WORKER_SPARK_CONF: Readonly<Record<string, string>> = {
  'spark.databricks.delta.delta.log.cacheSize': '64',
  // SQL statements run beside a task in their own pool (`sql`): with fair pools a statement gets the next
  // free task slot instead of waiting behind every stage of a running job (FIFO within each pool, as before).
  'spark.scheduler.mode': 'FAIR',
};

/** The lock file a running emulator keeps in its home folder, so other commands (`lakewatt sql`) find it. */
export const JOBS_LOCK_FILE = 'jobs.lock.json';

export interface JobsLock {
  pid: number;
  port: number;
  startedAt: string;
}

/** The lock of a live emulator on this state folder, if one runs (a stale lock of a dead process is ignored). */
export function readJobsLock(home: string): JobsLock | undefined {
  const file = path.join(home, JOBS_LOCK_FILE);
  if (!existsSync(file)) return undefined;
  let lock: JobsLock;
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<JobsLock>;
    if (typeof value.pid !== 'number' || typeof value.port !== 'number') return undefined;
    lock = { pid: value.pid, port: value.port, startedAt: String(value.startedAt ?? '') };
  } catch {
    return undefined;
  }
  try {
    process.kill(lock.pid, 0);
  } catch {
    return undefined;
  }
  return lock;
}

const MAX_LOG_BYTES = 5 * 1024 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;
const RUN_ID = /^\d{1,15}$/;

type Json = Record<string, unknown>;

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

interface ActiveRun {
  controller: AbortController;
  jobId: number;
  done: Promise<void>;
}

interface TaskOutcome {
  result: string;
  lifeCycle: LifeCycle;
  message: string;
}

/** The repository root: the nearest folder above this file with the project's package.json. */
export function findRepoRoot(from: string = __dirname): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'local', 'databricks')))
      return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

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

/**
 * A local Databricks Jobs API 2.2 emulator. Serves, on 127.0.0.1 only, the routes Lakewatt's client uses
 * (jobs/list, jobs/get, run-now, runs/get, runs/list, runs/cancel, runs/get-output; also under /api/2.1) with
 * the service's JSON and error shapes. Jobs come from an Asset Bundle target; each task runs on a local Spark
 * worker. State lives in SQLite under the home folder. It also serves the SQL Statement Execution API 2.0
 * (`/api/2.0/sql/statements`, statements.ts): read-only Spark SQL over the lake's tables, run beside the
 * tasks on the same warm worker.
 */
export class JobsEmulator {
  readonly faults: FaultInjector;
  private readonly store: JobsStore;
  private readonly pool: WorkerPool;
  private readonly bootId = randomUUID();
  private readonly active = new Map<number, ActiveRun>();
  /** Job definitions as they were at run-now, for runs of this process. */
  private readonly runJobs = new Map<number, BundleJob>();
  private bundle: Bundle;
  private jobsById = new Map<number, { row: JobRow; job: BundleJob }>();
  private server: Server | undefined;
  private closing = false;
  private baseUrl = '';
  private readonly log: (line: string) => void;
  private readonly logDir: string;
  private readonly bundleOptions: LoadBundleOptions;
  private readonly taskEnv: Record<string, string>;
  private readonly statements: StatementService;
  /** The local lake root the project's jobs are pointed at (through the bundle's *_root variables). */
  readonly lakeRoot: string;

  private constructor(private readonly options: EmulatorOptions) {
    this.log = options.log ?? (() => {});
    mkdirSync(options.home, { recursive: true });
    this.logDir = path.join(options.home, 'jobs', 'logs');
    mkdirSync(this.logDir, { recursive: true });
    const env = options.env ?? process.env;
    // Read only when needed: an explicit option must not fail on an unrelated bad setting.
    let fromConfig: LocalRunSettings | undefined;
    const config = (): LocalRunSettings => (fromConfig ??= localRunSettings(env));
    this.lakeRoot = path.resolve(options.lakeRoot ?? config().lakeRoot);
    this.bundleOptions = {
      target: options.target ?? 'local',
      env,
      provided: lakeRootVariables(this.lakeRoot),
      overrides: options.variables ?? {},
    };
    const piiHashKey = options.piiHashKey ?? config().piiHashKey;
    this.taskEnv = { ...(piiHashKey ? { PII_HASH_KEY: piiHashKey } : {}), ...options.taskEnv };
    this.bundle = loadBundle(options.bundleDir, this.bundleOptions);
    this.faults = new FaultInjector(options.faults);
    this.store = new JobsStore(path.join(options.home, 'jobs.sqlite'));
    this.syncJobs();
    const root = options.repoRoot ?? findRepoRoot();
    const jars = process.env.LAKEWATT_DELTA_JARS ?? path.join(root, '.tools', 'jars');
    this.pool = new WorkerPool(
      {
        python: options.python ?? path.join(root, '.venv', 'bin', 'python'),
        script: path.join(root, 'local', 'databricks', 'worker.py'),
        logDir: path.join(options.home, 'jobs', 'workers'),
        cancelGraceMs: options.cancelGraceMs ?? 10_000,
        config: {
          appName: 'lakewatt-jobs-emulator',
          warehouseDir: path.join(options.home, 'spark-warehouse'),
          derbyHome: path.join(options.home, 'derby'),
          javaOptions: options.javaOptions ?? [],
          sparkConf: { ...WARM_WORKER_SPARK_CONF, ...options.sparkConf },
          purgeRoots: [root, this.bundle.root],
        },
        env: { LAKEWATT_DELTA_JARS: jars, TZ: 'UTC', SPARK_LOCAL_IP: '127.0.0.1' },
      },
      options.execution ?? 'warm',
      options.workers ?? 1,
    );
    this.statements = new StatementService({
      worker: () => this.pool.sqlWorker(),
      roots: () => this.statementRoots(),
      log: this.log,
    });
  }

  /** Loads the bundle, opens the state, ends runs lost with an earlier process, and starts listening. */
  static async start(options: EmulatorOptions): Promise<JobsEmulator> {
    const emulator = new JobsEmulator(options);
    const lost = emulator.store.endRunsLostWith(emulator.bootId, Date.now());
    if (lost.length > 0)
      emulator.log(`runs lost with an earlier emulator process ended INTERNAL_ERROR: ${lost.join(', ')}`);
    await emulator.listen(options.port ?? 0);
    emulator.writeLock();
    emulator.pump();
    if (options.prewarm) await emulator.pool.prewarm();
    return emulator;
  }

  get url(): string {
    return this.baseUrl;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Pids of the live Spark workers. */
  workerPids(): number[] {
    return this.pool.pids();
  }

  /** Starts a warm worker and its SparkSession now (no-op in fresh mode). */
  async prewarm(): Promise<void> {
    await this.pool.prewarm();
  }

  /**
   * Stops serving, ends the runs still executing with INTERNAL_ERROR (their processes stop with the emulator)
   * and stops the workers. Queued runs stay queued for the next start.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.removeLock();
    this.statements.close();
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.store.endActiveRuns(
      'The local Jobs emulator was stopped while this run was executing; its task process was stopped with it.',
      Date.now(),
    );
    for (const run of this.active.values()) run.controller.abort('shutdown');
    await this.pool.close();
    await Promise.all([...this.active.values()].map((run) => run.done));
    this.store.close();
  }

  private writeLock(): void {
    const lock: JobsLock = { pid: process.pid, port: this.port, startedAt: new Date().toISOString() };
    writeFileSync(path.join(this.options.home, JOBS_LOCK_FILE), `${JSON.stringify(lock)}\n`);
  }

  private removeLock(): void {
    const lock = readJobsLock(this.options.home);
    if (lock?.pid === process.pid && lock.port === this.port)
      rmSync(path.join(this.options.home, JOBS_LOCK_FILE), { force: true });
  }

  /**
   * Where SQL statements find the lake's tables: the roots the project's jobs write (the bundle's
   * `silver_root` / `gold_root` / `bronze_tables_root` when it declares them, else the local lake root's
   * containers); bronze raw-record tables live under `<silver>/_bronze` unless `bronze_tables_root` says
   * otherwise, as the jobs' `LakeRoots` do.
   */
  private statementRoots(): Record<string, string> {
    const variables = this.bundle.variables;
    const text = (value: unknown): string | undefined =>
      typeof value === 'string' && value.trim() !== '' ? value : undefined;
    const lake = lakeRootVariables(this.lakeRoot);
    const silver = text(variables.silver_root) ?? lake.silver_root;
    const gold = text(variables.gold_root) ?? lake.gold_root;
    const bronze = text(variables.bronze_tables_root) ?? `${silver.replace(/\/+$/, '')}/_bronze`;
    return { bronze, silver, gold };
  }

  // ---------------------------------------------------------------------------------------------- jobs

  private syncJobs(): void {
    const byId = new Map<number, { row: JobRow; job: BundleJob }>();
    for (const job of this.bundle.jobs) {
      const row = this.store.upsertJob(job.key, job.name, Date.now());
      byId.set(row.job_id, { row, job });
    }
    this.jobsById = byId;
  }

  /** Re-reads the bundle so edits show without a restart; a broken edit keeps the last good bundle. */
  private reloadBundle(): void {
    try {
      this.bundle = loadBundle(this.options.bundleDir, this.bundleOptions);
      this.syncJobs();
    } catch (thrown) {
      this.log(`bundle reload failed, keeping the previous definitions: ${ensureError(thrown).message}`);
    }
  }

  private jobOf(jobId: number): BundleJob | undefined {
    return this.jobsById.get(jobId)?.job;
  }

  private jobJson(jobId: number): Json {
    const entry = this.jobsById.get(jobId);
    if (!entry) throw new ApiError(400, 'RESOURCE_DOES_NOT_EXIST', `Job ${jobId} does not exist.`);
    return {
      job_id: jobId,
      created_time: entry.row.created_time,
      creator_user_name: 'lakewatt-local',
      settings: {
        ...entry.job.settings,
        name: entry.job.name,
        max_concurrent_runs: entry.job.maxConcurrentRuns,
        format: 'MULTI_TASK',
      },
    };
  }

  // ---------------------------------------------------------------------------------------------- runs

  private runNow(body: Json): Json {
    this.reloadBundle();
    const jobId = body.job_id;
    if (typeof jobId !== 'number' || !Number.isInteger(jobId)) {
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: job_id');
    }
    const job = this.jobOf(jobId);
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
  private pump(): void {
    if (this.closing) return;
    for (const run of this.store.queued().concat(this.pendingNotStarted())) {
      if (this.active.has(run.run_id)) continue;
      const job = this.runJobs.get(run.run_id) ?? this.jobOf(run.job_id);
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
      const outcome = await this.attemptTask(runId, job, task, row, controller, results);
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

  private async attemptTask(
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
        ? finish(
            {
              lifeCycle: 'INTERNAL_ERROR',
              result: 'FAILED',
              code: 'INTERNAL_ERROR',
              type: 'INTERNAL_ERROR',
              message,
            },
            { error: message },
          )
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
              cwd: this.options.repoRoot ?? findRepoRoot(),
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
    if (this.closing) return { result: 'FAILED', lifeCycle: 'INTERNAL_ERROR', message: 'emulator stopped' };
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
        return finish(
          {
            lifeCycle: 'INTERNAL_ERROR',
            result: 'FAILED',
            code: 'INTERNAL_ERROR',
            type: 'INTERNAL_ERROR',
            message,
          },
          { error: message },
        );
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
      jobIdsByKey: Object.fromEntries([...this.jobsById.values()].map((e) => [e.job.key, e.row.job_id])),
      jobNamesByKey: Object.fromEntries([...this.jobsById.values()].map((e) => [e.job.key, e.job.name])),
      workspaceUrl: this.baseUrl,
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

  private cancel(body: Json): Json {
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

  // ---------------------------------------------------------------------------------------------- views

  private runPageUrl(jobId: number, runId: number): string {
    return `${this.baseUrl}/jobs/${jobId}/runs/${runId}`;
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

  private runJson(row: RunRow): Json {
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
    const job = this.runJobs.get(row.run_id) ?? this.jobOf(row.job_id);
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

  private getRunRow(query: URLSearchParams): RunRow {
    const text = query.get('run_id') ?? '';
    if (!RUN_ID.test(text))
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'Missing required field: run_id');
    const run = this.store.run(Number(text));
    if (!run) throw new ApiError(400, 'RESOURCE_DOES_NOT_EXIST', `Run ${text} does not exist.`);
    return run;
  }

  private output(query: URLSearchParams): Json {
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

  private listJobs(query: URLSearchParams): Json {
    this.reloadBundle();
    const name = query.get('name')?.toLowerCase();
    const limit = Math.min(100, Number(query.get('limit') ?? 20) || 20);
    const offset = Number(query.get('offset') ?? 0) || 0;
    const all = [...this.jobsById.values()]
      .filter((e) => name === undefined || e.job.name.toLowerCase() === name)
      .sort((a, b) => a.row.job_id - b.row.job_id)
      .map((e) => this.jobJson(e.row.job_id));
    const page = all.slice(offset, offset + limit);
    return { jobs: page, has_more: offset + limit < all.length };
  }

  private listRuns(query: URLSearchParams): Json {
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

  // ---------------------------------------------------------------------------------------------- HTTP

  private async listen(port: number): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((thrown: unknown) => {
        this.send(res, 500, { error_code: 'INTERNAL_ERROR', message: ensureError(thrown).message });
      });
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${this.port}`;
  }

  private send(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    if (res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  private async readBody(req: IncomingMessage): Promise<Json> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES)
        throw new ApiError(400, 'MALFORMED_REQUEST', 'The request body is larger than 1 MB');
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return {};
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new ApiError(
        400,
        'MALFORMED_REQUEST',
        'Invalid JSON given in the body of the request - expected a map',
      );
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ApiError(
        400,
        'MALFORMED_REQUEST',
        'Invalid JSON given in the body of the request - expected a map',
      );
    }
    return value as Json;
  }

  private authorized(req: IncomingMessage): boolean {
    const token = this.options.token;
    if (!token) return true;
    return req.headers.authorization === `Bearer ${token}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const page = /^\/jobs\/(\d+)\/runs\/(\d+)$/.exec(url.pathname);
    if (page && method === 'GET') {
      this.runPage(res, Number(page[2]));
      return;
    }
    if (!this.authorized(req)) {
      this.send(res, 401, { error_code: 'UNAUTHENTICATED', message: 'Invalid access token.' });
      return;
    }
    if (url.pathname === '/lakewatt/faults') {
      if (method === 'PUT' || method === 'POST') {
        try {
          this.faults.set(await this.readBody(req));
        } catch (thrown) {
          this.send(res, 400, {
            error_code: 'INVALID_PARAMETER_VALUE',
            message: ensureError(thrown).message,
          });
          return;
        }
      }
      this.send(res, 200, this.faults.pending());
      return;
    }
    if (url.pathname === '/lakewatt/health') {
      this.send(res, 200, {
        ok: true,
        home: path.resolve(this.options.home),
        lakeRoot: this.lakeRoot,
        bundle: this.bundle.root,
        target: this.bundle.target,
        workers: this.workerPids(),
      });
      return;
    }
    const statement =
      /^\/api\/2\.0\/sql\/statements(?:\/([^/]+)(?:\/(cancel)|\/result\/chunks\/(\d+))?)?\/?$/.exec(
        url.pathname,
      );
    if (statement) {
      await this.handleStatement(req, res, method, statement);
      return;
    }
    const route = /^\/api\/2\.[12]\/jobs\/(.+)$/.exec(url.pathname)?.[1];
    if (route === undefined) {
      this.send(res, 404, {
        error_code: 'ENDPOINT_NOT_FOUND',
        message: `No API found for '${method} ${url.pathname}'`,
      });
      return;
    }
    if (this.sendFault(res, route)) return;
    try {
      const key = `${method} ${route}`;
      switch (key) {
        case 'GET list':
          this.send(res, 200, this.listJobs(url.searchParams));
          return;
        case 'GET get': {
          const id = Number(url.searchParams.get('job_id'));
          this.send(res, 200, this.jobJson(id));
          return;
        }
        case 'POST run-now':
          this.send(res, 200, this.runNow(await this.readBody(req)));
          return;
        case 'GET runs/get':
          this.send(res, 200, this.runJson(this.getRunRow(url.searchParams)));
          return;
        case 'GET runs/list':
          this.send(res, 200, this.listRuns(url.searchParams));
          return;
        case 'POST runs/cancel':
          this.send(res, 200, this.cancel(await this.readBody(req)));
          return;
        case 'GET runs/get-output':
          this.send(res, 200, this.output(url.searchParams));
          return;
        default:
          this.send(res, 404, {
            error_code: 'ENDPOINT_NOT_FOUND',
            message: `No API found for '${method} ${url.pathname}'`,
          });
      }
    } catch (thrown) {
      if (thrown instanceof ApiError) {
        this.send(res, thrown.status, { error_code: thrown.errorCode, message: thrown.message });
        return;
      }
      throw thrown;
    }
  }

  /** Answers with an injected HTTP fault for this route, if one is pending. */
  private sendFault(res: ServerResponse, route: string): boolean {
    const fault = this.faults.takeHttp(route);
    if (!fault) return false;
    const headers: Record<string, string> = {};
    if ((fault.status === 429 || fault.status === 503) && fault.retryAfterSeconds !== undefined)
      headers['retry-after'] = String(fault.retryAfterSeconds);
    const code =
      fault.errorCode ??
      (fault.status === 429
        ? 'REQUEST_LIMIT_EXCEEDED'
        : fault.status === 503
          ? 'TEMPORARILY_UNAVAILABLE'
          : 'INTERNAL_ERROR');
    this.send(
      res,
      fault.status,
      { error_code: code, message: `Injected HTTP ${fault.status} (emulator fault injection)` },
      headers,
    );
    return true;
  }

  /**
   * The SQL Statement Execution API 2.0 routes (fault routes `sql/statements`, `sql/statements/get`,
   * `sql/statements/cancel`, `sql/statements/result`).
   */
  private async handleStatement(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    match: RegExpExecArray,
  ): Promise<void> {
    const [, id, cancel, chunk] = match;
    const route =
      id === undefined
        ? 'sql/statements'
        : cancel
          ? 'sql/statements/cancel'
          : chunk !== undefined
            ? 'sql/statements/result'
            : 'sql/statements/get';
    if (this.sendFault(res, route)) return;
    try {
      if (route === 'sql/statements' && method === 'POST') {
        this.send(res, 200, await this.statements.execute(await this.readBody(req)));
      } else if (route === 'sql/statements/get' && method === 'GET' && id !== undefined) {
        this.send(res, 200, this.statements.get(id));
      } else if (route === 'sql/statements/cancel' && method === 'POST' && id !== undefined) {
        this.send(res, 200, this.statements.cancel(id));
      } else if (route === 'sql/statements/result' && method === 'GET' && id !== undefined) {
        this.send(res, 200, this.statements.chunk(id, Number(chunk)));
      } else {
        this.send(res, 404, {
          error_code: 'ENDPOINT_NOT_FOUND',
          message: `No API found for '${method} ${req.url ?? ''}'`,
        });
      }
    } catch (thrown) {
      if (thrown instanceof StatementApiError || thrown instanceof ApiError) {
        this.send(res, thrown.status, { error_code: thrown.errorCode, message: thrown.message });
        return;
      }
      throw thrown;
    }
  }

  /** run_page_url: a plain page with the run's state and, for a task run, its log. */
  private runPage(res: ServerResponse, runId: number): void {
    const run = this.store.run(runId);
    const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    if (!run) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`run ${runId} does not exist\n`);
      return;
    }
    const json = JSON.stringify(this.runJson(run), null, 2);
    const log = run.parent_run_id !== null ? readLog(run.log_path).logs : '';
    const html = `<!doctype html><meta charset="utf-8"><title>Run ${runId}</title><h1>Run ${runId}</h1><pre>${escape(json)}</pre>${log ? `<h2>Log</h2><pre>${escape(log)}</pre>` : ''}`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  }
}
