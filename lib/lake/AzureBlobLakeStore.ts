import { Readable } from 'node:stream';

import type { BlobClient, BlobServiceClient, Metadata } from '@azure/storage-blob';
import type { DataLakeServiceClient } from '@azure/storage-file-datalake';

import {
  AlreadyExistsError,
  type LakeLocation,
  NotFoundError,
  PreconditionFailedError,
  toError,
} from './errors';
import {
  type ConditionalOptions,
  DEFAULT_CONTENT_TYPE,
  type LakeData,
  type LakeListEntry,
  type LakeObject,
  type LakeProperties,
  type LakeReadStream,
  type LakeRef,
  type LakeStore,
  type ReadOptions,
  type TransferOptions,
  type WriteOptions,
  type WriteResult,
} from './LakeStore';
import {
  assertContainerName,
  assertObjectPath,
  assertPrefix,
  normalizeEtag,
  normalizeMetadata,
  quoteEtag,
} from './names';

export interface AzureBlobLakeStoreOptions {
  /** A client on the account's blob endpoint (identity-based in production, Azurite in tests). */
  blobService: BlobServiceClient;
  /**
   * A client on the DFS endpoint of the same (HNS) account. When given, `move` is an atomic server-side
   * rename; without it (Azurite, flat-namespace accounts) `move` is copy then delete.
   */
  dataLake?: DataLakeServiceClient;
  /** Block size and parallelism of streamed uploads (defaults 4 MiB x 4): the memory a stream write holds. */
  uploadBlockBytes?: number;
  uploadConcurrency?: number;
}

/** HNS accounts list directories as zero-length blobs carrying this metadata flag; they are not objects. */
const HNS_FOLDER_FLAG = 'hdi_isfolder';
const DOWNLOAD_RETRIES = 5;
const COPY_POLL_MS = 500;

/**
 * The lake on Azure Blob Storage, through the blob endpoint only (it serves ADLS Gen2 HNS accounts too, and
 * Blob-API writes raise one BlobCreated event each, PutBlob or PutBlockList).
 *
 * - create-only: `If-None-Match: *` on Put Blob / Put Block List (409 BlobAlreadyExists). A streamed upload
 *   stages blocks, which stay invisible until the conditional commit, so no reader sees a partial object.
 * - pinned reads and compare-and-swap writes: `If-Match: "<eTag>"` (412 ConditionNotMet).
 * - copy: server-side Copy Blob pinned to the source eTag; move: copy, then delete pinned to the same eTag,
 *   or a DFS rename when a DataLake client is given (not testable on Azurite, which has no DFS).
 */
export class AzureBlobLakeStore implements LakeStore {
  readonly kind = 'azure';
  private readonly blobService: BlobServiceClient;
  private readonly dataLake: DataLakeServiceClient | undefined;
  private readonly blockBytes: number;
  private readonly concurrency: number;

  constructor(options: AzureBlobLakeStoreOptions) {
    this.blobService = options.blobService;
    this.dataLake = options.dataLake;
    this.blockBytes = options.uploadBlockBytes ?? 4 * 1024 * 1024;
    this.concurrency = options.uploadConcurrency ?? 4;
  }

  async ensureContainer(container: string): Promise<void> {
    assertContainerName(container);
    await this.blobService.getContainerClient(container).createIfNotExists();
  }

  async readStream(container: string, path: string, options: ReadOptions = {}): Promise<LakeReadStream> {
    const location = { container, path };
    const blob = this.blob(location);
    try {
      const response = await blob.download(0, undefined, {
        conditions: options.ifMatch === undefined ? undefined : { ifMatch: quoteEtag(options.ifMatch) },
        // Retries resume at the offset reached and stay pinned to the eTag of the first response.
        maxRetryRequests: DOWNLOAD_RETRIES,
      });
      const properties = toProperties(response, location);
      const body = response.readableStreamBody;
      if (!body) throw new Error(`Download of ${container}/${path} returned no body`);
      const stream = body instanceof Readable ? body : Readable.from(body);
      return { stream, properties };
    } catch (e) {
      throw await this.mapReadError(e, location);
    }
  }

  async read(container: string, path: string, options: ReadOptions = {}): Promise<LakeObject> {
    const { stream, properties } = await this.readStream(container, path, options);
    const chunks: Buffer[] = [];
    for await (const chunk of stream)
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    return { data: Buffer.concat(chunks), properties };
  }

  async createOnly(
    container: string,
    path: string,
    data: LakeData,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    const location = { container, path };
    try {
      return await this.upload(location, data, options, { ifNoneMatch: '*' });
    } catch (e) {
      const error = toError(e);
      // A streamed upload that lost the race can fail its commit with InvalidBlockList instead of 409: the
      // winner's commit discarded this writer's uncommitted blocks.
      if (errorCode(error) === 'InvalidBlockList' && (await this.exists(container, path))) {
        throw new AlreadyExistsError(location, error);
      }
      throw mapError(error, location);
    }
  }

  async overwrite(
    container: string,
    path: string,
    data: LakeData,
    options: WriteOptions & ConditionalOptions = {},
  ): Promise<WriteResult> {
    const location = { container, path };
    const conditions = options.ifMatch === undefined ? {} : { ifMatch: quoteEtag(options.ifMatch) };
    try {
      return await this.upload(location, data, options, conditions);
    } catch (e) {
      const error = toError(e);
      // With If-Match, a missing blob is a failed precondition (the version we meant to replace is gone).
      if (
        options.ifMatch !== undefined &&
        statusOf(error) === 404 &&
        errorCode(error) !== 'ContainerNotFound'
      ) {
        throw new PreconditionFailedError(location, error);
      }
      throw mapError(error, location);
    }
  }

  async *list(container: string, prefix = ''): AsyncIterable<LakeListEntry> {
    assertContainerName(container);
    assertPrefix(prefix);
    const client = this.blobService.getContainerClient(container);
    const pages = client.listBlobsFlat({ prefix: prefix === '' ? undefined : prefix, includeMetadata: true });
    try {
      for await (const item of pages) {
        if (item.metadata?.[HNS_FOLDER_FLAG] === 'true') continue;
        yield {
          path: item.name,
          size: item.properties.contentLength ?? 0,
          etag: normalizeEtag(item.properties.etag),
          lastModified: item.properties.lastModified,
        };
      }
    } catch (e) {
      throw mapError(e, { container });
    }
  }

  async copy(from: LakeRef, to: LakeRef, options: TransferOptions = {}): Promise<WriteResult> {
    const source = await this.pinnedSource(from, options.ifMatch);
    return this.serverCopy(from, to, source.etag, options.overwrite ?? false);
  }

  async move(from: LakeRef, to: LakeRef, options: TransferOptions = {}): Promise<WriteResult> {
    const source = await this.pinnedSource(from, options.ifMatch);
    if (this.dataLake) return this.rename(from, to, source.etag, options.overwrite ?? false);
    const result = await this.serverCopy(from, to, source.etag, options.overwrite ?? false);
    // Deleting only the version that was copied: if the source changed meanwhile, both stay (no data loss)
    // and the caller hears PreconditionFailed.
    await this.delete(from.container, from.path, { ifMatch: source.etag });
    return result;
  }

  async delete(container: string, path: string, options: ConditionalOptions = {}): Promise<boolean> {
    const location = { container, path };
    const blob = this.blob(location);
    try {
      await blob.delete({
        deleteSnapshots: 'include',
        conditions: options.ifMatch === undefined ? undefined : { ifMatch: quoteEtag(options.ifMatch) },
      });
      return true;
    } catch (e) {
      const error = toError(e);
      if (statusOf(error) === 404) return false;
      if (statusOf(error) === 412 && !(await this.exists(container, path))) return false;
      throw mapError(error, location);
    }
  }

  async exists(container: string, path: string): Promise<boolean> {
    try {
      await this.properties(container, path);
      return true;
    } catch (e) {
      if (e instanceof NotFoundError) return false;
      throw e;
    }
  }

  async properties(container: string, path: string): Promise<LakeProperties> {
    const location = { container, path };
    const blob = this.blob(location);
    try {
      return toProperties(await blob.getProperties(), location);
    } catch (e) {
      throw mapError(e, location);
    }
  }

  async setMetadata(
    container: string,
    path: string,
    metadata: Record<string, string>,
    options: ConditionalOptions = {},
  ): Promise<WriteResult> {
    const location = { container, path };
    const blob = this.blob(location);
    const normalized = normalizeMetadata(metadata);
    try {
      const response = await blob.setMetadata(normalized, {
        conditions: options.ifMatch === undefined ? undefined : { ifMatch: quoteEtag(options.ifMatch) },
      });
      return writeResult(response, location);
    } catch (e) {
      throw await this.mapReadError(e, location);
    }
  }

  // ---- internals -------------------------------------------------------------------------------------

  private blob(location: LakeRef): BlobClient {
    assertContainerName(location.container);
    assertObjectPath(location.path);
    return this.blobService.getContainerClient(location.container).getBlobClient(location.path);
  }

  private async upload(
    location: LakeRef,
    data: LakeData,
    options: WriteOptions,
    conditions: { ifNoneMatch?: string; ifMatch?: string },
  ): Promise<WriteResult> {
    const client = this.blob(location).getBlockBlobClient();
    const common = {
      conditions,
      metadata: normalizeMetadata(options.metadata) as Metadata,
      blobHTTPHeaders: { blobContentType: options.contentType ?? DEFAULT_CONTENT_TYPE },
    };
    if (typeof data === 'string' || Buffer.isBuffer(data)) {
      const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      return writeResult(await client.upload(body, body.length, common), location);
    }
    return writeResult(await client.uploadStream(data, this.blockBytes, this.concurrency, common), location);
  }

  /** The source's current properties, checked against `ifMatch` (NotFound if missing). */
  private async pinnedSource(from: LakeRef, ifMatch: string | undefined): Promise<LakeProperties> {
    const source = await this.properties(from.container, from.path);
    if (ifMatch !== undefined && normalizeEtag(ifMatch) !== source.etag) {
      throw new PreconditionFailedError(from);
    }
    return source;
  }

  /** Server-side Copy Blob of exactly the source version `etag`; metadata and content type travel along. */
  private async serverCopy(
    from: LakeRef,
    to: LakeRef,
    etag: string,
    overwrite: boolean,
  ): Promise<WriteResult> {
    const source = this.blob(from);
    const target = this.blob(to);
    try {
      const poller = await target.beginCopyFromURL(source.url, {
        conditions: overwrite ? undefined : { ifNoneMatch: '*' },
        sourceConditions: { ifMatch: quoteEtag(etag) },
        intervalInMs: COPY_POLL_MS,
      });
      const started = await poller.pollUntilDone();
      if (started.copyStatus === 'success' && started.etag && started.lastModified) {
        return writeResult(started, to);
      }
      const copied = await target.getProperties();
      if (copied.copyStatus !== 'success') {
        throw new Error(
          `Copy to ${to.container}/${to.path} ended ${copied.copyStatus ?? 'without a status'}`,
        );
      }
      return writeResult(copied, to);
    } catch (e) {
      const error = toError(e);
      const status = statusOf(error);
      if (status === 412) throw new PreconditionFailedError(from, error); // the source changed
      if (status === 404 && errorCode(error) === 'ContainerNotFound') {
        throw new NotFoundError({ container: to.container }, error);
      }
      if (status === 404) throw new NotFoundError(from, error); // the source vanished
      throw mapError(error, to);
    }
  }

  /** Atomic rename through the DFS endpoint (HNS accounts only). */
  private async rename(from: LakeRef, to: LakeRef, etag: string, overwrite: boolean): Promise<WriteResult> {
    const dataLake = this.dataLake;
    if (!dataLake) throw new Error('rename needs a DataLake client');
    assertContainerName(to.container);
    assertObjectPath(to.path);
    try {
      await dataLake
        .getFileSystemClient(from.container)
        .getFileClient(from.path)
        .move(to.container, to.path, {
          conditions: { ifMatch: quoteEtag(etag) },
          destinationConditions: overwrite ? undefined : { ifNoneMatch: '*' },
        });
    } catch (e) {
      const error = toError(e);
      if (statusOf(error) === 412) throw new PreconditionFailedError(from, error);
      if (statusOf(error) === 404) throw new NotFoundError(from, error);
      throw mapError(error, to);
    }
    const moved = await this.properties(to.container, to.path);
    return { etag: moved.etag, lastModified: moved.lastModified };
  }

  /** Like mapError, but a 412 on a blob that no longer exists is NotFound (reads of a deleted object). */
  private async mapReadError(e: unknown, location: LakeRef): Promise<Error> {
    const error = toError(e);
    if (statusOf(error) === 412 && !(await this.exists(location.container, location.path))) {
      return new NotFoundError(location, error);
    }
    return mapError(error, location);
  }
}

interface RestErrorShape {
  statusCode?: number;
  code?: string;
  details?: { errorCode?: string };
}

function statusOf(error: Error): number | undefined {
  return (error as RestErrorShape).statusCode;
}

function errorCode(error: Error): string | undefined {
  const shaped = error as RestErrorShape;
  // HEAD responses carry no body: the service's code is then only in details (x-ms-error-code).
  return shaped.details?.errorCode ?? shaped.code;
}

const ALREADY_EXISTS_CODES = new Set(['BlobAlreadyExists', 'PathAlreadyExists']);

/** Maps a Blob service error onto the lake's typed errors; anything else passes through unchanged. */
function mapError(e: unknown, location: LakeLocation): Error {
  const error = toError(e);
  const status = statusOf(error);
  const code = errorCode(error);
  if (status === 404) {
    return code === 'ContainerNotFound'
      ? new NotFoundError({ container: location.container }, error)
      : new NotFoundError(location, error);
  }
  if (status === 409 && code !== undefined && ALREADY_EXISTS_CODES.has(code)) {
    return new AlreadyExistsError(location, error);
  }
  if (status === 412) return new PreconditionFailedError(location, error);
  return error;
}

interface PropertiesResponse {
  contentLength?: number;
  etag?: string;
  lastModified?: Date;
  contentType?: string;
  metadata?: Record<string, string>;
}

function toProperties(response: PropertiesResponse, location: LakeRef): LakeProperties {
  const metadata = { ...(response.metadata ?? {}) };
  if (metadata[HNS_FOLDER_FLAG] === 'true') throw new NotFoundError(location); // a directory, not an object
  if (!response.etag || !response.lastModified) {
    throw new Error(`The Blob service returned no eTag for ${location.container}/${location.path}`);
  }
  return {
    size: response.contentLength ?? 0,
    etag: normalizeEtag(response.etag),
    lastModified: response.lastModified,
    contentType: response.contentType ?? DEFAULT_CONTENT_TYPE,
    metadata,
  };
}

function writeResult(response: { etag?: string; lastModified?: Date }, location: LakeRef): WriteResult {
  if (!response.etag || !response.lastModified) {
    throw new Error(`The Blob service returned no eTag for ${location.container}/${location.path}`);
  }
  return { etag: normalizeEtag(response.etag), lastModified: response.lastModified };
}
