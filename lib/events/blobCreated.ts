import { createHash } from 'node:crypto';

import { z } from 'zod';

import { type DatasetName, isDatasetName } from '../contracts/datasets';
import { normalizeEtag, objectPathProblem } from '../lake/names';

/**
 * Turning a `Microsoft.Storage.BlobCreated` event into "ingest this file version" or "ignore, because".
 * Accepts the Event Grid schema and CloudEvents 1.0; validates `data` itself (the SDK does not); takes
 * container and path from `subject` (the `url` host differs between blob and dfs endpoints and Azurite).
 * Pure: the trigger in functions/ calls it and starts the orchestration.
 */

/** `data.api` values that mean "a complete blob now exists" (DESIGN.md; CreateFile is the 0-byte create). */
export const COMPLETED_WRITE_APIS = [
  'PutBlob',
  'PutBlockList',
  'FlushWithClose',
  'CopyBlob',
  'SftpCommit',
] as const;

export const LANDING_PREFIX = 'landing/';

const blobCreatedData = z.looseObject({
  api: z.string().min(1),
  eTag: z.string().min(1),
  contentLength: z.number().int().nonnegative().optional(),
  contentType: z.string().optional(),
  url: z.string().optional(),
  sequencer: z.string().optional(),
});

const eventGridEvent = z.looseObject({
  id: z.string().min(1),
  eventType: z.string(),
  subject: z.string(),
  eventTime: z.string().optional(),
  data: z.unknown(),
});

const cloudEvent = z.looseObject({
  id: z.string().min(1),
  type: z.string(),
  subject: z.string(),
  time: z.string().optional(),
  specversion: z.literal('1.0'),
  data: z.unknown(),
});

export interface LandedFile {
  container: string;
  /** Path inside the container, e.g. `landing/meter_readings/headend_utc/2025/10/26/readings.csv`. */
  path: string;
  etag: string;
  dataset: DatasetName;
  source: string;
  /** The landing date folder, YYYY-MM-DD. */
  landingDate: string;
  fileName: string;
  size: number | undefined;
  sequencer: string | undefined;
  api: string;
  eventId: string;
  eventTime: string | undefined;
}

export type IgnoreReason =
  | 'NOT_AN_EVENT'
  | 'NOT_BLOB_CREATED'
  | 'INVALID_DATA'
  | 'INCOMPLETE_WRITE'
  | 'DIRECTORY'
  | 'OUTSIDE_LANDING'
  | 'UNSAFE_PATH'
  | 'UNKNOWN_DATASET'
  | 'BAD_LANDING_PATH';

export type BlobCreatedDecision =
  | { kind: 'ingest'; file: LandedFile }
  | {
      kind: 'ignore';
      reason: IgnoreReason;
      detail: string;
      /** The blob version, when the event was a completed write of a blob (a misplaced file is recorded). */
      blob?: { container: string; path: string; etag: string; size: number | null };
    };

const SUBJECT = /^\/?blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/;
const SOURCE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

function ignore(reason: IgnoreReason, detail: string): BlobCreatedDecision {
  return { kind: 'ignore', reason, detail };
}

/**
 * Decides what one delivered event means for the bronze container `bronzeContainer`.
 * Landing layout: `landing/{dataset}/{source}/{yyyy}/{mm}/{dd}/{file}`.
 */
export function decideBlobCreated(event: unknown, bronzeContainer = 'bronze'): BlobCreatedDecision {
  const asGrid = eventGridEvent.safeParse(event);
  const asCloud = asGrid.success ? undefined : cloudEvent.safeParse(event);
  if (!asGrid.success && !asCloud?.success)
    return ignore('NOT_AN_EVENT', 'neither an Event Grid event nor a CloudEvent');
  const envelope = asGrid.success
    ? {
        id: asGrid.data.id,
        type: asGrid.data.eventType,
        subject: asGrid.data.subject,
        time: asGrid.data.eventTime,
        data: asGrid.data.data,
      }
    : {
        id: asCloud!.data!.id,
        type: asCloud!.data!.type,
        subject: asCloud!.data!.subject,
        time: asCloud!.data!.time,
        data: asCloud!.data!.data,
      };
  if (envelope.type !== 'Microsoft.Storage.BlobCreated')
    return ignore('NOT_BLOB_CREATED', `event type ${envelope.type}`);
  const data = blobCreatedData.safeParse(envelope.data);
  if (!data.success) {
    return ignore(
      'INVALID_DATA',
      data.error.issues.map((i) => `data.${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  if (!(COMPLETED_WRITE_APIS as readonly string[]).includes(data.data.api)) {
    return ignore('INCOMPLETE_WRITE', `data.api ${data.data.api} is not a completed write`);
  }
  const subject = SUBJECT.exec(envelope.subject);
  if (!subject)
    return ignore(
      'INVALID_DATA',
      `subject ${JSON.stringify(envelope.subject.slice(0, 200))} is not a blob subject`,
    );
  const container = subject[1]!;
  const path = subject[2]!;
  if (path.endsWith('/') || data.data.contentType === 'application/x-directory')
    return ignore('DIRECTORY', path);
  const place = landingPlace(container, path, bronzeContainer);
  if (place.kind === 'ignore') {
    const size = data.data.contentLength ?? null;
    return { ...place, blob: { container, path, etag: normalizeEtag(data.data.eTag), size } };
  }
  const { dataset, source, landingDate: date, fileName } = place;
  return {
    kind: 'ingest',
    file: {
      container,
      path,
      etag: normalizeEtag(data.data.eTag),
      dataset,
      source,
      landingDate: date,
      fileName,
      size: data.data.contentLength,
      sequencer: data.data.sequencer,
      api: data.data.api,
      eventId: envelope.id,
      eventTime: envelope.time,
    },
  };
}

export interface LandingPlace {
  kind: 'landing';
  dataset: DatasetName;
  source: string;
  /** The landing date folder, YYYY-MM-DD. */
  landingDate: string;
  fileName: string;
}

/**
 * Where a blob sits in the landing layout `landing/{dataset}/{source}/{yyyy}/{mm}/{dd}/{file}` of the
 * bronze container, or why it is not an ingestible landing file.
 */
export function landingPlace(
  container: string,
  path: string,
  bronzeContainer = 'bronze',
): LandingPlace | { kind: 'ignore'; reason: IgnoreReason; detail: string } {
  if (container !== bronzeContainer || !path.startsWith(LANDING_PREFIX)) {
    return { kind: 'ignore', reason: 'OUTSIDE_LANDING', detail: `${container}/${path.slice(0, 200)}` };
  }
  const problem = objectPathProblem(path);
  if (problem) {
    return {
      kind: 'ignore',
      reason: 'UNSAFE_PATH',
      detail: `${problem}: ${JSON.stringify(path.slice(0, 200))}`,
    };
  }
  const parts = path.slice(LANDING_PREFIX.length).split('/');
  if (parts.length !== 6) {
    return {
      kind: 'ignore',
      reason: 'BAD_LANDING_PATH',
      detail: `expected landing/{dataset}/{source}/{yyyy}/{mm}/{dd}/{file}, got ${path}`,
    };
  }
  const [dataset, source, yyyy, mm, dd, fileName] = parts as [string, string, string, string, string, string];
  if (!isDatasetName(dataset)) return { kind: 'ignore', reason: 'UNKNOWN_DATASET', detail: dataset };
  if (!SOURCE_ID.test(source)) {
    return { kind: 'ignore', reason: 'BAD_LANDING_PATH', detail: `source '${source}' is not a source id` };
  }
  const date = `${yyyy}-${mm}-${dd}`;
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(date) ||
    Number.isNaN(Date.parse(`${date}T00:00:00Z`)) ||
    new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date
  ) {
    return {
      kind: 'ignore',
      reason: 'BAD_LANDING_PATH',
      detail: `landing date ${yyyy}/${mm}/${dd} is not a date`,
    };
  }
  return { kind: 'landing', dataset, source, landingDate: date, fileName };
}

/**
 * The orchestration instance id of one file version: the same `container/path@eTag` always gives the same
 * id, so at-least-once delivery starts one orchestration per version. Readable prefix, hashed remainder
 * (instance ids must stay short and free of '/').
 */
export function ingestInstanceId(file: Pick<LandedFile, 'container' | 'path' | 'etag' | 'dataset'>): string {
  const digest = createHash('sha256')
    .update(`${file.container}/${file.path}@${normalizeEtag(file.etag)}`)
    .digest('hex');
  return `ingest-${file.dataset}-${digest.slice(0, 32)}`;
}

/**
 * Orders two `sequencer` values of one blob name: Event Grid documents them as string-comparable; pad to
 * equal length first so differently sized values compare numerically. Negative when `a` is older.
 */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const left = a.padStart(width, '0');
  const right = b.padStart(width, '0');
  return left < right ? -1 : left > right ? 1 : 0;
}
