import type { Readable } from 'node:stream';

/**
 * The lake as the rest of Lakewatt sees it: containers (`bronze`, `staging`, `quarantine`, `silver`, `gold`,
 * `audit`, and others such as a dead-letter container) holding objects addressed by '/'-separated paths.
 *
 * Two implementations honour one contract (test/integration/lake/lakeStore.contract.ts):
 * - LocalLakeStore: a folder per container on local disk (the embedded default);
 * - AzureBlobLakeStore: Azure Blob Storage through the blob endpoint (ADLS Gen2 HNS accounts in production,
 *   Azurite in tests).
 *
 * Contract, shared by both:
 * - Every container name and path is checked before any I/O (UnsafePathError, see names.ts).
 * - eTags are returned unquoted and accepted quoted or unquoted. Every write produces a new eTag, even for
 *   identical bytes.
 * - Missing objects raise NotFoundError; writes and listings in a container that does not exist raise
 *   NotFoundError too (containers are created by infrastructure, or by `ensureContainer`).
 * - A conditional operation whose eTag does not match raises PreconditionFailedError; if the object is gone
 *   altogether, reads raise NotFoundError and conditional writes PreconditionFailedError.
 * - A create-only operation whose target exists raises AlreadyExistsError. Among concurrent create-only
 *   writers of one path exactly one succeeds, and readers never see a partly written object.
 * - `delete` is idempotent: it returns false when there was nothing to delete.
 */
export interface LakeStore {
  /** Which back-end this is, for logs and decision records. */
  readonly kind: 'local' | 'azure';

  /** Creates the container if it does not exist. Idempotent. */
  ensureContainer(container: string): Promise<void>;

  /**
   * Opens a stream over an object's bytes. With `ifMatch`, the read is pinned to that version: if the object
   * has been replaced, it fails with PreconditionFailedError instead of returning different bytes. The
   * returned properties describe exactly the version being streamed.
   */
  readStream(container: string, path: string, options?: ReadOptions): Promise<LakeReadStream>;

  /** Reads a (small) object whole into memory. Same pinning rules as readStream. */
  read(container: string, path: string, options?: ReadOptions): Promise<LakeObject>;

  /** Writes a new object; fails with AlreadyExistsError if the path already holds one. */
  createOnly(container: string, path: string, data: LakeData, options?: WriteOptions): Promise<WriteResult>;

  /**
   * Writes an object, replacing any existing one. With `ifMatch`, replaces only that version (stale eTag or
   * a missing object: PreconditionFailedError). Metadata and content type are replaced too.
   */
  overwrite(
    container: string,
    path: string,
    data: LakeData,
    options?: WriteOptions & ConditionalOptions,
  ): Promise<WriteResult>;

  /**
   * Lists objects whose path starts with `prefix` (a plain string prefix, as in Blob Storage: 'a/b' matches
   * 'a/b/c' and 'a/bc'), recursively, in lexicographic order of path.
   */
  list(container: string, prefix?: string): AsyncIterable<LakeListEntry>;

  /**
   * Copies an object with its content type and metadata. The destination gets a new eTag. Create-only by
   * default (AlreadyExistsError); `overwrite: true` replaces. `ifMatch` pins the source version.
   */
  copy(from: LakeRef, to: LakeRef, options?: TransferOptions): Promise<WriteResult>;

  /**
   * Moves an object: the destination is written (create-only unless `overwrite`), then the source is deleted
   * only if it is still the version that was copied. A failure part-way leaves the source in place, so no
   * data is lost; at worst both copies exist. Not atomic unless the back-end can rename (see each class).
   */
  move(from: LakeRef, to: LakeRef, options?: TransferOptions): Promise<WriteResult>;

  /**
   * Deletes an object. Returns true if it deleted one, false if there was none (idempotent, so a retry after
   * a timeout does not fail). With `ifMatch`, deletes only that version: a different version raises
   * PreconditionFailedError, no object at all returns false.
   */
  delete(container: string, path: string, options?: ConditionalOptions): Promise<boolean>;

  /** Whether an object exists at the path. False for a missing container. */
  exists(container: string, path: string): Promise<boolean>;

  /** An object's properties and metadata (NotFoundError if missing). */
  properties(container: string, path: string): Promise<LakeProperties>;

  /** Replaces an object's metadata (not its bytes). Returns the new eTag: metadata changes are writes. */
  setMetadata(
    container: string,
    path: string,
    metadata: Record<string, string>,
    options?: ConditionalOptions,
  ): Promise<WriteResult>;
}

/** Bytes to write: a buffer, a UTF-8 string, or a stream (consumed once, never buffered whole). */
export type LakeData = Buffer | string | Readable;

export interface LakeRef {
  container: string;
  path: string;
}

export interface ConditionalOptions {
  /** Only act if the object's current eTag is this one (quoted or unquoted). */
  ifMatch?: string;
}

export type ReadOptions = ConditionalOptions;

export interface WriteOptions {
  /** Metadata keys must be identifiers and values printable ASCII; keys come back lowercase. */
  metadata?: Record<string, string>;
  /** Defaults to application/octet-stream. */
  contentType?: string;
}

export interface TransferOptions extends ConditionalOptions {
  /** Replace an existing destination instead of failing with AlreadyExistsError. */
  overwrite?: boolean;
}

export interface WriteResult {
  /** The eTag of the version just written (unquoted). */
  etag: string;
  lastModified: Date;
}

export interface LakeProperties {
  size: number;
  etag: string;
  lastModified: Date;
  contentType: string;
  metadata: Record<string, string>;
}

export interface LakeListEntry {
  path: string;
  size: number;
  etag: string;
  lastModified: Date;
}

export interface LakeReadStream {
  stream: Readable;
  properties: LakeProperties;
}

export interface LakeObject {
  data: Buffer;
  properties: LakeProperties;
}

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The containers of the lake layout (DESIGN.md). Others, such as a dead-letter container, are allowed. */
export const LAKE_CONTAINERS = ['bronze', 'staging', 'quarantine', 'silver', 'gold', 'audit'] as const;
export type LakeContainer = (typeof LAKE_CONTAINERS)[number];
