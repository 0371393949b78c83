import { runOutcome } from '../../../lib/databricks';

describe('runOutcome', () => {
  it('when status is TERMINATED with code SUCCESS, then the run Succeeded', () => {
    const outcome = runOutcome({
      status: { state: 'TERMINATED', termination_details: { code: 'SUCCESS', type: 'SUCCESS' } },
    });
    expect(outcome).toMatchObject({ kind: 'Succeeded', terminal: true, retryable: false });
  });

  it('when status is RUNNING, then the run is Running and not terminal', () => {
    expect(runOutcome({ status: { state: 'RUNNING' } })).toMatchObject({ kind: 'Running', terminal: false });
  });

  it('when status is QUEUED, then the reason carries the queue message', () => {
    const outcome = runOutcome({
      status: {
        state: 'QUEUED',
        queue_details: { code: 'MAX_CONCURRENT_RUNS_REACHED', message: 'limit reached' },
      },
    });
    expect(outcome).toMatchObject({ kind: 'Running', reason: 'QUEUED: limit reached' });
  });

  it('when the termination code is USER_CANCELED, then the run is Canceled', () => {
    const outcome = runOutcome({
      status: { state: 'TERMINATED', termination_details: { code: 'USER_CANCELED' } },
    });
    expect(outcome.kind).toBe('Canceled');
  });

  it('when the legacy result state is TIMEDOUT, then the run is TimedOut whatever the termination code', () => {
    const outcome = runOutcome({
      status: {
        state: 'TERMINATED',
        termination_details: { code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR' },
      },
      state: { life_cycle_state: 'TERMINATED', result_state: 'TIMEDOUT' },
    });
    expect(outcome.kind).toBe('TimedOut');
  });

  it('when the failure type is INTERNAL_ERROR or CLOUD_FAILURE, then the failure is retryable', () => {
    for (const type of ['INTERNAL_ERROR', 'CLOUD_FAILURE']) {
      const outcome = runOutcome({
        status: { state: 'TERMINATED', termination_details: { code: 'DRIVER_ERROR', type } },
      });
      expect(outcome).toMatchObject({ kind: 'Failed', retryable: true });
    }
  });

  it('when the failure is a CLIENT_ERROR, then it is not retryable and the reason names code, type and message', () => {
    const outcome = runOutcome({
      status: {
        state: 'TERMINATED',
        termination_details: { code: 'RUN_EXECUTION_ERROR', type: 'CLIENT_ERROR', message: 'Task x failed' },
      },
    });
    expect(outcome).toMatchObject({
      kind: 'Failed',
      retryable: false,
      reason: 'RUN_EXECUTION_ERROR (CLIENT_ERROR): Task x failed',
    });
  });

  it('when only the legacy state is present, then TERMINATED/SUCCESS is Succeeded', () => {
    expect(runOutcome({ state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' } }).kind).toBe(
      'Succeeded',
    );
  });

  it('when the legacy life cycle is INTERNAL_ERROR, then the run Failed and is retryable', () => {
    const outcome = runOutcome({
      state: { life_cycle_state: 'INTERNAL_ERROR', state_message: 'driver lost' },
    });
    expect(outcome).toMatchObject({ kind: 'Failed', retryable: true, reason: 'INTERNAL_ERROR: driver lost' });
  });

  it('when the legacy life cycle is PENDING, then the run is Running', () => {
    expect(runOutcome({ state: { life_cycle_state: 'PENDING' } }).kind).toBe('Running');
  });

  it('when the status state is unknown, then it is kept raw and treated as a failure', () => {
    const outcome = runOutcome({ status: { state: 'HIBERNATING' } });
    expect(outcome).toMatchObject({ kind: 'Failed', terminal: true, raw: { statusState: 'HIBERNATING' } });
  });

  it('when the termination code is unknown, then the run Failed with the raw code in the reason', () => {
    const outcome = runOutcome({
      status: { state: 'TERMINATED', termination_details: { code: 'QUANTUM_FLUX' } },
    });
    expect(outcome).toMatchObject({
      kind: 'Failed',
      reason: 'QUANTUM_FLUX',
      raw: { terminationCode: 'QUANTUM_FLUX' },
    });
  });

  it('when the legacy result state is unknown, then the run Failed and the reason says so', () => {
    const outcome = runOutcome({
      state: { life_cycle_state: 'TERMINATED', result_state: 'PARTIALLY_MAYBE' },
    });
    expect(outcome.kind).toBe('Failed');
    expect(outcome.reason).toContain('unrecognised result state');
  });

  it('when neither status nor state is present, then the run Failed', () => {
    expect(runOutcome({}).kind).toBe('Failed');
  });
});
