import { randomUUID } from 'node:crypto';

import type { Clock } from '../clock';
import type { CapturedFunction } from '../functionsCore';
import { triggerBinding } from '../invoke';
import type { EpisodePlan } from './planner';
import {
  decodeProcessedInput,
  EventType,
  type HistoryEvent,
  historyEvent,
  isTerminal,
  toJson,
  type WireAction,
} from './protocol';
import { type DurableStore, emptyBook, type InstanceRow, type ParentRef } from './store';

export function isFunctionOfType(fn: CapturedFunction | undefined, type: string): fn is CapturedFunction {
  if (!fn) return false;
  try {
    return triggerBinding(fn).type.toLowerCase() === type.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * Starting, continuing and finishing instances in the store: the started event, child instances, the parent's
 * completion message. Called inside the caller's transaction.
 */
export class InstanceWriter {
  constructor(
    private readonly store: DurableStore,
    private readonly clock: Clock,
    private readonly functions: () => ReadonlyMap<string, CapturedFunction>,
  ) {}

  createChild(child: EpisodePlan['children'][number], now: number): void {
    const existing = this.store.getInstance(child.instanceId);
    const fn = this.functions().get(child.name);
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
        historyEvent(EventType.SubOrchestrationInstanceFailed, now, {
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

  notifyParent(instance: InstanceRow, outcome: { result?: string; failed?: string }): void {
    const parent = instance.parent;
    if (!parent) return;
    const now = this.clock.now();
    const completion =
      outcome.failed === undefined
        ? historyEvent(EventType.SubOrchestrationInstanceCompleted, now, {
            TaskScheduledId: parent.taskId,
            Result: outcome.result ?? 'null',
          })
        : historyEvent(EventType.SubOrchestrationInstanceFailed, now, {
            TaskScheduledId: parent.taskId,
            Reason: outcome.failed,
            Details: '',
          });
    this.store.enqueue(parent.instanceId, parent.executionId, now, completion);
  }

  continueAsNew(next: InstanceRow, action: WireAction, now: number): void {
    const input = decodeProcessedInput(action.input);
    const executionId = randomUUID();
    const keep = this.store
      .instanceMessages(next.instanceId)
      .filter((m) => m.event.EventType === EventType.EventRaised);
    this.store.clearInstance(next.instanceId);
    next.executionId = executionId;
    next.input = toJson(input);
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
    return historyEvent(EventType.ExecutionStarted, now, {
      OrchestrationInstance: { InstanceId: instanceId, ExecutionId: executionId },
      ParentInstance: parent
        ? {
            OrchestrationInstance: { InstanceId: parent.instanceId, ExecutionId: parent.executionId },
            TaskScheduleId: parent.taskId,
          }
        : null,
      Name: name,
      Version: '',
      Input: toJson(input),
      Tags: null,
    });
  }

  insertStarted(
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
      input: toJson(input),
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
}
