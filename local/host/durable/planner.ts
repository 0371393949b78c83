import { orchestrationRequest, requestEvent } from './entities';
import {
  actionSignature,
  ActionType,
  decodeProcessedInput,
  describeAction,
  EventType,
  type HistoryEvent,
  historyEvent,
  toIso,
  toJson,
  type WireAction,
} from './protocol';
import type { InstanceRow, ParentRef, RetryChain, RuntimeBook } from './store';

/** What one episode decided; written in a single transaction. */
export interface EpisodePlan {
  events: HistoryEvent[];
  messages: Array<{ instanceId: string; executionId: string; at: number; event: HistoryEvent }>;
  work: Array<{ taskId: number; name: string; input: unknown }>;
  children: Array<{ instanceId: string; name: string; input: unknown; parent: ParentRef }>;
  cancelledTimers: number[];
}

export function emptyPlan(): EpisodePlan {
  return { events: [], messages: [], work: [], children: [], cancelledTimers: [] };
}

/**
 * Turns an orchestrator's actions into what the Durable Task Framework would write for them: history events,
 * messages (timers, entity requests), activity work and child instances. Pure: it changes only the instance's
 * runtime book and the plan; the engine commits both in one transaction.
 */
export class ActionPlanner {
  /** Timers further out than `maxShortMs` are split into segments of `intervalMs` (the SDK's LongTimerTask). */
  constructor(
    private readonly maxShortMs: number,
    private readonly intervalMs: number,
  ) {}

  /** The stricter-than-DTFx check: the replay must schedule exactly what its history holds, in order. */
  checkDeterminism(
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
  bookkeeping(
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
      plan.events.push(historyEvent(EventType.TimerCreated, now, { FireAt: toIso(now + delay) }, id));
      plan.messages.push({
        instanceId: next.instanceId,
        executionId: next.executionId,
        at: now + delay,
        event: historyEvent(EventType.TimerFired, now + delay, { TimerId: id, FireAt: toIso(now + delay) }),
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
      plan.events.push(historyEvent(EventType.TimerCreated, now, { FireAt: toIso(fireAt) }, id));
      book.tasks[id] = { kind: 'timer-segment', action: ref.action, finalFireAt: ref.finalFireAt };
      book.timers[ref.action] = id;
      if (!leaves[ref.action]?.isCanceled) {
        plan.messages.push({
          instanceId: next.instanceId,
          executionId: next.executionId,
          at: fireAt,
          event: historyEvent(EventType.TimerFired, fireAt, { TimerId: id, FireAt: toIso(fireAt) }),
        });
      }
    } else {
      delete book.timers[ref.action];
    }
    return undefined;
  }

  /** Turns the actions past those already in history into history, messages and work. */
  scheduleNewActions(
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
          plan.events.push(historyEvent(EventType.TimerCreated, now, { FireAt: toIso(fireAt) }, id));
          book.tasks[id] = { kind: 'timer-segment', action: index, finalFireAt: toIso(final) };
          if (!action.isCanceled) {
            book.timers[index] = id;
            plan.messages.push({
              instanceId: next.instanceId,
              executionId: next.executionId,
              at: fireAt,
              event: historyEvent(EventType.TimerFired, fireAt, { TimerId: id, FireAt: toIso(fireAt) }),
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
        historyEvent(EventType.TaskScheduled, now, { Name: name, Version: '', Input: toJson(input) }, id),
      );
      plan.work.push({ taskId: id, name, input });
    } else {
      const instanceId = childInstanceId ?? `${next.executionId}:${id}`;
      plan.events.push(
        historyEvent(
          EventType.SubOrchestrationInstanceCreated,
          now,
          { Name: name, Version: '', InstanceId: instanceId, Input: toJson(input) },
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
