import { compareSequencers, decideBlobCreated, ingestInstanceId } from '../../../lib/events/blobCreated';

const PATH = 'landing/meter_readings/headend_utc/2025/10/26/readings.csv';

function gridEvent(
  overrides: { subject?: string; eventType?: string; data?: Record<string, unknown> } = {},
): unknown {
  return {
    id: 'evt-1',
    eventType: overrides.eventType ?? 'Microsoft.Storage.BlobCreated',
    eventTime: '2025-10-27T06:00:00.1234567Z',
    dataVersion: '',
    metadataVersion: '1',
    topic: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/lake',
    subject: overrides.subject ?? `/blobServices/default/containers/bronze/blobs/${PATH}`,
    data: {
      api: 'PutBlockList',
      eTag: '0x8DC1234ABCD',
      contentType: 'text/csv',
      contentLength: 524288,
      blobType: 'BlockBlob',
      url: `https://lake.blob.core.windows.net/bronze/${PATH}`,
      sequencer: '00000000000004420000000000028963',
      ...overrides.data,
    },
  };
}

describe('decideBlobCreated', () => {
  it('when a completed write lands under bronze/landing, then the file version is ingested', () => {
    expect(decideBlobCreated(gridEvent())).toEqual({
      kind: 'ingest',
      file: {
        container: 'bronze',
        path: PATH,
        etag: '0x8DC1234ABCD',
        dataset: 'meter_readings',
        source: 'headend_utc',
        landingDate: '2025-10-26',
        fileName: 'readings.csv',
        size: 524288,
        sequencer: '00000000000004420000000000028963',
        api: 'PutBlockList',
        eventId: 'evt-1',
        eventTime: '2025-10-27T06:00:00.1234567Z',
      },
    });
  });

  it('when the event comes as a CloudEvent with a quoted eTag and no leading slash, then the same file results', () => {
    const cloud = {
      id: 'evt-2',
      type: 'Microsoft.Storage.BlobCreated',
      specversion: '1.0',
      source: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/lake',
      subject: `blobServices/default/containers/bronze/blobs/${PATH}`,
      time: '2025-10-27T06:00:00Z',
      data: {
        api: 'FlushWithClose',
        eTag: '"0x8DC1234ABCD"',
        contentLength: 10,
        url: `https://lake.dfs.core.windows.net/bronze/${PATH}`,
      },
    };
    const decision = decideBlobCreated(cloud);
    expect(decision.kind === 'ingest' && [decision.file.path, decision.file.etag, decision.file.api]).toEqual(
      [PATH, '0x8DC1234ABCD', 'FlushWithClose'],
    );
  });

  it.each([
    ['a 0-byte CreateFile', gridEvent({ data: { api: 'CreateFile' } }), 'INCOMPLETE_WRITE'],
    ['another event type', gridEvent({ eventType: 'Microsoft.Storage.BlobDeleted' }), 'NOT_BLOB_CREATED'],
    [
      'a blob outside landing/',
      gridEvent({ subject: '/blobServices/default/containers/bronze/blobs/archive/x.csv' }),
      'OUTSIDE_LANDING',
    ],
    [
      'another container',
      gridEvent({ subject: `/blobServices/default/containers/staging/blobs/${PATH}` }),
      'OUTSIDE_LANDING',
    ],
    [
      'a directory',
      gridEvent({ subject: '/blobServices/default/containers/bronze/blobs/landing/meter_readings/' }),
      'DIRECTORY',
    ],
    [
      'a path with ..',
      gridEvent({ subject: '/blobServices/default/containers/bronze/blobs/landing/../etc/2025/01/01/x' }),
      'UNSAFE_PATH',
    ],
    [
      'an unknown dataset',
      gridEvent({
        subject: '/blobServices/default/containers/bronze/blobs/landing/weather/x/2025/01/01/f.csv',
      }),
      'UNKNOWN_DATASET',
    ],
    [
      'a landing path without a date',
      gridEvent({ subject: '/blobServices/default/containers/bronze/blobs/landing/meter_readings/x/f.csv' }),
      'BAD_LANDING_PATH',
    ],
    [
      'an impossible date',
      gridEvent({
        subject: '/blobServices/default/containers/bronze/blobs/landing/prices/x/2025/02/30/f.csv',
      }),
      'BAD_LANDING_PATH',
    ],
    ['data without an eTag', gridEvent({ data: { eTag: undefined } }), 'INVALID_DATA'],
    ['a non-event', { hello: 'world' }, 'NOT_AN_EVENT'],
  ])('when the event is %s, then it is ignored as %s', (_case, event, reason) => {
    const decision = decideBlobCreated(event);
    expect(decision.kind === 'ignore' && decision.reason).toBe(reason);
  });
});

describe('ingestInstanceId', () => {
  const file = { container: 'bronze', path: PATH, etag: '0x8DC1', dataset: 'meter_readings' as const };

  it('when the same version is delivered twice (quoted or not), then the instance id is the same', () => {
    expect(ingestInstanceId({ ...file, etag: '"0x8DC1"' })).toBe(ingestInstanceId(file));
  });

  it('when the file is overwritten (new eTag), then the instance id differs', () => {
    expect(ingestInstanceId({ ...file, etag: '0x8DC2' })).not.toBe(ingestInstanceId(file));
  });

  it('when an id is derived, then it is short and path-free', () => {
    expect(ingestInstanceId(file)).toMatch(/^ingest-meter_readings-[0-9a-f]{32}$/);
  });
});

describe('compareSequencers', () => {
  it('when sequencers differ in length, then they compare as numbers', () => {
    expect(compareSequencers('0000000000000442', '00000000000004420000000000028963')).toBeLessThan(0);
    expect(
      compareSequencers('00000000000000000000000000028963', '00000000000000000000000000028962'),
    ).toBeGreaterThan(0);
    expect(compareSequencers('0042', '42')).toBe(0);
  });
});
