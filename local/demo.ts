import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';

import { type AuditRecord, auditRecordSchema } from '../lib/audit';
import { type LakewattConfig, loadConfig } from '../lib/config';
import { createSqlClient, toRecords } from '../lib/databricks';
import { UsageError } from '../lib/errors';
import { createLakeStore } from '../lib/lake';
import { countsText, countsTotal } from '../lib/pipeline/vee';
import { type Manifest, simulate } from '../lib/simulator';
import { dropFile, type Dropped, type IngestOutcome, ingestOutcome, waitForInstance } from './drops';
import { LocalRuntime } from './runtime';

/**
 * `lakewatt demo`: a small simulated data set with defects (reference data, prices and readings from every
 * simulated source) through the whole embedded pipeline, then a summary. It works in its own state folder,
 * emptied first, so it can run again and again next to a developer's own state.
 */

export interface DemoOptions {
  home: string;
  meters: number;
  days: number;
  seed: string;
  defects: number;
  log: (line: string) => void;
  /** Where the demo is, for a progress line: its phases, and each file as its run ends. */
  onProgress?: (event: DemoProgress) => void;
  /**
   * Serves the operations console against the demo's runtime once it has started, so a user can watch the
   * runs arrive; closed before the runtime stops. Undefined (or an answer of undefined): no console.
   */
  serveConsole?: (runtime: LocalRuntime) => Promise<ServedConsole | undefined>;
}

export interface ServedConsole {
  /** The console's address with this start's token. */
  url: string;
  close: () => Promise<void>;
}

export type DemoProgress =
  | {
      kind: 'phase';
      phase: string;
      /** How many files the simulation wrote: all of them go through the pipeline. */
      files?: number;
    }
  | { kind: 'file'; path: string; outcome: IngestOutcome };

export interface DemoSummary {
  home: string;
  seconds: number;
  files: Array<{
    path: string;
    status: AuditRecord['status'] | 'unknown';
    verdict: string | null;
    rowsValid: number | null;
    rowsRejected: number | null;
    reasons: string[];
    error: string | null;
  }>;
  tables: Array<{ table: string; rows: number }>;
  gold: Array<Record<string, unknown>>;
  segments: Array<Record<string, unknown>>;
  /** Meter-data VEE over silver; null when silver has no VEE tables (a silver job from before VEE). */
  vee: DemoVee | null;
  databricksRuns: number;
  auditFolder: string;
  /**
   * The operations console that served the demo's runtime while it ran (it stops with the demo), when one
   * did; the summary then ends with how to browse the state folder afterwards (`lakewatt ui`).
   */
  consoleUrl?: string;
}

/** Meter-data VEE figures over the whole of silver. */
export interface DemoVee {
  /** (meter, channel, local day) evaluated, and those with every interval (silver.meter_day_completeness). */
  meterDays: number;
  completeMeterDays: number;
  expectedIntervals: number;
  receivedIntervals: number;
  /** Intervals still missing after estimation. */
  missingIntervals: number;
  /** Readings silver holds as estimates, by method (silver.meter_readings.estimation_method). */
  estimatedIntervals: Record<string, number>;
  /** Rule findings by rule code (silver.vee_findings). */
  findings: Record<string, number>;
}

const MARKER = '.lakewatt-demo';
const SQL_TABLES = [
  'bronze.meter_readings',
  'silver.meter_readings',
  'silver.customers',
  'silver.contracts',
  'silver.prices',
  'silver.validation_reports',
  'silver.meter_day_completeness',
  'silver.vee_findings',
  'silver.reading_edits',
  'gold.daily_consumption',
  'gold.customer_daily_cost',
  'gold.load_profile_hourly',
  'gold.consumption_anomalies',
  'gold.data_quality_daily',
  'gold.data_quality_rule_failures',
  'gold.forecast_features',
  'gold.dim_date',
  'gold.dim_holiday',
  'gold.dim_meter',
  'gold.dim_customer',
  'gold.dim_contract',
];

/** Tables of meter-data VEE: a silver job from before VEE writes none of them. */
const VEE_TABLES: ReadonlySet<string> = new Set([
  'silver.meter_day_completeness',
  'silver.vee_findings',
  'silver.reading_edits',
]);

type Query = (statement: string) => Promise<Array<Record<string, unknown>>>;

/** A SQL count as a number (0 for null: `sum` over no rows). */
const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

/**
 * VEE figures from SQL answers: `totals` the one row of the completeness query, `counts` rows of
 * (kind 'finding' | 'estimate', code, n).
 */
export function demoVee(
  totals: Record<string, unknown> | undefined,
  counts: ReadonlyArray<Record<string, unknown>>,
): DemoVee {
  const byCode = (kind: string): Record<string, number> =>
    Object.fromEntries(
      counts.filter((row) => row.kind === kind).map((row) => [String(row.code), num(row.n)]),
    );
  return {
    meterDays: num(totals?.meter_days),
    completeMeterDays: num(totals?.complete_meter_days),
    expectedIntervals: num(totals?.expected_intervals),
    receivedIntervals: num(totals?.received_intervals),
    missingIntervals: num(totals?.missing_intervals),
    estimatedIntervals: byCode('estimate'),
    findings: byCode('finding'),
  };
}

/** The VEE figures of silver, or null when its VEE tables are not there (a lake from before VEE). */
async function queryVee(query: Query, present: ReadonlySet<string>): Promise<DemoVee | null> {
  if (!present.has('silver.meter_day_completeness')) return null;
  const [totals] = await query(`
    SELECT count(*) AS meter_days, count_if(complete) AS complete_meter_days,
           sum(expected_intervals) AS expected_intervals, sum(received_intervals) AS received_intervals,
           sum(missing_intervals) AS missing_intervals
    FROM silver.meter_day_completeness`);
  // estimation_method comes with the completeness table: the same silver job writes both.
  const estimates = `SELECT 'estimate' AS kind, estimation_method AS code, count(*) AS n
    FROM silver.meter_readings WHERE estimation_method IS NOT NULL GROUP BY estimation_method`;
  const findings = `SELECT 'finding' AS kind, rule AS code, count(*) AS n FROM silver.vee_findings GROUP BY rule`;
  const counts = await query(
    present.has('silver.vee_findings') ? `${estimates} UNION ALL ${findings}` : estimates,
  );
  return demoVee(totals, counts);
}

/** The demo's state folder is emptied on each run: refuse a folder that is not one of its own. */
async function freshHome(home: string): Promise<void> {
  if (existsSync(home)) {
    // An earlier `make demo` wrote only a simulation there (simulation-manifest.json): also ours.
    const ours = [MARKER, 'simulation-manifest.json'].some((name) => existsSync(path.join(home, name)));
    if (!ours) {
      throw new UsageError(`${home} exists and is not a demo folder; choose another --home`);
    }
    await fs.rm(home, { recursive: true, force: true });
  }
  await fs.mkdir(home, { recursive: true });
  await fs.writeFile(path.join(home, MARKER), 'made by lakewatt demo; emptied on each run\n');
}

function demoConfig(home: string): LakewattConfig {
  // What the app reads (process.env) must point at the demo folder too.
  process.env.LAKEWATT_HOME = home;
  delete process.env.LAKE_ROOT;
  process.env.PII_HASH_KEY ??= `demo-${randomBytes(16).toString('hex')}`;
  process.env.JOB_POLL_MIN_SECONDS = '1';
  process.env.JOB_POLL_MAX_SECONDS = '2';
  // Two Spark workers, as silver and gold have compute of their own on Databricks: gold runs queue behind
  // each other instead of alternating with silver, so files of the same days share them (bench/README.md).
  process.env.LOCAL_JOBS_WORKERS ??= '2';
  return loadConfig();
}

type ManifestFile = Manifest['files'][number];

function target(file: ManifestFile): { dataset: string; source: string; date: string; name: string } {
  const [, , dataset, source, yyyy, mm, dd, name] = file.path.split('/');
  return { dataset: dataset!, source: source!, date: `${yyyy}-${mm}-${dd}`, name: name! };
}

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const started = Date.now();
  const home = path.resolve(options.home);
  await freshHome(home);
  const progress = options.onProgress ?? ((): void => undefined);
  progress({ kind: 'phase', phase: 'simulating' });
  const simDir = path.join(home, 'source-systems');
  const manifest = await simulate(simDir, {
    meters: options.meters,
    days: options.days,
    seed: options.seed,
    defects: options.defects,
    // Besides the CSV and NDJSON sources, a share of the meters arrives in each market format.
    nem12: true,
    mscons: true,
    espi: true,
  });
  options.log(`simulated ${manifest.files.length} files from ${manifest.summary.by_source.length} sources`);
  progress({ kind: 'phase', phase: 'starting the embedded runtime', files: manifest.files.length });
  const config = demoConfig(home);
  const runtime = await LocalRuntime.start({
    config,
    port: 0,
    jobs: { port: 0, prewarm: true, log: () => undefined },
    watch: false,
    timers: false,
    log: () => undefined,
    logSink: () => undefined,
  });
  let served: ServedConsole | undefined;
  try {
    served = await options.serveConsole?.(runtime);
    if (served) options.log(`console on ${served.url} while the demo runs: watch the runs arrive`);
    const lake = createLakeStore(config.lake);
    const drop = (file: ManifestFile): Promise<Dropped> =>
      dropFile(runtime, path.join(simDir, file.path), target(file), lake);
    const wait = async (file: ManifestFile, dropped: Dropped): Promise<void> => {
      const status = await waitForInstance(runtime, dropped.instanceId, 900_000);
      progress({ kind: 'file', path: file.path, outcome: ingestOutcome(status) });
    };
    // Reference data first (contracts before the customers they belong to), in delivery order, as the
    // source systems send it; then prices and readings all at once.
    const byDelivery = [...manifest.files].sort((a, b) => a.delivery_date.localeCompare(b.delivery_date));
    progress({ kind: 'phase', phase: 'ingesting reference data' });
    for (const dataset of ['contracts', 'customers']) {
      for (const file of byDelivery.filter((f) => f.dataset === dataset)) {
        await wait(file, await drop(file));
      }
    }
    progress({ kind: 'phase', phase: 'ingesting prices and readings' });
    const rest = byDelivery.filter((f) => f.dataset !== 'contracts' && f.dataset !== 'customers');
    const dropped = await Promise.all(rest.map((file) => drop(file)));
    options.log(`dropped ${dropped.length} price and reading files; waiting for their runs`);
    await Promise.all(dropped.map((d, i) => wait(rest[i]!, d)));
    await runtime.host.whenIdle();
    progress({ kind: 'phase', phase: 'querying the lake' });

    const records: AuditRecord[] = [];
    for await (const entry of lake.list('audit', 'runs/')) {
      const object = await lake.read('audit', entry.path);
      records.push(auditRecordSchema.parse(JSON.parse(object.data.toString('utf8'))));
    }
    const files = manifest.files.map((file) => {
      const record = records.find((r) => `bronze/${r.file.path}` === file.path);
      return {
        path: file.path,
        status: record?.status ?? ('unknown' as const),
        verdict: record?.verdict ?? null,
        rowsValid: record?.validation?.counts.rowsValid ?? null,
        rowsRejected: record?.validation?.counts.rowsRejected ?? null,
        reasons: (record?.reasons ?? []).map((r) => r.code),
        error: record?.error ? `${record.error.code}: ${record.error.message}` : null,
      };
    });
    const sql = createSqlClient({
      ...config,
      databricks: { ...config.databricks, host: runtime.emulator!.url },
    });
    const query: Query = async (statement) =>
      toRecords(await sql.executeStatement(statement, { warehouseId: 'local', waitTimeoutSeconds: 50 }));
    const silverTables = await query('SHOW TABLES IN silver');
    const present = new Set(silverTables.map((row) => `silver.${String(row.tableName)}`));
    const counts = await query(
      SQL_TABLES.filter((table) => !VEE_TABLES.has(table) || present.has(table))
        .map((table) => `SELECT '${table}' AS table_name, count(*) AS n FROM ${table}`)
        .join(' UNION ALL '),
    );
    // Facts joined to the date dimension on (date, timezone), as a report would.
    const gold = await query(`
      SELECT d.date, max(c.day_name) AS day_name,
             CASE WHEN max(c.holiday_name) IS NOT NULL THEN concat('holiday (', max(c.holiday_name), ')')
                  WHEN bool_or(c.is_weekend) THEN 'weekend' ELSE 'working day' END AS day_type,
             count(DISTINCT d.meter_id) AS meters, round(sum(d.import_kwh), 1) AS import_kwh,
             round(sum(d.export_kwh), 1) AS export_kwh, k.cost_eur
      FROM gold.daily_consumption d
      LEFT JOIN gold.dim_date c ON c.date = d.date AND c.timezone = d.timezone
      LEFT JOIN (SELECT date, round(sum(total_cost_eur), 2) AS cost_eur FROM gold.customer_daily_cost GROUP BY date) k
        ON k.date = d.date
      GROUP BY d.date, k.cost_eur ORDER BY d.date`);
    // The meter dimension slices the same facts by the customer's segment.
    const segments = await query(`
      SELECT coalesce(m.segment, 'unknown') AS segment, count(DISTINCT d.meter_id) AS meters,
             round(sum(d.import_kwh), 1) AS import_kwh
      FROM gold.daily_consumption d LEFT JOIN gold.dim_meter m ON m.meter_id = d.meter_id
      GROUP BY 1 ORDER BY 1`);
    const vee = await queryVee(query, present);
    return {
      home,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      files,
      tables: counts.map((row) => ({ table: String(row.table_name), rows: Number(row.n) })),
      gold,
      segments,
      vee,
      // Distinct runs: files that shared a gold run cite the same run id.
      databricksRuns: new Set(
        records.flatMap((r) => r.databricksRuns.flatMap((run) => (run.runId === null ? [] : [run.runId]))),
      ).size,
      auditFolder: path.join(config.lake.kind === 'local' ? config.lake.root : home, 'audit', 'runs'),
      ...(served ? { consoleUrl: served.url } : {}),
    };
  } finally {
    await served?.close();
    await runtime.stop();
  }
}

/** A SQL answer's value as text ('' for null): the statement API sends strings, numbers or null. */
function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

export function formatDemoSummary(summary: DemoSummary): string {
  const lines: string[] = [];
  const by = (status: string): number => summary.files.filter((f) => f.status === status).length;
  lines.push(
    `Lakewatt demo: ${summary.files.length} files in ${summary.seconds} s — ${by('completed')} completed, ` +
      `${by('rejected')} rejected, ${by('failed')} failed; ${summary.databricksRuns} Databricks runs`,
    '',
  );
  const width = Math.max(...summary.files.map((f) => f.path.length));
  for (const file of summary.files) {
    const detail =
      file.status === 'completed'
        ? `${file.verdict} (${file.rowsValid} rows${file.rowsRejected ? `, ${file.rowsRejected} rejected` : ''})`
        : file.status === 'rejected'
          ? `rejected: ${file.reasons.join(', ') || 'see audit'}`
          : (file.error ?? file.status);
    lines.push(`  ${file.path.padEnd(width)}  ${detail}`);
  }
  lines.push('', 'Rows per table:');
  for (const table of summary.tables) lines.push(`  ${table.table.padEnd(28)} ${table.rows}`);
  lines.push('', 'Gold per local day (daily_consumption and customer_daily_cost by dim_date):');
  for (const row of summary.gold) {
    const cost = row.cost_eur === null ? 'not costed' : `cost ${text(row.cost_eur)} EUR`;
    lines.push(
      `  ${String(row.date)} ${text(row.day_name).padEnd(9)} ${text(row.day_type).padEnd(12)} ` +
        `${String(row.meters)} meters  import ${String(row.import_kwh)} kWh  export ${String(row.export_kwh)} kWh  ${cost}`,
    );
  }
  lines.push('', 'Gold by customer segment (daily_consumption by dim_meter):');
  for (const row of summary.segments) {
    lines.push(
      `  ${text(row.segment).padEnd(12)} ${String(row.meters)} meters  import ${String(row.import_kwh)} kWh`,
    );
  }
  lines.push('', ...demoVeeLines(summary.vee));
  lines.push(
    '',
    `Audit records: ${summary.auditFolder}`,
    `State folder:  ${summary.home} (inspect with LAKEWATT_HOME=${summary.home} lakewatt runs list / lakewatt sql)`,
  );
  if (summary.consoleUrl) lines.push(...demoConsoleLines(summary.consoleUrl, summary.home));
  return `${lines.join('\n')}\n`;
}

/** The console served while the demo ran has stopped with it: how to open the same state again. */
export function demoConsoleLines(url: string, home: string): string[] {
  return [
    `Console:       ${url} served the demo while it ran and stopped with it;`,
    `               browse the results: LAKEWATT_HOME=${home} lakewatt ui`,
  ];
}

/** The VEE section of the summary: meter-days complete, intervals estimated by method, findings by rule. */
export function demoVeeLines(vee: DemoVee | null): string[] {
  if (!vee) return ['Meter-data VEE: not evaluated (silver has no meter_day_completeness table)'];
  const estimated = countsTotal(vee.estimatedIntervals);
  const share =
    vee.meterDays === 0 ? '' : ` (${((100 * vee.completeMeterDays) / vee.meterDays).toFixed(1)} %)`;
  return [
    'Meter-data VEE (silver.meter_day_completeness, vee_findings, meter_readings):',
    `  meter-days complete  ${vee.completeMeterDays} of ${vee.meterDays}${share}`,
    `  intervals            ${vee.receivedIntervals} of ${vee.expectedIntervals} received, ${vee.missingIntervals} still missing`,
    `  estimated            ${estimated === 0 ? 'none' : `${estimated}: ${countsText(vee.estimatedIntervals)}`}`,
    `  findings by rule     ${countsText(vee.findings)}`,
  ];
}
