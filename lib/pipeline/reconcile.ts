import { createHash } from 'node:crypto';

import { type IgnoreReason, ingestInstanceId, landingPlace } from '../events/blobCreated';
import { AlreadyExistsError, type LakeStore, NotFoundError, PreconditionFailedError } from '../lake';
import type { IngestFile } from './ingest';

/**
 * Reconciliation (docs/operations.md "Missed files"): a timer lists the landing folder and looks at every
 * file version that landed within the look-back window and is older than the grace period. A version that
 * has no ingestion (a lost or dead-lettered event, a file landed before the subscription existed) is started
 * as its event would have started it; a file at a path the pipeline cannot read (a misplaced upload) gets a
 * quarantine entry and an audit record. These functions are the pure part.
 */

export interface ListedBlob {
  path: string;
  etag: string;
  size: number;
  lastModified: Date;
}

export interface ReconcileWindow {
  now: Date;
  /** Younger versions are left to their event (which may still be on its way). */
  graceMinutes: number;
  /** Older versions were reconciled by earlier runs (or predate the window on purpose). */
  lookbackHours: number;
}

/** Reasons a landing file cannot be ingested where it is. */
export const MISPLACED_REASONS = ['UNSAFE_PATH', 'BAD_LANDING_PATH', 'UNKNOWN_DATASET'] as const;
export type MisplacedReason = (typeof MISPLACED_REASONS)[number];

export function isMisplacedReason(reason: IgnoreReason): reason is MisplacedReason {
  return (MISPLACED_REASONS as readonly string[]).includes(reason);
}

export type LandingCheck =
  | { kind: 'candidate'; file: IngestFile; instanceId: string }
  | { kind: 'misplaced'; reason: MisplacedReason; detail: string }
  | { kind: 'skip'; why: 'in-grace' | 'before-window' | 'not-a-file' };

/** What the reconciler does with one listed blob of the bronze container. */
export function checkLandingBlob(
  blob: ListedBlob,
  window: ReconcileWindow,
  container = 'bronze',
): LandingCheck {
  const age = window.now.getTime() - blob.lastModified.getTime();
  if (age < window.graceMinutes * 60_000) return { kind: 'skip', why: 'in-grace' };
  if (age > window.lookbackHours * 3_600_000) return { kind: 'skip', why: 'before-window' };
  if (blob.path.endsWith('/')) return { kind: 'skip', why: 'not-a-file' };
  const place = landingPlace(container, blob.path, container);
  if (place.kind === 'ignore') {
    return isMisplacedReason(place.reason)
      ? { kind: 'misplaced', reason: place.reason, detail: place.detail }
      : { kind: 'skip', why: 'not-a-file' };
  }
  const file: IngestFile = {
    container,
    path: blob.path,
    etag: blob.etag,
    dataset: place.dataset,
    source: place.source,
    fileName: place.fileName,
    size: blob.size,
    sequencer: null,
    eventId: null,
    eventTime: blob.lastModified.toISOString(),
  };
  return { kind: 'candidate', file, instanceId: ingestInstanceId(file) };
}

export interface MisplacedFile {
  container: string;
  path: string;
  etag: string;
  size: number | null;
  reason: MisplacedReason;
  detail: string;
  /** How the pipeline came across it. */
  seenBy: 'event' | 'reconcile';
  seenAt: Date;
}

/** The lake entries of a misplaced file version: where its copy and its audit record go (both create-only). */
export function misplacedEntries(file: MisplacedFile): {
  id: string;
  quarantinePath: string;
  auditPath: string;
  record: Record<string, unknown>;
} {
  const id = createHash('sha256')
    .update(`${file.container}/${file.path}@${file.etag}`)
    .digest('hex')
    .slice(0, 32);
  const name =
    file.path
      .split('/')
      .pop()
      ?.replace(/[^A-Za-z0-9._-]/g, '_') || 'file';
  return {
    id,
    // Named by the file version alone (not by the day it was seen), so every sighting finds the same entries.
    quarantinePath: `misplaced/${id}/${name.slice(0, 200)}`,
    auditPath: `misplaced/${id}.json`,
    record: {
      schemaVersion: 1,
      kind: 'misplaced',
      id,
      file: { container: file.container, path: file.path, etag: file.etag, size: file.size },
      error: { code: file.reason, message: misplacedMessage(file.reason, file.detail) },
      seenBy: file.seenBy,
      seenAt: file.seenAt.toISOString(),
    },
  };
}

/**
 * Writes a misplaced file version's quarantine copy (unless its path is unsafe to read) and its audit record,
 * both create-only under an id of the path and version: a second sighting (the event, then the reconciler)
 * writes nothing. Answers whether this call wrote the record.
 */
export async function recordMisplaced(
  lake: LakeStore,
  file: MisplacedFile,
): Promise<{ id: string; auditPath: string; quarantinePath: string | null; created: boolean }> {
  const entries = misplacedEntries(file);
  let quarantinePath: string | null = null;
  if (file.reason !== 'UNSAFE_PATH') {
    try {
      await lake.copy(
        { container: file.container, path: file.path },
        { container: 'quarantine', path: entries.quarantinePath },
        { ifMatch: file.etag },
      );
      quarantinePath = `quarantine/${entries.quarantinePath}`;
    } catch (error) {
      if (error instanceof AlreadyExistsError) quarantinePath = `quarantine/${entries.quarantinePath}`;
      // The version is gone (replaced or deleted): its record still says what was seen.
      else if (!(error instanceof PreconditionFailedError || error instanceof NotFoundError)) throw error;
    }
  }
  const record = { ...entries.record, quarantine: quarantinePath };
  try {
    await lake.createOnly('audit', entries.auditPath, JSON.stringify(record, null, 2), {
      contentType: 'application/json',
    });
    return { id: entries.id, auditPath: `audit/${entries.auditPath}`, quarantinePath, created: true };
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    return { id: entries.id, auditPath: `audit/${entries.auditPath}`, quarantinePath, created: false };
  }
}

function misplacedMessage(reason: MisplacedReason, detail: string): string {
  switch (reason) {
    case 'UNKNOWN_DATASET':
      return `the landing folder names no known dataset ('${detail.slice(0, 100)}'): move the file to landing/{dataset}/{source}/{yyyy}/{mm}/{dd}/`;
    case 'UNSAFE_PATH':
      return `the path is not safe to process (${detail.slice(0, 200)}): upload it again under a plain name`;
    case 'BAD_LANDING_PATH':
      return `${detail.slice(0, 200)}: move the file to landing/{dataset}/{source}/{yyyy}/{mm}/{dd}/`;
  }
}
