import { randomUUID } from 'node:crypto';

import { z } from 'zod';

import { ensureError } from '../../../lib/errors';
import type { CapturedFunction } from '../functionsCore';
import { fromTypedData, invoke, triggerBinding } from '../invoke';
import type { HostLogger } from '../log';
import { EventType, type HistoryEvent } from './protocol';
import type { DurableStore } from './store';

/**
 * Durable Entities on the local backend, as the Durable extension runs them (see
 * shared research `durable-entities.md` §1–§3): an entity is the instance `@name@key`; requests are
 * `EventRaised` messages in its inbox carrying a `RequestMessage`; one invocation of the entity function
 * runs a batch of them; the new state, the responses to calling orchestrations and the signals the
 * operations sent are committed in one SQLite transaction together with the consumed messages, so
 * delivery is exactly once and in order per sender (the extension's ordering window is then zero).
 */

/** The entity's message in the extension's JSON form (`RequestMessage.cs`). */
export interface EntityRequest {
  op: string;
  id: string;
  signal?: boolean;
  /** JSON text of the operation's input. */
  input?: string;
  parent?: string;
  parentExecution?: string;
  Timestamp: string;
  Predecessor: string;
}

const entityStateSchema = z.object({
  entityExists: z.boolean().optional(),
  entityState: z.string().nullable().optional(),
  results: z.array(
    z.object({ isError: z.boolean(), result: z.string().optional(), duration: z.number().optional() }),
  ),
  signals: z.array(
    z.object({
      target: z.object({ name: z.string(), key: z.string() }),
      name: z.string(),
      input: z.string().optional(),
    }),
  ),
});

const ENTITY_PREFIX = '@';

export function isEntityInstance(instanceId: string): boolean {
  return instanceId.startsWith(ENTITY_PREFIX);
}

/** `@name@key` with the name lower-cased, as the extension's `EntityId` does. */
export function entityInstanceId(name: string, key: string): string {
  return `${ENTITY_PREFIX}${name.toLowerCase()}${ENTITY_PREFIX}${key}`;
}

export function parseEntityInstanceId(instanceId: string): { name: string; key: string } {
  const at = instanceId.indexOf(ENTITY_PREFIX, 1);
  if (!isEntityInstance(instanceId) || at < 0) throw new Error(`'${instanceId}' is not an entity id.`);
  return { name: instanceId.slice(1, at), key: instanceId.slice(at + 1) };
}

/** A request message event for an entity's inbox. */
export function requestEvent(request: EntityRequest, at: number): HistoryEvent {
  return {
    EventType: EventType.EventRaised,
    EventId: -1,
    IsPlayed: false,
    Timestamp: new Date(at).toISOString(),
    Name: request.op,
    Input: JSON.stringify(request),
  };
}

export function newRequest(
  op: string,
  input: unknown,
  at: number,
  from?: { parent: string; parentExecution?: string; signal: boolean },
): EntityRequest {
  const stamp = new Date(at).toISOString();
  const request: EntityRequest = { op, id: randomUUID(), Timestamp: stamp, Predecessor: stamp };
  if (from?.signal !== false) request.signal = true;
  // The SDK sends `undefined` inputs as absent; falsy values other than undefined travel as JSON.
  if (input !== undefined) request.input = JSON.stringify(input);
  if (from) {
    request.parent = from.parent;
    if (from.parentExecution !== undefined) request.parentExecution = from.parentExecution;
  }
  return request;
}

export interface EntityRunnerOptions {
  store: DurableStore;
  logger: HostLogger;
  now: () => number;
  functions: () => ReadonlyMap<string, CapturedFunction>;
  /** host.json `maxEntityOperationBatchSize`: 50 on Consumption, 5,000 on Premium / Dedicated. */
  maxBatch: number;
  /** Delay before a batch whose invocation crashed is tried again. */
  retryDelayMs?: number;
}

/** Runs entity batches; the engine calls it when the oldest visible message is for an entity. */
export class EntityRunner {
  constructor(private readonly options: EntityRunnerOptions) {}

  private entityFunction(name: string): CapturedFunction | undefined {
    for (const [registered, fn] of this.options.functions()) {
      if (registered.toLowerCase() !== name) continue;
      try {
        if (triggerBinding(fn).type.toLowerCase() === 'entitytrigger') return fn;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  /** Runs every visible request of the entity (up to the batch size) in one invocation. */
  async runBatch(instanceId: string): Promise<void> {
    const { store, logger } = this.options;
    const now = this.options.now();
    const messages = store
      .instanceMessages(instanceId)
      .filter((m) => m.visibleAt <= now)
      .slice(0, this.options.maxBatch);
    if (messages.length === 0) return;
    const { name, key } = parseEntityInstanceId(instanceId);
    const requests = messages.map((m) => JSON.parse(String(m.event.Input)) as EntityRequest);
    const current = store.getEntity(instanceId);
    const fn = this.entityFunction(name);
    const tags = { functionName: name, instanceId, step: `batch of ${requests.length}` };

    let outcome: z.infer<typeof entityStateSchema>;
    if (!fn) {
      const error = JSON.stringify({ message: `The function '${name}' doesn't exist or is not an entity.` });
      outcome = {
        entityExists: current?.exists ?? false,
        entityState: current?.state ?? null,
        results: requests.map(() => ({ isError: true, result: error })),
        signals: [],
      };
    } else {
      const payload = {
        self: { name, key },
        exists: current?.exists ?? false,
        state: current?.state ?? null,
        batch: requests.map((r) => ({
          name: r.op,
          input: r.input ?? null,
          isSignal: r.signal === true,
          id: r.id,
        })),
      };
      try {
        const result = await invoke(fn, {
          inputData: [{ name: triggerBinding(fn).name, data: { json: JSON.stringify(payload) } }],
          log: logger.forInvocation(tags),
        });
        outcome = entityStateSchema.parse(fromTypedData(result.returnValue));
      } catch (thrown) {
        // As the extension: the batch goes back onto the queue and runs again from the committed state.
        const delay = this.options.retryDelayMs ?? 1000;
        logger.warn(`entity batch failed, retrying in ${delay} ms: ${ensureError(thrown).message}`, tags);
        if (store.db.open)
          store.transaction(() =>
            store.deferMessages(
              messages.map((m) => m.id),
              now + delay,
            ),
          );
        return;
      }
    }

    if (!store.db.open) return;
    store.transaction(() => {
      if (!messages.every((m) => store.deleteMessage(m.id))) {
        throw new Error(`entity ${instanceId}: its messages changed during a batch`);
      }
      store.putEntity(instanceId, outcome.entityExists ?? false, outcome.entityState ?? null, now);
      requests.forEach((request, i) => {
        if (request.signal === true || !request.parent) return;
        const result = outcome.results[i];
        const response: Record<string, unknown> = { result: result?.result ?? null };
        if (result?.isError) response.exceptionType = 'Error';
        this.respond(request, response, now);
      });
      for (const signal of outcome.signals) {
        const target = entityInstanceId(signal.target.name, signal.target.key);
        const input = signal.input ? (JSON.parse(signal.input) as unknown) : undefined;
        const request = newRequest(signal.name, input, now, { parent: instanceId, signal: true });
        store.enqueue(target, '', now, requestEvent(request, now));
      }
    });
    logger.debug(`entity ran ${requests.length} operation(s)`, tags);
  }

  private respond(request: EntityRequest, response: Record<string, unknown>, now: number): void {
    const parent = this.options.store.getInstance(request.parent!);
    // A caller that finished or started over meanwhile no longer waits for this answer.
    if (!parent || parent.executionId !== request.parentExecution) return;
    this.options.store.enqueue(parent.instanceId, parent.executionId, now, {
      EventType: EventType.EventRaised,
      EventId: -1,
      IsPlayed: false,
      Timestamp: new Date(now).toISOString(),
      Name: request.id,
      Input: JSON.stringify(response),
    });
  }
}

/** The message an orchestration's CallEntity / SignalEntity action sends, and its `EventSent` event. */
export function orchestrationRequest(
  action: { instanceId?: string; operation?: string; input?: unknown },
  signal: boolean,
  from: { instanceId: string; executionId: string },
  at: number,
  sequenceId: number,
): { target: string; request: EntityRequest; sent: HistoryEvent } {
  const target = action.instanceId ?? '';
  parseEntityInstanceId(target);
  const request = newRequest(action.operation ?? '', action.input, at, {
    parent: from.instanceId,
    parentExecution: from.executionId,
    signal,
  });
  const sent: HistoryEvent = {
    EventType: EventType.EventSent,
    EventId: sequenceId,
    IsPlayed: false,
    Timestamp: new Date(at).toISOString(),
    InstanceId: target,
    Name: request.op,
    Input: JSON.stringify(request),
  };
  return { target, request, sent };
}
