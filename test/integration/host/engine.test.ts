import { EventType } from '../../../local/host/durable/protocol';
import { behaviour, calls } from '../../fixtures/durable-app/app';
import { START, startTestHost, type TestHost } from './harness';

jest.mock(
  '@azure/functions-core',
  () => jest.requireActual<typeof import('../../../local/host/functionsCore')>('../../../local/host/functionsCore').functionsCoreApi,
  { virtual: true },
);

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
      .filter((e) => [EventType.TaskScheduled, EventType.TaskFailed, EventType.TimerCreated, EventType.TimerFired, EventType.TaskCompleted].includes(e.EventType as 4))
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
});
