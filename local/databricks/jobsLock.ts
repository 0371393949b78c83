import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The lock file a running emulator keeps in its home folder, so other commands (`lakewatt sql`) find it. */
export const JOBS_LOCK_FILE = 'jobs.lock.json';

export interface JobsLock {
  pid: number;
  port: number;
  startedAt: string;
}

/** The lock of a live emulator on this state folder, if one runs (a stale lock of a dead process is ignored). */
export function readJobsLock(home: string): JobsLock | undefined {
  const file = path.join(home, JOBS_LOCK_FILE);
  if (!existsSync(file)) return undefined;
  let lock: JobsLock;
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<JobsLock>;
    if (typeof value.pid !== 'number' || typeof value.port !== 'number') return undefined;
    lock = { pid: value.pid, port: value.port, startedAt: String(value.startedAt ?? '') };
  } catch {
    return undefined;
  }
  try {
    process.kill(lock.pid, 0);
  } catch {
    return undefined;
  }
  return lock;
}

/** Records this process's emulator on `port` as the live one of the state folder. */
export function writeJobsLock(home: string, port: number): void {
  const lock: JobsLock = { pid: process.pid, port, startedAt: new Date().toISOString() };
  writeFileSync(path.join(home, JOBS_LOCK_FILE), `${JSON.stringify(lock)}\n`);
}

/** Removes the lock if it is this process's emulator on `port`. */
export function removeJobsLock(home: string, port: number): void {
  const lock = readJobsLock(home);
  if (lock?.pid === process.pid && lock.port === port)
    rmSync(path.join(home, JOBS_LOCK_FILE), { force: true });
}
