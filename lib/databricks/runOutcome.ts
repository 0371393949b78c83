import {
  KNOWN_LIFE_CYCLE_STATES,
  KNOWN_RESULT_STATES,
  KNOWN_STATUS_STATES,
  type WireRunState,
  type WireRunStatus,
} from './schemas';

/** What a run (or a task run) amounts to for the orchestration. */
export type RunOutcomeKind = 'Running' | 'Succeeded' | 'Failed' | 'Canceled' | 'TimedOut';

export interface RunOutcome {
  kind: RunOutcomeKind;
  /** False only while the run may still change. */
  terminal: boolean;
  /** One line for logs and the audit record: the API's code, type and message where it gave them. */
  reason: string;
  /**
   * The failure came from the platform, not from the job or its data (internal error, cloud failure, a
   * workspace or concurrency limit): a new run of the same input may succeed. Never true for success.
   */
  retryable: boolean;
  /** The raw values the decision was made from, as the API sent them. */
  raw: {
    statusState?: string;
    terminationCode?: string;
    terminationType?: string;
    lifeCycleState?: string;
    resultState?: string;
  };
}

const NON_TERMINAL_LIFE_CYCLE = new Set([
  'QUEUED',
  'PENDING',
  'RUNNING',
  'TERMINATING',
  'BLOCKED',
  'WAITING_FOR_RETRY',
]);
const RETRYABLE_TYPES = new Set(['INTERNAL_ERROR', 'CLOUD_FAILURE']);
const RETRYABLE_CODES = new Set([
  'INTERNAL_ERROR',
  'DRIVER_ERROR',
  'CLUSTER_ERROR',
  'CLOUD_FAILURE',
  'CLUSTER_REQUEST_LIMIT_EXCEEDED',
  'WORKSPACE_RUN_LIMIT_EXCEEDED',
  'MAX_CONCURRENT_RUNS_EXCEEDED',
  'MAX_JOB_QUEUE_SIZE_EXCEEDED',
  'MAX_SPARK_CONTEXTS_EXCEEDED',
]);
const CANCELED_CODES = new Set(['USER_CANCELED', 'CANCELED']);

function isKnown(list: readonly string[], value: string): boolean {
  return list.includes(value);
}

function describe(parts: Array<string | undefined>): string {
  return parts.filter((part): part is string => part !== undefined && part !== '').join(': ');
}

function outcome(
  kind: RunOutcomeKind,
  reason: string,
  raw: RunOutcome['raw'],
  retryable = false,
): RunOutcome {
  return {
    kind,
    terminal: kind !== 'Running',
    reason,
    retryable: kind === 'Succeeded' ? false : retryable,
    raw,
  };
}

function fromTermination(
  code: string,
  type: string | undefined,
  message: string | undefined,
  legacyResult: string | undefined,
  raw: RunOutcome['raw'],
): RunOutcome {
  const reason = describe([type ? `${code} (${type})` : code, message]);
  if (legacyResult === 'TIMEDOUT' || /^TIME_?D?_?OUT$/.test(code)) return outcome('TimedOut', reason, raw);
  if (code === 'SUCCESS') return outcome('Succeeded', reason, raw);
  if (CANCELED_CODES.has(code)) return outcome('Canceled', reason, raw);
  const retryable = RETRYABLE_CODES.has(code) || (type !== undefined && RETRYABLE_TYPES.has(type));
  return outcome('Failed', reason, raw, retryable);
}

function fromLegacy(state: WireRunState | undefined, raw: RunOutcome['raw']): RunOutcome {
  const lifeCycle = state?.life_cycle_state;
  const message = state?.state_message;
  if (lifeCycle === undefined) {
    return outcome(
      'Failed',
      'the run has neither status.termination_details nor state.life_cycle_state',
      raw,
    );
  }
  if (NON_TERMINAL_LIFE_CYCLE.has(lifeCycle)) return outcome('Running', describe([lifeCycle, message]), raw);
  if (lifeCycle === 'INTERNAL_ERROR')
    return outcome('Failed', describe(['INTERNAL_ERROR', message]), raw, true);
  if (!isKnown(KNOWN_LIFE_CYCLE_STATES, lifeCycle)) {
    return outcome('Failed', describe([`unrecognised life_cycle_state ${lifeCycle}`, message]), raw);
  }
  // TERMINATED or SKIPPED: the result state decides.
  const result = state?.result_state;
  const reason = describe([result ? `${lifeCycle}/${result}` : lifeCycle, message]);
  switch (result) {
    case 'SUCCESS':
      return outcome('Succeeded', reason, raw);
    case 'CANCELED':
      return outcome('Canceled', reason, raw);
    case 'TIMEDOUT':
      return outcome('TimedOut', reason, raw);
    case 'MAXIMUM_CONCURRENT_RUNS_REACHED':
      return outcome('Failed', reason, raw, true);
    case undefined:
      return outcome('Failed', `${reason} without a result state`, raw);
    default:
      return outcome(
        'Failed',
        isKnown(KNOWN_RESULT_STATES, result) ? reason : `${reason} (unrecognised result state)`,
        raw,
      );
  }
}

/**
 * Maps the state of a run or a task run to an outcome. Reads the 2.2 `status` object first and falls back to
 * the deprecated `state` fields. Pure: no I/O, total over any input, including values this code has never
 * seen (an unknown terminal code or an unknown state is a failure, never an exception).
 */
export function runOutcome(run: { status?: WireRunStatus; state?: WireRunState }): RunOutcome {
  const { status, state } = run;
  const details = status?.termination_details;
  const raw: RunOutcome['raw'] = {
    statusState: status?.state,
    terminationCode: details?.code,
    terminationType: details?.type,
    lifeCycleState: state?.life_cycle_state,
    resultState: state?.result_state,
  };
  const statusState = status?.state;
  if (statusState !== undefined && statusState !== 'TERMINATED') {
    if (isKnown(KNOWN_STATUS_STATES, statusState)) {
      const why = status?.queue_details?.message ?? state?.state_message;
      return outcome('Running', describe([statusState, why]), raw);
    }
    return outcome('Failed', `unrecognised run status state ${statusState}`, raw);
  }
  if (details?.code !== undefined) {
    return fromTermination(details.code, details.type, details.message, state?.result_state, raw);
  }
  return fromLegacy(state, raw);
}
