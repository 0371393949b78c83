import { EventGridDeserializer, isSystemEvent } from '@azure/eventgrid';

import { compareSequencers, decideBlobCreated } from '../../../lib/events/blobCreated';
import {
  buildBlobCreatedEvent,
  SequencerClock,
  sequencerFromEpochNanos,
  toCloudEvent,
} from '../../../lib/events/blobCreatedEvent';

// The documented examples, copied from /work/shared/research/storage-and-event-grid.md §2.1-2.3
// (learn.microsoft.com event-schema-blob-storage and delivery-and-retry), not derived from the code.

/** §2.1: Blob Storage account, Event Grid schema, PutBlob (delivery-and-retry.md). */
const DOC_PUT_BLOB = {
  id: '93902694-901e-008f-6f95-7153a806873c',
  eventTime: '2020-08-13T17:18:13.1647262Z',
  eventType: 'Microsoft.Storage.BlobCreated',
  dataVersion: '',
  metadataVersion: '1',
  topic:
    '/subscriptions/{subscription-id}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/myegteststgfoo',
  subject: '/blobServices/default/containers/deadletter/blobs/myBlobFile.txt',
  data: {
    api: 'PutBlob',
    clientRequestId: 'c0d879ad-88c8-4bbe-8774-d65888dc2038',
    requestId: '93902694-901e-008f-6f95-7153a8000000',
    eTag: '0x8D83FACDC0C3402',
    contentType: 'text/plain',
    contentLength: 0,
    blobType: 'BlockBlob',
    url: 'https://myegteststgfoo.blob.core.windows.net/deadletter/myBlobFile.txt',
    sequencer: '00000000000000000000000000015508000000000005101c',
    storageDiagnostics: { batchId: 'cfb32f79-3006-0010-0095-711faa000000' },
  },
};

/** §2.2: Blob Storage account, CloudEvents 1.0 schema, PutBlockList (event-schema-blob-storage.md). */
const DOC_CLOUD_PUT_BLOCK_LIST = {
  source:
    '/subscriptions/{subscription-id}/resourceGroups/Storage/providers/Microsoft.Storage/storageAccounts/my-storage-account',
  subject: '/blobServices/default/containers/test-container/blobs/new-file.txt',
  type: 'Microsoft.Storage.BlobCreated',
  time: '2017-06-26T18:41:00.9584103Z',
  id: '831e1650-001e-001b-66ab-eeb76e069631',
  data: {
    api: 'PutBlockList',
    clientRequestId: '6d79dbfb-0e37-4fc4-981f-442c9ca65760',
    requestId: '831e1650-001e-001b-66ab-eeb76e000000',
    eTag: '"0x8D4BCC2E4835CD0"',
    contentType: 'text/plain',
    contentLength: 524288,
    blobType: 'BlockBlob',
    // The doc's url says `testcontainer` while its subject says `test-container` (a doc inconsistency).
    url: 'https://my-storage-account.blob.core.windows.net/testcontainer/new-file.txt',
    sequencer: '00000000000004420000000000028963',
    storageDiagnostics: { batchId: 'b68529f3-68cd-4744-baa4-3c0498ec19f0' },
  },
  specversion: '1.0',
};

/** §2.3: ADLS Gen2 account, DFS CreateFile, Event Grid schema. */
const DOC_DFS_CREATE_FILE = {
  topic:
    '/subscriptions/{subscription-id}/resourceGroups/Storage/providers/Microsoft.Storage/storageAccounts/my-storage-account',
  subject: '/blobServices/default/containers/my-file-system/blobs/new-file.txt',
  eventType: 'Microsoft.Storage.BlobCreated',
  eventTime: '2017-06-26T18:41:00.9584103Z',
  id: '831e1650-001e-001b-66ab-eeb76e069631',
  data: {
    api: 'CreateFile',
    clientRequestId: '6d79dbfb-0e37-4fc4-981f-442c9ca65760',
    requestId: '831e1650-001e-001b-66ab-eeb76e000000',
    eTag: '"0x8D4BCC2E4835CD0"',
    contentType: 'text/plain',
    contentLength: 0,
    contentOffset: 0,
    blobType: 'BlockBlob',
    url: 'https://my-storage-account.dfs.core.windows.net/my-file-system/new-file.txt',
    sequencer: '00000000000004420000000000028963',
    storageDiagnostics: { batchId: 'b68529f3-68cd-4744-baa4-3c0498ec19f0' },
  },
  dataVersion: '2',
  metadataVersion: '1',
};

const LANDING_PATH = 'landing/meter_readings/headend_utc/2025/10/26/readings.csv';
const AZURE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;

/** Sorted key paths of a JSON value, so shapes compare field by field whatever the values. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [`${prefix}:${typeof value}`];
  return Object.entries(value)
    .flatMap(([key, child]) => keyPaths(child, prefix === '' ? key : `${prefix}.${key}`))
    .sort();
}

function landingEvent(): ReturnType<typeof buildBlobCreatedEvent> {
  return buildBlobCreatedEvent({
    accountName: 'lakewattlocal',
    container: 'bronze',
    path: LANDING_PATH,
    etag: '0x8DC1234ABCD',
    contentLength: 1234,
    contentType: 'text/csv',
    sequencer: new SequencerClock().next(),
  });
}

describe('buildBlobCreatedEvent', () => {
  it('when built from the inputs of the documented PutBlob example, then it equals that event except for the time digits', () => {
    const built = buildBlobCreatedEvent({
      accountName: 'myegteststgfoo',
      subscriptionId: '{subscription-id}',
      resourceGroup: '{rg}',
      container: 'deadletter',
      path: 'myBlobFile.txt',
      etag: '0x8D83FACDC0C3402',
      etagStyle: 'bare',
      contentLength: 0,
      contentType: 'text/plain',
      api: 'PutBlob',
      sequencer: DOC_PUT_BLOB.data.sequencer,
      id: DOC_PUT_BLOB.id,
      time: new Date('2020-08-13T17:18:13.164Z'),
      requestId: DOC_PUT_BLOB.data.requestId,
      clientRequestId: DOC_PUT_BLOB.data.clientRequestId,
      batchId: DOC_PUT_BLOB.data.storageDiagnostics.batchId,
    });

    expect(built.eventTime).toBe('2020-08-13T17:18:13.1640000Z');
    expect({ ...built, eventTime: DOC_PUT_BLOB.eventTime }).toEqual(DOC_PUT_BLOB);
  });

  it('when built for a DFS CreateFile, then it equals the documented ADLS Gen2 event with dataVersion 2, contentOffset and a dfs url', () => {
    const built = buildBlobCreatedEvent({
      accountName: 'my-storage-account',
      subscriptionId: '{subscription-id}',
      resourceGroup: 'Storage',
      container: 'my-file-system',
      path: 'new-file.txt',
      etag: '0x8D4BCC2E4835CD0',
      contentLength: 0,
      contentType: 'text/plain',
      api: 'CreateFile',
      sequencer: DOC_DFS_CREATE_FILE.data.sequencer,
      id: DOC_DFS_CREATE_FILE.id,
      requestId: DOC_DFS_CREATE_FILE.data.requestId,
      clientRequestId: DOC_DFS_CREATE_FILE.data.clientRequestId,
      batchId: DOC_DFS_CREATE_FILE.data.storageDiagnostics.batchId,
    });

    expect({ ...built, eventTime: DOC_DFS_CREATE_FILE.eventTime }).toEqual(DOC_DFS_CREATE_FILE);
    expect(Object.keys(built)).toEqual(Object.keys(DOC_DFS_CREATE_FILE));
    expect(Object.keys(built.data)).toEqual(Object.keys(DOC_DFS_CREATE_FILE.data));
  });

  it('when ids are not given, then they have the documented shapes: a request id ending in 000000 and an event id sharing its first 30 characters', () => {
    const { id, data } = landingEvent();

    expect(data.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{6}000000$/);
    expect(id.slice(0, 30)).toBe(data.requestId.slice(0, 30));
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(data.clientRequestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('when the time is not given, then eventTime is now with the seven fractional digits Azure writes', () => {
    const before = Date.now();
    const { eventTime } = landingEvent();

    expect(eventTime).toMatch(AZURE_TIME);
    expect(Date.parse(eventTime)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(eventTime)).toBeLessThanOrEqual(Date.now());
  });

  it('when a path has spaces, then the subject carries it as is and the url percent-encodes it', () => {
    const event = buildBlobCreatedEvent({
      accountName: 'lakewattlocal',
      container: 'bronze',
      path: 'landing/prices/x/2025/01/01/day ahead.csv',
      etag: '0x1',
      contentLength: 1,
      contentType: 'text/csv',
      sequencer: '1',
    });

    expect(event.subject).toBe(
      '/blobServices/default/containers/bronze/blobs/landing/prices/x/2025/01/01/day ahead.csv',
    );
    expect(event.data.url).toBe(
      'https://lakewattlocal.blob.core.windows.net/bronze/landing/prices/x/2025/01/01/day%20ahead.csv',
    );
  });

  it('when a local blob endpoint is given, then the url uses it', () => {
    const event = buildBlobCreatedEvent({
      accountName: 'devstoreaccount1',
      container: 'bronze',
      path: 'landing/a.csv',
      etag: '0x1',
      contentLength: 1,
      contentType: 'text/csv',
      sequencer: '1',
      blobEndpoint: 'http://127.0.0.1:10000/devstoreaccount1/',
    });

    expect(event.data.url).toBe('http://127.0.0.1:10000/devstoreaccount1/bronze/landing/a.csv');
  });

  it('when the trigger decides on a built landing event, then it ingests that file version', () => {
    const event = landingEvent();

    const decision = decideBlobCreated(event);

    expect(decision).toMatchObject({
      kind: 'ingest',
      file: {
        container: 'bronze',
        path: LANDING_PATH,
        etag: '0x8DC1234ABCD',
        size: 1234,
        api: 'PutBlob',
        sequencer: event.data.sequencer,
        eventId: event.id,
        eventTime: event.eventTime,
      },
    });
  });

  it('when the Azure SDK deserializer reads a built event, then it accepts it as a BlobCreated system event', async () => {
    const [event] = await new EventGridDeserializer().deserializeEventGridEvents(
      JSON.stringify([landingEvent()]),
    );

    expect(isSystemEvent('Microsoft.Storage.BlobCreated', event!)).toBe(true);
  });
});

describe('toCloudEvent', () => {
  it('when the documented PutBlockList event is converted, then it equals the documented CloudEvents example (url aside)', () => {
    const built = buildBlobCreatedEvent({
      accountName: 'my-storage-account',
      subscriptionId: '{subscription-id}',
      resourceGroup: 'Storage',
      container: 'test-container',
      path: 'new-file.txt',
      etag: '0x8D4BCC2E4835CD0',
      contentLength: 524288,
      contentType: 'text/plain',
      api: 'PutBlockList',
      sequencer: DOC_CLOUD_PUT_BLOCK_LIST.data.sequencer,
      id: DOC_CLOUD_PUT_BLOCK_LIST.id,
      requestId: DOC_CLOUD_PUT_BLOCK_LIST.data.requestId,
      clientRequestId: DOC_CLOUD_PUT_BLOCK_LIST.data.clientRequestId,
      batchId: DOC_CLOUD_PUT_BLOCK_LIST.data.storageDiagnostics.batchId,
    });

    const cloud = toCloudEvent(built);

    expect(cloud.data.url).toBe(
      'https://my-storage-account.blob.core.windows.net/test-container/new-file.txt',
    );
    expect({
      ...cloud,
      time: DOC_CLOUD_PUT_BLOCK_LIST.time,
      data: { ...cloud.data, url: DOC_CLOUD_PUT_BLOCK_LIST.data.url },
    }).toEqual(DOC_CLOUD_PUT_BLOCK_LIST);
    expect(keyPaths(cloud)).toEqual(keyPaths(DOC_CLOUD_PUT_BLOCK_LIST));
  });

  it('when the trigger decides on the CloudEvent form, then it ingests the same file version as from the Event Grid form', () => {
    const event = landingEvent();

    const fromGrid = decideBlobCreated(event);
    const fromCloud = decideBlobCreated(toCloudEvent(event));

    expect(fromCloud.kind).toBe('ingest');
    expect(fromCloud).toEqual(fromGrid);
  });

  it('when the Azure SDK deserializer reads the CloudEvent form, then it accepts it as a BlobCreated system event', async () => {
    const [event] = await new EventGridDeserializer().deserializeCloudEvents(
      JSON.stringify([toCloudEvent(landingEvent())]),
    );

    expect(isSystemEvent('Microsoft.Storage.BlobCreated', event!)).toBe(true);
  });
});

describe('SequencerClock', () => {
  it('when a clock issues many sequencers, then each is greater than the one before, as strings and by compareSequencers', () => {
    const clock = new SequencerClock();
    const issued = Array.from({ length: 2000 }, () => clock.next());

    for (let i = 1; i < issued.length; i++) {
      expect(compareSequencers(issued[i - 1]!, issued[i]!)).toBeLessThan(0);
      expect(issued[i - 1]! < issued[i]!).toBe(true);
    }
    expect(issued[0]).toMatch(/^[0-9a-f]{32}$/);
  });

  it('when a second clock is created after the first, then its first sequencer is greater than the last of the first', () => {
    const first = new SequencerClock();
    let last = '';
    for (let i = 0; i < 100; i++) last = first.next();

    const second = new SequencerClock();

    expect(compareSequencers(last, second.next())).toBeLessThan(0);
  });

  it('when a clock starts, then its sequencers are the current time in nanoseconds, so a restarted process continues above', () => {
    const lower = sequencerFromEpochNanos(BigInt(Date.now() - 1000) * 1_000_000n);

    const issued = new SequencerClock().next();

    const upper = sequencerFromEpochNanos(BigInt(Date.now() + 1000) * 1_000_000n);
    expect(issued > lower && issued < upper).toBe(true);
  });

  it('when seeded with a persisted sequencer ahead of the time, then it issues sequencers above it', () => {
    const persisted = sequencerFromEpochNanos(BigInt(Date.now() + 3_600_000) * 1_000_000n);

    const issued = new SequencerClock({ after: persisted }).next();

    expect(compareSequencers(persisted, issued)).toBeLessThan(0);
  });

  it('when the time source stands still, then sequencers still increase', () => {
    const clock = new SequencerClock({ now: () => 5n });

    expect([clock.next(), clock.next(), clock.next()]).toEqual([
      sequencerFromEpochNanos(5n),
      sequencerFromEpochNanos(6n),
      sequencerFromEpochNanos(7n),
    ]);
  });
});
