import { PassThrough, type Readable } from 'node:stream';

import { datasetColumns } from '../contracts/datasets';
import type { SourceContract } from '../contracts/sources';
import { ensureError } from '../errors';
import { ParquetWriter } from '../formats/parquet/ParquetWriter';
import { type LakeStore, NotFoundError, objectPathProblem } from '../lake';
import { rejectedUnread, validateStream, type ValidationLimits } from './engine';
import type { RejectedRow, ValidationReport } from './report';
import { validationReportSchema } from './report';

/**
 * validateAndStage: runs one file through the engine and writes its outputs to the lake.
 *
 * Outputs go under one folder per instance and generation, `{dataset}/{instanceId}/g{generation}/`:
 *   accepted / accepted_with_rejections:
 *     staging/{prefix}part-00000.parquet     canonical rows, typed, with lineage
 *     staging/{prefix}_report.json           the validation report, written last (commit marker)
 *     quarantine/{prefix}rejected.ndjson     rejected rows with reasons (if any)
 *   rejected:
 *     quarantine/{prefix}{file name}         the whole original file
 *     quarantine/{prefix}rejected.ndjson     rejected rows seen before the verdict (if any)
 *     quarantine/{prefix}_report.json        the report with its reasons (commit marker)
 *
 * Idempotent: a retry of the same instance and generation (an activity retry) returns the committed report
 * without redoing work, and a retry after a crash first removes the half-finished outputs of the earlier
 * attempt. A new generation (replay, reprocess) has a folder of its own, so it validates again against the
 * current contract, and a silver run still reading an older generation's folder is never disturbed.
 * Readers trust a folder only once its `_report.json` exists.
 */

export interface StageRequest {
  contract: SourceContract;
  instanceId: string;
  /** Replay generation of the orchestration: each one stages into a folder of its own. */
  generation: number;
  now: Date;
  /** When the file landed (its event's time): the reference for the late-data policy. */
  landedAt?: Date;
  limits: ValidationLimits;
  /** Reads a CSV long layout as text instead of bytes (ValidationInput.textPath): the benchmark's before. */
  textPath?: boolean;
  file: { path: string; etag: string; name: string };
  /** Opens the file's bytes, pinned to `file.etag` where the store supports it. */
  open(): Promise<Readable>;
  /** Copies the whole original file to the given quarantine path (used when the file is rejected). */
  copyToQuarantine(path: string): Promise<void>;
}

export const STAGED_PART = 'part-00000.parquet';
export const REPORT_FILE = '_report.json';
export const REJECTED_FILE = 'rejected.ndjson';
/** Name the original gets in quarantine when its own name is unsafe. */
export const QUARANTINED_UNSAFE_NAME = 'original.bin';

/** `{dataset}/{instanceId}/g{generation}/`: the staging and quarantine folder of one generation of a file. */
export function stagingPrefix(dataset: string, instanceId: string, generation: number): string {
  return `${dataset}/${stagedEntry(instanceId, generation)}/`;
}

/**
 * `{instanceId}/g{generation}`: how the silver job's `instance_ids` parameter names the staged folder of one
 * generation (the job takes the part before `/` as the instance id, its lineage and idempotency key).
 */
export function stagedEntry(instanceId: string, generation: number): string {
  return `${instanceId}/g${generation}`;
}

/** A create-only upload fed chunk by chunk, with backpressure, that can be abandoned without a trace. */
class LakeUpload {
  private readonly stream = new PassThrough({ highWaterMark: 1 << 20 });
  private readonly done: Promise<unknown>;
  private failure: Error | undefined;

  constructor(lake: LakeStore, container: string, path: string, contentType: string) {
    // The store reports stream failures through its promise; keep the stream's own event from crashing us.
    this.stream.on('error', () => undefined);
    this.done = lake.createOnly(container, path, this.stream, { contentType }).catch((error: unknown) => {
      this.failure = ensureError(error);
      throw this.failure;
    });
    // The failure is reported by end() or write(); avoid an unhandled rejection meanwhile.
    this.done.catch(() => undefined);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  async write(chunk: Buffer | string): Promise<void> {
    this.throwIfFailed();
    if (this.stream.write(chunk)) return;
    await Promise.race([new Promise<void>((resolve) => this.stream.once('drain', resolve)), this.done]);
    this.throwIfFailed();
  }

  async end(): Promise<void> {
    this.stream.end();
    await this.done;
  }

  async abort(): Promise<void> {
    this.stream.destroy(new Error('upload abandoned: the file was rejected'));
    await this.done.catch(() => undefined);
  }
}

async function readReport(
  lake: LakeStore,
  container: string,
  path: string,
): Promise<ValidationReport | undefined> {
  try {
    const object = await lake.read(container, path);
    return validationReportSchema.parse(JSON.parse(object.data.toString('utf8')));
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

async function removePrefix(lake: LakeStore, container: string, prefix: string): Promise<void> {
  const paths: string[] = [];
  try {
    for await (const entry of lake.list(container, prefix)) paths.push(entry.path);
  } catch (error) {
    if (error instanceof NotFoundError) return;
    throw error;
  }
  for (const path of paths) await lake.delete(container, path);
}

async function writeReport(
  lake: LakeStore,
  container: string,
  prefix: string,
  report: ValidationReport,
): Promise<void> {
  await lake.createOnly(container, `${prefix}${REPORT_FILE}`, `${JSON.stringify(report, null, 2)}\n`, {
    contentType: 'application/json',
  });
}

export async function validateAndStage(lake: LakeStore, request: StageRequest): Promise<ValidationReport> {
  const { contract, instanceId } = request;
  const prefix = stagingPrefix(contract.dataset, instanceId, request.generation);
  const committed =
    (await readReport(lake, 'staging', `${prefix}${REPORT_FILE}`)) ??
    (await readReport(lake, 'quarantine', `${prefix}${REPORT_FILE}`));
  if (committed) return committed;
  await removePrefix(lake, 'staging', prefix);
  await removePrefix(lake, 'quarantine', prefix);

  const nameProblem = objectPathProblem(request.file.name);
  if (nameProblem) {
    const report = rejectedUnread(
      { contract, file: request.file, instanceId, now: request.now, limits: request.limits },
      'UNSAFE_NAME',
      `${JSON.stringify(request.file.name.slice(0, 80))}: ${nameProblem}`,
    );
    await request.copyToQuarantine(`${prefix}${QUARANTINED_UNSAFE_NAME}`);
    await writeReport(lake, 'quarantine', prefix, report);
    return report;
  }

  const staged = new LakeUpload(lake, 'staging', `${prefix}${STAGED_PART}`, 'application/vnd.apache.parquet');
  let rejected: LakeUpload | undefined;
  let pendingRejected: string[] = [];
  const columns = datasetColumns(contract.dataset);
  const writer = new ParquetWriter(
    columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable })),
    (chunk) => staged.write(chunk),
    {
      compression: 'gzip',
      metadata: {
        'lakewatt.dataset': contract.dataset,
        'lakewatt.source': contract.source,
        'lakewatt.instance_id': instanceId,
        'lakewatt.source_file': request.file.path,
        'lakewatt.source_etag': request.file.etag,
      },
    },
  );

  const flushRejected = async (): Promise<void> => {
    if (pendingRejected.length === 0) return;
    rejected ??= new LakeUpload(lake, 'quarantine', `${prefix}${REJECTED_FILE}`, 'application/x-ndjson');
    const text = pendingRejected.join('');
    pendingRejected = [];
    await rejected.write(text);
  };

  let report: ValidationReport;
  try {
    const source = await request.open();
    report = await validateStream(
      {
        source,
        contract,
        file: { path: request.file.path, etag: request.file.etag },
        instanceId,
        now: request.now,
        ...(request.landedAt ? { landedAt: request.landedAt } : {}),
        limits: request.limits,
        ...(request.textPath ? { textPath: true } : {}),
      },
      {
        writeBatch: (batch) => writer.writeBatch(batch),
        writeRejected: (row: RejectedRow) => void pendingRejected.push(`${JSON.stringify(row)}\n`),
        flush: flushRejected,
      },
    );
    await flushRejected();
  } catch (error) {
    await staged.abort();
    await rejected?.abort();
    throw error;
  }

  if (report.verdict === 'rejected') {
    await staged.abort();
    await rejected?.end();
    await request.copyToQuarantine(`${prefix}${request.file.name}`);
    await writeReport(lake, 'quarantine', prefix, report);
    return report;
  }
  await writer.finish();
  await staged.end();
  await rejected?.end();
  await writeReport(lake, 'staging', prefix, report);
  return report;
}

/** A StageRequest for a file already in the lake's bronze container, read and copied pinned to its eTag. */
export function bronzeStageRequest(
  lake: LakeStore,
  params: Omit<StageRequest, 'open' | 'copyToQuarantine' | 'file'> & { path: string; etag: string },
): StageRequest {
  const { path, etag, ...rest } = params;
  return {
    ...rest,
    file: { path: `bronze/${path}`, etag, name: path.slice(path.lastIndexOf('/') + 1) },
    open: async () => (await lake.readStream('bronze', path, { ifMatch: etag })).stream,
    copyToQuarantine: async (target) => {
      await lake.copy(
        { container: 'bronze', path },
        { container: 'quarantine', path: target },
        { ifMatch: etag, overwrite: true },
      );
    },
  };
}
