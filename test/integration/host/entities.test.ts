import { entityInstanceId } from '../../../local/host/durable/entities';
import { EventType } from '../../../local/host/durable/protocol';
import { startTestHost, type TestHost } from './harness';

let t: TestHost;

beforeAll(async () => {
  t = await startTestHost();
});

afterAll(async () => {
  await t.close();
});

const unique = (): string => `k${Math.random().toString(36).slice(2, 10)}`;

describe('durable entities on the local host', () => {
  it('when an orchestration signals then calls an entity, then the call sees every earlier signal', async () => {
    const key = unique();
    const id = t.host.engine.startNew('countTo', { input: key });
    await t.run();
    expect(t.host.engine.getStatus(id)).toMatchObject({
      runtimeStatus: 'Completed',
      output: { total: 6, failure: 'error' },
    });
    expect(t.host.engine.readEntityState('tally', key)).toEqual({ state: 6 });
  });

  it('when an orchestration calls an entity, then its history records EventSent and the response', async () => {
    const key = unique();
    const id = t.host.engine.startNew('countTo', { input: key });
    await t.run();
    const history = t.host.store.history(id);
    const sent = history.filter((e) => e.EventType === EventType.EventSent);
    // Three signals and two calls, each numbered by the orchestration's sequence.
    expect(sent.map((e) => e.EventId)).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(sent.map((e) => e.InstanceId))).toEqual(new Set([entityInstanceId('tally', key)]));
    const callIds = sent.slice(3).map((e) => (JSON.parse(String(e.Input)) as { id: string }).id);
    const answers = history.filter((e) => e.EventType === EventType.EventRaised).map((e) => e.Name);
    expect(answers).toEqual(callIds);
  });

  it('when a client signals an entity over HTTP, then the state changes and GET reads it back', async () => {
    const key = unique();
    const base = `${t.host.baseUrl}/runtime/webhooks/durabletask/entities/tally/${key}`;
    const posted = await fetch(`${base}?op=add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': t.host.key },
      body: '5',
    });
    expect(posted.status).toBe(202);
    await t.run();
    const read = await fetch(base, { headers: { 'x-functions-key': t.host.key } });
    expect(read.status).toBe(200);
    expect(await read.json()).toBe(5);
  });

  it('when an entity signals another entity, then the target receives the operation', async () => {
    const [from, to] = [unique(), unique()];
    t.host.engine.signalEntity('tally', from, 'add', 7);
    t.host.engine.signalEntity('tally', from, 'forward', to);
    await t.run();
    expect(t.host.engine.readEntityState('tally', to)).toEqual({ state: 7 });
  });

  it('when an entity deletes itself, then reading it finds nothing', async () => {
    const key = unique();
    t.host.engine.signalEntity('tally', key, 'add', 1);
    t.host.engine.signalEntity('tally', key, 'delete', undefined);
    await t.run();
    expect(t.host.engine.readEntityState('tally', key)).toBeUndefined();
  });

  it('when many signals queue up, then they run in batches no larger than the configured size', async () => {
    const key = unique();
    for (let n = 0; n < 120; n++) t.host.engine.signalEntity('tally', key, 'add', 1);
    await t.run();
    expect(t.host.engine.readEntityState('tally', key)).toEqual({ state: 120 });
    const batches = t.logs.filter(
      (l) => l.instanceId === entityInstanceId('tally', key) && /ran \d+ operation/.test(l.message),
    );
    expect(batches.map((l) => Number(/ran (\d+)/.exec(l.message)![1]))).toEqual([50, 50, 20]);
  });

  it('when an activity declares a durable client, then it can raise an event to another orchestration', async () => {
    const waiter = t.host.engine.startNew('waitForPoke', { instanceId: `w-${unique()}` });
    await t.run();
    const poker = t.host.engine.startNew('poke', { input: { instanceId: waiter, value: { hi: 1 } } });
    await t.run();
    expect(t.host.engine.getStatus(poker)?.output).toBe('sent');
    expect(t.host.engine.getStatus(waiter)).toMatchObject({ runtimeStatus: 'Completed', output: { hi: 1 } });
  });
});
