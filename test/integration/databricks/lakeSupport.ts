import { promises as fs } from 'node:fs';
import path from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { loadSourceContracts } from '../../../lib/contracts/sources';
import type { JobsClient, RunInfo } from '../../../lib/databricks';
import { LocalLakeStore } from '../../../lib/lake';
import { type Manifest, simulate, type SimulationOptions } from '../../../lib/simulator';
import type { ValidationReport } from '../../../lib/validation/report';
import {
  bronzeStageRequest,
  STAGED_PART,
  stagedEntry,
  stagingPrefix,
  validateAndStage,
} from '../../../lib/validation/stage';
import { REPO_ROOT } from './support';

/** Validation limits generous enough for any simulated file. */
const LIMITS = {
  maxFileBytes: 64 * 1024 * 1024,
  maxDecompressedBytes: 256 * 1024 * 1024,
  maxCompressionRatio: 200,
  maxLineBytes: 64 * 1024,
  maxSeries: 100_000,
};

export interface StagedInput {
  instanceId: string;
  dataset: string;
  source: string;
  /** `{instanceId}/g0`: the silver job's `instance_ids` entry of this staged folder. */
  entry: string;
  /** staging/{dataset}/{instanceId}/g0/part-00000.parquet */
  parquet: string;
  report: ValidationReport;
}

/**
 * A simulated lake under `lakeRoot` (bronze files as the simulator lands them) and the staged inputs the real
 * validation engine makes of the chosen files, as the ingestion orchestration would: one instance per file.
 */
export async function simulateAndStage(
  lakeRoot: string,
  options: Partial<SimulationOptions>,
  pick: (file: Manifest['files'][number]) => boolean,
  instanceIdOf: (file: Manifest['files'][number]) => string,
): Promise<{ manifest: Manifest; staged: StagedInput[] }> {
  const manifest = await simulate(lakeRoot, options);
  const lake = new LocalLakeStore({ root: lakeRoot });
  for (const container of ['bronze', 'staging', 'quarantine']) await lake.ensureContainer(container);
  const contracts = await loadSourceContracts(path.join(REPO_ROOT, 'contracts', 'sources'));
  const staged: StagedInput[] = [];
  for (const file of manifest.files.filter(pick)) {
    // Manifest paths are lake-relative ("bronze/landing/..."); the store wants container-relative paths.
    const bronzePath = file.path.replace(/^bronze\//, '');
    const { etag } = await lake.properties('bronze', bronzePath);
    const instanceId = instanceIdOf(file);
    const report = await validateAndStage(
      lake,
      bronzeStageRequest(lake, {
        contract: contracts.resolve(file.dataset, file.source),
        instanceId,
        generation: 0,
        now: new Date('2026-01-15T00:00:00Z'),
        limits: LIMITS,
        path: bronzePath,
        etag,
      }),
    );
    staged.push({
      instanceId,
      entry: stagedEntry(instanceId, 0),
      dataset: file.dataset,
      source: file.source,
      parquet: path.join(lakeRoot, 'staging', stagingPrefix(file.dataset, instanceId, 0), STAGED_PART),
      report,
    });
  }
  return { manifest, staged };
}

/** Runs one query in an in-memory DuckDB and returns its rows as JSON-friendly objects. */
export async function duckdb(sql: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A DuckDB list of Parquet files, for read_parquet([...]). */
export function parquetList(files: string[]): string {
  return `[${files.map(sqlString).join(', ')}]`;
}

export interface DeltaSnapshot {
  version: number;
  /** Rows of the current version: numRecords of the live files minus their deletion vectors. */
  rows: number;
  files: number;
  /** The userMetadata of each commit, by version. */
  userMetadata: Map<number, string | undefined>;
}

interface AddOrRemove {
  path: string;
  stats?: string;
  deletionVector?: { storageType: string; pathOrInlineDv: string; offset?: number; cardinality: number };
}

/**
 * The current state of a Delta table read straight from its JSON commit log, independently of Spark: the
 * version, the live files and their row counts (from each file's statistics). Small test tables only: a
 * table with a checkpoint is refused rather than half-read.
 */
export async function deltaSnapshot(tableDir: string): Promise<DeltaSnapshot> {
  const logDir = path.join(tableDir, '_delta_log');
  const names = (await fs.readdir(logDir)).sort();
  if (names.some((name) => name.endsWith('.checkpoint.parquet') || name === '_last_checkpoint')) {
    throw new Error(`${tableDir} has a checkpoint; deltaSnapshot reads JSON commits only`);
  }
  const live = new Map<string, { rows: number }>();
  const keyOf = (action: AddOrRemove): string => {
    const dv = action.deletionVector;
    return dv ? `${action.path}|${dv.storageType}${dv.pathOrInlineDv}@${dv.offset ?? ''}` : action.path;
  };
  const userMetadata = new Map<number, string | undefined>();
  let version = -1;
  for (const name of names.filter((n) => /^\d{20}\.json$/.test(n))) {
    const commit = Number(name.slice(0, 20));
    version = Math.max(version, commit);
    const lines = (await fs.readFile(path.join(logDir, name), 'utf8')).split('\n').filter((l) => l.trim());
    const actions = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const action of actions) {
      if (action.commitInfo) {
        userMetadata.set(commit, (action.commitInfo as { userMetadata?: string }).userMetadata);
      }
    }
    // Removes first: a commit that swaps a file's deletion vector removes (path, old DV) and adds (path, new DV).
    for (const action of actions) {
      if (action.remove) live.delete(keyOf(action.remove as AddOrRemove));
    }
    for (const action of actions) {
      if (!action.add) continue;
      const add = action.add as AddOrRemove;
      const stats = add.stats ? (JSON.parse(add.stats) as { numRecords?: number }) : {};
      if (stats.numRecords === undefined) throw new Error(`${tableDir}: file ${add.path} has no numRecords`);
      live.set(keyOf(add), { rows: stats.numRecords - (add.deletionVector?.cardinality ?? 0) });
    }
  }
  if (version < 0) throw new Error(`${tableDir} has no Delta commits`);
  const rows = [...live.values()].reduce((sum, file) => sum + file.rows, 0);
  return { version, rows, files: live.size, userMetadata };
}

/**
 * Waits for a run to end. Fails at once, with the task's error and log tail, when a task attempt fails (the
 * bundle's tasks retry after a minute, which would only hide the cause here).
 */
export async function waitForProjectRun(
  client: JobsClient,
  runId: number,
  timeoutMs: number,
): Promise<RunInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await client.getRun(runId);
    if (run.outcome.terminal) return run;
    const failed = run.tasks.find((task) => task.outcome.terminal && task.outcome.kind !== 'Succeeded');
    if (failed?.runId !== undefined) {
      const output = await client.getRunOutput(failed.runId);
      throw new Error(
        `task ${failed.taskKey} of run ${runId} failed: ${output.error ?? failed.outcome.reason}\n${(output.logs ?? '').slice(-4000)}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `run ${runId} did not end within ${timeoutMs} ms: ${JSON.stringify(run.raw.status ?? run.raw.state)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
