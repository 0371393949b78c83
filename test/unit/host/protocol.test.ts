import {
  actionSignature,
  ActionType,
  decodeProcessedInput,
  failureMessage,
  flattenActions,
  stateFromFailure,
  toTimeSpan,
} from '../../../local/host/durable/protocol';

describe('durable wire protocol helpers', () => {
  it('when compound actions are flattened, then leaves come depth-first in order', () => {
    const leaves = flattenActions([
      { actionType: ActionType.CallActivity, functionName: 'a' },
      {
        actionType: ActionType.WhenAny,
        compoundActions: [
          { actionType: ActionType.WaitForExternalEvent, externalEventName: 'e' },
          {
            actionType: ActionType.WhenAll,
            compoundActions: [{ actionType: ActionType.CreateTimer, fireAt: 'x' }],
          },
        ],
      },
    ]);
    expect(leaves.map((a) => a.actionType)).toEqual([
      ActionType.CallActivity,
      ActionType.WaitForExternalEvent,
      ActionType.CreateTimer,
    ]);
  });

  it('when a timer is cancelled, then its signature for the determinism check is unchanged', () => {
    const timer = {
      actionType: ActionType.CreateTimer,
      fireAt: '2026-01-01T00:00:00.000Z',
      isCanceled: false,
    };
    expect(actionSignature({ ...timer, isCanceled: true })).toBe(actionSignature(timer));
  });

  it('when milliseconds are formatted, then they read as a .NET TimeSpan', () => {
    expect(toTimeSpan(6 * 86_400_000)).toBe('6.00:00:00');
    expect(toTimeSpan(90_061_000)).toBe('1.01:01:01');
  });

  it('when the SDK fails, then the state after $OutOfProcData$ and the message are both read', () => {
    const state = { isDone: false, actions: [[]], error: 'boom', schemaVersion: 2 };
    const message = `boom\n\n$OutOfProcData$:${JSON.stringify(state)}`;
    expect(stateFromFailure(message)).toMatchObject({ error: 'boom', isDone: false });
    expect(failureMessage(message)).toBe('boom');
  });

  it('when a string input was JSON-encoded by the SDK, then the host decodes it once', () => {
    expect(decodeProcessedInput('"abc"')).toBe('abc');
    expect(decodeProcessedInput({ a: 1 })).toEqual({ a: 1 });
  });
});
