import { ingestInputSchema } from './ingest';

/**
 * Whether a request may start (another generation of) an orchestration, given the instance that already
 * has that id. Pure: the trigger, the HTTP API and the timer look the instance up and act on the answer.
 */

/** Runtime statuses in which an instance still has work to do: nothing may replace it. */
export const ACTIVE_STATUSES = ['Pending', 'Running', 'ContinuedAsNew', 'Suspended'] as const;
/** Terminal statuses an operator replays. */
export const FAILED_STATUSES = ['Failed', 'Terminated', 'Canceled'] as const;

export interface ExistingInstance {
  runtimeStatus: string;
  input: unknown;
}

export type StartDecision =
  | { action: 'start'; generation: number }
  | { action: 'skip'; reason: 'ALREADY_ACTIVE' | 'ALREADY_COMPLETED'; detail: string };

export type ReplayDecision =
  | { action: 'start'; generation: number }
  | { action: 'refuse'; code: 'RUN_NOT_FOUND' | 'RUN_ACTIVE' | 'RUN_INPUT_UNREADABLE'; message: string };

export function isActive(runtimeStatus: string): boolean {
  return (ACTIVE_STATUSES as readonly string[]).includes(runtimeStatus);
}

export function isFailed(runtimeStatus: string): boolean {
  return (FAILED_STATUSES as readonly string[]).includes(runtimeStatus);
}

function generationOf(input: unknown): number | undefined {
  const parsed = ingestInputSchema.safeParse(input);
  if (parsed.success) return parsed.data.generation;
  if (typeof input === 'object' && input !== null && 'generation' in input) {
    const value = input.generation;
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  }
  return undefined;
}

/**
 * A delivered event (or timer) for an id: start generation 0 when the id is new; start the next
 * generation when the earlier one failed (the source re-sent the file, or Event Grid retried after a
 * failure); otherwise start nothing, so duplicate deliveries start one orchestration.
 */
export function decideEventStart(existing: ExistingInstance | undefined): StartDecision {
  if (!existing) return { action: 'start', generation: 0 };
  if (isFailed(existing.runtimeStatus)) {
    return { action: 'start', generation: (generationOf(existing.input) ?? 0) + 1 };
  }
  if (isActive(existing.runtimeStatus)) {
    return { action: 'skip', reason: 'ALREADY_ACTIVE', detail: `instance is ${existing.runtimeStatus}` };
  }
  return { action: 'skip', reason: 'ALREADY_COMPLETED', detail: `instance is ${existing.runtimeStatus}` };
}

/** An operator's replay: refused while the instance runs; otherwise the next generation. */
export function decideReplay(instanceId: string, existing: ExistingInstance | undefined): ReplayDecision {
  if (!existing) return { action: 'refuse', code: 'RUN_NOT_FOUND', message: `no run with id ${instanceId}` };
  if (isActive(existing.runtimeStatus)) {
    return {
      action: 'refuse',
      code: 'RUN_ACTIVE',
      message: `run ${instanceId} is ${existing.runtimeStatus}; replay it once it has ended`,
    };
  }
  const generation = generationOf(existing.input);
  if (generation === undefined) {
    return {
      action: 'refuse',
      code: 'RUN_INPUT_UNREADABLE',
      message: `run ${instanceId} has no readable input to replay`,
    };
  }
  return { action: 'start', generation: generation + 1 };
}
