import { z } from 'zod';

/**
 * The out-of-process wire contract between the Durable extension and durable-functions 3.x
 * (see docs/local-runtime.md and the protocol research): history event types and fields, the
 * orchestrator trigger payload, the `OrchestratorState` the SDK returns, and its actions.
 */

/** DurableTask.Core `EventType` (serialised as an integer). */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
} as const;

export const EVENT_TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(EventType).map(([name, value]) => [value, name]),
);

/** A history event as the host serialises it: PascalCase fields, integer `EventType`. */
export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  [field: string]: unknown;
}

export const historyEventSchema = z
  .object({
    EventType: z.number().int(),
    EventId: z.number().int(),
    IsPlayed: z.boolean(),
    Timestamp: z.string(),
  })
  .catchall(z.unknown());

/** `ActionType` values of durable-functions (`lib/src/actions/ActionType.js`). */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

export const ACTION_TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ActionType).map(([name, value]) => [value, name]),
);

export const retryOptionsSchema = z.object({
  firstRetryIntervalInMilliseconds: z.number().positive(),
  maxNumberOfAttempts: z.number().int().positive(),
  backoffCoefficient: z.number().positive().optional(),
  maxRetryIntervalInMilliseconds: z.number().positive().optional(),
  retryTimeoutInMilliseconds: z.number().positive().optional(),
});
export type RetryOptionsWire = z.infer<typeof retryOptionsSchema>;

export interface WireAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  version?: string;
  retryOptions?: RetryOptionsWire;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  /** The entity operation of CallEntity / SignalEntity. */
  operation?: string;
  compoundActions?: WireAction[];
}

export const actionSchema: z.ZodType<WireAction> = z.lazy(() =>
  z
    .object({
      actionType: z.number().int(),
      functionName: z.string().optional(),
      input: z.unknown().optional(),
      instanceId: z.string().optional(),
      version: z.string().optional(),
      retryOptions: retryOptionsSchema.optional(),
      fireAt: z.union([z.string(), z.date().transform((d) => d.toISOString())]).optional(),
      isCanceled: z.boolean().optional(),
      externalEventName: z.string().optional(),
      operation: z.string().optional(),
      compoundActions: z.array(actionSchema).optional(),
    })
    .loose(),
);

export const orchestratorStateSchema = z.object({
  isDone: z.boolean(),
  actions: z.array(z.array(actionSchema)),
  output: z.unknown().optional(),
  error: z.string().optional(),
  customStatus: z.unknown().optional(),
  schemaVersion: z.number().int(),
});
export type OrchestratorState = z.infer<typeof orchestratorStateSchema>;

export const OUT_OF_PROC_LABEL = '$OutOfProcData$:';

/** Reads the state the SDK appended to a failure message after `$OutOfProcData$:`. */
export function stateFromFailure(message: string): OrchestratorState | undefined {
  const at = message.lastIndexOf(OUT_OF_PROC_LABEL);
  if (at < 0) return undefined;
  const parsed = orchestratorStateSchema.safeParse(JSON.parse(message.slice(at + OUT_OF_PROC_LABEL.length)));
  return parsed.success ? parsed.data : undefined;
}

/** The message part of an orchestrator failure, without the appended state. */
export function failureMessage(message: string): string {
  const at = message.indexOf(`\n\n${OUT_OF_PROC_LABEL}`);
  return at < 0 ? message : message.slice(0, at);
}

/** Leaf actions in the order the SDK numbers them: depth-first through compound actions. */
export function flattenActions(actions: readonly WireAction[]): WireAction[] {
  const out: WireAction[] = [];
  const visit = (action: WireAction): void => {
    if (action.actionType === ActionType.WhenAll || action.actionType === ActionType.WhenAny) {
      for (const child of action.compoundActions ?? []) visit(child);
    } else {
      out.push(action);
    }
  };
  actions.forEach(visit);
  return out;
}

/** Whether the action takes a sequence number (an `EventId`) when it is first scheduled. */
export function takesSequenceNumber(actionType: number): boolean {
  return actionType !== ActionType.WaitForExternalEvent && actionType !== ActionType.ContinueAsNew;
}

/**
 * What the determinism check compares between the history and a replay: everything that defines the
 * scheduled work (type, name, input, fire time, child id), not the cancellation flag.
 */
export function actionSignature(action: WireAction): string {
  return JSON.stringify([
    action.actionType,
    // Entity actions have no function name; their operation takes that place.
    action.functionName ?? action.operation ?? null,
    action.input ?? null,
    action.fireAt ?? null,
    action.instanceId ?? null,
    action.externalEventName ?? null,
  ]);
}

export function describeAction(action: WireAction): string {
  const type = ACTION_TYPE_NAMES[action.actionType] ?? `action ${action.actionType}`;
  const what =
    action.functionName ??
    (action.operation !== undefined ? `${action.instanceId ?? ''} ${action.operation}` : undefined) ??
    action.externalEventName ??
    (action.fireAt ? `at ${action.fireAt}` : undefined);
  const input = action.input === undefined ? '' : ` input ${JSON.stringify(action.input)}`;
  return `${type}${what ? ` ${what}` : ''}${input}`;
}

/** Formats milliseconds as a .NET TimeSpan string (`d.hh:mm:ss`), the form the host sends. */
export function toTimeSpan(ms: number): string {
  const totalSeconds = Math.floor(ms / 1000);
  const days = Math.floor(totalSeconds / 86400);
  const hh = Math.floor((totalSeconds % 86400) / 3600);
  const mm = Math.floor((totalSeconds % 3600) / 60);
  const ss = totalSeconds % 60;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${days}.${pad(hh)}:${pad(mm)}:${pad(ss)}`;
}

/** Activity inputs travel JSON-encoded when they are strings (`Utils.processInput`); the host undoes it. */
export function decodeProcessedInput(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return input;
  }
}

export type RuntimeStatus =
  'Pending' | 'Running' | 'Completed' | 'ContinuedAsNew' | 'Failed' | 'Canceled' | 'Terminated' | 'Suspended';

export const RUNTIME_STATUSES: readonly RuntimeStatus[] = [
  'Pending',
  'Running',
  'Completed',
  'ContinuedAsNew',
  'Failed',
  'Canceled',
  'Terminated',
  'Suspended',
];

export function isTerminal(status: RuntimeStatus): boolean {
  return status === 'Completed' || status === 'Failed' || status === 'Terminated' || status === 'Canceled';
}

export const toIso = (ms: number): string => new Date(ms).toISOString();
/** A payload as the extension stores it: JSON text, `null` for undefined. */
export const toJson = (value: unknown): string => JSON.stringify(value ?? null);
export const fromJson = (text: string | null): unknown =>
  text === null ? null : (JSON.parse(text) as unknown);

/** A new (unplayed) history event; `eventId` is the sequence number of events that take one, else -1. */
export function historyEvent(
  type: number,
  at: number,
  fields: Record<string, unknown> = {},
  eventId = -1,
): HistoryEvent {
  return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: toIso(at), ...fields };
}
