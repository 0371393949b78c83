import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

import { issueLocalSecret } from '../security/secrets';
import type { Bundle } from './bundle';
import { JobCatalog } from './catalog';
import { type FaultConfig, FaultInjector } from './faults';
import { removeJobsLock, writeJobsLock } from './jobsLock';
import { RunScheduler } from './runs';
import { EmulatorServer } from './server';
import { lakeRootVariables, type LocalRunSettings, localRunSettings } from './settings';
import { StatementService } from './statements';
import { JobsStore } from './store';
import { TaskRunner } from './tasks';
import { RunViews } from './views';
import { WorkerPool } from './worker';

export { JOBS_LOCK_FILE, type JobsLock, readJobsLock } from './jobsLock';

export interface EmulatorOptions {
  /** Asset Bundle folder (holds databricks.yml). */
  bundleDir: string;
  /** Bundle target (default 'local'). */
  target?: string;
  /** State folder: jobs.sqlite, task logs, worker logs, Spark warehouse. */
  home: string;
  /** Loopback port; 0 (default) picks a free one. */
  port?: number;
  /**
   * The bearer token every API request must carry. Default: a new random one at each start. Either way it is
   * written to `$home/secrets/jobs-token` (mode 0600), where local clients read it.
   */
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

/** The repository root: the nearest folder above this file with the project's package.json. */
export function findRepoRoot(from: string = __dirname): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'local', 'databricks')))
      return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

/**
 * A local Databricks Jobs API 2.2 emulator. Serves, on 127.0.0.1 only and to callers with its per-start
 * token, the routes Lakewatt's client uses (jobs/list, jobs/get, run-now, runs/get, runs/list, runs/cancel,
 * runs/get-output; also under /api/2.1) with the service's JSON and error shapes (server.ts). Jobs come from
 * an Asset Bundle target (catalog.ts); each task runs on a local Spark worker (runs.ts, tasks.ts). State lives
 * in SQLite under the home folder. It also serves the SQL Statement Execution API 2.0
 * (`/api/2.0/sql/statements`, statements.ts): read-only Spark SQL over the lake's tables, run beside the
 * tasks on the same warm worker.
 */
export class JobsEmulator {
  readonly faults: FaultInjector;
  /** The bearer token of this start (also in `$home/secrets/jobs-token`). */
  readonly token: string;
  /** The local lake root the project's jobs are pointed at (through the bundle's *_root variables). */
  readonly lakeRoot: string;
  private readonly store: JobsStore;
  private readonly pool: WorkerPool;
  private readonly catalog: JobCatalog;
  private readonly scheduler: RunScheduler;
  private readonly statements: StatementService;
  private readonly server: EmulatorServer;
  private readonly log: (line: string) => void;
  private closing = false;

  private constructor(private readonly options: EmulatorOptions) {
    this.log = options.log ?? (() => {});
    mkdirSync(options.home, { recursive: true });
    const logDir = path.join(options.home, 'jobs', 'logs');
    mkdirSync(logDir, { recursive: true });
    const env = options.env ?? process.env;
    // Read only when needed: an explicit option must not fail on an unrelated bad setting.
    let fromConfig: LocalRunSettings | undefined;
    const config = (): LocalRunSettings => (fromConfig ??= localRunSettings(env));
    this.lakeRoot = path.resolve(options.lakeRoot ?? config().lakeRoot);
    const piiHashKey = options.piiHashKey ?? config().piiHashKey;
    const taskEnv = { ...(piiHashKey ? { PII_HASH_KEY: piiHashKey } : {}), ...options.taskEnv };
    this.faults = new FaultInjector(options.faults);
    this.store = new JobsStore(path.join(options.home, 'jobs.sqlite'));
    this.catalog = new JobCatalog(
      options.bundleDir,
      {
        target: options.target ?? 'local',
        env,
        provided: lakeRootVariables(this.lakeRoot),
        overrides: options.variables ?? {},
      },
      this.store,
      this.log,
    );
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
          sparkConf: options.sparkConf ?? {},
          purgeRoots: [root, this.catalog.bundle.root],
        },
        env: { LAKEWATT_DELTA_JARS: jars, TZ: 'UTC', SPARK_LOCAL_IP: '127.0.0.1' },
      },
      options.execution ?? 'warm',
      options.workers ?? 1,
    );
    const tasks = new TaskRunner({
      store: this.store,
      pool: this.pool,
      faults: this.faults,
      catalog: this.catalog,
      logDir,
      taskEnv,
      cwd: root,
      workspaceUrl: () => this.url,
      closing: () => this.scheduler.stopping,
    });
    this.scheduler = new RunScheduler({
      store: this.store,
      catalog: this.catalog,
      tasks,
      bootId: randomUUID(),
      log: this.log,
    });
    this.statements = new StatementService({
      worker: () => this.pool.sqlWorker(),
      roots: () => this.statementRoots(),
      log: this.log,
    });
    this.token = issueLocalSecret(options.home, 'jobs-token', options.token);
    this.server = new EmulatorServer({
      catalog: this.catalog,
      scheduler: this.scheduler,
      views: new RunViews(this.store, this.scheduler, () => this.url),
      statements: this.statements,
      faults: this.faults,
      token: this.token,
      health: () => ({
        ok: true,
        home: path.resolve(options.home),
        lakeRoot: this.lakeRoot,
        bundle: this.bundle.root,
        target: this.bundle.target,
        workers: this.workerPids(),
      }),
    });
  }

  /** Loads the bundle, opens the state, ends runs lost with an earlier process, and starts listening. */
  static async start(options: EmulatorOptions): Promise<JobsEmulator> {
    const emulator = new JobsEmulator(options);
    const lost = emulator.scheduler.endRunsLostEarlier();
    if (lost.length > 0)
      emulator.log(`runs lost with an earlier emulator process ended INTERNAL_ERROR: ${lost.join(', ')}`);
    await emulator.server.listen(options.port ?? 0);
    writeJobsLock(options.home, emulator.port);
    emulator.scheduler.pump();
    if (options.prewarm) await emulator.pool.prewarm();
    return emulator;
  }

  get url(): string {
    return this.server.url;
  }

  get port(): number {
    return this.server.listeningPort;
  }

  private get bundle(): Bundle {
    return this.catalog.bundle;
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
    this.scheduler.markStopping();
    removeJobsLock(this.options.home, this.port);
    this.statements.close();
    await this.server.close();
    this.store.endActiveRuns(
      'The local Jobs emulator was stopped while this run was executing; its task process was stopped with it.',
      Date.now(),
    );
    const stopped = this.scheduler.stop();
    await this.pool.close();
    await stopped;
    this.store.close();
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
}
