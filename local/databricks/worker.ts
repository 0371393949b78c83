import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export type TaskCommand =
  | { kind: 'python_file'; file: string; args: string[] }
  | { kind: 'wheel'; package: string; entryPoint: string; args: string[] };

export interface TaskRequest {
  id: string;
  command: TaskCommand;
  /** Where the task's stdout/stderr go (read back by get-output). */
  log: string;
  env: Record<string, string>;
  cwd: string;
}

export type TaskStatus = 'ok' | 'failed' | 'canceled' | 'setup_failed' | 'lost';

export interface TaskResult {
  status: TaskStatus;
  /** For 'canceled': why ('canceled' by a user, or 'timeout'). */
  reason?: string;
  error?: string;
  trace?: string;
  startedAt?: number;
  endedAt: number;
}

/** One SQL statement for a worker (the emulator's SQL Statement Execution API). */
export interface SqlRequest {
  id: string;
  statement: string;
  /** Layer (`bronze`, `silver`, `gold`) to the root URL its Delta folders live under. */
  roots: Record<string, string>;
  rowLimit?: number;
  byteLimit?: number;
  parameters?: Array<{ name: string; value?: string | null; type?: string }>;
}

/** A result column as the API's manifest describes it. */
export interface WireColumn {
  name: string;
  type_name: string;
  type_text: string;
  position: number;
  type_precision?: number;
  type_scale?: number;
}

export type SqlResult =
  | {
      status: 'ok';
      columns: WireColumn[];
      /** Rows in JSON_ARRAY form: every value a string, or null. */
      rows: Array<Array<string | null>>;
      truncated: boolean;
      endedAt: number;
    }
  | { status: 'failed'; errorCode: string; message: string; endedAt: number }
  | { status: 'canceled'; endedAt: number }
  | { status: 'lost'; message: string; endedAt: number };

export interface WorkerSettings {
  python: string;
  script: string;
  /** Where each worker's own stdout/stderr (JVM and native output) is appended, as worker-<pid>.log. */
  logDir: string;
  /** After a cancel, how long the task may take to stop before the worker is killed. */
  cancelGraceMs: number;
  /** Passed to worker.py --config: Spark settings and module purge roots. */
  config: Record<string, unknown>;
  env?: Record<string, string>;
}

interface Event {
  ev: string;
  columns?: WireColumn[];
  rows?: Array<Array<string | null>>;
  truncated?: boolean;
  error_code?: string;
  message?: string;
  id?: string;
  status?: string;
  error?: string | null;
  trace?: string | null;
  reason?: string | null;
  at?: number;
  ms?: number;
  pid?: number;
}

interface InFlight {
  request: TaskRequest;
  onStarted: (at: number) => void;
  resolve: (result: TaskResult) => void;
  startedAt?: number;
  cancelReason?: string;
  killTimer?: NodeJS.Timeout;
}

interface SqlInFlight {
  onStarted: (at: number) => void;
  resolve: (result: SqlResult) => void;
}

/**
 * One local Python process holding one SparkSession (worker.py): the stand-in for a cluster's driver.
 * Runs one task at a time, and any number of SQL statements beside it (each in its own thread, on a second
 * SparkSession). Spawned in its own process group so stopping it also stops its JVM and the Python workers
 * Spark forked.
 */
export class SparkWorker {
  readonly pid: number;
  private readonly child: ChildProcess;
  private inFlight: InFlight | undefined;
  private readonly statements = new Map<string, SqlInFlight>();
  private exited = false;
  private exitDescription = '';
  private readonly ready: Promise<void>;
  private sparkStarted = false;
  private readonly waiters: Array<{ ev: string; resolve: (e: Event) => void }> = [];
  private readonly ownLog: WriteStream;
  /** Milliseconds the SparkSession took to start, once it has. */
  sparkStartMs: number | undefined;

  constructor(private readonly settings: WorkerSettings) {
    mkdirSync(settings.logDir, { recursive: true });
    this.child = spawn(
      settings.python,
      ['-u', settings.script, '--config', JSON.stringify(settings.config)],
      {
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
        detached: true,
        env: { ...process.env, ...settings.env, PYTHONUNBUFFERED: '1' },
      },
    );
    this.pid = this.child.pid ?? -1;
    this.ownLog = createWriteStream(path.join(settings.logDir, `worker-${this.pid}.log`), { flags: 'a' });
    this.child.stdout?.pipe(this.ownLog, { end: false });
    this.child.stderr?.pipe(this.ownLog, { end: false });
    const events = this.child.stdio[3] as Readable | null;
    if (events) {
      createInterface({ input: events }).on('line', (line) => this.onLine(line));
    }
    this.child.stdin?.on('error', () => {});
    this.ready = new Promise<void>((resolve, reject) => {
      this.waiters.push({ ev: 'ready', resolve: () => resolve() });
      this.child.once('error', (error) => reject(error));
      this.child.once('exit', () =>
        reject(new Error(`the Spark worker exited before it was ready (${this.exitDescription})`)),
      );
    });
    this.ready.catch(() => {});
    this.child.on('exit', (code, signal) => this.onExit(code, signal));
  }

  get alive(): boolean {
    return !this.exited;
  }

  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  get warm(): boolean {
    return this.sparkStarted;
  }

  async whenReady(): Promise<void> {
    return this.ready;
  }

  /** Starts the SparkSession now rather than on the first task. */
  async warmUp(): Promise<void> {
    await this.ready;
    if (this.sparkStarted) return;
    const done = new Promise<Event>((resolve) => this.waiters.push({ ev: 'spark_ready', resolve }));
    const failed = new Promise<Event>((resolve) => this.waiters.push({ ev: 'warm_failed', resolve }));
    this.send({ op: 'warm' });
    const event = await Promise.race([done, failed]);
    if (event.ev === 'warm_failed')
      throw new Error(`the local SparkSession did not start: ${event.error ?? ''}`);
  }

  /** Runs one task; resolves when it ends, however it ends (never rejects). */
  run(request: TaskRequest, onStarted: (at: number) => void, signal: AbortSignal): Promise<TaskResult> {
    return new Promise<TaskResult>((resolve) => {
      if (this.exited || this.inFlight) {
        resolve({ status: 'lost', error: 'the Spark worker is not available', endedAt: Date.now() });
        return;
      }
      const inFlight: InFlight = { request, onStarted, resolve };
      this.inFlight = inFlight;
      const abort = (): void => this.cancel(String(signal.reason ?? 'canceled'));
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
      void this.ready.then(
        () => {
          if (this.inFlight !== inFlight) return;
          if (inFlight.cancelReason) {
            this.finish({ status: 'canceled', reason: inFlight.cancelReason, endedAt: Date.now() });
            return;
          }
          this.send({
            op: 'run',
            id: request.id,
            log: request.log,
            env: request.env,
            cwd: request.cwd,
            ...this.wire(request.command),
          });
        },
        () => {},
      );
    });
  }

  /**
   * Runs one read-only SQL statement beside whatever task runs; resolves when it ends (never rejects). An
   * abort cancels its Spark jobs and resolves 'canceled' at once.
   */
  sql(request: SqlRequest, onStarted: (at: number) => void, signal: AbortSignal): Promise<SqlResult> {
    return new Promise<SqlResult>((resolve) => {
      if (this.exited) {
        resolve({ status: 'lost', message: 'the Spark worker is not available', endedAt: Date.now() });
        return;
      }
      const entry: SqlInFlight = { onStarted, resolve };
      this.statements.set(request.id, entry);
      const abort = (): void => {
        if (this.statements.get(request.id) !== entry) return;
        this.statements.delete(request.id);
        this.send({ op: 'sql_cancel', id: request.id });
        resolve({ status: 'canceled', endedAt: Date.now() });
      };
      if (signal.aborted) {
        abort();
        return;
      }
      signal.addEventListener('abort', abort, { once: true });
      void this.ready.then(
        () => {
          if (this.statements.get(request.id) !== entry) return;
          this.send({ op: 'sql', ...request });
        },
        () => {},
      );
    });
  }

  /** Stops the process group at once. Any task in flight ends 'lost' (or 'canceled' if a cancel was pending). */
  kill(): void {
    if (this.exited) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
  }

  /** Asks the worker to exit; kills it if it has not within `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ op: 'exit' });
    this.child.stdin?.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await exited;
    clearTimeout(timer);
    // The JVM is a child of the worker; make sure nothing of the group survives.
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  private wire(command: TaskCommand): Record<string, unknown> {
    return command.kind === 'python_file'
      ? { kind: 'python_file', file: command.file, args: command.args }
      : { kind: 'wheel', package: command.package, entryPoint: command.entryPoint, args: command.args };
  }

  private cancel(reason: string): void {
    const inFlight = this.inFlight;
    if (!inFlight || inFlight.cancelReason) return;
    inFlight.cancelReason = reason;
    this.send({ op: 'cancel', id: inFlight.request.id, reason });
    inFlight.killTimer = setTimeout(() => {
      if (this.inFlight === inFlight) this.kill();
    }, this.settings.cancelGraceMs);
  }

  private send(message: Record<string, unknown>): void {
    if (this.exited || !this.child.stdin?.writable) return;
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  private finish(result: TaskResult): void {
    const inFlight = this.inFlight;
    if (!inFlight) return;
    clearTimeout(inFlight.killTimer);
    this.inFlight = undefined;
    inFlight.resolve({ ...result, startedAt: inFlight.startedAt });
  }

  private onLine(line: string): void {
    let event: Event;
    try {
      event = JSON.parse(line) as Event;
    } catch {
      return;
    }
    if (event.ev === 'spark_ready') {
      this.sparkStarted = true;
      this.sparkStartMs = event.ms;
    }
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i];
      if (waiter && waiter.ev === event.ev) {
        this.waiters.splice(i, 1);
        waiter.resolve(event);
      }
    }
    if (event.ev === 'sql_started' || event.ev === 'sql_done') {
      this.onSqlEvent(event);
      return;
    }
    const inFlight = this.inFlight;
    if (!inFlight || event.id !== inFlight.request.id) return;
    if (event.ev === 'started') {
      inFlight.startedAt = event.at ?? Date.now();
      inFlight.onStarted(inFlight.startedAt);
    } else if (event.ev === 'done') {
      const status =
        (['ok', 'failed', 'canceled', 'setup_failed'] as const).find((s) => s === event.status) ?? 'failed';
      this.finish({
        status,
        ...(event.reason || inFlight.cancelReason ? { reason: event.reason ?? inFlight.cancelReason } : {}),
        ...(event.error ? { error: event.error } : {}),
        ...(event.trace ? { trace: event.trace } : {}),
        endedAt: event.at ?? Date.now(),
      });
    }
  }

  private onSqlEvent(event: Event): void {
    const entry = event.id === undefined ? undefined : this.statements.get(event.id);
    if (!entry || event.id === undefined) return;
    const at = event.at ?? Date.now();
    if (event.ev === 'sql_started') {
      entry.onStarted(at);
      return;
    }
    this.statements.delete(event.id);
    if (event.status === 'ok') {
      entry.resolve({
        status: 'ok',
        columns: event.columns ?? [],
        rows: event.rows ?? [],
        truncated: event.truncated ?? false,
        endedAt: at,
      });
    } else if (event.status === 'canceled') {
      entry.resolve({ status: 'canceled', endedAt: at });
    } else {
      entry.resolve({
        status: 'failed',
        errorCode: event.error_code ?? 'INTERNAL_ERROR',
        message: event.message ?? 'the statement failed',
        endedAt: at,
      });
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    this.exitDescription = signal ? `killed by ${signal}` : `exit code ${code}`;
    this.ownLog.end();
    for (const [id, entry] of this.statements) {
      this.statements.delete(id);
      entry.resolve({
        status: 'lost',
        message: `the local Spark worker (pid ${this.pid}) ended (${this.exitDescription}) while the statement was running; see ${path.join(this.settings.logDir, `worker-${this.pid}.log`)}`,
        endedAt: Date.now(),
      });
    }
    const inFlight = this.inFlight;
    if (!inFlight) return;
    if (inFlight.cancelReason) {
      this.finish({ status: 'canceled', reason: inFlight.cancelReason, endedAt: Date.now() });
    } else {
      this.finish({
        status: 'lost',
        error: `the local Spark worker (pid ${this.pid}) ended (${this.exitDescription}) while the task was running; see ${path.join(this.settings.logDir, `worker-${this.pid}.log`)}`,
        endedAt: Date.now(),
      });
    }
  }
}

/**
 * Hands out workers: in 'warm' mode up to `size` long-lived workers, replaced when one dies; in 'fresh' mode a
 * new worker (so a new JVM) for every task, stopped after it.
 */
export class WorkerPool {
  private readonly workers: SparkWorker[] = [];
  private readonly waiting: Array<(worker: SparkWorker) => void> = [];
  private closed = false;
  /** In 'fresh' mode, the long-lived worker SQL statements run on (tasks each get a new one). */
  private statementWorker: SparkWorker | undefined;

  constructor(
    private readonly settings: WorkerSettings,
    private readonly mode: 'warm' | 'fresh',
    private readonly size: number,
  ) {}

  /** Pids of the live workers (for diagnostics and tests). */
  pids(): number[] {
    return this.workers.filter((w) => w.alive).map((w) => w.pid);
  }

  /** Starts one warm worker and its SparkSession ahead of the first task. */
  async prewarm(): Promise<void> {
    if (this.mode !== 'warm') return;
    const worker = this.workers.find((w) => w.alive) ?? this.spawn();
    await worker.warmUp();
  }

  /** A worker for one task; waits while all are busy. Rejects if `signal` aborts while waiting. */
  async acquire(signal?: AbortSignal): Promise<SparkWorker> {
    if (this.closed) throw new Error('the worker pool is closed');
    if (signal?.aborted) throw new Error('aborted while waiting for a worker');
    this.prune();
    if (this.mode === 'fresh') {
      if (this.workers.length < this.size) return this.claim(this.spawn());
    } else {
      const idle = this.workers.find((w) => w.alive && !w.busy && !this.claimed.has(w));
      if (idle) return this.claim(idle);
      if (this.workers.length < this.size) return this.claim(this.spawn());
    }
    return new Promise<SparkWorker>((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(new Error('aborted while waiting for a worker'));
      };
      const waiter = (worker: SparkWorker): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(worker);
      };
      this.waiting.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * The worker SQL statements run on. Statements do not claim a worker: they run beside its task. 'warm':
   * a live worker of the pool (a warm one first), started if there is none; 'fresh': one long-lived worker
   * of its own, since task workers are stopped after each task.
   */
  sqlWorker(): SparkWorker {
    if (this.closed) throw new Error('the worker pool is closed');
    if (this.mode === 'fresh') {
      if (!this.statementWorker?.alive) this.statementWorker = new SparkWorker(this.settings);
      return this.statementWorker;
    }
    this.prune();
    const alive = this.workers.filter((w) => w.alive);
    const pick = alive.find((w) => w.warm) ?? alive[0];
    if (pick) return pick;
    return this.spawn();
  }

  release(worker: SparkWorker): void {
    this.claimed.delete(worker);
    if (this.mode === 'fresh' || !worker.alive) {
      void worker.stop();
      this.remove(worker);
    }
    const next = this.waiting.shift();
    if (!next) return;
    this.prune();
    const idle =
      this.mode === 'warm' ? this.workers.find((w) => w.alive && !w.busy && !this.claimed.has(w)) : undefined;
    next(this.claim(idle ?? this.spawn()));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.workers, ...(this.statementWorker ? [this.statementWorker] : [])].map((w) => w.stop()),
    );
    this.workers.length = 0;
    this.statementWorker = undefined;
  }

  private readonly claimed = new Set<SparkWorker>();

  private claim(worker: SparkWorker): SparkWorker {
    this.claimed.add(worker);
    return worker;
  }

  private spawn(): SparkWorker {
    const worker = new SparkWorker(this.settings);
    this.workers.push(worker);
    return worker;
  }

  private remove(worker: SparkWorker): void {
    const at = this.workers.indexOf(worker);
    if (at >= 0) this.workers.splice(at, 1);
  }

  private prune(): void {
    for (const worker of [...this.workers])
      if (!worker.alive && !this.claimed.has(worker)) this.remove(worker);
  }
}
