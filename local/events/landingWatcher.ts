import { mkdirSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

import { LANDING_PREFIX } from '../../lib/events/blobCreated';
import {
  type BlobCreatedApi,
  buildBlobCreatedEvent,
  type EventGridEvent,
  SequencerClock,
} from '../../lib/events/blobCreatedEvent';
import { type LakeListEntry, type LakeStore, NotFoundError } from '../../lib/lake';

/**
 * The local stand-in for Azure Storage's BlobCreated events: watches `bronze/landing/` of the local lake
 * and announces every new or replaced file version, once, as the Event Grid event Azure would send.
 *
 * It polls (`list` every `intervalMs`) rather than using fs.watch: Node 20's recursive fs.watch on Linux is
 * built on per-folder inotify watches that miss files created in a folder made just before, and new date
 * folders appear with every drop. A version is identified by its eTag (LakeStore semantics), so an
 * overwrite is announced again and an unchanged file never is.
 *
 * Complete files only: LocalLakeStore writes to hidden `.lakewatt-tmp-*` files and links or renames them
 * into place, and `list` never shows them. Files put there by other tools (cp, rsync, editors) may be seen
 * half-written, so a version is announced only once it has been unchanged for `settleMs`: its last
 * modification is that old, or two polls that far apart saw the same eTag. Hidden names and usual partial
 * suffixes (`.tmp`, `.part`, `.partial`, `.crdownload`, `~`) are never announced.
 *
 * What has been announced (container/path → eTag) is kept in a SQLite file shared by every watcher and
 * `announce` caller on the same state folder (`lakewatt dev` and `lakewatt drop` in two processes): a
 * version is claimed in one transaction before its event is handed to `onEvents`, marked sent when that
 * succeeds, and released when it fails (so the next poll tries again: at-least-once, like Event Grid). A
 * claim left by a process that died mid-delivery expires after `claimTimeoutMs`.
 */

export interface LandingWatcherOptions {
  lake: LakeStore;
  /** The SQLite file recording announced versions (see `landingWatcherStateFile`). */
  stateFile: string;
  /** Receives the events of one poll (or one `announce`); a rejection means "not delivered, try again". */
  onEvents: (events: EventGridEvent[]) => Promise<void>;
  /** Errors of background polls (the watcher keeps polling). Default: ignored. */
  onError?: (error: Error) => void;
  /** Default `bronze`. */
  container?: string;
  /** Default `landing/`: events elsewhere would be ignored by the trigger, so none are emitted. */
  prefix?: string;
  /** Default 1000 ms. */
  intervalMs?: number;
  /** How long a version must stay unchanged before it is announced (default 1000 ms). */
  settleMs?: number;
  /**
   * On the very first start over a state file, announce the files already there (default false: they are
   * recorded as announced without events). Later starts always announce what arrived while stopped.
   */
  announceExisting?: boolean;
  /** Storage account name in `topic` and `url` (default LOCAL_ACCOUNT_NAME). */
  accountName?: string;
  blobEndpoint?: string;
  /** `data.api` of the events (default PutBlob: a whole file written at once). */
  api?: BlobCreatedApi;
  /** Default 10 minutes. */
  claimTimeoutMs?: number;
  /** Milliseconds since the epoch (tests). */
  now?: () => number;
}

export type AnnounceResult =
  | { announced: true; event: EventGridEvent }
  | { announced: false; reason: 'ALREADY_ANNOUNCED'; etag: string }
  | { announced: false; reason: 'OUTSIDE_LANDING' | 'TRANSIENT_NAME'; etag: undefined };

/** Account name of the local lake in event topics and urls. */
export const LOCAL_ACCOUNT_NAME = 'lakewattlocal';

/** Where a state folder keeps the watcher's record of announced versions. */
export function landingWatcherStateFile(home: string): string {
  return path.join(home, 'events', 'announced.sqlite');
}

const PARTIAL_SUFFIXES = ['.tmp', '.part', '.partial', '.crdownload', '~'];

/** Names of files still being written by some tool, or hidden: never announced. */
export function isTransientName(objectPath: string): boolean {
  const segments = objectPath.split('/');
  const last = segments[segments.length - 1] ?? '';
  return segments.some((s) => s.startsWith('.')) || PARTIAL_SUFFIXES.some((x) => last.endsWith(x));
}

interface Row {
  etag: string;
  state: 'claimed' | 'sent';
  updated_ms: number;
}

export class LandingWatcher {
  private readonly lake: LakeStore;
  private readonly db: Database.Database;
  private readonly onEvents: (events: EventGridEvent[]) => Promise<void>;
  private readonly onError: (error: Error) => void;
  private readonly container: string;
  private readonly prefix: string;
  private readonly intervalMs: number;
  private readonly settleMs: number;
  private readonly announceExisting: boolean;
  private readonly accountName: string;
  private readonly blobEndpoint: string | undefined;
  private readonly api: BlobCreatedApi;
  private readonly claimTimeoutMs: number;
  private readonly now: () => number;
  private readonly clock: SequencerClock;
  /** Versions seen but not yet settled: path → eTag and when this watcher first saw it. */
  private readonly pending = new Map<string, { etag: string; firstSeen: number }>();
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: LandingWatcherOptions) {
    this.lake = options.lake;
    this.onEvents = options.onEvents;
    this.onError = options.onError ?? (() => undefined);
    this.container = options.container ?? 'bronze';
    this.prefix = options.prefix ?? LANDING_PREFIX;
    this.intervalMs = options.intervalMs ?? 1000;
    this.settleMs = options.settleMs ?? 1000;
    this.announceExisting = options.announceExisting ?? false;
    this.accountName = options.accountName ?? LOCAL_ACCOUNT_NAME;
    this.blobEndpoint = options.blobEndpoint;
    this.api = options.api ?? 'PutBlob';
    this.claimTimeoutMs = options.claimTimeoutMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
    mkdirSync(path.dirname(path.resolve(options.stateFile)), { recursive: true });
    this.db = new Database(options.stateFile);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS announced (
        container TEXT NOT NULL,
        path TEXT NOT NULL,
        etag TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('claimed', 'sent')),
        sequencer TEXT,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (container, path)
      );
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    const last = this.db.prepare(`SELECT value FROM meta WHERE key = 'lastSequencer'`).get() as
      { value: string } | undefined;
    this.clock = new SequencerClock({ after: last?.value });
  }

  /** Polls every `intervalMs` until `stop`, the first poll at once. Errors go to `onError`. */
  start(): void {
    if (this.stopped) throw new Error('LandingWatcher: stopped');
    if (this.timer) return;
    const tick = (): void => {
      if (this.stopped) return;
      this.poll()
        .catch((e: unknown) => {
          if (!this.stopped) this.onError(e instanceof Error ? e : new Error(String(e)));
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops polling, waits for a poll or announce in progress, and closes the state file. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain.catch(() => undefined);
    this.db.close();
  }

  /**
   * One scan: announces (through `onEvents`, in one call) every settled version not announced yet, and
   * returns their events. Rejects, leaving them unannounced, if `onEvents` rejects.
   */
  poll(): Promise<EventGridEvent[]> {
    return this.exclusive(() => this.scan());
  }

  /**
   * Announces the current version of `objectPath` (a path in the watched container) now, without waiting
   * for it to settle: for `lakewatt drop`, which has just written the file completely. A version already
   * announced (by a watcher or an earlier call) is not announced again; nor is a path outside the prefix.
   * NotFoundError if there is no such file; rejects, leaving it unannounced, if `onEvents` rejects.
   */
  announce(objectPath: string, options: { api?: BlobCreatedApi } = {}): Promise<AnnounceResult> {
    return this.exclusive(async () => {
      if (!objectPath.startsWith(this.prefix)) {
        return { announced: false, reason: 'OUTSIDE_LANDING', etag: undefined };
      }
      if (isTransientName(objectPath)) return { announced: false, reason: 'TRANSIENT_NAME', etag: undefined };
      const properties = await this.lake.properties(this.container, objectPath);
      if (!this.claim(objectPath, properties.etag)) {
        return { announced: false, reason: 'ALREADY_ANNOUNCED', etag: properties.etag };
      }
      this.pending.delete(objectPath);
      const event = this.buildEvent(objectPath, properties, options.api);
      await this.deliver([{ path: objectPath, etag: properties.etag, event }]);
      return { announced: true, event };
    });
  }

  // ---- internals -------------------------------------------------------------------------------------

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new Error('LandingWatcher: stopped'));
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async scan(): Promise<EventGridEvent[]> {
    const listedAt = this.now();
    const entries = await this.listLanding();
    const baselineKey = `baseline:${this.container}/${this.prefix}`;
    if (!this.db.prepare('SELECT 1 FROM meta WHERE key = ?').get(baselineKey)) {
      if (!this.announceExisting) {
        const insert = this.db.prepare(
          `INSERT OR IGNORE INTO announced (container, path, etag, state, updated_ms) VALUES (?, ?, ?, 'sent', ?)`,
        );
        this.db.transaction(() => {
          for (const entry of entries) insert.run(this.container, entry.path, entry.etag, listedAt);
        })();
      }
      this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(baselineKey, 'done');
    }

    const listed = new Set(entries.map((e) => e.path));
    this.prune(listed, listedAt);
    const settled: LakeListEntry[] = [];
    for (const entry of entries) {
      if (this.isAnnounced(entry.path, entry.etag)) {
        this.pending.delete(entry.path);
        continue;
      }
      if (this.isSettled(entry, listedAt)) settled.push(entry);
    }

    const batch: Array<{ path: string; etag: string; event: EventGridEvent }> = [];
    for (const entry of settled) {
      let properties;
      try {
        properties = await this.lake.properties(this.container, entry.path);
      } catch (e) {
        if (e instanceof NotFoundError) continue; // deleted since the listing
        throw e;
      }
      if (properties.etag !== entry.etag) continue; // replaced since the listing: settles anew
      if (!this.claim(entry.path, entry.etag)) continue;
      this.pending.delete(entry.path);
      batch.push({
        path: entry.path,
        etag: entry.etag,
        event: this.buildEvent(entry.path, properties, undefined),
      });
    }
    if (batch.length === 0) return [];
    await this.deliver(batch);
    return batch.map((b) => b.event);
  }

  private async listLanding(): Promise<LakeListEntry[]> {
    const entries: LakeListEntry[] = [];
    try {
      for await (const entry of this.lake.list(this.container, this.prefix)) {
        if (!isTransientName(entry.path)) entries.push(entry);
      }
    } catch (e) {
      if (e instanceof NotFoundError) return []; // no bronze container yet
      throw e;
    }
    return entries;
  }

  /** Settled: unchanged for settleMs, by its modification time or by this watcher's own observations. */
  private isSettled(entry: LakeListEntry, now: number): boolean {
    if (now - entry.lastModified.getTime() >= this.settleMs) return true;
    const seen = this.pending.get(entry.path);
    if (seen?.etag === entry.etag) return now - seen.firstSeen >= this.settleMs;
    this.pending.set(entry.path, { etag: entry.etag, firstSeen: now });
    return this.settleMs <= 0;
  }

  /** Forgets files that are gone (rows older than the listing only: a concurrent `drop` keeps its row). */
  private prune(listed: Set<string>, listedAt: number): void {
    for (const key of [...this.pending.keys()]) if (!listed.has(key)) this.pending.delete(key);
    const rows = this.db
      .prepare(
        `SELECT path FROM announced WHERE container = ? AND state = 'sent' AND updated_ms < ? AND substr(path, 1, ?) = ?`,
      )
      .all(this.container, listedAt, this.prefix.length, this.prefix) as Array<{ path: string }>;
    const remove = this.db.prepare(
      `DELETE FROM announced WHERE container = ? AND path = ? AND state = 'sent' AND updated_ms < ?`,
    );
    this.db.transaction(() => {
      for (const row of rows) if (!listed.has(row.path)) remove.run(this.container, row.path, listedAt);
    })();
  }

  private row(objectPath: string): Row | undefined {
    return this.db
      .prepare('SELECT etag, state, updated_ms FROM announced WHERE container = ? AND path = ?')
      .get(this.container, objectPath) as Row | undefined;
  }

  /** Sent, or claimed by a delivery still in progress (here or in another process). */
  private isAnnounced(objectPath: string, etag: string): boolean {
    const row = this.row(objectPath);
    if (!row || row.etag !== etag) return false;
    return row.state === 'sent' || this.now() - row.updated_ms < this.claimTimeoutMs;
  }

  /** Claims a version for delivery, atomically across processes; false if it is (being) announced. */
  private claim(objectPath: string, etag: string): boolean {
    return this.db
      .transaction(() => {
        if (this.isAnnounced(objectPath, etag)) return false;
        this.db
          .prepare(
            `INSERT OR REPLACE INTO announced (container, path, etag, state, sequencer, updated_ms)
             VALUES (?, ?, ?, 'claimed', NULL, ?)`,
          )
          .run(this.container, objectPath, etag, this.now());
        return true;
      })
      .immediate();
  }

  private async deliver(batch: Array<{ path: string; etag: string; event: EventGridEvent }>): Promise<void> {
    try {
      await this.onEvents(batch.map((b) => b.event));
    } catch (e) {
      const release = this.db.prepare(
        `DELETE FROM announced WHERE container = ? AND path = ? AND etag = ? AND state = 'claimed'`,
      );
      this.db.transaction(() => {
        for (const b of batch) release.run(this.container, b.path, b.etag);
      })();
      throw e;
    }
    const sent = this.db.prepare(
      `UPDATE announced SET state = 'sent', sequencer = ?, updated_ms = ?
       WHERE container = ? AND path = ? AND etag = ?`,
    );
    const now = this.now();
    this.db.transaction(() => {
      for (const b of batch) sent.run(b.event.data.sequencer, now, this.container, b.path, b.etag);
      const last = batch[batch.length - 1]!.event.data.sequencer;
      this.db
        .prepare(
          `INSERT INTO meta (key, value) VALUES ('lastSequencer', ?)
           ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`,
        )
        .run(last);
    })();
  }

  private buildEvent(
    objectPath: string,
    properties: { etag: string; size: number; contentType: string },
    api: BlobCreatedApi | undefined,
  ): EventGridEvent {
    return buildBlobCreatedEvent({
      accountName: this.accountName,
      container: this.container,
      path: objectPath,
      etag: properties.etag,
      contentLength: properties.size,
      contentType: properties.contentType,
      api: api ?? this.api,
      sequencer: this.clock.next(),
      time: new Date(this.now()),
      blobEndpoint: this.blobEndpoint,
    });
  }
}
