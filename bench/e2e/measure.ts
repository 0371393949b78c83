import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type Database from 'better-sqlite3';

import type { AuditRecord } from '../../lib/audit';
import { auditRecordSchema } from '../../lib/audit';
import type { LocalLakeStore } from '../../lib/lake';

/** Small helpers of the end-to-end benchmark: statistics, the emulator's run list, audit records, files. */

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank: the p95 of 10 samples is the largest one, never an interpolation below it.
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);
export const p95 = (values: readonly number[]): number => quantile(values, 0.95);
export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
export const round = (value: number, digits = 0): number => Math.round(value * 10 ** digits) / 10 ** digits;

export function loadAverage(): number[] {
  return os.loadavg().map((l) => round(l, 2));
}

/** One Databricks run as the emulator's `runs/list` reports it (times in epoch ms, durations in ms). */
export interface ListedRun {
  runId: number;
  jobId: number;
  runName: string;
  createdMs: number;
  endMs: number;
  queueMs: number;
  setupMs: number;
  executionMs: number;
  resultState: string | null;
  parameters: Record<string, string>;
}

interface RawRun {
  run_id: number;
  job_id: number;
  run_name?: string;
  start_time?: number;
  end_time?: number;
  queue_duration?: number;
  setup_duration?: number;
  execution_duration?: number;
  state?: { result_state?: string };
  job_parameters?: Array<{ name: string; value?: string; default?: string }>;
}

/** Every job run the emulator knows, through `GET /api/2.2/jobs/runs/list` (25 per page). */
export async function listRuns(baseUrl: string, token: string): Promise<ListedRun[]> {
  const runs: ListedRun[] = [];
  for (let offset = 0; ; offset += 25) {
    const response = await fetch(`${baseUrl}/api/2.2/jobs/runs/list?limit=25&offset=${offset}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!response.ok) throw new Error(`runs/list answered HTTP ${response.status}: ${await response.text()}`);
    const body = (await response.json()) as { runs?: RawRun[]; has_more?: boolean };
    for (const run of body.runs ?? []) {
      runs.push({
        runId: run.run_id,
        jobId: run.job_id,
        runName: run.run_name ?? '',
        createdMs: run.start_time ?? 0,
        endMs: run.end_time ?? 0,
        queueMs: run.queue_duration ?? 0,
        setupMs: run.setup_duration ?? 0,
        executionMs: run.execution_duration ?? 0,
        resultState: run.state?.result_state ?? null,
        parameters: Object.fromEntries(
          (run.job_parameters ?? []).map((p) => [p.name, p.value ?? p.default ?? '']),
        ),
      });
    }
    if (!body.has_more) break;
  }
  return runs.sort((a, b) => a.runId - b.runId);
}

export async function auditRecords(lake: LocalLakeStore): Promise<Map<string, AuditRecord>> {
  const records = new Map<string, AuditRecord>();
  for await (const entry of lake.list('audit', 'runs/')) {
    const object = await lake.read('audit', entry.path);
    const record = auditRecordSchema.parse(JSON.parse(object.data.toString('utf8')));
    records.set(record.instanceId, record);
  }
  return records;
}

export interface InstanceTimes {
  runtimeStatus: string;
  createdMs: number;
  lastUpdatedMs: number;
  output: unknown;
}

/** Polls the durable management API until the instance ends; its own created and last-updated times. */
export async function waitInstance(
  host: { baseUrl: string; key: string },
  instanceId: string,
  timeoutMs: number,
  pollMs = 200,
): Promise<InstanceTimes> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(
      `${host.baseUrl}/runtime/webhooks/durabletask/instances/${encodeURIComponent(instanceId)}`,
      { headers: { 'x-functions-key': host.key } },
    );
    const body = (await response.json().catch(() => ({}))) as {
      runtimeStatus?: string;
      createdTime?: string;
      lastUpdatedTime?: string;
      output?: unknown;
    };
    if (response.status === 401 || response.status === 403)
      throw new Error(`the host refused the status query of ${instanceId}: ${response.status}`);
    const status = body.runtimeStatus ?? (response.status === 404 ? 'NotFound' : 'Unknown');
    if (['Completed', 'Failed', 'Terminated', 'Canceled'].includes(status)) {
      return {
        runtimeStatus: status,
        createdMs: Date.parse(body.createdTime ?? ''),
        lastUpdatedMs: Date.parse(body.lastUpdatedTime ?? ''),
        output: body.output ?? null,
      };
    }
    if (Date.now() > deadline) throw new Error(`${instanceId} did not end within ${timeoutMs} ms: ${status}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * Splits a long readings CSV (header, then one reading per line, meter id first) into `parts` files by
 * meter: every meter's readings stay in one file, meters dealt round-robin. Returns the files and rows.
 */
export async function splitByMeter(
  file: string,
  parts: number,
  outDir: string,
  stem: string,
): Promise<Array<{ file: string; rows: number }>> {
  const lines = (await fs.readFile(file, 'utf8')).split('\n').filter((l) => l.length > 0);
  const header = lines.shift()!;
  const meters = new Map<string, string[]>();
  for (const line of lines) {
    const meter = line.slice(0, line.indexOf(','));
    let rows = meters.get(meter);
    if (!rows) meters.set(meter, (rows = []));
    rows.push(line);
  }
  if (meters.size < parts) throw new Error(`${file} has ${meters.size} meters, fewer than ${parts} parts`);
  const buckets: string[][] = Array.from({ length: parts }, () => []);
  [...meters.values()].forEach((rows, i) => buckets[i % parts]!.push(...rows));
  await fs.mkdir(outDir, { recursive: true });
  const out: Array<{ file: string; rows: number }> = [];
  for (const [i, rows] of buckets.entries()) {
    const target = path.join(outDir, `${stem}_part${String(i).padStart(3, '0')}.csv`);
    await fs.writeFile(target, `${header}\n${rows.join('\n')}\n`);
    out.push({ file: target, rows: rows.length });
  }
  return out;
}

/** Rows of the local durable store's `history` table, in all and per orchestration name (entities included). */
export function historyRows(db: Database.Database): { total: number; byName: Record<string, number> } {
  const total = (db.prepare('SELECT count(*) AS n FROM history').get() as { n: number }).n;
  const rows = db
    .prepare(
      `SELECT i.name AS name, count(*) AS n FROM history h JOIN instances i ON i.instance_id = h.instance_id
       GROUP BY i.name ORDER BY i.name`,
    )
    .all() as Array<{ name: string; n: number }>;
  return { total, byName: Object.fromEntries(rows.map((r) => [r.name, r.n])) };
}

/** The history rows written between two counts, in all and per orchestration name. */
export function historyDelta(
  before: ReturnType<typeof historyRows>,
  after: ReturnType<typeof historyRows>,
): { total: number; byName: Record<string, number> } {
  const names = new Set([...Object.keys(before.byName), ...Object.keys(after.byName)]);
  return {
    total: after.total - before.total,
    byName: Object.fromEntries(
      [...names].map((name) => [name, (after.byName[name] ?? 0) - (before.byName[name] ?? 0)]),
    ),
  };
}

/** How many distinct meters a long readings CSV (meter id first on each line) has. */
export async function metersIn(file: string): Promise<number> {
  const lines = (await fs.readFile(file, 'utf8')).split('\n').slice(1);
  return new Set(lines.filter((l) => l.length > 0).map((l) => l.slice(0, l.indexOf(',')))).size;
}
