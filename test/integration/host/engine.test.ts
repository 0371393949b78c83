import { EventType } from '../../../local/host/durable/protocol';
import { behaviour, calls } from '../../fixtures/durable-app/app';
import { startTestHost, type TestHost } from './harness';

let t: TestHost;

beforeAll(async () => {
  t = await startTestHost();
});

afterAll(async () => {
  await t.close();
});

beforeEach(() => {
  calls.length = 0;
  behaviour.failuresLeft = 0;
});

const types = (id: string): number[] => t.host.store.history(id).map((e) => e.EventType);

describe('durable engine', () => {
  it('when an activity chain runs, then it completes with the chained result', async () => {
    const id = t.host.engine.startNew('chain', { input: 1 });
    await t.run();
    expect(t.host.engine.getStatus(id)).toMatchObject({ runtimeStatus: 'Completed', output: 32 });
    expect(calls.map((c) => c.input)).toEqual([1, 2, 4, 8, 16]);
  });

  it('when activities fan out, then every one runs once and the results are aggregated', async () => {
    const id = t.host.engine.startNew('fanOut', { input: [1, 2, 3, 4] });
    await t.run();
    expect(t.host.engine.getStatus(id)?.output).toBe(20);
    expect(calls).toHaveLength(4);
  });

  it('when an activity fails twice under retry, then the history has the framework shape', async () => {
    behaviour.failuresLeft = 2;
    const id = t.host.engine.startNew('retrying', { input: 'a' });
    await t.run(60_000);
    expect(t.host.engine.getStatus(id)?.output).toBe('ok a');
    const scheduling = t.host.store
      .history(id)
      .filter((e) =>
        [
          EventType.TaskScheduled,
          EventType.TaskFailed,
          EventType.TimerCreated,
          EventType.TimerFired,
          EventType.TaskCompleted,
        ].includes(e.EventType as 4),
      )
      .map((e) => [e.EventType, e.EventId === -1 ? (e.TaskScheduledId ?? e.TimerId) : e.EventId]);
    expect(scheduling).toEqual([
      [EventType.TaskScheduled, 0],
      [EventType.TaskFailed, 0],
      [EventType.TimerCreated, 1],
      [EventType.TimerFired, 1],
      [EventType.TaskScheduled, 2],
      [EventType.TaskFailed, 2],
      [EventType.TimerCreated, 3],
      [EventType.TimerFired, 3],
      [EventType.TaskScheduled, 4],
      [EventType.TaskCompleted, 4],
    ]);
  });

  it('when every retry attempt fails, then a final timer precedes the error the orchestrator catches', async () => {
    behaviour.failuresLeft = 5;
    const id = t.host.engine.startNew('retryingTwice');
    await t.run(60_000);
    const status = t.host.engine.getStatus(id);
    expect(status?.output).toMatch(/^caught: Activity function 'flaky' failed: flaky failed on x/);
    const created = t.host.store.history(id).filter((e) => e.EventType === EventType.TimerCreated);
    expect(created.map((e) => e.EventId)).toEqual([1, 3]);
    const fired = t.host.store.history(id).filter((e) => e.EventType === EventType.TimerFired);
    expect(fired.at(-1)?.FireAt).toBe(created.at(-1)?.Timestamp);
  });

  it('when an orchestrator waits on a timer, then it resumes only once the clock reaches the fire time', async () => {
    const id = t.host.engine.startNew('sleeper', { input: 5 });
    await t.run();
    expect(t.host.engine.getStatus(id)?.runtimeStatus).toBe('Running');
    t.clock.advance(5 * 60_000);
    await t.host.whenIdle();
    const status = t.host.engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Completed');
    expect(Date.parse(String(status?.output))).toBeGreaterThanOrEqual(t.clock.now());
  });

  it('when a timer is longer than the maximum short timer, then it is split into segments', async () => {
    const begin = t.clock.now();
    const id = t.host.engine.startNew('sleeper', { input: 10 * 24 * 60 });
    await t.run(11 * 86_400_000);
    expect(t.host.engine.getStatus(id)?.runtimeStatus).toBe('Completed');
    const fireAts = t.host.store
      .history(id)
      .filter((e) => e.EventType === EventType.TimerCreated)
      .map((e) => (Date.parse(String(e.FireAt)) - begin) / 86_400_000);
    expect(fireAts).toEqual([3, 6, 10]);
  });

  it('when the external event arrives before the timeout, then the timer is cancelled and the event wins', async () => {
    const id = t.host.engine.startNew('approval');
    await t.run();
    t.clock.advance(60_000);
    expect(t.host.engine.raiseEvent(id, 'approve', 'ops')).toBe('accepted');
    await t.run();
    expect(t.host.engine.getStatus(id)?.output).toEqual({ approved: true, by: 'ops' });
    expect(t.host.store.nextDueAt()).toBeUndefined();
  });

  it('when the timeout fires before any event, then the timeout path wins', async () => {
    const id = t.host.engine.startNew('approval');
    await t.run(10 * 60_000);
    expect(t.host.engine.getStatus(id)?.output).toEqual({ approved: false });
  });

  it('when sub-orchestrations run with explicit ids, then results and failures reach the parent', async () => {
    const id = t.host.engine.startNew('parent', { instanceId: 'p1' });
    await t.run();
    expect(t.host.engine.getStatus(id)?.output).toEqual({
      a: 6,
      b: 12,
      failure: expect.stringContaining('negative input') as unknown,
    });
    expect(t.host.engine.getStatus('p1:child-a')?.runtimeStatus).toBe('Completed');
    expect(t.host.engine.getStatus('p1:child-bad')?.runtimeStatus).toBe('Failed');
  });

  it('when an orchestrator continues as new, then each generation restarts with fresh history', async () => {
    const id = t.host.engine.startNew('counter', { input: 0 });
    await t.run();
    const status = t.host.engine.getStatus(id);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 3, input: 3, customStatus: { n: 3 } });
    expect(types(id)[1]).toBe(EventType.ExecutionStarted);
    expect(calls.map((c) => c.input)).toEqual([0, 1, 2]);
  });

  it('when an orchestrator throws, then the instance fails with the extension-style message', async () => {
    const id = t.host.engine.startNew('failing');
    await t.run();
    expect(t.host.engine.getStatus(id)).toMatchObject({
      runtimeStatus: 'Failed',
      output: "Orchestrator function 'failing' failed: the orchestrator gave up",
    });
  });

  it('when a replay schedules different work, then the instance fails naming the orchestrator and step', async () => {
    const id = t.host.engine.startNew('nondeterministic');
    await t.run();
    const status = t.host.engine.getStatus(id);
    expect(status?.runtimeStatus).toBe('Failed');
    expect(status?.output).toMatch(
      /Non-deterministic orchestrator 'nondeterministic'.*step 1 in its history is CallActivity double input 1, but the replay scheduled CallActivity double input 2/,
    );
  });

  it('when an instance is terminated, then it stops with the reason and its timer is dropped', async () => {
    const id = t.host.engine.startNew('sleeper', { input: 60 });
    await t.run();
    expect(t.host.engine.terminate(id, 'operator stop')).toBe('accepted');
    await t.run(2 * 3_600_000);
    expect(t.host.engine.getStatus(id)).toMatchObject({
      runtimeStatus: 'Terminated',
      output: 'operator stop',
    });
    expect(types(id).at(-1)).toBe(EventType.ExecutionTerminated);
  });

  it('when a finished instance is purged, then its state is gone', async () => {
    const id = t.host.engine.startNew('chain', { input: 1 });
    await t.run();
    expect(t.host.engine.purge({ instanceId: id })).toBe(1);
    expect(t.host.engine.getStatus(id)).toBeUndefined();
    expect(t.host.store.history(id)).toEqual([]);
  });

  it('when a running instance id is started again, then the start is refused', () => {
    t.host.engine.startNew('sleeper', { instanceId: 'busy', input: 60 });
    expect(() => t.host.engine.startNew('sleeper', { instanceId: 'busy', input: 1 })).toThrow(
      /already exists/,
    );
  });

  it('when an orchestration runs, then its log lines name the instance and the step', async () => {
    const id = t.host.engine.startNew('chain', { input: 1 });
    await t.run();
    expect(t.logs).toContainEqual(
      expect.objectContaining({
        instanceId: id,
        step: expect.stringMatching(/^episode \d+$/) as unknown,
        message: 'orchestration completed',
      }),
    );
  });
});
