/**
 * The only part of the simulator that touches the file system: streams each planned file to disk
 * (optionally through gzip), hashing and counting as it goes, then writes the truth file and the manifest.
 * Memory stays bounded: lines are batched into chunks of about 64 KiB and written with back-pressure, and
 * the truth is written file by file.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

import { type DefectRecord, ExpectedVerdict } from './defects';
import {
  expectedVerdict,
  type Manifest,
  MANIFEST_FILE,
  MANIFEST_VERSION,
  type ManifestFile,
  summarise,
} from './manifest';
import type { FileJob, SimulationPlan } from './plan';
import { formatDay } from './time';
import { TRUTH_FILE, TRUTH_HEADER, truthLine } from './truth';

const CHUNK_BYTES = 64 * 1024;

function* chunked(lines: Iterable<string>, counter: { newlines: number }): Generator<Buffer> {
  let pending: string[] = [];
  let size = 0;
  for (const line of lines) {
    pending.push(line);
    size += line.length;
    if (size >= CHUNK_BYTES) {
      const text = pending.join('');
      counter.newlines += countNewlines(text);
      yield Buffer.from(text, 'utf8');
      pending = [];
      size = 0;
    }
  }
  if (pending.length > 0) {
    const text = pending.join('');
    counter.newlines += countNewlines(text);
    yield Buffer.from(text, 'utf8');
  }
}

function countNewlines(text: string): number {
  let count = 0;
  let at = text.indexOf('\n');
  while (at !== -1) {
    count++;
    at = text.indexOf('\n', at + 1);
  }
  return count;
}

class HashingCounter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}

/** Streams the truth file through gzip, one batch of lines per written file. */
class TruthFileWriter {
  private readonly gzip = createGzip({ level: 6 });
  private readonly done: Promise<void>;
  rows = 0;

  constructor(target: string) {
    this.done = pipeline(this.gzip, createWriteStream(target));
    // Awaited in close(); until then a failure must not surface as an unhandled rejection.
    this.done.catch(() => undefined);
    this.gzip.write(`${TRUTH_HEADER.join(',')}\n`);
  }

  async write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    this.rows += lines.length;
    if (!this.gzip.write(lines.join(''))) await once(this.gzip, 'drain');
  }

  async close(): Promise<void> {
    this.gzip.end();
    await this.done;
  }
}

/** Writes one planned file under `root`; returns its manifest entry, its defects and its truth lines. */
export async function writeJob(
  root: string,
  job: FileJob,
): Promise<{ entry: ManifestFile; defects: DefectRecord[]; truth: string[] }> {
  const target = path.join(root, ...job.path.split('/'));
  await fs.mkdir(path.dirname(target), { recursive: true });
  const defects: DefectRecord[] = [...job.fileDefects];
  const truth: string[] = [];
  const counter = { newlines: 0 };
  let reportedRows = 0;
  const tap = new HashingCounter();
  const out = createWriteStream(target);
  if (job.content.kind === 'bytes') {
    await pipeline(Readable.from([job.content.bytes()]), tap, out);
  } else {
    const source = Readable.from(
      chunked(
        job.content.render({
          defect: (d) => defects.push(d),
          truth: (t) => truth.push(truthLine(t)),
          row: () => {
            reportedRows++;
          },
        }),
        counter,
      ),
    );
    if (job.compression === 'gzip') await pipeline(source, createGzip({ level: 6 }), tap, out);
    else await pipeline(source, tap, out);
  }
  const rows = job.rowsFrom === 'reported' ? reportedRows : Math.max(0, counter.newlines - job.headerLines);
  const { verdict, rejected } = expectedVerdict(rows, defects);
  return {
    entry: {
      path: job.path,
      dataset: job.dataset,
      source: job.source,
      data_date: job.dataDate,
      delivery_date: job.deliveryDate,
      format: job.format,
      compression: job.compression,
      rows,
      bytes: tap.bytes,
      sha256: tap.hash.digest('hex'),
      rejected_lines: rejected,
      expected_verdict: verdict,
    },
    defects,
    truth,
  };
}

/** Removes the files a previous simulation in `root` listed, so a rerun leaves no stale files behind. */
async function removePreviousRun(root: string): Promise<void> {
  let previous: unknown;
  try {
    previous = JSON.parse(await fs.readFile(path.join(root, MANIFEST_FILE), 'utf8'));
  } catch {
    return;
  }
  const files = (previous as { files?: unknown }).files;
  if (!Array.isArray(files)) return;
  for (const file of files) {
    const rel = (file as { path?: unknown }).path;
    if (typeof rel !== 'string' || !rel.startsWith('bronze/landing/') || rel.split('/').includes('..'))
      continue;
    await fs.rm(path.join(root, ...rel.split('/')), { force: true });
  }
}

/** Told after each file is written: `written` of `total` (the CLI's progress line). */
export type FileWritten = (written: number, total: number) => void;

/**
 * Writes every file of `plan` under the lake root `root`, the truth to `root/simulation-truth.csv.gz`, then
 * `root/simulation-manifest.json`.
 */
export async function writeSimulation(
  root: string,
  plan: SimulationPlan,
  onFileWritten?: FileWritten,
): Promise<Manifest> {
  await fs.mkdir(root, { recursive: true });
  await removePreviousRun(root);
  const files: ManifestFile[] = [];
  const defects: DefectRecord[] = [];
  const truth = new TruthFileWriter(path.join(root, TRUTH_FILE));
  let readings = 0;
  for (const job of plan.jobs) {
    const result = await writeJob(root, job);
    files.push(result.entry);
    defects.push(...result.defects);
    await truth.write(result.truth);
    if (!result.defects.some((d) => d.verdict === ExpectedVerdict.FileRejected)) {
      readings += result.entry.rows * job.valuesPerRow;
    }
    onFileWritten?.(files.length, plan.jobs.length);
  }
  await truth.close();
  files.sort((a, b) => a.path.localeCompare(b.path));
  const deliveries = files.map((f) => f.delivery_date).sort();
  const manifest: Manifest = {
    manifest_version: MANIFEST_VERSION,
    generator: 'lakewatt simulate',
    generated_at: `${plan.options.start}T00:00:00Z`,
    options: plan.options,
    date_range: {
      first_data_date: formatDay(plan.firstDay),
      last_data_date: formatDay(plan.lastDay),
      first_delivery_date: deliveries[0] ?? formatDay(plan.firstDay),
      last_delivery_date: deliveries[deliveries.length - 1] ?? formatDay(plan.lastDay),
    },
    files,
    defects,
    truth: { path: TRUTH_FILE, format: 'csv', compression: 'gzip', rows: truth.rows },
    summary: summarise(files, defects, readings),
  };
  await fs.writeFile(path.join(root, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}
