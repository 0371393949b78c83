import { randomUUID } from 'node:crypto';

import { ensureError } from '../../../lib/errors';
import type { Clock } from '../clock';
import type { CapturedFunction } from '../functionsCore';
import { fromTypedData, inputBindingsOfType, invoke, triggerBinding } from '../invoke';
import type { HostLogger } from '../log';
import {
  entityInstanceId,
  EntityRunner,
  isEntityInstance,
  newRequest,
  orchestrationRequest,
  requestEvent,
} from './entities';
import {
  actionSignature,
  ActionType,
  decodeProcessedInput,
  describeAction,
  EVENT_TYPE_NAMES,
  EventType,
  failureMessage,
  flattenActions,
  type HistoryEvent,
  isTerminal,
  type OrchestratorState,
  orchestratorStateSchema,
  type RuntimeStatus,
  stateFromFailure,
  toTimeSpan,
  type WireAction,
} from './protocol';
import {
  type DurableStore,
  emptyBook,
  type InboxMessage,
  type InstanceQuery,
  type InstanceRow,
  type ParentRef,
  type RetryChain,
  type RuntimeBook,
  type WorkItem,
} from './store';

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

export interface StatusOptions {
  showHistory?: boolean;
  showHistoryOutput?: boolean;
  showInput?: boolean;
}

/** The status shape of the Durable HTTP API (`GET instances/{id}`). */
export interface InstanceStatus {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: Array<Record<string, unknown>>;
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
const iso = (ms: number): string => new Date(ms).toISOString();
const json = (value: unknown): string => JSON.stringify(value ?? null);
const parseJson = (text: string | null): unknown => (text === null ? null : (JSON.parse(text) as unknown));

function event(type: number, at: number, fields: Record<string, unknown> = {}, eventId = -1): HistoryEvent {
  return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: iso(at), ...fields };
}

function isFunctionOfType(fn: CapturedFunction | undefined, type: string): fn is CapturedFunction {
  if (!fn) return false;
  try {
    return triggerBinding(fn).type.toLowerCase() === type.toLowerCase();
  } catch {
    return false;
  }
}

/** What one episode decided; written in a single transaction. */
interface EpisodePlan {
  events: HistoryEvent[];
  messages: Array<{ instanceId: string; executionId: string; at: number; event: HistoryEvent }>;
  work: Array<{ taskId: number; name: string; input: unknown }>;
  children: Array<{ instanceId: string; name: string; input: unknown; parent: ParentRef }>;
  cancelledTimers: number[];
}

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
        const inputData = [{ name: triggerBinding(fn).name, data: { json: json(item.input) } }];
        for (const name of inputBindingsOfType(fn, 'durableClient')) {
          inputData.push({ name, data: { json: json(this.options.clientBindingData?.() ?? null) } });
        }
        const result = await invoke(fn, {
          inputData,
          log: this.logger.forInvocation(tags),
        });
        outcome = event(EventType.TaskCompleted, this.clock.now(), {
          TaskScheduledId: item.taskId,
          Result: json(fromTypedData(result.returnValue)),
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
    return event(EventType.TaskFailed, this.clock.now(), fields);
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
    const started = event(EventType.OrchestratorStarted, now);
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
        input: parseJson(instance.input),
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

    const plan: EpisodePlan = { events: [], messages: [], work: [], children: [], cancelledTimers: [] };
    const next: InstanceRow = { ...instance, runtime: structuredClone(instance.runtime), updatedAt: now };
    if (incoming.EventType === EventType.ExecutionStarted) next.status = 'Running';
    let failed =
      failure === undefined ? undefined : `Orchestrator function '${instance.name}' failed: ${failure}`;
    let continueAsNew: WireAction | undefined;

    if (state) {
      if (state.customStatus !== undefined) next.customStatus = json(state.customStatus);
      const leaves = flattenActions(state.actions.flat());
      failed ??= this.checkDeterminism(instance, next.runtime, leaves, state.isDone);
      if (failed === undefined) {
        failed = this.bookkeeping(next, incoming, leaves, now, plan);
      }
      if (failed === undefined) {
        failed = this.scheduleNewActions(next, leaves, now, plan);
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
        next.output = json(failed);
        events.push(
          event(EventType.ExecutionCompleted, now, { OrchestrationStatus: 'Failed', Result: json(failed) }),
        );
        this.store.dropPendingWork(instance.instanceId);
        this.notifyParent(instance, { failed });
      } else if (continueAsNew) {
        outcome = 'continued as new';
        this.continueAsNew(next, continueAsNew, now);
      } else if (state?.isDone) {
        outcome = 'completed';
        next.status = 'Completed';
        next.output = json(state.output);
        events.push(
          event(EventType.ExecutionCompleted, now, { OrchestrationStatus: 'Completed', Result: next.output }),
        );
        this.store.dropPendingWork(instance.instanceId);
        this.notifyParent(instance, { result: next.output });
      } else {
        for (const id of plan.cancelledTimers)
          this.store.cancelTimer(instance.instanceId, instance.executionId, id);
        for (const m of plan.messages) this.store.enqueue(m.instanceId, m.executionId, m.at, m.event);
        for (const w of plan.work)
          this.store.addWork(instance.instanceId, instance.executionId, w.taskId, w.name, w.input);
        for (const child of plan.children) this.createChild(child, now);
      }
      if (!continueAsNew) {
        events.push(event(EventType.OrchestratorCompleted, now));
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

  /** The stricter-than-DTFx check: the replay must schedule exactly what its history holds, in order. */
  private checkDeterminism(
    instance: InstanceRow,
    book: RuntimeBook,
    leaves: readonly WireAction[],
    isDone: boolean,
  ): string | undefined {
    const known = book.scheduled;
    for (let i = 0; i < Math.min(known.length, leaves.length); i++) {
      const leaf = leaves[i]!;
      if (actionSignature(leaf) !== known[i]) {
        return this.nonDeterministic(instance, i, describeSignature(known[i]!), describeAction(leaf));
      }
    }
    if (leaves.length < known.length && !isDone) {
      return this.nonDeterministic(
        instance,
        leaves.length,
        describeSignature(known[leaves.length]!),
        'nothing',
      );
    }
    return undefined;
  }

  private nonDeterministic(instance: InstanceRow, index: number, expected: string, got: string): string {
    return (
      `Non-deterministic orchestrator '${instance.name}' (instance '${instance.instanceId}'): ` +
      `step ${index + 1} in its history is ${expected}, but the replay scheduled ${got}. ` +
      'Orchestrator code must not depend on the clock, random numbers, the environment or I/O.'
    );
  }

  /** History the host owes for the incoming event with no action describing it (retries, long timers). */
  private bookkeeping(
    next: InstanceRow,
    incoming: HistoryEvent,
    leaves: readonly WireAction[],
    now: number,
    plan: EpisodePlan,
  ): string | undefined {
    const book = next.runtime;
    const type = incoming.EventType;
    const key =
      type === EventType.TimerFired
        ? incoming.TimerId
        : type === EventType.EventRaised
          ? undefined
          : incoming.TaskScheduledId;
    if (typeof key !== 'number') return undefined;
    const ref = book.tasks[key];
    if (!ref) return undefined;
    delete book.tasks[key];
    if (ref.kind === 'retry-attempt') {
      const chain = book.chains[ref.chain]!;
      if (type === EventType.TaskCompleted || type === EventType.SubOrchestrationInstanceCompleted) {
        delete book.chains[ref.chain];
        return undefined;
      }
      // A failed attempt: DTFx's RetryInterceptor waits on a timer, even after the last attempt.
      let delay = 0;
      if (chain.attempt < chain.maxAttempts) {
        delay = chain.firstIntervalMs * chain.backoff ** (chain.attempt - 1);
        if (chain.maxIntervalMs !== undefined) delay = Math.min(delay, chain.maxIntervalMs);
        if (chain.timeoutMs !== undefined && now + delay > chain.firstAttemptAt + chain.timeoutMs) {
          return (
            `Orchestrator function '${next.name}': the retry timeout of '${chain.name}' ran out. The real host ` +
            'stops retrying without a timer there, which leaves a durable-functions 3.x orchestration waiting ' +
            'forever; use maxNumberOfAttempts instead of retryTimeoutInMilliseconds.'
          );
        }
      }
      const id = book.nextSeq++;
      plan.events.push(event(EventType.TimerCreated, now, { FireAt: iso(now + delay) }, id));
      plan.messages.push({
        instanceId: next.instanceId,
        executionId: next.executionId,
        at: now + delay,
        event: event(EventType.TimerFired, now + delay, { TimerId: id, FireAt: iso(now + delay) }),
      });
      book.tasks[id] = { kind: 'retry-timer', chain: ref.chain };
      return undefined;
    }
    if (ref.kind === 'retry-timer') {
      const chain = book.chains[ref.chain]!;
      if (chain.attempt >= chain.maxAttempts) {
        delete book.chains[ref.chain];
        return undefined;
      }
      chain.attempt += 1;
      const id = this.scheduleTask(
        next,
        chain.actionType,
        chain.name,
        chain.input,
        chain.childInstanceId,
        now,
        plan,
      );
      book.tasks[id] = { kind: 'retry-attempt', chain: ref.chain };
      return undefined;
    }
    // A timer segment fired: the SDK's LongTimerTask adds the next segment while the final time is ahead.
    const final = Date.parse(ref.finalFireAt);
    if (final > now) {
      const id = book.nextSeq++;
      const fireAt = final - now > this.maxShortMs ? now + this.intervalMs : final;
      plan.events.push(event(EventType.TimerCreated, now, { FireAt: iso(fireAt) }, id));
      book.tasks[id] = { kind: 'timer-segment', action: ref.action, finalFireAt: ref.finalFireAt };
      book.timers[ref.action] = id;
      if (!leaves[ref.action]?.isCanceled) {
        plan.messages.push({
          instanceId: next.instanceId,
          executionId: next.executionId,
          at: fireAt,
          event: event(EventType.TimerFired, fireAt, { TimerId: id, FireAt: iso(fireAt) }),
        });
      }
    } else {
      delete book.timers[ref.action];
    }
    return undefined;
  }

  /** Turns the actions past those already in history into history, messages and work. */
  private scheduleNewActions(
    next: InstanceRow,
    leaves: readonly WireAction[],
    now: number,
    plan: EpisodePlan,
  ): string | undefined {
    const book = next.runtime;
    // Timers cancelled since they were scheduled (the SDK flips `isCanceled` on the same action).
    for (const [index, timerId] of Object.entries(book.timers)) {
      if (leaves[Number(index)]?.isCanceled) {
        plan.cancelledTimers.push(timerId);
        delete book.timers[index];
        delete book.tasks[timerId];
      }
    }
    for (let index = book.scheduled.length; index < leaves.length; index++) {
      const action = leaves[index]!;
      book.scheduled.push(actionSignature(action));
      switch (action.actionType) {
        case ActionType.CallActivity:
        case ActionType.CallSubOrchestrator:
          this.scheduleTask(
            next,
            action.actionType,
            action.functionName ?? '',
            action.actionType === ActionType.CallActivity ? decodeProcessedInput(action.input) : action.input,
            action.instanceId,
            now,
            plan,
          );
          break;
        case ActionType.CallActivityWithRetry:
        case ActionType.CallSubOrchestratorWithRetry: {
          const retry = action.retryOptions;
          if (!retry)
            return `Orchestrator function '${next.name}': ${describeAction(action)} has no retry options.`;
          const baseType =
            action.actionType === ActionType.CallActivityWithRetry
              ? ActionType.CallActivity
              : ActionType.CallSubOrchestrator;
          const chain: RetryChain = {
            actionType: baseType,
            name: action.functionName ?? '',
            input: baseType === ActionType.CallActivity ? decodeProcessedInput(action.input) : action.input,
            childInstanceId: action.instanceId,
            maxAttempts: retry.maxNumberOfAttempts,
            firstIntervalMs: retry.firstRetryIntervalInMilliseconds,
            backoff: retry.backoffCoefficient ?? 1,
            maxIntervalMs: retry.maxRetryIntervalInMilliseconds,
            timeoutMs: retry.retryTimeoutInMilliseconds,
            attempt: 1,
            firstAttemptAt: now,
          };
          book.chains[index] = chain;
          const id = this.scheduleTask(
            next,
            baseType,
            chain.name,
            chain.input,
            chain.childInstanceId,
            now,
            plan,
          );
          book.tasks[id] = { kind: 'retry-attempt', chain: index };
          break;
        }
        case ActionType.CreateTimer: {
          const final = Date.parse(action.fireAt ?? '');
          if (Number.isNaN(final))
            return `Orchestrator function '${next.name}': a timer has no valid fireAt.`;
          const id = book.nextSeq++;
          const fireAt = final - now > this.maxShortMs ? now + this.intervalMs : final;
          plan.events.push(event(EventType.TimerCreated, now, { FireAt: iso(fireAt) }, id));
          book.tasks[id] = { kind: 'timer-segment', action: index, finalFireAt: iso(final) };
          if (!action.isCanceled) {
            book.timers[index] = id;
            plan.messages.push({
              instanceId: next.instanceId,
              executionId: next.executionId,
              at: fireAt,
              event: event(EventType.TimerFired, fireAt, { TimerId: id, FireAt: iso(fireAt) }),
            });
          }
          break;
        }
        case ActionType.CallEntity:
        case ActionType.SignalEntity: {
          const id = book.nextSeq++;
          const { target, request, sent } = orchestrationRequest(
            action,
            action.actionType === ActionType.SignalEntity,
            { instanceId: next.instanceId, executionId: next.executionId },
            now,
            id,
          );
          plan.events.push(sent);
          plan.messages.push({
            instanceId: target,
            executionId: '',
            at: now,
            event: requestEvent(request, now),
          });
          break;
        }
        case ActionType.WaitForExternalEvent:
        case ActionType.ContinueAsNew:
          break;
        default:
          return (
            `Orchestrator function '${next.name}': ${describeAction(action)} is not supported by the local ` +
            'host (entity locks and callHttp need the real Durable extension).'
          );
      }
    }
    return undefined;
  }

  /** Schedules one activity or sub-orchestration attempt under the next sequence id. */
  private scheduleTask(
    next: InstanceRow,
    actionType: number,
    name: string,
    input: unknown,
    childInstanceId: string | undefined,
    now: number,
    plan: EpisodePlan,
  ): number {
    const id = next.runtime.nextSeq++;
    if (actionType === ActionType.CallActivity) {
      plan.events.push(
        event(EventType.TaskScheduled, now, { Name: name, Version: '', Input: json(input) }, id),
      );
      plan.work.push({ taskId: id, name, input });
    } else {
      const instanceId = childInstanceId ?? `${next.executionId}:${id}`;
      plan.events.push(
        event(
          EventType.SubOrchestrationInstanceCreated,
          now,
          { Name: name, Version: '', InstanceId: instanceId, Input: json(input) },
          id,
        ),
      );
      plan.children.push({
        instanceId,
        name,
        input,
        parent: { instanceId: next.instanceId, executionId: next.executionId, taskId: id },
      });
    }
    return id;
  }

  private createChild(child: EpisodePlan['children'][number], now: number): void {
    const existing = this.store.getInstance(child.instanceId);
    const fn = this.options.functions().get(child.name);
    let problem: string | undefined;
    if (existing && !isTerminal(existing.status)) {
      problem = `An orchestration with instance id '${child.instanceId}' already exists and is ${existing.status}.`;
    } else if (!isFunctionOfType(fn, 'orchestrationTrigger')) {
      problem = `The function '${child.name}' doesn't exist or is not an orchestrator function.`;
    }
    if (problem) {
      this.store.enqueue(
        child.parent.instanceId,
        child.parent.executionId,
        now,
        event(EventType.SubOrchestrationInstanceFailed, now, {
          TaskScheduledId: child.parent.taskId,
          Reason: problem,
          Details: '',
        }),
      );
      return;
    }
    if (existing) this.store.deleteInstance(child.instanceId);
    this.insertStarted(child.instanceId, child.name, child.input, now, child.parent);
  }

  private notifyParent(instance: InstanceRow, outcome: { result?: string; failed?: string }): void {
    const parent = instance.parent;
    if (!parent) return;
    const now = this.clock.now();
    const completion =
      outcome.failed === undefined
        ? event(EventType.SubOrchestrationInstanceCompleted, now, {
            TaskScheduledId: parent.taskId,
            Result: outcome.result ?? 'null',
          })
        : event(EventType.SubOrchestrationInstanceFailed, now, {
            TaskScheduledId: parent.taskId,
            Reason: outcome.failed,
            Details: '',
          });
    this.store.enqueue(parent.instanceId, parent.executionId, now, completion);
  }

  private continueAsNew(next: InstanceRow, action: WireAction, now: number): void {
    const input = decodeProcessedInput(action.input);
    const executionId = randomUUID();
    const keep = this.store
      .instanceMessages(next.instanceId)
      .filter((m) => m.event.EventType === EventType.EventRaised);
    this.store.clearInstance(next.instanceId);
    next.executionId = executionId;
    next.input = json(input);
    next.output = null;
    next.status = 'Pending';
    next.runtime = emptyBook();
    this.store.enqueue(
      next.instanceId,
      executionId,
      now,
      this.startedEvent(next.instanceId, executionId, next.name, input, now, next.parent),
    );
    for (const m of keep) this.store.enqueue(next.instanceId, executionId, now, m.event);
  }

  private startedEvent(
    instanceId: string,
    executionId: string,
    name: string,
    input: unknown,
    now: number,
    parent: ParentRef | null,
  ): HistoryEvent {
    return event(EventType.ExecutionStarted, now, {
      OrchestrationInstance: { InstanceId: instanceId, ExecutionId: executionId },
      ParentInstance: parent
        ? {
            OrchestrationInstance: { InstanceId: parent.instanceId, ExecutionId: parent.executionId },
            TaskScheduleId: parent.taskId,
          }
        : null,
      Name: name,
      Version: '',
      Input: json(input),
      Tags: null,
    });
  }

  private insertStarted(
    instanceId: string,
    name: string,
    input: unknown,
    now: number,
    parent: ParentRef | null,
  ): void {
    const executionId = randomUUID();
    this.store.insertInstance({
      instanceId,
      name,
      executionId,
      status: 'Pending',
      input: json(input),
      createdAt: now,
      parent,
    });
    this.store.enqueue(
      instanceId,
      executionId,
      now,
      this.startedEvent(instanceId, executionId, name, input, now, parent),
    );
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
      this.insertStarted(instanceId, name, options.input, now, null);
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
        event(EventType.EventRaised, now, { Name: eventName, Input: json(data) }),
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
    return { state: parseJson(entity.state) };
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
        lastOperationTime: iso(e.updatedAt),
        state: parseJson(e.state),
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
        event(EventType.ExecutionTerminated, now, { Input: json(reason) }),
      ]);
      this.store.dropPendingWork(instanceId);
      this.notifyParent(instance, { failed: `Orchestration '${instance.name}' was terminated: ${reason}` });
      this.store.updateInstance({ ...instance, status: 'Terminated', output: json(reason), updatedAt: now });
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
      input: parseJson(instance.input),
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
    const instance = this.store.getInstance(instanceId);
    if (!instance) return undefined;
    const status = this.toStatus(instance, options.showInput !== false);
    if (options.showHistory) {
      status.historyEvents = this.store
        .history(instanceId)
        .map((e) => friendlyEvent(e, options.showHistoryOutput === true));
    }
    return status;
  }

  query(
    query: InstanceQuery,
    options: { top?: number; skip?: number; showInput?: boolean } = {},
  ): InstanceStatus[] {
    return this.store
      .queryInstances(query, options.top ?? -1, options.skip ?? 0)
      .map((i) => this.toStatus(i, options.showInput === true));
  }

  private toStatus(instance: InstanceRow, showInput: boolean): InstanceStatus {
    return {
      name: instance.name,
      instanceId: instance.instanceId,
      runtimeStatus: instance.status,
      input: showInput ? parseJson(instance.input) : null,
      customStatus: parseJson(instance.customStatus),
      output: parseJson(instance.output),
      createdTime: iso(instance.createdAt),
      lastUpdatedTime: iso(instance.updatedAt),
    };
  }
}

function describeSignature(signature: string): string {
  const [actionType, functionName, input, fireAt, instanceId, externalEventName] = JSON.parse(signature) as [
    number,
    string | null,
    unknown,
    string | null,
    string | null,
    string | null,
  ];
  return describeAction({
    actionType,
    functionName: functionName ?? undefined,
    input: input ?? undefined,
    fireAt: fireAt ?? undefined,
    instanceId: instanceId ?? undefined,
    externalEventName: externalEventName ?? undefined,
  });
}

/** History in the management API's readable form: event type names, results only on request. */
function friendlyEvent(e: HistoryEvent, showOutput: boolean): Record<string, unknown> {
  const { EventType: type, IsPlayed: _played, ...rest } = e;
  const out: Record<string, unknown> = { EventType: EVENT_TYPE_NAMES[type] ?? String(type), ...rest };
  if (!showOutput) delete out.Result;
  return out;
}
