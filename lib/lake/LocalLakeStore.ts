import { createHash, randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { constants as fsConstants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

import {
  AlreadyExistsError,
  errnoCode,
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
import { PathLocks } from './localLock';
import {
  assertContainerName,
  assertObjectPath,
  assertPrefix,
  normalizeEtag,
  normalizeMetadata,
  RESERVED_SEGMENT_PREFIX,
} from './names';

export interface LocalLakeStoreOptions {
  /** The lake root: one folder per container. */
  root: string;
  /** fsync each written file before it becomes visible (default true; tests may turn it off for speed). */
  fsync?: boolean;
}

/** What the sidecar of one file version records. */
interface Sidecar {
  etag: string;
  size: string;
  mtimeNs: string;
  lastModified: string;
  contentType: string;
  metadata: Record<string, string>;
}

/** A file version as the store sees it: its stat, and what its sidecar (or the stat) says about it. */
interface Version {
  stat: BigIntStats;
  key: string;
  etag: string;
  lastModified: Date;
  contentType: string;
  metadata: Record<string, string>;
}

const STATE_DIR = '.lakewatt';
const TEMP_PREFIX = `${RESERVED_SEGMENT_PREFIX}tmp-`;
// Reads never follow a symbolic link at the last path segment (0 where the platform has no O_NOFOLLOW).
const OPEN_READ = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0);

/**
 * The lake as local folders: `<root>/<container>/<path>` holds an object's raw bytes, so Spark and any
 * other tool read the folders directly.
 *
 * Files are never modified in place: every write goes to a temporary file in the target's folder
 * (`.lakewatt-tmp-*`, hidden from `list`), is flushed, and only then becomes visible, in one atomic step:
 * `link(temp, target)` for create-only (fails with EEXIST, so among concurrent writers exactly one wins) or
 * `rename(temp, target)` for overwrite (under a per-path lock, so the eTag compare-and-swap is race-free).
 *
 * eTag, content type and metadata live in a sidecar keyed by the file's inode
 * (`<root>/.lakewatt/meta/<bucket>/<dev>-<ino>.json`), written before the file becomes visible. A reader
 * opens the file, `fstat`s the descriptor and looks up that inode's sidecar, so the eTag it reports is the
 * eTag of exactly the bytes it streams, with no window where a new file has no eTag yet. The sidecar also
 * records the file's size and mtime: if they differ (the file was changed in place by another tool), or
 * there is no sidecar (a file written by Spark or copied in by hand), the eTag is derived from
 * (device, inode, size, mtime) instead, which still changes whenever the bytes do.
 */
export class LocalLakeStore implements LakeStore {
  readonly kind = 'local';
  private readonly root: string;
  private readonly fsync: boolean;
  private readonly metaDir: string;
  private readonly locks: PathLocks;

  constructor(options: LocalLakeStoreOptions) {
    this.root = path.resolve(options.root);
    this.fsync = options.fsync ?? true;
    this.metaDir = path.join(this.root, STATE_DIR, 'meta');
    this.locks = new PathLocks(path.join(this.root, STATE_DIR, 'locks'));
  }

  async ensureContainer(container: string): Promise<void> {
    assertContainerName(container);
    await fs.mkdir(path.join(this.root, container), { recursive: true });
  }

  async readStream(
    container: string,
    objectPath: string,
    options: ReadOptions = {},
  ): Promise<LakeReadStream> {
    const { handle, version } = await this.openVersion({ container, path: objectPath }, options.ifMatch);
    const stream = handle.createReadStream({ autoClose: true, highWaterMark: 256 * 1024 });
    return { stream, properties: toProperties(version) };
  }

  async read(container: string, objectPath: string, options: ReadOptions = {}): Promise<LakeObject> {
    const { handle, version } = await this.openVersion({ container, path: objectPath }, options.ifMatch);
    try {
      return { data: await handle.readFile(), properties: toProperties(version) };
    } finally {
      await handle.close();
    }
  }

  async createOnly(
    container: string,
    objectPath: string,
    data: LakeData,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    const location = { container, path: objectPath };
    const target = await this.prepareTarget(location);
    const metadata = normalizeMetadata(options.metadata);
    const temp = await this.writeTemp(location, target, data, options.contentType, metadata);
    try {
      await fs.link(temp.file, target);
    } catch (e) {
      await this.discardTemp(temp.file, temp.version.key);
      throw mapWriteError(e, location);
    }
    await fs.unlink(temp.file).catch(() => undefined);
    return { etag: temp.version.etag, lastModified: temp.version.lastModified };
  }

  async overwrite(
    container: string,
    objectPath: string,
    data: LakeData,
    options: WriteOptions & ConditionalOptions = {},
  ): Promise<WriteResult> {
    const location = { container, path: objectPath };
    const target = await this.prepareTarget(location);
    const metadata = normalizeMetadata(options.metadata);
    const temp = await this.writeTemp(location, target, data, options.contentType, metadata);
    try {
      await this.locks.withLocks([lockKey(location)], () =>
        this.replace(location, target, temp.file, options.ifMatch),
      );
    } catch (e) {
      await this.discardTemp(temp.file, temp.version.key);
      throw e;
    }
    return { etag: temp.version.etag, lastModified: temp.version.lastModified };
  }

  async *list(container: string, prefix = ''): AsyncIterable<LakeListEntry> {
    assertContainerName(container);
    assertPrefix(prefix);
    const containerDir = path.join(this.root, container);
    if (!(await isDirectory(containerDir))) throw new NotFoundError({ container });
    const slash = prefix.lastIndexOf('/');
    const startDir = slash < 0 ? '' : prefix.slice(0, slash);
    yield* this.walk(containerDir, startDir, prefix);
  }

  async copy(from: LakeRef, to: LakeRef, options: TransferOptions = {}): Promise<WriteResult> {
    assertContainerName(from.container);
    assertObjectPath(from.path);
    const target = await this.prepareTarget(to);
    const { handle, version } = await this.openVersion(from, options.ifMatch);
    let temp: { file: string; version: Version };
    try {
      temp = await this.writeTemp(
        to,
        target,
        handle.createReadStream({ autoClose: false }),
        version.contentType,
        version.metadata,
      );
    } finally {
      await handle.close();
    }
    try {
      if (options.overwrite) {
        await this.locks.withLocks([lockKey(to)], () => this.replace(to, target, temp.file, undefined));
      } else {
        await fs.link(temp.file, target).catch((e: unknown) => {
          throw mapWriteError(e, to);
        });
        await fs.unlink(temp.file).catch(() => undefined);
      }
    } catch (e) {
      await this.discardTemp(temp.file, temp.version.key);
      throw e;
    }
    return { etag: temp.version.etag, lastModified: temp.version.lastModified };
  }

  /**
   * Local moves are atomic renames of the same inode, so the object keeps its eTag, content type and
   * metadata. Create-only moves use link-then-unlink: between the two steps both names exist (never
   * neither). Across file systems (EXDEV) the move falls back to copy, then delete pinned to the source eTag.
   */
  async move(from: LakeRef, to: LakeRef, options: TransferOptions = {}): Promise<WriteResult> {
    assertContainerName(from.container);
    assertObjectPath(from.path);
    const target = await this.prepareTarget(to);
    const source = this.objectFile(from);
    try {
      return await this.locks.withLocks([lockKey(from), lockKey(to)], async () => {
        const version = await this.currentVersion(from, options.ifMatch);
        if (options.overwrite) {
          const replaced = await this.statIfFile(target);
          const hold = replaced ? await holdInode(target) : undefined;
          try {
            await fs.rename(source, target);
          } catch (e) {
            if (hold) await fs.unlink(hold).catch(() => undefined);
            throw mapWriteError(e, to);
          }
          if (replaced && metaKey(replaced) !== version.key) await this.removeSidecar(metaKey(replaced));
          if (hold) await fs.unlink(hold).catch(() => undefined);
        } else {
          await fs.link(source, target).catch((e: unknown) => {
            throw mapWriteError(e, to);
          });
          await fs.unlink(source);
        }
        return { etag: version.etag, lastModified: version.lastModified };
      });
    } catch (e) {
      if (errnoCode(e) !== 'EXDEV') throw e;
      const sourceVersion = await this.properties(from.container, from.path);
      const ifMatch = options.ifMatch ?? sourceVersion.etag;
      const result = await this.copy(from, to, { ...options, ifMatch });
      await this.delete(from.container, from.path, { ifMatch });
      return result;
    }
  }

  async delete(container: string, objectPath: string, options: ConditionalOptions = {}): Promise<boolean> {
    const location = { container, path: objectPath };
    assertContainerName(container);
    assertObjectPath(objectPath);
    const file = this.objectFile(location);
    return this.locks.withLocks([lockKey(location)], async () => {
      const stat = await this.statIfFile(file);
      if (!stat) return false;
      const version = await this.versionOf(stat);
      if (options.ifMatch !== undefined && normalizeEtag(options.ifMatch) !== version.etag) {
        throw new PreconditionFailedError(location);
      }
      // Rename to a hidden name first (the object disappears atomically), drop the sidecar while the inode
      // is still allocated, then free it.
      const hold = tempSibling(file);
      try {
        await fs.rename(file, hold);
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') return false;
        throw e;
      }
      await this.removeSidecar(version.key);
      await fs.unlink(hold);
      return true;
    });
  }

  async exists(container: string, objectPath: string): Promise<boolean> {
    assertContainerName(container);
    assertObjectPath(objectPath);
    return (await this.statIfFile(this.objectFile({ container, path: objectPath }))) !== undefined;
  }

  async properties(container: string, objectPath: string): Promise<LakeProperties> {
    return toProperties(await this.currentVersion({ container, path: objectPath }, undefined));
  }

  async setMetadata(
    container: string,
    objectPath: string,
    metadata: Record<string, string>,
    options: ConditionalOptions = {},
  ): Promise<WriteResult> {
    const location = { container, path: objectPath };
    const normalized = normalizeMetadata(metadata);
    return this.locks.withLocks([lockKey(location)], async () => {
      const version = await this.currentVersion(location, options.ifMatch);
      const updated = await this.writeSidecar(version.stat, version.contentType, normalized);
      return { etag: updated.etag, lastModified: updated.lastModified };
    });
  }

  // ---- internals -------------------------------------------------------------------------------------

  private objectFile(location: LakeRef): string {
    return path.join(this.root, location.container, ...location.path.split('/'));
  }

  /** Checks names, that the container exists, and creates the target's parent folders. */
  private async prepareTarget(location: LakeRef): Promise<string> {
    assertContainerName(location.container);
    assertObjectPath(location.path);
    if (!(await isDirectory(path.join(this.root, location.container)))) {
      throw new NotFoundError({ container: location.container });
    }
    const target = this.objectFile(location);
    try {
      await fs.mkdir(path.dirname(target), { recursive: true });
    } catch (e) {
      // A parent segment is an object (a file): the path cannot hold an object, as on HNS accounts.
      throw mapWriteError(e, location);
    }
    return target;
  }

  /** Writes the bytes and the sidecar of a new version, invisible until linked or renamed into place. */
  private async writeTemp(
    location: LakeLocation,
    target: string,
    data: LakeData,
    contentType: string | undefined,
    metadata: Record<string, string>,
  ): Promise<{ file: string; version: Version }> {
    const file = tempSibling(target);
    let handle: FileHandle;
    try {
      handle = await fs.open(file, 'wx', 0o644);
    } catch (e) {
      throw mapWriteError(e, location);
    }
    let stat: BigIntStats;
    try {
      await writeAll(handle, data);
      if (this.fsync) await handle.sync();
      stat = await handle.stat({ bigint: true });
    } catch (e) {
      await handle.close().catch(() => undefined);
      await fs.unlink(file).catch(() => undefined);
      throw e;
    }
    await handle.close();
    try {
      const version = await this.writeSidecar(stat, contentType ?? DEFAULT_CONTENT_TYPE, metadata);
      return { file, version };
    } catch (e) {
      await fs.unlink(file).catch(() => undefined);
      throw e;
    }
  }

  private async discardTemp(file: string, key: string): Promise<void> {
    await this.removeSidecar(key);
    await fs.unlink(file).catch(() => undefined);
  }

  /** Replaces `target` with the temp file, under the target's lock, if `ifMatch` (when given) still holds. */
  private async replace(location: LakeRef, target: string, tempFile: string, ifMatch: string | undefined) {
    const previous = await this.statIfFile(target);
    if (ifMatch !== undefined) {
      if (!previous) throw new PreconditionFailedError(location);
      const version = await this.versionOf(previous);
      if (version.etag !== normalizeEtag(ifMatch)) throw new PreconditionFailedError(location);
    }
    // Keep the old inode alive (a hidden hard link) until its sidecar is gone, so a new file cannot
    // reuse the inode number and lose its fresh sidecar to this clean-up.
    const hold = previous ? await holdInode(target) : undefined;
    try {
      await fs.rename(tempFile, target);
    } catch (e) {
      if (hold) await fs.unlink(hold).catch(() => undefined);
      throw mapWriteError(e, location);
    }
    if (previous) await this.removeSidecar(metaKey(previous));
    if (hold) await fs.unlink(hold).catch(() => undefined);
  }

  /** Opens an object for reading and identifies the version behind the open descriptor. */
  private async openVersion(
    location: LakeRef,
    ifMatch: string | undefined,
  ): Promise<{ handle: FileHandle; version: Version }> {
    assertContainerName(location.container);
    assertObjectPath(location.path);
    let handle: FileHandle;
    try {
      handle = await fs.open(this.objectFile(location), OPEN_READ);
    } catch (e) {
      throw mapReadError(e, location);
    }
    try {
      const stat = await handle.stat({ bigint: true });
      if (!stat.isFile()) throw new NotFoundError(location);
      const version = await this.versionOf(stat);
      if (ifMatch !== undefined && normalizeEtag(ifMatch) !== version.etag) {
        throw new PreconditionFailedError(location);
      }
      return { handle, version };
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** The current version at a path (NotFoundError if none), checked against `ifMatch` when given. */
  private async currentVersion(location: LakeRef, ifMatch: string | undefined): Promise<Version> {
    assertContainerName(location.container);
    assertObjectPath(location.path);
    const stat = await this.statIfFile(this.objectFile(location));
    if (!stat) throw new NotFoundError(location);
    const version = await this.versionOf(stat);
    if (ifMatch !== undefined && normalizeEtag(ifMatch) !== version.etag) {
      throw new PreconditionFailedError(location);
    }
    return version;
  }

  private async statIfFile(file: string): Promise<BigIntStats | undefined> {
    try {
      const stat = await fs.lstat(file, { bigint: true });
      return stat.isFile() ? stat : undefined;
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw e;
    }
  }

  private sidecarFile(key: string): string {
    return path.join(this.metaDir, createHash('sha1').update(key).digest('hex').slice(0, 2), `${key}.json`);
  }

  private async versionOf(stat: BigIntStats): Promise<Version> {
    const key = metaKey(stat);
    const sidecar = await readSidecar(this.sidecarFile(key));
    if (sidecar && sidecar.size === stat.size.toString() && sidecar.mtimeNs === stat.mtimeNs.toString()) {
      return {
        stat,
        key,
        etag: sidecar.etag,
        lastModified: new Date(sidecar.lastModified),
        contentType: sidecar.contentType,
        metadata: sidecar.metadata,
      };
    }
    // No (valid) sidecar: a file written by another tool. Derive a stable eTag from its identity.
    const digest = createHash('sha256')
      .update(`${key}:${stat.size.toString()}:${stat.mtimeNs.toString()}`)
      .digest('hex');
    return {
      stat,
      key,
      etag: `0x${digest.slice(0, 16).toUpperCase()}`,
      lastModified: new Date(Number(stat.mtimeNs / 1_000_000n)),
      contentType: DEFAULT_CONTENT_TYPE,
      metadata: {},
    };
  }

  /** Gives a file version a new eTag (and content type and metadata): written atomically (temp + rename). */
  private async writeSidecar(
    stat: BigIntStats,
    contentType: string,
    metadata: Record<string, string>,
  ): Promise<Version> {
    const key = metaKey(stat);
    const lastModified = new Date();
    const sidecar: Sidecar = {
      etag: `0x${randomBytes(8).toString('hex').toUpperCase()}`,
      size: stat.size.toString(),
      mtimeNs: stat.mtimeNs.toString(),
      lastModified: lastModified.toISOString(),
      contentType,
      metadata,
    };
    const file = this.sidecarFile(key);
    const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(temp, JSON.stringify(sidecar));
    await fs.rename(temp, file);
    return { stat, key, etag: sidecar.etag, lastModified, contentType, metadata };
  }

  private async removeSidecar(key: string): Promise<void> {
    await fs.unlink(this.sidecarFile(key)).catch(() => undefined);
  }

  /** Depth-first walk in lexicographic order of the full path (a folder sorts as its name plus '/'). */
  private async *walk(containerDir: string, relDir: string, prefix: string): AsyncGenerator<LakeListEntry> {
    let entries;
    try {
      entries = await fs.readdir(path.join(containerDir, ...splitPath(relDir)), { withFileTypes: true });
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw e;
    }
    const sorted = entries
      .filter((entry) => !entry.name.startsWith(RESERVED_SEGMENT_PREFIX))
      .filter((entry) => entry.isFile() || entry.isDirectory())
      .map((entry) => ({
        entry,
        rel: relDir === '' ? entry.name : `${relDir}/${entry.name}`,
        sortKey: entry.isDirectory() ? `${entry.name}/` : entry.name,
      }))
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const { entry, rel } of sorted) {
      if (entry.isDirectory()) {
        const asDir = `${rel}/`;
        if (asDir.startsWith(prefix) || prefix.startsWith(asDir)) yield* this.walk(containerDir, rel, prefix);
        continue;
      }
      if (!rel.startsWith(prefix)) continue;
      const stat = await this.statIfFile(path.join(containerDir, ...rel.split('/')));
      if (!stat) continue; // deleted while listing
      const version = await this.versionOf(stat);
      yield { path: rel, size: Number(stat.size), etag: version.etag, lastModified: version.lastModified };
    }
  }
}

function toProperties(version: Version): LakeProperties {
  return {
    size: Number(version.stat.size),
    etag: version.etag,
    lastModified: version.lastModified,
    contentType: version.contentType,
    metadata: { ...version.metadata },
  };
}

/** A hidden hard link to `file`, or undefined if none could be made (the file vanished, or is a folder). */
async function holdInode(file: string): Promise<string | undefined> {
  const hold = tempSibling(file);
  try {
    await fs.link(file, hold);
    return hold;
  } catch {
    return undefined;
  }
}

function metaKey(stat: BigIntStats): string {
  return `${stat.dev.toString()}-${stat.ino.toString()}`;
}

function lockKey(location: LakeRef): string {
  return `${location.container}/${location.path}`;
}

function splitPath(rel: string): string[] {
  return rel === '' ? [] : rel.split('/');
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

async function readSidecar(file: string): Promise<Sidecar | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<Sidecar>;
    if (
      typeof value.etag === 'string' &&
      typeof value.size === 'string' &&
      typeof value.mtimeNs === 'string' &&
      typeof value.lastModified === 'string' &&
      typeof value.contentType === 'string' &&
      typeof value.metadata === 'object' &&
      value.metadata !== null
    ) {
      return value as Sidecar;
    }
  } catch {
    // A corrupt sidecar is treated as none.
  }
  return undefined;
}

/** Writes every byte of `data` through the handle, pulling a stream chunk by chunk. */
async function writeAll(handle: FileHandle, data: LakeData): Promise<void> {
  if (typeof data === 'string' || Buffer.isBuffer(data)) {
    await handle.writeFile(data);
    return;
  }
  for await (const chunk of data) {
    const buffer = toBuffer(chunk);
    let offset = 0;
    while (offset < buffer.length) {
      const { bytesWritten } = await handle.write(buffer, offset, buffer.length - offset);
      offset += bytesWritten;
    }
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('Lake streams must yield Buffers, Uint8Arrays or strings');
}

// EEXIST: the target exists; ENOTDIR: a parent segment is an object; EISDIR: the path is a folder of other
// objects; EPERM: link() onto a folder on some platforms.
const WRITE_CONFLICT_CODES = new Set(['EEXIST', 'ENOTDIR', 'EISDIR', 'EPERM']);
// ELOOP: the last segment is a symbolic link, which is never followed.
const READ_MISSING_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ELOOP']);

function mapWriteError(e: unknown, location: LakeLocation): Error {
  const error = toError(e);
  const code = errnoCode(error) ?? '';
  if (WRITE_CONFLICT_CODES.has(code)) return new AlreadyExistsError(location, error);
  if (code === 'ENOENT') return new NotFoundError({ container: location.container }, error);
  return error;
}

function mapReadError(e: unknown, location: LakeLocation): Error {
  const error = toError(e);
  const code = errnoCode(error) ?? '';
  return READ_MISSING_CODES.has(code) ? new NotFoundError(location, error) : error;
}

function tempSibling(file: string): string {
  return path.join(path.dirname(file), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
}
