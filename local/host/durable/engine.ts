import { randomUUID } from 'node:crypto';

import { ensureError } from '../../../lib/errors';
import type { Clock } from '../clock';
import type { CapturedFunction } from '../functionsCore';
import { fromTypedData, inputBindingsOfType, invoke, triggerBinding } from '../invoke';
import type { HostLogger } from '../log';
import { entityInstanceId, EntityRunner, isEntityInstance, newRequest, requestEvent } from './entities';
import { InstanceWriter, isFunctionOfType } from './instances';
import { ActionPlanner, emptyPlan } from './planner';
import {
  ActionType,
  EventType,
  failureMessage,
  flattenActions,
  fromJson,
  type HistoryEvent,
  historyEvent,
  isTerminal,
  type OrchestratorState,
  orchestratorStateSchema,
  type RuntimeStatus,
  stateFromFailure,
  toIso,
  toJson,
  toTimeSpan,
  type WireAction,
} from './protocol';
import { type InstanceStatus, type StatusOptions, StatusReader } from './status';
import {
  type DurableStore,
  type InboxMessage,
  type InstanceQuery,
  type InstanceRow,
  type WorkItem,
} from './store';

export type { InstanceStatus, StatusOptions } from './status';

/** Places where the engine lets a test harness stop (and kill) the process. */
export type FaultPoint =
  'episode:before-commit' | 'episode:after-commit' | 'activity:started' | 'activity:finished';

export interface EngineOptions {
  store: DurableStore;
  clock: Clock;
  logger: HostLogger;
  /** The captured functions (looked up on each use, so late registrations are seen). */
  functions: () => ReadonlyMap<string, CapturedFunction>;
  /** Activities running at once (host.json `maxConcurrentActivityFunctions`). Default 10. */
  maxConcurrentActivities?: number;
  /** Azure Storage provider defaults: 6 days and 3 days. */
  maximumShortTimerMs?: number;
  longRunningTimerIntervalMs?: number;
  /** Send `FailureDetails` with failed tasks (newer extensions) instead of only Reason/Details (legacy). */
  failureDetails?: boolean;
  onFaultPoint?: (point: FaultPoint, info: { instanceId: string; step: string }) => void | Promise<void>;
  /** host.json `maxEntityOperationBatchSize`. Default 50 (the Consumption plan's). */
  maxEntityOperationBatchSize?: number;
  /** The durable client binding data handed to activities that declare a durable client input. */
  clientBindingData?: () => Record<string, unknown>;
}

export interface StartOptions {
  instanceId?: string;
  input?: unknown;
}

export interface EngineHealth {
  status: 'ok' | 'degraded';
  consecutiveFailures: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

export class InstanceConflictError extends Error {
  constructor(instanceId: string, status: RuntimeStatus) {
    super(`An orchestration with instance id '${instanceId}' already exists and is ${status}.`);
  }
}

export class UnknownOrchestratorError extends Error {
  constructor(name: string) {
    super(`The function '${name}' doesn't exist or is not an orchestrator function.`);
  }
}

const DAY = 86_400_000;

/**
 * The durable backend: runs orchestration episodes against the real durable-functions replay engine,
 * turns their actions into history with the Durable Task Framework's rules, runs activities and fires
 * timers. All state is in the SQLite store; see docs/decisions/0011-local-durable-host.md.
 */
export class DurableEngine {
  private readonly store: DurableStore;
  private readonly clock: Clock;
  private readonly logger: HostLogger;
  private readonly maxActivities: number;
  private readonly maxShortMs: number;
  private readonly intervalMs: number;
  private readonly inflight = new Map<number, Promise<void>>();
  private running = false;
  private stopping = false;
  private pumpDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  private unsubscribeClock: (() => void) | undefined;
  private readonly entities: EntityRunner;
  private readonly planner: ActionPlanner;
  private readonly instances: InstanceWriter;
  private readonly statuses: StatusReader;
  private healthState: EngineHealth = {
    status: 'ok',
    consecutiveFailures: 0,
    lastError: null,
    lastErrorAt: null,
  };
  /** Work items whose result could not be stored, and when they may run again (wall clock). */
  private readonly workBackoff = new Map<number, number>();
  /** Count of episodes and activity completions committed, for benchmarks and tests. */
  readonly stats = {
    episodes: 0,
    activities: 0,
    episodeMs: 0,
    /** Per-episode host time (payload, replay in the SDK, history and commit), last 100k. */
    episodeSamples: [] as number[],
    /** Per-activity host time outside the handler (dispatch and result commit), last 100k. */
    activitySamples: [] as number[],
  };

  constructor(private readonly options: EngineOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.logger = options.logger;
    this.maxActivities = options.maxConcurrentActivities ?? 10;
    this.maxShortMs = options.maximumShortTimerMs ?? 6 * DAY;
    this.intervalMs = options.longRunningTimerIntervalMs ?? 3 * DAY;
    this.planner = new ActionPlanner(this.maxShortMs, this.intervalMs);
    this.statuses = new StatusReader(this.store);
    this.instances = new InstanceWriter(this.store, this.clock, options.functions);
    this.entities = new EntityRunner({
      store: this.store,
      logger: this.logger,
      now: () => this.clock.now(),
      functions: options.functions,
      maxBatch: options.maxEntityOperationBatchSize ?? 50,
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.unsubscribeClock = this.clock.onAdvance(() => this.kick());
    this.pumpDone = this.pump().catch((error: unknown) => {
      this.logger.error(`durable engine stopped on an unexpected error: ${ensureError(error).stack ?? ''}`);
    });
  }

  /** Stops dispatching; waits for the current episode and up to `graceMs` for running activities. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    this.kick();
    await this.pumpDone;
    this.unsubscribeClock?.();
    if (this.inflight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inflight.values()]),
        new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
      if (this.inflight.size > 0) {
        this.logger.warn(`${this.inflight.size} activities still running at stop; they run again on restart`);
      }
    }
    this.running = false;
  }

  /** Wakes the dispatcher (new work, a clock jump, a client call). */
  kick(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Resolves once nothing is runnable now: no visible message, no queued or running activity. */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.kick();
    });
  }

  // ---------------------------------------------------------------- dispatcher

  private async pump(): Promise<void> {
    let streak = 0;
    while (!this.stopping) {
      let message: InboxMessage | undefined;
      try {
        this.dispatchActivities();
        message = this.store.nextMessage(this.clock.now());
        if (message) {
          if (isEntityInstance(message.instanceId)) await this.entities.runBatch(message.instanceId);
          else await this.runEpisode(message);
          this.healthy();
          // Let activity completions and HTTP requests in every few episodes.
          if (++streak % 8 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        if (this.inflight.size === 0 && this.store.counts(this.clock.now()).work === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          waiters.forEach((resolve) => resolve());
        }
      } catch (thrown) {
        // A storage error (disk full, a locked or read-only file) fails this episode, not the engine: the
        // message stays queued (its transaction rolled back), later, and everything is tried again.
        const delay = this.unhealthy(
          thrown,
          message ? `message ${message.id} for ${message.instanceId}` : 'dispatch',
        );
        if (message) this.tryDefer([message.id], delay);
        await new Promise((resolve) => setTimeout(resolve, delay));
        continue;
      }
      await this.sleep();
    }
  }

  /** The engine's health: `degraded` while storage or dispatch errors repeat; the last error and its time. */
  health(): EngineHealth {
    return { ...this.healthState };
  }

  private healthy(): void {
    if (this.healthState.consecutiveFailures === 0) return;
    this.logger.info(
      `durable engine recovered after ${this.healthState.consecutiveFailures} failed attempts`,
    );
    this.healthState = { ...this.healthState, status: 'ok', consecutiveFailures: 0 };
  }

  /** Records a failure and returns the back-off before the next attempt: 100 ms doubling to 30 s. */
  private unhealthy(thrown: unknown, what: string): number {
    const error = ensureError(thrown);
    const failures = this.healthState.consecutiveFailures + 1;
    this.healthState = {
      status: 'degraded',
      consecutiveFailures: failures,
      lastError: error.message.split('\n')[0]!.slice(0, 500),
      lastErrorAt: new Date(this.clock.now()).toISOString(),
    };
    const delay = Math.min(30_000, 100 * 2 ** Math.min(failures - 1, 12));
    this.logger.error(
      `durable engine: ${what} failed (attempt ${failures}), retrying in ${delay} ms: ${error.message}`,
    );
    return delay;
  }

  private tryDefer(ids: number[], delay: number): void {
    try {
      this.store.transaction(() => this.store.deferMessages(ids, this.clock.now() + delay));
    } catch {
      // The store refuses writes too: the message stays where it is and the back-off paces the retries.
    }
  }

  private sleep(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      if (this.clock.realTime) {
        const due = this.store.nextDueAt();
        if (due !== undefined) {
          const delay = Math.max(0, Math.min(due - this.clock.now(), 2 ** 31 - 1));
          this.wakeTimer = setTimeout(() => this.kick(), delay);
        }
      }
    }).finally(() => clearTimeout(this.wakeTimer));
  }

  private dispatchActivities(): void {
    if (this.stopping) return;
    const free = this.maxActivities - this.inflight.size;
    if (free <= 0) return;
    const now = Date.now();
    for (const [id, until] of this.workBackoff) if (until <= now) this.workBackoff.delete(id);
    const skip = [...this.inflight.keys(), ...this.workBackoff.keys()];
    for (const item of this.store.pendingWork(free, skip)) {
      const run = this.runActivity(item)
        .catch((thrown: unknown) => {
          // Its result could not be stored: the work item stays and runs again after the back-off.
          const delay = this.unhealthy(thrown, `activity ${item.name} of ${item.instanceId}`);
          this.workBackoff.set(item.id, Date.now() + delay);
          setTimeout(() => this.kick(), delay).unref();
        })
        .finally(() => {
          this.inflight.delete(item.id);
          this.kick();
        });
      this.inflight.set(item.id, run);
    }
  }

  // ---------------------------------------------------------------- activities

  private async runActivity(item: WorkItem): Promise<void> {
    const step = `task ${item.taskId}`;
    const tags = { functionName: item.name, instanceId: item.instanceId, step };
    await this.options.onFaultPoint?.('activity:started', { instanceId: item.instanceId, step });
    if (this.stopping) return;
    const dispatchBegan = performance.now();
    this.store.markDispatched(item.id);
    if (item.dispatchCount > 0) {
      this.logger.warn(`running activity again (dispatch ${item.dispatchCount + 1}): at-least-once`, tags);
    }
    const fn = this.options.functions().get(item.name);
    let outcome: HistoryEvent;
    let hostMs = 0;
    const started = this.clock.now();
    if (!isFunctionOfType(fn, 'activityTrigger')) {
      outcome = this.taskFailed(
        item,
        new Error(`The function '${item.name}' doesn't exist or is not an activity.`),
      );
    } else {
      try {
        hostMs += performance.now() - dispatchBegan;
        const inputData = [{ name: triggerBinding(fn).name, data: { json: toJson(item.input) } }];
        for (const name of inputBindingsOfType(fn, 'durableClient')) {
          inputData.push({ name, data: { json: toJson(this.options.clientBindingData?.() ?? null) } });
        }
        const result = await invoke(fn, {
          inputData,
          log: this.logger.forInvocation(tags),
        });
        outcome = historyEvent(EventType.TaskCompleted, this.clock.now(), {
          TaskScheduledId: item.taskId,
          Result: toJson(fromTypedData(result.returnValue)),
        });
      } catch (thrown) {
        const error = ensureError(thrown);
        this.logger.warn(`activity failed: ${error.message}`, tags);
        outcome = this.taskFailed(item, error);
      }
    }
    await this.options.onFaultPoint?.('activity:finished', { instanceId: item.instanceId, step });
    if (!this.store.db.open) return;
    const commitBegan = performance.now();
    this.store.transaction(() => {
      if (!this.store.deleteWork(item.id)) return;
      const instance = this.store.getInstance(item.instanceId);
      if (instance && instance.executionId === item.executionId && !isTerminal(instance.status)) {
        this.store.enqueue(item.instanceId, item.executionId, this.clock.now(), outcome);
      }
    });
    this.stats.activities += 1;
    hostMs += performance.now() - commitBegan;
    if (this.stats.activitySamples.length < 100_000) this.stats.activitySamples.push(hostMs);
    this.logger.debug(`activity done in ${this.clock.now() - started} ms`, tags);
  }

  private taskFailed(item: WorkItem, error: Error): HistoryEvent {
    const fields: Record<string, unknown> = {
      TaskScheduledId: item.taskId,
      Reason: `Activity function '${item.name}' failed: ${error.message}`,
      Details: error.stack ?? '',
    };
    if (this.options.failureDetails) {
      fields.FailureDetails = {
        ErrorType: error.name,
        ErrorMessage: error.message,
        StackTrace: error.stack ?? null,
        IsNonRetriable: false,
        Properties: null,
        InnerFailure: null,
      };
    }
    return historyEvent(EventType.TaskFailed, this.clock.now(), fields);
  }

  // ---------------------------------------------------------------- episodes

  private async runEpisode(message: InboxMessage): Promise<void> {
    const instance = this.store.getInstance(message.instanceId);
    if (instance?.status === 'Pending' && message.event.EventType !== EventType.ExecutionStarted) {
      // Something arrived before the instance started (an early event): start it first.
      const start = this.store
        .instanceMessages(instance.instanceId)
        .find(
          (m) => m.event.EventType === EventType.ExecutionStarted && m.executionId === instance.executionId,
        );
      if (start) message = start;
    }
    const stale =
      !instance ||
      instance.executionId !== message.executionId ||
      isTerminal(instance.status) ||
      (message.event.EventType === EventType.ExecutionStarted) !== (instance.status === 'Pending');
    if (stale) {
      this.store.deleteMessage(message.id);
      return;
    }
    const began = performance.now();
    const now = this.clock.now();
    const step = `episode ${instance.episode + 1}`;
    const tags = { functionName: instance.name, instanceId: instance.instanceId, step };
    const past = this.store.history(instance.instanceId).map((e) => ({ ...e, IsPlayed: true }));
    const started = historyEvent(EventType.OrchestratorStarted, now);
    const incoming: HistoryEvent = { ...message.event, IsPlayed: false };
    const history = [...past, started, incoming];
    const fn = this.options.functions().get(instance.name);

    let state: OrchestratorState | undefined;
    let failure: string | undefined;
    if (!isFunctionOfType(fn, 'orchestrationTrigger')) {
      failure = `The function '${instance.name}' doesn't exist or is not an orchestrator function.`;
    } else {
      const payload = {
        history,
        input: fromJson(instance.input),
        instanceId: instance.instanceId,
        isReplaying: past.length > 0,
        parentInstanceId: instance.parent?.instanceId ?? null,
        upperSchemaVersion: 1,
        upperSchemaVersionNew: 2,
        longRunningTimerIntervalDuration: toTimeSpan(this.intervalMs),
        maximumShortTimerDuration: toTimeSpan(this.maxShortMs),
        defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
      };
      try {
        const result = await invoke(fn, {
          inputData: [{ name: triggerBinding(fn).name, data: { string: JSON.stringify(payload) } }],
          log: this.logger.forInvocation(tags),
        });
        const parsed = orchestratorStateSchema.safeParse(fromTypedData(result.returnValue));
        if (parsed.success) state = parsed.data;
        else failure = `The orchestrator returned an unreadable state: ${parsed.error.message}`;
      } catch (thrown) {
        const error = ensureError(thrown);
        state = stateFromFailure(error.message);
        failure = state?.error ?? failureMessage(error.message);
      }
    }

    const plan = emptyPlan();
    const next: InstanceRow = { ...instance, runtime: structuredClone(instance.runtime), updatedAt: now };
    if (incoming.EventType === EventType.ExecutionStarted) next.status = 'Running';
    let failed =
      failure === undefined ? undefined : `Orchestrator function '${instance.name}' failed: ${failure}`;
    let continueAsNew: WireAction | undefined;

    if (state) {
      if (state.customStatus !== undefined) next.customStatus = toJson(state.customStatus);
      const leaves = flattenActions(state.actions.flat());
      failed ??= this.planner.checkDeterminism(instance, next.runtime, leaves, state.isDone);
      if (failed === undefined) {
        failed = this.planner.bookkeeping(next, incoming, leaves, now, plan);
      }
      if (failed === undefined) {
        failed = this.planner.scheduleNewActions(next, leaves, now, plan);
        continueAsNew = state.isDone
          ? leaves.find((a) => a.actionType === ActionType.ContinueAsNew)
          : undefined;
      }
    }

    await this.options.onFaultPoint?.('episode:before-commit', { instanceId: instance.instanceId, step });
    if (!this.store.db.open) return;
    let outcome = 'running';
    const committed = this.store.transaction(() => {
      if (!this.store.deleteMessage(message.id)) return false;
      const base = past.length;
      const events = [started, incoming, ...plan.events];
      if (failed !== undefined) {
        outcome = 'failed';
        next.status = 'Failed';
        next.output = toJson(failed);
        events.push(
          historyEvent(EventType.ExecutionCompleted, now, {
            OrchestrationStatus: 'Failed',
            Result: toJson(failed),
          }),
        );
        this.store.dropPendingWork(instance.instanceId);
        this.instances.notifyParent(instance, { failed });
      } else if (continueAsNew) {
        outcome = 'continued as new';
        this.instances.continueAsNew(next, continueAsNew, now);
      } else if (state?.isDone) {
        outcome = 'completed';
        next.status = 'Completed';
        next.output = toJson(state.output);
        events.push(
          historyEvent(EventType.ExecutionCompleted, now, {
            OrchestrationStatus: 'Completed',
            Result: next.output,
          }),
        );
        this.store.dropPendingWork(instance.instanceId);
        this.instances.notifyParent(instance, { result: next.output });
      } else {
        for (const id of plan.cancelledTimers)
          this.store.cancelTimer(instance.instanceId, instance.executionId, id);
        for (const m of plan.messages) this.store.enqueue(m.instanceId, m.executionId, m.at, m.event);
        for (const w of plan.work)
          this.store.addWork(instance.instanceId, instance.executionId, w.taskId, w.name, w.input);
        for (const child of plan.children) this.instances.createChild(child, now);
      }
      if (!continueAsNew) {
        events.push(historyEvent(EventType.OrchestratorCompleted, now));
        this.store.appendHistory(instance.instanceId, base, events);
      }
      if (!this.store.updateInstance(next))
        throw new Error(`instance ${instance.instanceId} changed during an episode`);
      return true;
    });
    this.stats.episodes += 1;
    const took = performance.now() - began;
    this.stats.episodeMs += took;
    if (this.stats.episodeSamples.length < 100_000) this.stats.episodeSamples.push(took);
    if (committed && outcome !== 'running') {
      const level = outcome === 'failed' ? 'warning' : 'information';
      this.logger.log(level, 'host', `orchestration ${outcome}${failed ? `: ${failed}` : ''}`, tags);
    }
    await this.options.onFaultPoint?.('episode:after-commit', { instanceId: instance.instanceId, step });
  }

  // ---------------------------------------------------------------- client operations

  /** Starts (or replaces a finished) instance; throws InstanceConflictError if it is still active. */
  startNew(name: string, options: StartOptions = {}): string {
    if (!isFunctionOfType(this.options.functions().get(name), 'orchestrationTrigger')) {
      throw new UnknownOrchestratorError(name);
    }
    const instanceId = options.instanceId ?? randomUUID().replaceAll('-', '');
    const now = this.clock.now();
    this.store.transaction(() => {
      const existing = this.store.getInstance(instanceId);
      if (existing && !isTerminal(existing.status))
        throw new InstanceConflictError(instanceId, existing.status);
      if (existing) this.store.deleteInstance(instanceId);
      this.instances.insertStarted(instanceId, name, options.input, now, null);
    });
    this.logger.info(`scheduled orchestration '${name}'`, { functionName: name, instanceId });
    this.kick();
    return instanceId;
  }

  /** 'accepted', or why not: the instance does not exist ('not-found') or has finished ('gone'). */
  raiseEvent(instanceId: string, eventName: string, data: unknown): 'accepted' | 'not-found' | 'gone' {
    const now = this.clock.now();
    const outcome = this.store.transaction(() => {
      const instance = this.store.getInstance(instanceId);
      if (!instance) return 'not-found' as const;
      if (isTerminal(instance.status)) return 'gone' as const;
      this.store.enqueue(
        instanceId,
        instance.executionId,
        now,
        historyEvent(EventType.EventRaised, now, { Name: eventName, Input: toJson(data) }),
      );
      return 'accepted' as const;
    });
    this.kick();
    return outcome;
  }

  /** A client signal to an entity (at least once; no ordering, as the extension's client signals). */
  signalEntity(name: string, key: string, operation: string, input: unknown): void {
    const now = this.clock.now();
    const target = entityInstanceId(name, key);
    this.store.transaction(() =>
      this.store.enqueue(target, '', now, requestEvent(newRequest(operation, input, now), now)),
    );
    this.kick();
  }

  /** An entity's committed state (possibly stale by the requests still queued), or undefined. */
  readEntityState(name: string, key: string): { state: unknown } | undefined {
    const entity = this.store.getEntity(entityInstanceId(name, key));
    if (!entity?.exists) return undefined;
    return { state: fromJson(entity.state) };
  }

  /** Existing entities of one entity function, with their states. */
  listEntities(
    name: string,
  ): Array<{ name: string; key: string; lastOperationTime: string; state: unknown }> {
    const prefix = entityInstanceId(name, '');
    return this.store
      .listEntities(prefix)
      .filter((e) => e.exists)
      .map((e) => ({
        name: name.toLowerCase(),
        key: e.instanceId.slice(prefix.length),
        lastOperationTime: toIso(e.updatedAt),
        state: fromJson(e.state),
      }));
  }

  terminate(instanceId: string, reason: string): 'accepted' | 'not-found' | 'gone' {
    const now = this.clock.now();
    const outcome = this.store.transaction(() => {
      const instance = this.store.getInstance(instanceId);
      if (!instance) return 'not-found' as const;
      if (isTerminal(instance.status)) return 'gone' as const;
      const base = this.store.historyLength(instanceId);
      this.store.appendHistory(instanceId, base, [
        historyEvent(EventType.ExecutionTerminated, now, { Input: toJson(reason) }),
      ]);
      this.store.dropPendingWork(instanceId);
      this.instances.notifyParent(instance, {
        failed: `Orchestration '${instance.name}' was terminated: ${reason}`,
      });
      this.store.updateInstance({
        ...instance,
        status: 'Terminated',
        output: toJson(reason),
        updatedAt: now,
      });
      return 'accepted' as const;
    });
    if (outcome === 'accepted') this.logger.info(`orchestration terminated: ${reason}`, { instanceId });
    this.kick();
    return outcome;
  }

  /** Restarts a finished instance from its original input, with the same or a new instance id. */
  restart(instanceId: string, newInstanceId: boolean): string | undefined {
    const instance = this.store.getInstance(instanceId);
    if (!instance) return undefined;
    return this.startNew(instance.name, {
      instanceId: newInstanceId ? undefined : instanceId,
      input: fromJson(instance.input),
    });
  }

  /** Deletes finished instances' state; returns how many. Running instances are never purged. */
  purge(query: { instanceId: string } | InstanceQuery): number {
    return this.store.transaction(() => {
      const targets =
        'instanceId' in query
          ? [this.store.getInstance(query.instanceId)].filter((i): i is InstanceRow => i !== undefined)
          : this.store.queryInstances(query);
      let deleted = 0;
      for (const instance of targets) {
        if (!isTerminal(instance.status)) continue;
        this.store.deleteInstance(instance.instanceId);
        deleted += 1;
      }
      return deleted;
    });
  }

  exists(instanceId: string): boolean {
    return this.store.getInstance(instanceId) !== undefined;
  }

  getStatus(instanceId: string, options: StatusOptions = {}): InstanceStatus | undefined {
    return this.statuses.get(instanceId, options);
  }

  query(
    query: InstanceQuery,
    options: { top?: number; skip?: number; showInput?: boolean } = {},
  ): InstanceStatus[] {
    return this.statuses.query(query, options);
  }
}
