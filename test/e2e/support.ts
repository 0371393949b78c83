import { randomUUID } from 'node:crypto';
import { mkdtempSync, promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { type AuditRecord, auditRecordSchema } from '../../lib/audit';
import { type LakewattConfig, loadConfig } from '../../lib/config';
import { type LakeStore, LocalLakeStore } from '../../lib/lake';
import { dropFile, type Dropped, type InstanceStatus, waitForInstance } from '../../local/drops';
import type { LogRecord } from '../../local/host/log';
import { LocalRuntime } from '../../local/runtime';
import { duckdb, parquetList, sqlString } from '../integration/databricks/lakeSupport';
import { liveFiles } from './deltaTable';

export const REPO_ROOT = path.resolve(__dirname, '../..');

/** The app's registration modules, loaded from source (jest compiles them), as the host loads dist/. */
export const APP_MODULES = [
  'functions/bronzeBlobCreated.ts',
  'functions/pullPricesTimer.ts',
  'functions/runsApi.ts',
  'orchestrations/activities.ts',
  'orchestrations/batches.ts',
  'orchestrations/ingestFile.ts',
  'orchestrations/pullPrices.ts',
].map((file) => path.join(REPO_ROOT, file));

export interface Pipeline {
  root: string;
  home: string;
  lakeRoot: string;
  config: LakewattConfig;
  runtime: LocalRuntime;
  lake: LocalLakeStore;
  logs: LogRecord[];
  drop(
    file: string,
    target: { dataset: string; source: string; date: string; name?: string },
  ): Promise<Dropped>;
  wait(instanceId: string, timeoutMs?: number): Promise<InstanceStatus>;
  /** Resolves when no orchestration or activity has work left. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** The settings the e2e runtime sets; inherited values are cleared first. */
export const SETTINGS_KEYS = [
  'LAKEWATT_HOME',
  'LAKE_ROOT',
  'PII_HASH_KEY',
  'DATABRICKS_HOST',
  'DATABRICKS_AUTH',
  'DATABRICKS_TOKEN',
  'JOB_POLL_MIN_SECONDS',
  'JOB_POLL_MAX_SECONDS',
  'SOURCE_CONTRACTS_DIR',
  'LOCAL_JOBS_BUNDLE_DIR',
  'LOCAL_JOBS_FAULTS',
  'BATCH_MAX_FILES',
  'ENERGY_CHARTS_BASE_URL',
  'ENTSOE_BASE_URL',
  'PRICES_PROVIDERS',
  'PRICES_ZONES',
];

/**
 * The settings of an e2e runtime on the state folder `home` (lake in `home/lake`): the project's
 * contracts and bundle, fresh secrets, fast job polls; `env` on top. For a runtime in a child process,
 * pass them as its environment (with SETTINGS_KEYS cleared from the inherited one).
 */
export function pipelineSettings(home: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    LAKEWATT_HOME: home,
    PII_HASH_KEY: `e2e-key-${randomUUID()}`,
    DATABRICKS_TOKEN: `e2e-token-${randomUUID()}`,
    JOB_POLL_MIN_SECONDS: '1',
    JOB_POLL_MAX_SECONDS: '2',
    SOURCE_CONTRACTS_DIR: path.join(REPO_ROOT, 'contracts', 'sources'),
    LOCAL_JOBS_BUNDLE_DIR: path.join(REPO_ROOT, 'databricks'),
    ...env,
  };
}

/**
 * The whole embedded runtime on a fresh temporary state folder and lake: host with the app's functions,
 * the Jobs API emulator on the project's bundle (one warm Spark worker, prewarmed), no landing watcher
 * unless asked (tests deliver events themselves) and no timer triggers.
 */
export async function startPipeline(
  options: { env?: Record<string, string>; watch?: boolean } = {},
): Promise<Pipeline> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-e2e-'));
  const home = path.join(root, 'home');
  const saved = Object.fromEntries(SETTINGS_KEYS.map((key) => [key, process.env[key]]));
  for (const key of SETTINGS_KEYS) delete process.env[key];
  Object.assign(process.env, pipelineSettings(home, options.env));
  const config = loadConfig();
  const logs: LogRecord[] = [];
  const runtime = await LocalRuntime.start({
    config,
    port: 0,
    appRoot: REPO_ROOT,
    modules: APP_MODULES,
    jobs: { port: 0, prewarm: true, log: () => undefined },
    watch: options.watch ?? false,
    timers: false,
    logSink: (record) => logs.push(record),
    log: () => undefined,
  });
  const lakeRoot = config.lake.kind === 'local' ? config.lake.root : path.join(home, 'lake');
  const lake = new LocalLakeStore({ root: lakeRoot });
  return {
    root,
    home,
    lakeRoot,
    config,
    runtime,
    lake,
    logs,
    drop: (file, target) =>
      dropFile({ baseUrl: runtime.baseUrl, key: runtime.key, config }, file, target, lake),
    // Generous: on a busy 2-core machine a file waits behind every queued Spark run.
    wait: (instanceId, timeoutMs = 1_200_000) => waitForInstance(runtime, instanceId, timeoutMs),
    idle: () => runtime.host.whenIdle(),
    close: async () => {
      await runtime.stop();
      for (const key of SETTINGS_KEYS) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Every audit record of an ingestion in the lake (`audit/runs/...`). */
export async function auditRecords(lake: LakeStore): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for await (const entry of lake.list('audit', 'runs/')) {
    const object = await lake.read('audit', entry.path);
    records.push(auditRecordSchema.parse(JSON.parse(object.data.toString('utf8'))));
  }
  return records;
}

/**
 * A DuckDB relation over a Delta table's current version: the live Parquet files its log names (checkpoint
 * and commits) without the rows their deletion vectors remove (deltaTable.ts). Undefined for an empty table.
 */
export async function deltaSource(tableDir: string): Promise<string | undefined> {
  const live = await liveFiles(tableDir);
  if (live.length === 0) return undefined;
  const deleted = live.flatMap(({ file, deleted: rows }) =>
    rows.map((row) => `(${sqlString(file)}, ${row})`),
  );
  const source = `read_parquet(${parquetList(live.map((f) => f.file))}, filename = true, file_row_number = true)`;
  if (deleted.length === 0) return source;
  return `(SELECT s.* FROM ${source} AS s ANTI JOIN (VALUES ${deleted.join(', ')}) AS d(f, r)
    ON s.filename = d.f AND s.file_row_number = d.r)`;
}

/** The rows of a Delta table's current version (`deltaSource`), read with DuckDB. */
export async function deltaRows(
  tableDir: string,
  columns: string,
  order: string,
): Promise<Array<Record<string, unknown>>> {
  const source = await deltaSource(tableDir);
  return source ? duckdb(`SELECT ${columns} FROM ${source} ORDER BY ${order}`) : [];
}

/**
 * A canonical meter-readings CSV of one meter-day in `dir`: 48 half-hourly import readings whose kWh encode
 * the period. Returns the file and its row count, known without the code under test.
 */
export async function writeMeterDay(
  dir: string,
  meter: string,
  day: string,
): Promise<{ file: string; rows: number }> {
  const lines = ['meter_id,interval_start,interval_minutes,channel,kwh,quality'];
  for (let period = 0; period < 48; period++) {
    const start = new Date(Date.parse(`${day}T00:00:00Z`) + period * 1_800_000).toISOString();
    lines.push(
      `${meter},${start.replace('.000Z', 'Z')},30,import,${(period / 100 + 0.01).toFixed(3)},actual`,
    );
  }
  const file = path.join(dir, `${meter}-${day}.csv`);
  await fs.writeFile(file, `${lines.join('\n')}\n`);
  return { file, rows: 48 };
}

/** Silver `meter_readings` rows of the meters whose id starts with `prefix`, each with its count of copies. */
export async function silverReadings(
  lakeRoot: string,
  prefix: string,
): Promise<Array<{ meter_id: string; copies: number }>> {
  const rows = await deltaRows(
    path.join(lakeRoot, 'silver', 'meter_readings'),
    'meter_id, count(*) OVER (PARTITION BY meter_id, channel, interval_start) AS copies',
    'meter_id, interval_start',
  );
  return rows
    .filter((row) => String(row.meter_id).startsWith(prefix))
    .map((row) => ({ meter_id: String(row.meter_id), copies: Number(row.copies) }));
}
