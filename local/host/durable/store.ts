import { mkdirSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';
import { z } from 'zod';

import type { HistoryEvent, RuntimeStatus } from './protocol';

/**
 * The durable backend's state in one SQLite file. Every state change of an orchestration happens in one
 * transaction together with the message that caused it (see docs/decisions/0011-local-durable-host.md):
 *
 * - `instances`: one row per instance id (current execution only), with the orchestration's bookkeeping
 *   (`runtime`: sequence counter, signatures of scheduled work, retry chains, long-timer segments).
 * - `history`: the current execution's history events, in order.
 * - `inbox`: messages for orchestrations (ExecutionStarted, TaskCompleted/Failed, TimerFired, EventRaised,
 *   sub-orchestration results). A durable timer is an inbox message that becomes visible at its fire time.
 * - `work`: activity invocations to run (at-least-once: a row is deleted only when its result is queued).
 * - `timer_triggers`: last and next occurrence of each timer-triggered function, for past-due detection.
 * - `entities`: each Durable Entity's committed state (`@name@key`); its requests wait in `inbox`.
 */

export interface InstanceRow {
  instanceId: string;
  name: string;
  executionId: string;
  status: RuntimeStatus;
  input: string | null;
  output: string | null;
  customStatus: string | null;
  createdAt: number;
  updatedAt: number;
  parent: ParentRef | null;
  runtime: RuntimeBook;
  episode: number;
}

export interface ParentRef {
  instanceId: string;
  executionId: string;
  taskId: number;
}

/** What a pending sequence id stands for, when the host owes bookkeeping after its event arrives. */
export type TaskRef =
  | { kind: 'retry-attempt'; chain: number }
  | { kind: 'retry-timer'; chain: number }
  | { kind: 'timer-segment'; action: number; finalFireAt: string };

export interface RetryChain {
  actionType: number;
  name: string;
  /** Input as the activity / child receives it. */
  input: unknown;
  childInstanceId?: string;
  maxAttempts: number;
  firstIntervalMs: number;
  backoff: number;
  maxIntervalMs?: number;
  timeoutMs?: number;
  attempt: number;
  firstAttemptAt: number;
}

export interface RuntimeBook {
  nextSeq: number;
  /** Signatures of the leaf actions already turned into history, in action order. */
  scheduled: string[];
  /** Sequence id of each scheduled timer action's pending segment (by action index). */
  timers: Record<string, number>;
  tasks: Record<string, TaskRef>;
  chains: Record<string, RetryChain>;
}

export function emptyBook(): RuntimeBook {
  return { nextSeq: 0, scheduled: [], timers: {}, tasks: {}, chains: {} };
}

export interface InboxMessage {
  id: number;
  instanceId: string;
  executionId: string;
  visibleAt: number;
  event: HistoryEvent;
}

export interface WorkItem {
  id: number;
  instanceId: string;
  executionId: string;
  taskId: number;
  name: string;
  input: unknown;
  dispatchCount: number;
}

export type Durability = 'process' | 'power';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS instances (
  instance_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  status TEXT NOT NULL,
  input TEXT,
  output TEXT,
  custom_status TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  parent TEXT,
  runtime TEXT NOT NULL,
  episode INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS instances_by_created ON instances (created_at);
CREATE TABLE IF NOT EXISTS history (
  instance_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  visible_at INTEGER NOT NULL,
  event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_by_visibility ON inbox (visible_at, id);
CREATE INDEX IF NOT EXISTS inbox_by_instance ON inbox (instance_id);
CREATE TABLE IF NOT EXISTS work (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id TEXT NOT NULL,
  execution_id TEXT NOT NULL,
  task_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  input TEXT NOT NULL,
  dispatch_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS work_by_instance ON work (instance_id);
CREATE TABLE IF NOT EXISTS entities (
  instance_id TEXT PRIMARY KEY,
  entity_exists INTEGER NOT NULL,
  state TEXT,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS timer_triggers (
  name TEXT PRIMARY KEY,
  last INTEGER,
  next INTEGER,
  updated INTEGER NOT NULL
);
`;

interface InstanceRecord {
  instance_id: string;
  name: string;
  execution_id: string;
  status: string;
  input: string | null;
  output: string | null;
  custom_status: string | null;
  created_at: number;
  updated_at: number;
  parent: string | null;
  runtime: string;
  episode: number;
}

const parentSchema = z.object({ instanceId: z.string(), executionId: z.string(), taskId: z.number() });
const runtimeSchema = z.object({
  nextSeq: z.number(),
  scheduled: z.array(z.string()),
  timers: z.record(z.string(), z.number()),
  tasks: z.record(
    z.string(),
    z.union([
      z.object({ kind: z.literal('retry-attempt'), chain: z.number() }),
      z.object({ kind: z.literal('retry-timer'), chain: z.number() }),
      z.object({ kind: z.literal('timer-segment'), action: z.number(), finalFireAt: z.string() }),
    ]),
  ),
  chains: z.record(
    z.string(),
    z.object({
      actionType: z.number(),
      name: z.string(),
      input: z.unknown(),
      childInstanceId: z.string().optional(),
      maxAttempts: z.number(),
      firstIntervalMs: z.number(),
      backoff: z.number(),
      maxIntervalMs: z.number().optional(),
      timeoutMs: z.number().optional(),
      attempt: z.number(),
      firstAttemptAt: z.number(),
    }),
  ),
});

function toInstance(record: InstanceRecord): InstanceRow {
  return {
    instanceId: record.instance_id,
    name: record.name,
    executionId: record.execution_id,
    status: record.status as RuntimeStatus,
    input: record.input,
    output: record.output,
    customStatus: record.custom_status,
    createdAt: record.created_at,
    updatedAt: record.updated_at,
    parent: record.parent === null ? null : parentSchema.parse(JSON.parse(record.parent)),
    runtime: runtimeSchema.parse(JSON.parse(record.runtime)),
    episode: record.episode,
  };
}

export interface InstanceQuery {
  statuses?: readonly RuntimeStatus[];
  createdFrom?: number;
  createdTo?: number;
  instanceIdPrefix?: string;
}

export class DurableStore {
  readonly db: Database.Database;
  readonly file: string;
  private readonly statements;

  constructor(file: string, options: { durability?: Durability } = {}) {
    this.file = file;
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL survives a killed process (commits are in the WAL before the call returns);
    // FULL also survives power loss at the cost of an fsync per commit.
    this.db.pragma(`synchronous = ${options.durability === 'power' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.statements = {
      getInstance: db.prepare<[string], InstanceRecord>('SELECT * FROM instances WHERE instance_id = ?'),
      insertInstance: db.prepare(
        `INSERT INTO instances (instance_id, name, execution_id, status, input, output, custom_status,
           created_at, updated_at, parent, runtime, episode)
         VALUES (@instanceId, @name, @executionId, @status, @input, NULL, NULL, @createdAt, @createdAt,
           @parent, @runtime, 0)`,
      ),
      updateInstance: db.prepare(
        `UPDATE instances SET name = @name, execution_id = @executionId, status = @status, input = @input,
           output = @output, custom_status = @customStatus, updated_at = @updatedAt, runtime = @runtime,
           episode = episode + 1
         WHERE instance_id = @instanceId AND episode = @episode`,
      ),
      deleteInstance: db.prepare('DELETE FROM instances WHERE instance_id = ?'),
      history: db.prepare<[string], { event: string }>(
        'SELECT event FROM history WHERE instance_id = ? ORDER BY seq',
      ),
      historyCount: db.prepare<[string], { n: number }>(
        'SELECT COUNT(*) AS n FROM history WHERE instance_id = ?',
      ),
      insertHistory: db.prepare('INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)'),
      deleteHistory: db.prepare('DELETE FROM history WHERE instance_id = ?'),
      nextMessage: db.prepare<[number], InboxRecord>(
        'SELECT * FROM inbox WHERE visible_at <= ? ORDER BY visible_at, id LIMIT 1',
      ),
      nextMessageExcluding: db.prepare<[number, string], InboxRecord>(
        `SELECT * FROM inbox WHERE visible_at <= ? AND instance_id NOT IN (SELECT value FROM json_each(?))
         ORDER BY visible_at, id LIMIT 1`,
      ),
      nextDue: db.prepare<[], { at: number | null }>('SELECT MIN(visible_at) AS at FROM inbox'),
      insertMessage: db.prepare(
        'INSERT INTO inbox (instance_id, execution_id, visible_at, event) VALUES (?, ?, ?, ?)',
      ),
      deleteMessage: db.prepare('DELETE FROM inbox WHERE id = ?'),
      deleteInstanceMessages: db.prepare('DELETE FROM inbox WHERE instance_id = ?'),
      instanceMessages: db.prepare<[string], InboxRecord>(
        'SELECT * FROM inbox WHERE instance_id = ? ORDER BY id',
      ),
      deleteTimerMessage: db.prepare(
        `DELETE FROM inbox WHERE instance_id = ? AND execution_id = ?
           AND json_extract(event, '$.EventType') = 11 AND json_extract(event, '$.TimerId') = ?`,
      ),
      insertWork: db.prepare(
        'INSERT INTO work (instance_id, execution_id, task_id, name, input) VALUES (?, ?, ?, ?, ?)',
      ),
      work: db.prepare<[number], WorkRecord>('SELECT * FROM work ORDER BY id LIMIT ?'),
      workExcluding: db.prepare<[string, number], WorkRecord>(
        'SELECT * FROM work WHERE id NOT IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT ?',
      ),
      getWork: db.prepare<[number], WorkRecord>('SELECT * FROM work WHERE id = ?'),
      markDispatched: db.prepare('UPDATE work SET dispatch_count = dispatch_count + 1 WHERE id = ?'),
      deleteWork: db.prepare('DELETE FROM work WHERE id = ?'),
      deleteInstanceWork: db.prepare('DELETE FROM work WHERE instance_id = ?'),
      counts: db.prepare<[number], { inbox: number; work: number }>(
        `SELECT (SELECT COUNT(*) FROM inbox WHERE visible_at <= ?) AS inbox, (SELECT COUNT(*) FROM work) AS work`,
      ),
      getEntity: db.prepare<[string], { entity_exists: number; state: string | null; updated_at: number }>(
        'SELECT entity_exists, state, updated_at FROM entities WHERE instance_id = ?',
      ),
      putEntity: db.prepare(
        `INSERT INTO entities (instance_id, entity_exists, state, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (instance_id) DO UPDATE SET entity_exists = excluded.entity_exists, state = excluded.state,
           updated_at = excluded.updated_at`,
      ),
      listEntities: db.prepare<
        [string, string],
        { instance_id: string; entity_exists: number; state: string | null; updated_at: number }
      >(`SELECT * FROM entities WHERE substr(instance_id, 1, length(?)) = ? ORDER BY instance_id`),
      deferMessage: db.prepare('UPDATE inbox SET visible_at = ? WHERE id = ?'),
      getTimerTrigger: db.prepare<[string], { last: number | null; next: number | null; updated: number }>(
        'SELECT last, next, updated FROM timer_triggers WHERE name = ?',
      ),
      putTimerTrigger: db.prepare(
        `INSERT INTO timer_triggers (name, last, next, updated) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET last = excluded.last, next = excluded.next, updated = excluded.updated`,
      ),
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  getInstance(instanceId: string): InstanceRow | undefined {
    const record = this.statements.getInstance.get(instanceId);
    return record ? toInstance(record) : undefined;
  }

  insertInstance(row: {
    instanceId: string;
    name: string;
    executionId: string;
    status: RuntimeStatus;
    input: string | null;
    createdAt: number;
    parent: ParentRef | null;
  }): void {
    this.statements.insertInstance.run({
      ...row,
      parent: row.parent ? JSON.stringify(row.parent) : null,
      runtime: JSON.stringify(emptyBook()),
    });
  }

  /** Optimistic update: fails (returns false) if another change happened since `row.episode` was read. */
  updateInstance(row: InstanceRow): boolean {
    const result = this.statements.updateInstance.run({
      instanceId: row.instanceId,
      name: row.name,
      executionId: row.executionId,
      status: row.status,
      input: row.input,
      output: row.output,
      customStatus: row.customStatus,
      updatedAt: row.updatedAt,
      runtime: JSON.stringify(row.runtime),
      episode: row.episode,
    });
    return result.changes === 1;
  }

  /** Removes an instance and everything queued for it. */
  deleteInstance(instanceId: string): void {
    this.statements.deleteInstance.run(instanceId);
    this.clearInstance(instanceId);
  }

  clearInstance(instanceId: string): void {
    this.statements.deleteHistory.run(instanceId);
    this.statements.deleteInstanceMessages.run(instanceId);
    this.statements.deleteInstanceWork.run(instanceId);
  }

  dropPendingWork(instanceId: string): void {
    this.statements.deleteInstanceMessages.run(instanceId);
    this.statements.deleteInstanceWork.run(instanceId);
  }

  history(instanceId: string): HistoryEvent[] {
    return this.statements.history.all(instanceId).map((r) => JSON.parse(r.event) as HistoryEvent);
  }

  historyLength(instanceId: string): number {
    return this.statements.historyCount.get(instanceId)?.n ?? 0;
  }

  appendHistory(instanceId: string, from: number, events: readonly HistoryEvent[]): void {
    events.forEach((event, i) =>
      this.statements.insertHistory.run(instanceId, from + i, JSON.stringify(event)),
    );
  }

  deleteHistory(instanceId: string): void {
    this.statements.deleteHistory.run(instanceId);
  }

  nextMessage(now: number, busy: readonly string[] = []): InboxMessage | undefined {
    const record =
      busy.length === 0
        ? this.statements.nextMessage.get(now)
        : this.statements.nextMessageExcluding.get(now, JSON.stringify(busy));
    return record ? toMessage(record) : undefined;
  }

  /** Earliest visibility time of any queued message (timers included), or undefined. */
  nextDueAt(): number | undefined {
    return this.statements.nextDue.get()?.at ?? undefined;
  }

  enqueue(instanceId: string, executionId: string, visibleAt: number, event: HistoryEvent): void {
    this.statements.insertMessage.run(instanceId, executionId, visibleAt, JSON.stringify(event));
  }

  deleteMessage(id: number): boolean {
    return this.statements.deleteMessage.run(id).changes === 1;
  }

  instanceMessages(instanceId: string): InboxMessage[] {
    return this.statements.instanceMessages.all(instanceId).map(toMessage);
  }

  cancelTimer(instanceId: string, executionId: string, timerId: number): void {
    this.statements.deleteTimerMessage.run(instanceId, executionId, timerId);
  }

  addWork(instanceId: string, executionId: string, taskId: number, name: string, input: unknown): void {
    this.statements.insertWork.run(instanceId, executionId, taskId, name, JSON.stringify(input ?? null));
  }

  pendingWork(limit: number, exclude: readonly number[]): WorkItem[] {
    const records =
      exclude.length === 0
        ? this.statements.work.all(limit)
        : this.statements.workExcluding.all(JSON.stringify(exclude), limit);
    return records.map(toWork);
  }

  markDispatched(id: number): void {
    this.statements.markDispatched.run(id);
  }

  deleteWork(id: number): boolean {
    return this.statements.deleteWork.run(id).changes === 1;
  }

  counts(now: number): { visibleMessages: number; work: number } {
    const row = this.statements.counts.get(now);
    return { visibleMessages: row?.inbox ?? 0, work: row?.work ?? 0 };
  }

  queryInstances(query: InstanceQuery, limit = -1, offset = 0): InstanceRow[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.statuses && query.statuses.length > 0) {
      where.push(`status IN (${query.statuses.map(() => '?').join(',')})`);
      params.push(...query.statuses);
    }
    if (query.createdFrom !== undefined) {
      where.push('created_at >= ?');
      params.push(query.createdFrom);
    }
    if (query.createdTo !== undefined) {
      where.push('created_at <= ?');
      params.push(query.createdTo);
    }
    if (query.instanceIdPrefix) {
      where.push('substr(instance_id, 1, ?) = ?');
      params.push(query.instanceIdPrefix.length, query.instanceIdPrefix);
    }
    const sql = `SELECT * FROM instances ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at, instance_id LIMIT ? OFFSET ?`;
    return this.db
      .prepare<unknown[], InstanceRecord>(sql)
      .all(...params, limit, offset)
      .map(toInstance);
  }

  getEntity(instanceId: string): { exists: boolean; state: string | null; updatedAt: number } | undefined {
    const row = this.statements.getEntity.get(instanceId);
    return row ? { exists: row.entity_exists === 1, state: row.state, updatedAt: row.updated_at } : undefined;
  }

  putEntity(instanceId: string, exists: boolean, state: string | null, at: number): void {
    this.statements.putEntity.run(instanceId, exists ? 1 : 0, exists ? state : null, at);
  }

  /** Entities whose instance id starts with `prefix` (`@name@` lists one entity type). */
  listEntities(
    prefix: string,
  ): Array<{ instanceId: string; exists: boolean; state: string | null; updatedAt: number }> {
    return this.statements.listEntities.all(prefix, prefix).map((row) => ({
      instanceId: row.instance_id,
      exists: row.entity_exists === 1,
      state: row.state,
      updatedAt: row.updated_at,
    }));
  }

  /** Makes messages visible again only at `at` (a batch that failed to run). */
  deferMessages(ids: readonly number[], at: number): void {
    for (const id of ids) this.statements.deferMessage.run(at, id);
  }

  timerTrigger(name: string): { last: number | null; next: number | null; updated: number } | undefined {
    return this.statements.getTimerTrigger.get(name);
  }

  putTimerTrigger(name: string, last: number | null, next: number | null, updated: number): void {
    this.statements.putTimerTrigger.run(name, last, next, updated);
  }
}

interface InboxRecord {
  id: number;
  instance_id: string;
  execution_id: string;
  visible_at: number;
  event: string;
}

interface WorkRecord {
  id: number;
  instance_id: string;
  execution_id: string;
  task_id: number;
  name: string;
  input: string;
  dispatch_count: number;
}

function toMessage(record: InboxRecord): InboxMessage {
  return {
    id: record.id,
    instanceId: record.instance_id,
    executionId: record.execution_id,
    visibleAt: record.visible_at,
    // Written by this store only (from checked values), so read back without re-validation.
    event: JSON.parse(record.event) as HistoryEvent,
  };
}

function toWork(record: WorkRecord): WorkItem {
  return {
    id: record.id,
    instanceId: record.instance_id,
    executionId: record.execution_id,
    taskId: record.task_id,
    name: record.name,
    input: JSON.parse(record.input) as unknown,
    dispatchCount: record.dispatch_count,
  };
}
