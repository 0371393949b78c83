import { buildBlobCreatedEvent, SequencerClock, toCloudEvent } from '../../../lib/events/blobCreatedEvent';
import { deliverEventGridEvents } from '../../../local/events/deliver';
import { startTestHost, type TestHost } from '../host/harness';
import { type ScriptedServer, scriptedServer, unusedPort } from './support';

const FAST = { backoffMs: 5, maxBackoffMs: 20 };
const clock = new SequencerClock();

function landingEvent(name = 'readings.csv'): ReturnType<typeof buildBlobCreatedEvent> {
  return buildBlobCreatedEvent({
    accountName: 'lakewattlocal',
    container: 'bronze',
    path: `landing/meter_readings/headend_utc/2025/10/26/${name}`,
    etag: '0x8DC1234ABCD',
    contentLength: 10,
    contentType: 'text/csv',
    sequencer: clock.next(),
  });
}

describe('deliverEventGridEvents against a scripted webhook', () => {
  let server: ScriptedServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('when the host accepts, then one POST carries the events as a JSON array with the Event Grid headers', async () => {
    server = await scriptedServer([202]);
    const events = [landingEvent('a.csv'), landingEvent('b.csv')];

    const result = await deliverEventGridEvents(server.baseUrl, 'onBlobCreated', events, FAST);

    expect(result).toMatchObject({ ok: true, status: 202, attempts: 1 });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe('/runtime/webhooks/eventgrid?functionName=onBlobCreated');
    expect(request!.headers['aeg-event-type']).toBe('Notification');
    expect(request!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(request!.body)).toEqual(events);
  });

  it('when the host answers 503 twice, then the delivery is retried and succeeds on the third attempt', async () => {
    server = await scriptedServer([503, 503, 202]);

    const result = await deliverEventGridEvents(server.baseUrl, 'onBlobCreated', [landingEvent()], FAST);

    expect(result).toMatchObject({ ok: true, status: 202, attempts: 3 });
    expect(server.requests.map((r) => r.headers['aeg-delivery-count'])).toEqual(['0', '1', '2']);
    expect(new Set(server.requests.map((r) => r.body)).size).toBe(1);
  });

  it('when the host keeps answering 503, then the delivery gives up after maxAttempts with that status', async () => {
    server = await scriptedServer([503]);

    const result = await deliverEventGridEvents(server.baseUrl, 'onBlobCreated', [landingEvent()], {
      ...FAST,
      maxAttempts: 4,
    });

    expect(result).toMatchObject({ ok: false, status: 503, attempts: 4 });
    expect(server.requests).toHaveLength(4);
  });

  it('when the host answers 400, then the delivery is not retried', async () => {
    server = await scriptedServer([400, 202]);

    const result = await deliverEventGridEvents(server.baseUrl, 'onBlobCreated', [landingEvent()], FAST);

    expect(result).toMatchObject({ ok: false, status: 400, attempts: 1 });
    expect(result.body).toContain('status 400');
    expect(server.requests).toHaveLength(1);
  });

  it('when the host answers 404 (unknown function), then the delivery is not retried', async () => {
    server = await scriptedServer([404, 202]);

    const result = await deliverEventGridEvents(server.baseUrl, 'nope', [landingEvent()], FAST);

    expect(result).toMatchObject({ ok: false, status: 404, attempts: 1 });
  });

  it.each([408, 429, 500])('when the host answers %i once, then the delivery is retried', async (status) => {
    server = await scriptedServer([status, 202]);

    const result = await deliverEventGridEvents(server.baseUrl, 'onBlobCreated', [landingEvent()], FAST);

    expect(result).toMatchObject({ ok: true, status: 202, attempts: 2 });
  });

  it('when an attempt gets no answer within timeoutMs, then it is retried', async () => {
    server = await scriptedServer(['hang', 202]);

    const result = await deliverEventGridEvents(server.baseUrl, 'onBlobCreated', [landingEvent()], {
      ...FAST,
      timeoutMs: 200,
    });

    expect(result).toMatchObject({ ok: true, status: 202, attempts: 2 });
  });

  it('when nothing listens, then connection errors are retried and the result has no status', async () => {
    const port = await unusedPort();
    const retries: number[] = [];

    const result = await deliverEventGridEvents(
      `http://127.0.0.1:${port}`,
      'onBlobCreated',
      [landingEvent()],
      {
        ...FAST,
        maxAttempts: 3,
        onRetry: ({ attempt }) => retries.push(attempt),
      },
    );

    expect(result).toMatchObject({ ok: false, status: undefined, attempts: 3 });
    expect(result.error).toMatch(/ECONNREFUSED|fetch failed/);
    expect(retries).toEqual([1, 2]);
  });

  it('when one CloudEvent is delivered, then it goes as a single object with the CloudEvents content type', async () => {
    server = await scriptedServer([202]);
    const cloud = toCloudEvent(landingEvent());

    await deliverEventGridEvents(server.baseUrl, 'onBlobCreated', [cloud], FAST);

    expect(server.requests[0]!.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(JSON.parse(server.requests[0]!.body)).toEqual(cloud);
  });

  it('when there are no events, then nothing is sent', async () => {
    server = await scriptedServer([202]);

    const result = await deliverEventGridEvents(server.baseUrl, 'onBlobCreated', [], FAST);

    expect(result).toMatchObject({ ok: true, attempts: 0 });
    expect(server.requests).toHaveLength(0);
  });
});

describe('deliverEventGridEvents against the local Functions host', () => {
  let t: TestHost;

  beforeAll(async () => {
    t = await startTestHost();
  });

  afterAll(async () => {
    await t.close();
  });

  it('when a built BlobCreated event is delivered, then the host answers 202 and the Event Grid function ran', async () => {
    const event = landingEvent();

    const result = await deliverEventGridEvents(t.host.baseUrl, 'onBlobCreated', [event], {
      ...FAST,
      key: t.host.key,
    });
    await t.run();

    expect(result).toMatchObject({ ok: true, status: 202, attempts: 1 });
    expect(t.host.engine.getStatus(`blob-${event.id}`)).toBeDefined();
  });
});
