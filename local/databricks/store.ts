import { mkdirSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

/** Life-cycle states the emulator writes (a subset of the API's). */
export type LifeCycle =
  'QUEUED' | 'PENDING' | 'RUNNING' | 'TERMINATING' | 'TERMINATED' | 'SKIPPED' | 'INTERNAL_ERROR';

export const ACTIVE_STATES: readonly LifeCycle[] = ['PENDING', 'RUNNING', 'TERMINATING'];
export const TERMINAL_STATES: readonly LifeCycle[] = ['TERMINATED', 'SKIPPED', 'INTERNAL_ERROR'];

export interface JobRow {
  job_id: number;
  job_key: string;
  name: string;
  created_time: number;
}

/** One job run (parent_run_id null) or one task run of it. */
export interface RunRow {
  run_id: number;
  parent_run_id: number | null;
  job_id: number;
  task_key: string | null;
  number_in_job: number | null;
  idempotency_token: string | null;
  job_parameters: string | null;
  queue_enabled: number;
  life_cycle_state: LifeCycle;
  result_state: string | null;
  state_message: string;
  termination_code: string | null;
  termination_type: string | null;
  queue_code: string | null;
  created_time: number;
  start_time: number | null;
  exec_start_time: number | null;
  terminating_time: number | null;
  end_time: number | null;
  attempt_number: number;
  log_path: string | null;
  error: string | null;
  error_trace: string | null;
  boot_id: string | null;
}

export interface Termination {
  lifeCycle: 'TERMINATED' | 'SKIPPED' | 'INTERNAL_ERROR';
  result: string;
  code: string;
  type: string;
  message: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  job_id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_key TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  created_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  run_id INTEGER PRIMARY KEY AUTOINCREMENT,
  parent_run_id INTEGER REFERENCES runs(run_id),
  job_id INTEGER NOT NULL REFERENCES jobs(job_id),
  task_key TEXT,
  number_in_job INTEGER,
  idempotency_token TEXT UNIQUE,
  job_parameters TEXT,
  queue_enabled INTEGER NOT NULL DEFAULT 1,
  life_cycle_state TEXT NOT NULL,
  result_state TEXT,
  state_message TEXT NOT NULL DEFAULT '',
  termination_code TEXT,
  termination_type TEXT,
  queue_code TEXT,
  created_time INTEGER NOT NULL,
  start_time INTEGER,
  exec_start_time INTEGER,
  terminating_time INTEGER,
  end_time INTEGER,
  attempt_number INTEGER NOT NULL DEFAULT 0,
  log_path TEXT,
  error TEXT,
  error_trace TEXT,
  boot_id TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_parent ON runs(parent_run_id);
CREATE INDEX IF NOT EXISTS runs_by_job ON runs(job_id, life_cycle_state);
`;

/**
 * The emulator's state in SQLite ($LAKEWATT_HOME/jobs.sqlite): job ids (stable across restarts, keyed by the
 * bundle's resource key), job runs and task runs (one id sequence, as in Databricks). Every transition is
 * written at once, so a restarted emulator answers for every earlier run.
 */
export class JobsStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // Job ids and run ids from different ranges, so mixing one up for the other fails loudly.
    const seq = this.db.prepare(
      'INSERT INTO sqlite_sequence(name, seq) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)',
    );
    seq.run('jobs', 1000, 'jobs');
    seq.run('runs', 100_000, 'runs');
  }

  close(): void {
    this.db.close();
  }

  /** The job id of a bundle resource key, created on first sight; the name is refreshed. */
  upsertJob(key: string, name: string, now: number): JobRow {
    this.db
      .prepare(
        'INSERT INTO jobs(job_key, name, created_time) VALUES (?, ?, ?) ON CONFLICT(job_key) DO UPDATE SET name = excluded.name',
      )
      .run(key, name, now);
    return this.db.prepare('SELECT * FROM jobs WHERE job_key = ?').get(key) as JobRow;
  }

  run(runId: number): RunRow | undefined {
    return this.db.prepare('SELECT * FROM runs WHERE run_id = ?').get(runId) as RunRow | undefined;
  }

  runByToken(token: string): RunRow | undefined {
    return this.db.prepare('SELECT * FROM runs WHERE idempotency_token = ?').get(token) as RunRow | undefined;
  }

  /** Task runs of a job run, latest attempt last. */
  taskRuns(parentRunId: number): RunRow[] {
    return this.db
      .prepare('SELECT * FROM runs WHERE parent_run_id = ? ORDER BY run_id')
      .all(parentRunId) as RunRow[];
  }

  jobRuns(jobId: number | undefined, activeOnly: boolean, limit: number, offset: number): RunRow[] {
    const where = ['parent_run_id IS NULL'];
    const args: Array<string | number> = [];
    if (jobId !== undefined) {
      where.push('job_id = ?');
      args.push(jobId);
    }
    if (activeOnly) where.push(`life_cycle_state IN ('QUEUED', 'PENDING', 'RUNNING', 'TERMINATING')`);
    return this.db
      .prepare(`SELECT * FROM runs WHERE ${where.join(' AND ')} ORDER BY run_id DESC LIMIT ? OFFSET ?`)
      .all(...args, limit, offset) as RunRow[];
  }

  /** Job runs waiting in the queue, oldest first. */
  queued(): RunRow[] {
    return this.db
      .prepare(
        `SELECT * FROM runs WHERE parent_run_id IS NULL AND life_cycle_state = 'QUEUED' ORDER BY run_id`,
      )
      .all() as RunRow[];
  }

  /**
   * Inserts a job run and its task runs in one transaction. With an idempotency token already used, returns
   * the existing run instead (exactly one run per token).
   */
  createRun(input: {
    jobId: number;
    token: string | undefined;
    parameters: Array<{ name: string; default: string; value: string }>;
    queueEnabled: boolean;
    state: LifeCycle;
    queueCode: string | null;
    taskKeys: string[];
    now: number;
    bootId: string;
  }): { run: RunRow; created: boolean } {
    return this.db.transaction(() => {
      if (input.token !== undefined) {
        const existing = this.runByToken(input.token);
        if (existing) return { run: existing, created: false };
      }
      const number =
        (
          this.db
            .prepare('SELECT COUNT(*) AS n FROM runs WHERE job_id = ? AND parent_run_id IS NULL')
            .get(input.jobId) as { n: number }
        ).n + 1;
      const info = this.db
        .prepare(
          `INSERT INTO runs(job_id, number_in_job, idempotency_token, job_parameters, queue_enabled, life_cycle_state,
             queue_code, created_time, start_time, boot_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.jobId,
          number,
          input.token ?? null,
          JSON.stringify(input.parameters),
          input.queueEnabled ? 1 : 0,
          input.state,
          input.queueCode,
          input.now,
          input.state === 'QUEUED' ? null : input.now,
          input.bootId,
        );
      const runId = Number(info.lastInsertRowid);
      for (const key of input.taskKeys)
        this.createTaskRun(runId, input.jobId, key, 0, input.state, input.now);
      return { run: this.run(runId)!, created: true };
    })();
  }

  createTaskRun(
    parentRunId: number,
    jobId: number,
    taskKey: string,
    attempt: number,
    state: LifeCycle,
    now: number,
  ): RunRow {
    const info = this.db
      .prepare(
        `INSERT INTO runs(parent_run_id, job_id, task_key, life_cycle_state, created_time, attempt_number)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(parentRunId, jobId, taskKey, state, now, attempt);
    return this.run(Number(info.lastInsertRowid))!;
  }

  update(runId: number, fields: Partial<Omit<RunRow, 'run_id'>>): void {
    const keys = Object.keys(fields);
    if (keys.length === 0) return;
    this.db
      .prepare(`UPDATE runs SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE run_id = @run_id`)
      .run({ ...fields, run_id: runId });
  }

  /** Ends a run (job or task) unless it already ended. */
  terminate(runId: number, end: Termination, now: number): void {
    this.db
      .prepare(
        `UPDATE runs SET life_cycle_state = ?, result_state = ?, termination_code = ?, termination_type = ?,
           state_message = ?, end_time = ?
         WHERE run_id = ? AND life_cycle_state NOT IN ('TERMINATED', 'SKIPPED', 'INTERNAL_ERROR')`,
      )
      .run(end.lifeCycle, end.result, end.code, end.type, end.message, now, runId);
  }

  /** Ends every executing job run and its unfinished task runs with INTERNAL_ERROR (the emulator is stopping). */
  endActiveRuns(message: string, now: number): number[] {
    const active = this.db
      .prepare(
        `SELECT run_id FROM runs WHERE parent_run_id IS NULL AND life_cycle_state IN ('PENDING', 'RUNNING', 'TERMINATING')`,
      )
      .all() as Array<{ run_id: number }>;
    const end: Termination = {
      lifeCycle: 'INTERNAL_ERROR',
      result: 'FAILED',
      code: 'INTERNAL_ERROR',
      type: 'INTERNAL_ERROR',
      message,
    };
    this.db.transaction(() => {
      for (const { run_id } of active) {
        for (const task of this.taskRuns(run_id)) this.terminate(task.run_id, end, now);
        this.terminate(run_id, end, now);
      }
    })();
    return active.map((r) => r.run_id);
  }

  /**
   * After a restart: runs that were executing under an earlier emulator process lost that process. They end
   * INTERNAL_ERROR with a message saying so. Queued runs never started and stay queued. Returns the ids ended.
   */
  endRunsLostWith(bootId: string, now: number): number[] {
    const lost = this.db
      .prepare(
        `SELECT * FROM runs WHERE parent_run_id IS NULL AND life_cycle_state IN ('PENDING', 'RUNNING', 'TERMINATING')
           AND (boot_id IS NULL OR boot_id <> ?)`,
      )
      .all(bootId) as RunRow[];
    const ended: number[] = [];
    this.db.transaction(() => {
      for (const run of lost) {
        const message = `The local Jobs emulator that ran this run stopped while the run was ${run.life_cycle_state}; its task process was lost with it. Start a new run.`;
        const end: Termination = {
          lifeCycle: 'INTERNAL_ERROR',
          result: 'FAILED',
          code: 'INTERNAL_ERROR',
          type: 'INTERNAL_ERROR',
          message,
        };
        for (const task of this.taskRuns(run.run_id)) this.terminate(task.run_id, end, now);
        this.terminate(run.run_id, end, now);
        ended.push(run.run_id);
      }
    })();
    return ended;
  }
}
