import { randomBytes, randomUUID } from 'node:crypto';

import { normalizeEtag, quoteEtag } from '../lake/names';

/**
 * Building the `Microsoft.Storage.BlobCreated` event Azure Storage would send for a blob write, in the Event
 * Grid schema and in CloudEvents 1.0 (docs/local-runtime.md "Events"; shapes from
 * learn.microsoft.com/azure/event-grid/event-schema-blob-storage and delivery-and-retry.md). The local
 * runtime emits these for files dropped into the local lake, so the Event Grid trigger sees exactly what it
 * sees in Azure. Pure apart from random ids and the clock (both injectable).
 */

/** `data.api` values Azure Storage reports for BlobCreated. */
export type BlobCreatedApi =
  'PutBlob' | 'PutBlockList' | 'CopyBlob' | 'CreateFile' | 'FlushWithClose' | 'SftpCreate' | 'SftpCommit';

export const BLOB_CREATED_EVENT_TYPE = 'Microsoft.Storage.BlobCreated';

/** The `data` of a BlobCreated event, fields in the order Azure sends them. */
export interface BlobCreatedData {
  api: BlobCreatedApi;
  clientRequestId: string;
  requestId: string;
  eTag: string;
  contentType: string;
  contentLength: number;
  /** DFS writes only (CreateFile, FlushWithClose). */
  contentOffset?: number;
  blobType: 'BlockBlob';
  url: string;
  sequencer: string;
  storageDiagnostics: { batchId: string };
}

/** An Event Grid schema event as it travels on the wire (times are strings). */
export interface EventGridEvent<T = BlobCreatedData> {
  topic: string;
  subject: string;
  eventType: string;
  eventTime: string;
  id: string;
  data: T;
  dataVersion: string;
  metadataVersion: '1';
}

/** A CloudEvents 1.0 event as Event Grid delivers it (structured JSON mode). */
export interface CloudEvent<T = BlobCreatedData> {
  source: string;
  subject: string;
  type: string;
  time: string;
  id: string;
  data: T;
  specversion: '1.0';
}

export interface BlobCreatedEventInput {
  /** Storage account name, e.g. `lakewattlocal`. */
  accountName: string;
  container: string;
  /** Path inside the container ('/'-separated, no leading '/'). */
  path: string;
  /** The blob's eTag, quoted or unquoted. */
  etag: string;
  contentLength: number;
  contentType: string;
  /** Default PutBlob (a whole blob written in one request). */
  api?: BlobCreatedApi;
  /** From a SequencerClock: string-comparable, increasing per blob name. */
  sequencer: string;
  /** Event id. Default: derived from the request id, as Azure's are. */
  id?: string;
  /** Event time. Default: now. */
  time?: Date;
  /** Default `https://{account}.blob.core.windows.net` (`.dfs.` for DFS apis). */
  blobEndpoint?: string;
  /** Default a zero GUID: the local lake belongs to no subscription. */
  subscriptionId?: string;
  /** Default `lakewatt-local`. */
  resourceGroup?: string;
  /**
   * How `data.eTag` is written. Azure's documentation shows both: the schema page quotes it
   * (`"\"0x8D4BCC2E4835CD0\""`), the delivery examples do not. Default 'quoted'; consumers must accept both.
   */
  etagStyle?: 'quoted' | 'bare';
  /** DFS apis only: where the writer finished. Default 0. */
  contentOffset?: number;
  requestId?: string;
  clientRequestId?: string;
  batchId?: string;
}

/** The subscription id of the local topic: the local lake belongs to no Azure subscription. */
export const LOCAL_SUBSCRIPTION_ID = '00000000-0000-0000-0000-000000000000';
export const LOCAL_RESOURCE_GROUP = 'lakewatt-local';

const DFS_APIS: ReadonlySet<BlobCreatedApi> = new Set(['CreateFile', 'FlushWithClose']);
const SFTP_APIS: ReadonlySet<BlobCreatedApi> = new Set(['SftpCreate', 'SftpCommit']);

/** The resource id Azure uses as `topic` (Event Grid schema) and `source` (CloudEvents). */
export function storageAccountTopic(
  accountName: string,
  subscriptionId = LOCAL_SUBSCRIPTION_ID,
  resourceGroup = LOCAL_RESOURCE_GROUP,
): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Storage/storageAccounts/${accountName}`;
}

/** `/blobServices/default/containers/{container}/blobs/{path}`, the path as is (not URL-encoded). */
export function blobSubject(container: string, path: string): string {
  return `/blobServices/default/containers/${container}/blobs/${path}`;
}

/**
 * The event Azure Storage sends, in the Event Grid schema, for a write of `input.path`. `dataVersion` is
 * `""` for Blob API writes, `"2"` for DFS writes (which also carry `contentOffset` and a `.dfs.` url) and
 * `"3"` for SFTP, as documented.
 */
export function buildBlobCreatedEvent(input: BlobCreatedEventInput): EventGridEvent {
  const api = input.api ?? 'PutBlob';
  const dfs = DFS_APIS.has(api);
  const requestId = input.requestId ?? azureRequestId();
  const endpoint = (
    input.blobEndpoint ?? `https://${input.accountName}.${dfs ? 'dfs' : 'blob'}.core.windows.net`
  ).replace(/\/+$/, '');
  const url = `${endpoint}/${input.container}/${input.path.split('/').map(encodeURIComponent).join('/')}`;
  const etag = normalizeEtag(input.etag);
  const data: BlobCreatedData = {
    api,
    clientRequestId: input.clientRequestId ?? randomUUID(),
    requestId,
    eTag: (input.etagStyle ?? 'quoted') === 'quoted' ? quoteEtag(etag) : etag,
    contentType: input.contentType,
    contentLength: input.contentLength,
    ...(dfs ? { contentOffset: input.contentOffset ?? 0 } : {}),
    blobType: 'BlockBlob',
    url,
    sequencer: input.sequencer,
    storageDiagnostics: { batchId: input.batchId ?? randomUUID() },
  };
  return {
    topic: storageAccountTopic(input.accountName, input.subscriptionId, input.resourceGroup),
    subject: blobSubject(input.container, input.path),
    eventType: BLOB_CREATED_EVENT_TYPE,
    eventTime: azureTimestamp(input.time ?? new Date()),
    id: input.id ?? eventIdFor(requestId),
    data,
    dataVersion: dfs ? '2' : SFTP_APIS.has(api) ? '3' : '',
    metadataVersion: '1',
  };
}

/** The same event in the CloudEvents 1.0 schema: `source`/`type`/`time`/`specversion`, no `dataVersion`. */
export function toCloudEvent<T>(event: EventGridEvent<T>): CloudEvent<T> {
  return {
    source: event.topic,
    subject: event.subject,
    type: event.eventType,
    time: event.eventTime,
    id: event.id,
    data: event.data,
    specversion: '1.0',
  };
}

/** Azure's timestamp form: seven fractional digits (`2017-06-26T18:41:00.9584103Z`). */
export function azureTimestamp(time: Date): string {
  return time.toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** A request id shaped like Azure Storage's: a GUID ending in six zeros. */
function azureRequestId(): string {
  return `${randomUUID().slice(0, 30)}000000`;
}

/** Azure's event ids share the request id's first 30 characters, with six other hex digits. */
function eventIdFor(requestId: string): string {
  return `${requestId.slice(0, 30)}${randomBytes(3).toString('hex')}`;
}

// ---- sequencer ----------------------------------------------------------------------------------------

/** Width of the sequencers this module produces, in hex digits (Azure's examples have 32 or 48). */
export const SEQUENCER_DIGITS = 32;

/** The sequencer of nanoseconds since the epoch: 32 lowercase hex digits. */
export function sequencerFromEpochNanos(nanos: bigint): string {
  return nanos.toString(16).padStart(SEQUENCER_DIGITS, '0');
}

/**
 * Nanoseconds since the epoch, from the wall clock (millisecond resolution; the clock's +1 steps order
 * sequencers within a millisecond). Not the monotonic high-resolution clock anchored at process start: that
 * drifts from the wall clock over a long-running process (CI saw > 1 s after 30 minutes), and a restarted
 * process must continue above the wall-clock time the old one reached.
 */
function epochNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

// The highest sequencer any clock on the default time source has issued in this process: clocks created one
// after the other never go backwards, even within the resolution of the time source.
let processHighWater = 0n;

export interface SequencerClockOptions {
  /**
   * Every sequencer issued is greater than this one (e.g. the last one persisted before a restart), even if
   * the wall clock went backwards since.
   */
  after?: string;
  /** Nanoseconds since the epoch (tests). Default: the process's high-resolution clock. */
  now?: () => bigint;
}

/**
 * Issues strictly increasing `sequencer` strings, comparable with `compareSequencers` (and as plain
 * strings: fixed width, lowercase hex). Seeded from the time, in nanoseconds since the epoch, so a new
 * clock after a restart continues above the old one's values as long as the wall clock did not go back;
 * `after` covers that case too.
 */
export class SequencerClock {
  private last: bigint;
  private readonly now: () => bigint;
  private readonly shared: boolean;

  constructor(options: SequencerClockOptions = {}) {
    this.now = options.now ?? epochNanos;
    this.shared = options.now === undefined;
    this.last = options.after === undefined ? -1n : parseSequencer(options.after);
  }

  next(): string {
    let value = this.now();
    if (value <= this.last) value = this.last + 1n;
    if (this.shared) {
      if (value <= processHighWater) value = processHighWater + 1n;
      processHighWater = value;
    }
    this.last = value;
    return sequencerFromEpochNanos(value);
  }
}

function parseSequencer(sequencer: string): bigint {
  if (!/^[0-9a-fA-F]{1,64}$/.test(sequencer)) {
    throw new RangeError(`sequencer ${JSON.stringify(sequencer)} is not hexadecimal`);
  }
  return BigInt(`0x${sequencer}`);
}
