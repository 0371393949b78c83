import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

import { calls } from '../../fixtures/durable-app/app';
import { startTestHost, type TestHost } from './harness';

let t: TestHost;
let client: df.DurableClient;

beforeAll(async () => {
  t = await startTestHost();
  const context = new InvocationContext({
    functionName: 'test',
    options: { extraInputs: [df.input.durableClient()] },
  });
  context.extraInputs.set(context.options.extraInputs[0]!, t.host.clientBindingData());
  client = df.getClient(context);
});

afterAll(async () => {
  await t.close();
});

beforeEach(() => {
  calls.length = 0;
});

/** Requests run while the host pumps; wait for the host after each. */
async function settle<T>(promise: Promise<T>): Promise<T> {
  const value = await promise;
  await t.run();
  return value;
}

describe('HTTP functions', () => {
  it('when a GET matches a route with a parameter, then the function answers with it', async () => {
    const response = await fetch(`${t.host.baseUrl}/api/hello/ada?q=1`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ hello: 'ada', q: '1', body: '' });
  });

  it('when a method is not registered for the route, then the host answers 405', async () => {
    const response = await fetch(`${t.host.baseUrl}/api/hello`, { method: 'DELETE' });
    expect(response.status).toBe(405);
  });

  it('when no function serves a path, then the host answers 404', async () => {
    expect((await fetch(`${t.host.baseUrl}/api/nothing-here`)).status).toBe(404);
  });
});

describe('the real DurableClient', () => {
  it('when an HTTP starter starts an orchestration, then its check-status URL reports the result', async () => {
    const response = await settle(
      fetch(`${t.host.baseUrl}/api/orchestrators/chain`, { method: 'POST', body: '2' }),
    );
    expect(response.status).toBe(202);
    const links = (await response.json()) as { id: string; statusQueryGetUri: string };
    expect(links.statusQueryGetUri.startsWith(t.host.baseUrl)).toBe(true);
    const status = (await (await fetch(links.statusQueryGetUri)).json()) as {
      runtimeStatus: string;
      output: number;
    };
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 64 });
  });

  it('when the client starts, raises an event and reads status, then the instance completes', async () => {
    const id = await settle(client.startNew('approval', { instanceId: 'client-approval' }));
    await settle(client.raiseEvent(id, 'approve', 'ada'));
    const status = await client.getStatus(id);
    expect(status.runtimeStatus).toBe(df.OrchestrationRuntimeStatus.Completed);
    expect(status.output).toEqual({ approved: true, by: 'ada' });
  });

  it('when the client queries by status and creation time, then only matching instances return', async () => {
    t.clock.advance(1000);
    const from = new Date(t.clock.now());
    const id = await settle(client.startNew('sleeper', { input: 30 }));
    const running = await client.getStatusBy({
      createdTimeFrom: from,
      runtimeStatus: [df.OrchestrationRuntimeStatus.Running],
    });
    expect(running.map((s) => s.instanceId)).toEqual([id]);
    const old = await client.getStatusBy({ createdTimeTo: new Date(from.getTime() - 1) });
    expect(old.map((s) => s.instanceId)).not.toContain(id);
  });

  it('when the client terminates and purges, then the instance is gone', async () => {
    const id = await settle(client.startNew('sleeper', { input: 30 }));
    await settle(client.terminate(id, 'stop'));
    expect((await client.getStatus(id)).runtimeStatus).toBe(df.OrchestrationRuntimeStatus.Terminated);
    expect((await client.purgeInstanceHistory(id)).instancesDeleted).toBe(1);
    await expect(client.getStatus(id)).rejects.toThrow(/404/);
  });

  it('when the client purges by filter, then finished instances in range are deleted', async () => {
    t.clock.advance(1000);
    const from = new Date(t.clock.now());
    await settle(client.startNew('chain', { input: 1 }));
    const result = await client.purgeInstanceHistoryBy({
      createdTimeFrom: from,
      runtimeStatus: [df.OrchestrationRuntimeStatus.Completed],
    });
    expect(result.instancesDeleted).toBe(1);
  });

  it('when the management API lists more than a page, then the client follows the continuation', async () => {
    t.clock.advance(1000);
    const from = new Date(t.clock.now());
    for (let i = 0; i < 3; i++) await settle(client.startNew('chain', { instanceId: `page-${i}`, input: 1 }));
    const response = await fetch(
      `${t.host.baseUrl}/runtime/webhooks/durabletask/instances?top=2&instanceIdPrefix=page-`,
      { headers: { 'x-functions-key': t.host.key } },
    );
    expect(response.headers.get('x-ms-continuation-token')).toBeTruthy();
    const all = await client.getStatusBy({ createdTimeFrom: from });
    expect(all.length).toBeGreaterThanOrEqual(3);
  });
});

describe('Event Grid webhook', () => {
  const url = (): string =>
    `${t.host.baseUrl}/runtime/webhooks/eventgrid?functionName=onBlobCreated&code=${t.host.key}`;

  it('when a SubscriptionValidation event arrives, then the host answers the validation code', async () => {
    const response = await fetch(url(), {
      method: 'POST',
      headers: { 'aeg-event-type': 'SubscriptionValidation', 'content-type': 'application/json' },
      body: JSON.stringify([
        {
          id: '1',
          eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
          data: { validationCode: 'abc-123', validationUrl: 'https://example.invalid' },
        },
      ]),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ validationResponse: 'abc-123' });
  });

  it('when the aeg-event-type header is missing, then the host answers 400', async () => {
    const response = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[]',
    });
    expect(response.status).toBe(400);
  });

  it('when the function name is unknown, then the host answers 404', async () => {
    const response = await fetch(`${t.host.baseUrl}/runtime/webhooks/eventgrid?functionName=nope`, {
      method: 'POST',
      headers: {
        'aeg-event-type': 'Notification',
        'content-type': 'application/json',
        'x-functions-key': t.host.key,
      },
      body: '[]',
    });
    expect(response.status).toBe(404);
  });

  it('when a notification arrives, then the durable client starter runs the orchestration', async () => {
    const response = await settle(
      fetch(url(), {
        method: 'POST',
        headers: { 'aeg-event-type': 'Notification', 'content-type': 'application/json' },
        body: JSON.stringify([
          {
            id: 'evt-1',
            topic: '/subscriptions/x',
            subject: '/blobServices/default/containers/bronze/blobs/a.csv',
            eventType: 'Microsoft.Storage.BlobCreated',
            eventTime: new Date(t.clock.now()).toISOString(),
            data: { api: 'PutBlob' },
            dataVersion: '',
            metadataVersion: '1',
          },
        ]),
      }),
    );
    expect(response.status).toBe(202);
    expect(t.host.engine.getStatus('blob-evt-1')).toMatchObject({ runtimeStatus: 'Completed', output: 32 });
  });
});
