import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { LakewattError } from '../errors';
import { errnoCode } from './errors';

/**
 * Per-path mutual exclusion for LocalLakeStore, across processes: an exclusive-create lock file
 * (`open(..., O_CREAT|O_EXCL)`) under `<root>/.lakewatt/locks/`. Inside one process, a promise chain per key
 * serialises callers first, so they do not poll the file system against each other.
 *
 * The critical sections are short metadata operations (stat, compare, rename), never data transfer, so a
 * lock older than STALE_MS, or one whose owner process on this host is gone, is stale and may be broken.
 * Breaking renames the lock file away first and checks that what it moved is the stale lock it judged (not
 * a fresh one taken meanwhile), restoring it otherwise.
 */

const STALE_MS = 30_000;
const TIMEOUT_MS = 20_000;

export class LockTimeoutError extends LakewattError {
  constructor(what: string) {
    super('LAKE_LOCK_TIMEOUT', `Timed out waiting for the lake lock on ${what}`);
  }
}

export class PathLocks {
  private readonly inProcess = new Map<string, Promise<unknown>>();

  constructor(private readonly lockDir: string) {}

  /** Runs `fn` while holding the locks of every key (taken in sorted order, so two callers cannot deadlock). */
  async withLocks<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const run = sorted.reduceRight<() => Promise<T>>((inner, key) => () => this.withLock(key, inner), fn);
    return run();
  }

  private async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.inProcess.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(() => this.withFileLock(key, fn));
    this.inProcess.set(key, current);
    try {
      return await current;
    } finally {
      if (this.inProcess.get(key) === current) this.inProcess.delete(key);
    }
  }

  private async withFileLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lockPath = path.join(
      this.lockDir,
      `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.lock`,
    );
    const token = `${process.pid} ${os.hostname()} ${randomBytes(8).toString('hex')}`;
    await this.acquire(lockPath, token, key);
    try {
      return await fn();
    } finally {
      await fs.unlink(lockPath).catch(() => undefined);
    }
  }

  private async acquire(lockPath: string, token: string, key: string): Promise<void> {
    const deadline = Date.now() + TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await fs.open(
          lockPath,
          fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY,
        );
        try {
          await handle.writeFile(token);
        } finally {
          await handle.close();
        }
        return;
      } catch (e) {
        const code = errnoCode(e);
        if (code === 'ENOENT') {
          await fs.mkdir(this.lockDir, { recursive: true });
          continue;
        }
        if (code !== 'EEXIST') throw e;
      }
      await this.breakIfStale(lockPath);
      if (Date.now() > deadline) throw new LockTimeoutError(key);
      await sleep(Math.min(50, 1 + attempt) * (0.5 + Math.random()));
    }
  }

  private async breakIfStale(lockPath: string): Promise<void> {
    let content: string;
    let ageMs: number;
    try {
      content = await fs.readFile(lockPath, 'utf8');
      ageMs = Date.now() - (await fs.stat(lockPath)).mtimeMs;
    } catch {
      return; // released meanwhile
    }
    if (!isStale(content, ageMs)) return;
    const aside = `${lockPath}.stale-${randomBytes(6).toString('hex')}`;
    try {
      await fs.rename(lockPath, aside);
    } catch {
      return; // someone else broke or released it
    }
    const moved = await fs.readFile(aside, 'utf8').catch(() => content);
    if (moved !== content) {
      // We moved a fresh lock taken after our check: put it back (unless yet another one exists).
      await fs.link(aside, lockPath).catch(() => undefined);
    }
    await fs.unlink(aside).catch(() => undefined);
  }
}

function isStale(content: string, ageMs: number): boolean {
  if (ageMs > STALE_MS) return true;
  const [pidText, host] = content.split(' ');
  const pid = Number(pidText);
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return errnoCode(e) === 'ESRCH';
  }
}
