import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { loadConfig } from '../../lib/config';
import type { SourceContractRegistry } from '../../lib/contracts/sources';
import type { JobsClient } from '../../lib/databricks';
import type { LocalLakeStore } from '../../lib/lake';
import type { IngestInput } from '../../lib/pipeline/ingest';
import { stageFile, startJobRun } from '../../lib/pipeline/steps';
import type { Manifest } from '../../lib/simulator';
import type { LocalRuntime } from '../../local/runtime';
import { jobPolicy } from '../../orchestrations/starters';

/**
 * The same work as an orchestrated file, without the orchestration (issues 7 and 12): the validation engine
 * (what the activity runs), then the project's silver and gold jobs through the Jobs client, polled every
 * 100 ms; and DuckDB's daily totals of the file (no Spark at all).
 */

export type ManifestFile = Manifest['files'][number];

export const DIRECT_POLL_MS = 100;

export interface Context {
  runtime: LocalRuntime;
  lake: LocalLakeStore;
  simDir: string;
  token: string;
  jobs: JobsClient;
  contracts: SourceContractRegistry;
}

export function landingTarget(file: ManifestFile): {
  dataset: string;
  source: string;
  date: string;
  name: string;
} {
  const [, , dataset, source, yyyy, mm, dd, name] = file.path.split('/');
  return { dataset: dataset!, source: source!, date: `${yyyy}-${mm}-${dd}`, name: name! };
}

export async function runDirect(
  ctx: Context,
  job: string,
  parameters: Record<string, string>,
): Promise<ListedRunLite> {
  const created = Date.now();
  const { runId } = await startJobRun(ctx.jobs, {
    job,
    parameters,
    idempotencyToken: `bench-${randomUUID()}`,
  });
  for (;;) {
    const run = await ctx.jobs.getRun(runId);
    if (run.outcome.terminal) {
      if (run.outcome.kind !== 'Succeeded') throw new Error(`${job} run ${runId}: ${run.outcome.reason}`);
      return { runId, ms: Date.now() - created };
    }
    await new Promise((resolve) => setTimeout(resolve, DIRECT_POLL_MS));
  }
}
/** The two runs the pipeline would launch for staged meter files: silver over them, then gold over their days. */
export async function silverThenGold(
  ctx: Context,
  orchestrationId: string,
  instanceIds: readonly string[],
  affectedDates: Iterable<string>,
): Promise<{ silver: ListedRunLite; gold: ListedRunLite }> {
  const silver = await runDirect(ctx, 'lakewatt-silver', {
    dataset: 'meter_readings',
    orchestration_id: orchestrationId,
    instance_ids: instanceIds.join(','),
    generation: '0',
  });
  const dates = [...affectedDates].sort();
  const gold = await runDirect(ctx, 'lakewatt-gold', {
    orchestration_id: orchestrationId,
    generation: '0',
    date_from: dates[0]!,
    date_to: dates.at(-1)!,
    dataset: 'meter_readings',
  });
  return { silver, gold };
}

export interface ListedRunLite {
  runId: number;
  ms: number;
}

/** Writes a file into bronze landing without announcing it, and validates and stages it as the activity does. */
export async function stageDirect(
  ctx: Context,
  file: string,
  target: { dataset: string; source: string; date: string; name: string },
  instanceId: string,
): Promise<{ affectedDates: string[]; rows: number }> {
  const [yyyy, mm, dd] = target.date.split('-');
  const objectPath = `landing/${target.dataset}/${target.source}/${yyyy}/${mm}/${dd}/${target.name}`;
  await ctx.lake.overwrite('bronze', objectPath, await fs.readFile(file));
  const properties = await ctx.lake.properties('bronze', objectPath);
  const config = loadConfig();
  const input: IngestInput = {
    file: {
      container: 'bronze',
      path: objectPath,
      etag: properties.etag,
      dataset: target.dataset as IngestInput['file']['dataset'],
      source: target.source,
      fileName: target.name,
      size: properties.size,
      sequencer: null,
      eventId: null,
      eventTime: null,
    },
    generation: 0,
    requestedAt: new Date().toISOString(),
    trigger: 'event',
    policy: jobPolicy(config),
  };
  const outcome = await stageFile(
    { lake: ctx.lake, contracts: ctx.contracts, limits: config.validation },
    { instanceId, input, now: new Date() },
  );
  if (outcome.verdict === 'rejected' || !outcome.report) throw new Error(`${target.name} was rejected`);
  return { affectedDates: outcome.report.affectedDates, rows: outcome.report.counts.rowsValid };
}

export interface Direct {
  label: string;
  rows: number;
  totalMs: number;
  validateMs: number;
  silverMs: number;
  goldMs: number;
  silverRunId: number;
  goldRunId: number;
}

export async function direct(ctx: Context, file: ManifestFile, label: string): Promise<Direct> {
  const instanceId = `bench-direct-${file.data_date}`;
  const began = Date.now();
  const staged = await stageDirect(ctx, path.join(ctx.simDir, file.path), landingTarget(file), instanceId);
  const validated = Date.now();
  const { silver, gold } = await silverThenGold(ctx, instanceId, [instanceId], staged.affectedDates);
  return {
    label,
    rows: staged.rows,
    totalMs: Date.now() - began,
    validateMs: validated - began,
    silverMs: silver.ms,
    goldMs: gold.ms,
    silverRunId: silver.runId,
    goldRunId: gold.runId,
  };
}

/** DuckDB's daily totals per meter, channel and local (Europe/London) day of one readings CSV, in memory. */
export async function duckdbDaily(file: string): Promise<{ ms: number; groups: number }> {
  const began = Date.now();
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const escaped = file.replace(/'/g, "''");
    const reader = await connection.runAndReadAll(`
      WITH r AS (
        SELECT meter_id, channel, interval_start_utc AS t, kwh, quality_flag
        FROM read_csv('${escaped}', header = true, auto_detect = false,
          columns = {'meter_id': 'VARCHAR', 'interval_start_utc': 'TIMESTAMPTZ', 'interval_minutes': 'INTEGER',
                     'channel': 'VARCHAR', 'kwh': 'DOUBLE', 'quality_flag': 'VARCHAR'})),
      d AS (SELECT meter_id, channel, t, arg_max(kwh, quality_flag = 'A') AS kwh FROM r GROUP BY ALL)
      SELECT count(*)::INTEGER AS n FROM (
        SELECT meter_id, channel, CAST(timezone('Europe/London', t) AS DATE) AS day, sum(kwh) AS kwh
        FROM d GROUP BY ALL)`);
    const groups = Number(reader.getRowObjectsJson()[0]?.n ?? 0);
    return { ms: Date.now() - began, groups };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

// ------------------------------------------------------------------------------------------------- report
