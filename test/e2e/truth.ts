/**
 * The expected gold figures of a clean simulated data set, computed straight from the simulator's bronze
 * files with DuckDB, independently of the project's validation engine, staging and Spark jobs.
 *
 * Independence: nothing here imports lib/ (no contracts loader, no validation, no simulator code). The source
 * contracts are read as plain YAML to learn each layout's columns, units, codes and time zones; the rules of
 * gold (docs/spark-jobs.md, databricks/src/lakewatt/transforms/gold/) are re-stated in SQL below:
 *
 * - A reading belongs to the contract version of its meter whose supply period contains its UTC start:
 *   versions of one contract are SCD2 rows keyed by (contract_id, valid_from), the last delivered row of a
 *   key wins, `valid_to` = min(source valid_to, next version's valid_from); per meter a later version's start
 *   also ends the earlier one (gold's `contract_periods`).
 * - Its local day is the date of its UTC start in the version's `tariff_timezone`, else the default zone
 *   (Europe/London, the bundle's `default_timezone`).
 * - gold.daily_consumption: one row per (date, meter_id, customer_id, timezone) with import/export kWh of
 *   the readings whose quality is not `missing` (rounded to 6 decimals), readings_count (all readings),
 *   import_readings, expected_readings = local day minutes / shortest interval, completeness and the share of
 *   estimated or substituted import readings.
 *
 * Assumptions: a clean simulation (manifest `options.defects` = 0, every file accepted), so there are no
 * duplicate reading keys to resolve by precedence (checked: a duplicate throws) and no rejected rows.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { parse as parseYaml } from 'yaml';

export const DEFAULT_TIMEZONE = 'Europe/London';
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const MANIFEST_FILE = 'simulation-manifest.json';

export interface TruthOptions {
  /** Folder of the source contract YAML files (default: the repository's contracts/sources). */
  contractsDir?: string;
  /** Zone of readings outside every contract (default Europe/London, as the bundle's default_timezone). */
  defaultTimezone?: string;
}

/** One row of gold.daily_consumption, without the run columns (computed_at, computed_by). */
export interface DailyConsumptionRow {
  date: string;
  meter_id: string;
  customer_id: string | null;
  timezone: string;
  import_kwh: number;
  export_kwh: number;
  readings_count: number;
  import_readings: number;
  expected_readings: number;
  completeness: number;
  estimated_share: number | null;
}

export interface ExpectedTotals {
  /** Sum of import_kwh over every (meter, date) row (each rounded to 6 decimals, as gold stores them). */
  import_kwh: number;
  export_kwh: number;
  /** Rows of gold.daily_consumption. */
  rows: number;
  meters: number;
  /** Distinct local dates, sorted. */
  dates: string[];
  /** Readings of every channel (the sum of readings_count). */
  readings: number;
}

/** One row of gold.customer_daily_cost (fixed-tariff contracts only), without the run columns. */
export interface CustomerDailyCostRow {
  date: string;
  customer_id: string;
  meter_id: string;
  contract_id: string;
  tariff_type: 'fixed';
  bidding_zone: string;
  import_kwh: number;
  energy_cost_eur: number;
  standing_charge_eur: number;
  total_cost_eur: number;
  unpriced_kwh: number;
}

// ------------------------------------------------------------------------------------- inputs, contracts

interface SimFile {
  path: string;
  dataset: string;
  source: string;
  data_date: string;
  delivery_date: string;
  compression: 'none' | 'gzip';
  expected_verdict: string;
}

interface SimManifest {
  options: { defects: number };
  files: SimFile[];
}

interface SourceContract {
  source: string;
  dataset: string;
  format: { type: 'csv' | 'ndjson'; delimiter?: string; quote?: string; header?: boolean; decimal?: string };
  layout: {
    kind: 'long' | 'wide';
    columns: Record<string, string>;
    date_column?: string;
    date_format?: string;
    value_columns?: string[];
    addressing?: 'period' | 'clock';
  };
  timestamp: { format: string; timezone?: string; marks?: 'start' | 'end' };
  interval_minutes?: number;
  unit?: string;
  constants?: Record<string, string | number>;
  quality_map?: Record<string, string>;
  channel_map?: Record<string, string>;
}

async function readManifest(simDir: string): Promise<SimManifest> {
  const manifest = JSON.parse(await fs.readFile(path.join(simDir, MANIFEST_FILE), 'utf8')) as SimManifest;
  if (manifest.options.defects !== 0) {
    throw new Error(
      `truth: ${simDir} was simulated with defects ${manifest.options.defects}; only clean (0) runs`,
    );
  }
  const bad = manifest.files.filter((f) => f.expected_verdict !== 'accepted');
  if (bad.length > 0)
    throw new Error(`truth: files not expected to be accepted: ${bad.map((f) => f.path).join(', ')}`);
  return manifest;
}

async function readContract(dir: string, dataset: string, source: string): Promise<SourceContract> {
  for (const ext of ['yaml', 'yml', 'json']) {
    const file = path.join(dir, `${dataset}.${source}.${ext}`);
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const contract = parseYaml(text) as SourceContract;
    if (contract.dataset !== dataset || contract.source !== source) {
      throw new Error(`truth: ${file} describes ${contract.dataset}/${contract.source}`);
    }
    return contract;
  }
  throw new Error(`truth: no contract for ${dataset}/${source} in ${dir}`);
}

/** Files of one dataset and source in delivery order (then path), as absolute paths. */
function filesOf(simDir: string, manifest: SimManifest, dataset: string, source?: string): SimFile[] {
  return manifest.files
    .filter((f) => f.dataset === dataset && (source === undefined || f.source === source))
    .sort((a, b) => a.delivery_date.localeCompare(b.delivery_date) || a.path.localeCompare(b.path))
    .map((f) => ({ ...f, path: path.join(simDir, f.path) }));
}

// ----------------------------------------------------------------------------------------------- SQL bits

const str = (value: string): string => `'${value.replace(/'/g, "''")}'`;
const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const list = (files: SimFile[]): string => `[${files.map((f) => str(f.path)).join(', ')}]`;

const UNIT_TO_KWH: Record<string, number> = { Wh: 0.001, kWh: 1, MWh: 1000 };

/** CASE mapping source codes to canonical values; an unmapped code becomes NULL (checked later). */
function codeMap(expr: string, map: Record<string, string>): string {
  const arms = Object.entries(map).map(([code, value]) => `WHEN ${str(code)} THEN ${str(value)}`);
  return `(CASE ${expr} ${arms.join(' ')} END)`;
}

/** A canonical column: mapped source column (through its code map) or contract constant. */
function canonical(
  contract: SourceContract,
  column: string,
  sourceExpr: (sourceColumn: string) => string,
  map?: Record<string, string>,
  fallback?: string,
): string {
  const mapped = contract.layout.columns[column];
  if (mapped !== undefined) return map ? codeMap(sourceExpr(mapped), map) : sourceExpr(mapped);
  const constant = contract.constants?.[column];
  if (constant !== undefined) return str(String(constant));
  if (fallback !== undefined) return fallback;
  throw new Error(`truth: ${contract.source} maps no ${column}`);
}

/** An ISO 8601 timestamp string as TIMESTAMPTZ: its own offset, else the contract's zone. */
function isoInstant(expr: string, zone: string): string {
  return `(CASE WHEN regexp_matches(${expr}, '(Z|[+-]\\d\\d:?\\d\\d)$') THEN CAST(${expr} AS TIMESTAMPTZ)
          ELSE timezone(${str(zone)}, CAST(${expr} AS TIMESTAMP)) END)`;
}

/** A date pattern of the contracts (yyyy MM dd and punctuation) as a strptime format. */
function strptimeFormat(pattern: string): string {
  const format = pattern.replace(/yyyy|MM|dd/g, (t) => ({ yyyy: '%Y', MM: '%m', dd: '%d' })[t] ?? t);
  if (/[a-zA-Z]/.test(format.replace(/%[Ymd]/g, '')))
    throw new Error(`truth: date pattern ${pattern} unsupported`);
  return format;
}

function number(expr: string, contract: SourceContract): string {
  const text = contract.format.decimal === ',' ? `replace(${expr}, ',', '.')` : expr;
  return `CAST(${text} AS DOUBLE)`;
}

function csvReader(files: SimFile[], contract: SourceContract): string {
  const f = contract.format;
  if (f.header === false) throw new Error(`truth: headerless CSV (${contract.source}) unsupported`);
  return `read_csv(${list(files)}, header = true, all_varchar = true, delim = ${str(f.delimiter ?? ',')},
    quote = ${str(f.quote ?? '"')}, escape = ${str(f.quote ?? '"')})`;
}

/**
 * SELECT of canonical readings (meter_id, channel, interval_start, interval_minutes, kwh, quality, source)
 * from one long-layout source: CSV columns by header name, NDJSON fields by dot path.
 */
function longReadings(files: SimFile[], contract: SourceContract): string {
  const ndjson = contract.format.type === 'ndjson';
  const field = ndjson
    ? (name: string): string => `(src.json ->> ${str(`$.${name}`)})`
    : (name: string): string => `src.${ident(name)}`;
  const from = ndjson
    ? `read_ndjson_objects(${list(files)}, compression = ${str(files[0]?.compression === 'gzip' ? 'gzip' : 'none')}) src`
    : `${csvReader(files, contract)} src`;
  if (contract.timestamp.format !== 'iso8601') {
    throw new Error(`truth: timestamp format ${contract.timestamp.format} (${contract.source}) unsupported`);
  }
  const minutes =
    contract.layout.columns.interval_minutes !== undefined
      ? `CAST(${field(contract.layout.columns.interval_minutes)} AS INTEGER)`
      : String(contract.interval_minutes ?? NaN);
  const stamp = isoInstant(
    canonical(contract, 'interval_start', field),
    contract.timestamp.timezone ?? 'UTC',
  );
  const start =
    contract.timestamp.marks === 'end' ? `to_timestamp(epoch(${stamp}) - 60 * (${minutes}))` : stamp;
  return `SELECT CAST(${canonical(contract, 'meter_id', field)} AS VARCHAR) AS meter_id,
      ${canonical(contract, 'channel', field, contract.channel_map)} AS channel,
      ${start} AS interval_start,
      ${minutes} AS interval_minutes,
      ${number(canonical(contract, 'kwh', field), contract)} * ${unitFactor(contract)} AS kwh,
      ${canonical(contract, 'quality', field, contract.quality_map, "'actual'")} AS quality,
      ${str(contract.source)} AS source
    FROM ${from}`;
}

function unitFactor(contract: SourceContract): number {
  const factor = UNIT_TO_KWH[contract.unit ?? ''];
  if (factor === undefined) throw new Error(`truth: unit ${contract.unit} (${contract.source}) unsupported`);
  return factor;
}

/**
 * Wide layout, period addressing: value column n (1-based) is the n-th interval elapsed since local midnight
 * of the row's date in the contract's zone, so its UTC start is that midnight plus (n - 1) intervals.
 * Every value must fall inside the local day (46, 48 or 50 half-hours); one beyond it throws.
 */
function wideReadings(files: SimFile[], contract: SourceContract): string {
  const layout = contract.layout;
  if (layout.addressing !== 'period' || !layout.value_columns || !layout.date_column || !layout.date_format) {
    throw new Error(`truth: wide layout of ${contract.source} must use period addressing`);
  }
  const minutes = contract.interval_minutes;
  if (minutes === undefined) throw new Error(`truth: wide ${contract.source} has no interval_minutes`);
  const zone = contract.timestamp.timezone ?? 'UTC';
  const field = (name: string): string => `src.${ident(name)}`;
  const values = `[${layout.value_columns.map(field).join(', ')}]`;
  return `WITH rows AS (
      SELECT CAST(${canonical(contract, 'meter_id', field)} AS VARCHAR) AS meter_id,
             strptime(${field(layout.date_column)}, ${str(strptimeFormat(layout.date_format))})::DATE AS local_date,
             ${canonical(contract, 'channel', field, contract.channel_map)} AS channel,
             ${canonical(contract, 'quality', field, contract.quality_map, "'actual'")} AS quality,
             ${values} AS cells
      FROM ${csvReader(files, contract)} src),
    cells AS (
      SELECT meter_id, local_date, channel, quality,
             unnest(range(1, len(cells) + 1)) AS n, unnest(cells) AS cell
      FROM rows),
    placed AS (
      SELECT *, timezone(${str(zone)}, local_date::TIMESTAMP) AS midnight,
             (epoch(timezone(${str(zone)}, (local_date + 1)::TIMESTAMP))
               - epoch(timezone(${str(zone)}, local_date::TIMESTAMP))) / ${60 * minutes} AS periods
      FROM cells WHERE cell IS NOT NULL AND trim(cell) <> '')
    SELECT meter_id, channel,
           CASE WHEN n <= periods THEN to_timestamp(epoch(midnight) + (n - 1) * ${60 * minutes})
                ELSE error('truth: ' || meter_id || ' ' || local_date || ' has a value in period ' || n
                           || ' of ' || periods) END AS interval_start,
           ${minutes} AS interval_minutes,
           ${number('cell', contract)} * ${unitFactor(contract)} AS kwh,
           quality, ${str(contract.source)} AS source
    FROM placed`;
}

// ------------------------------------------------------------------------------------------- the lake

/**
 * Builds, in a fresh in-memory DuckDB, the tables `readings` (canonical, every meter-reading source),
 * `periods` (supply periods per meter with their contract version) and `enriched` (readings with contract,
 * customer, zone and local date), runs `body` and closes the database.
 */
async function withTruthDb<T>(
  simDir: string,
  options: TruthOptions,
  body: (connection: DuckDBConnection, manifest: SimManifest) => Promise<T>,
): Promise<T> {
  const contractsDir = options.contractsDir ?? path.join(REPO_ROOT, 'contracts', 'sources');
  const defaultZone = options.defaultTimezone ?? DEFAULT_TIMEZONE;
  const manifest = await readManifest(simDir);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");

    // Readings of every meter-reading source, each in its own layout.
    const sources = [...new Set(filesOf(simDir, manifest, 'meter_readings').map((f) => f.source))].sort();
    const selects: string[] = [];
    for (const source of sources) {
      const contract = await readContract(contractsDir, 'meter_readings', source);
      const files = filesOf(simDir, manifest, 'meter_readings', source);
      selects.push(
        contract.layout.kind === 'wide' ? wideReadings(files, contract) : longReadings(files, contract),
      );
    }
    if (selects.length === 0) throw new Error(`truth: ${simDir} has no meter readings`);
    await connection.run(`CREATE TABLE readings AS ${selects.map((s) => `(${s})`).join(' UNION ALL ')}`);
    const problems = await rows(
      connection,
      `SELECT 'unmapped code or empty value' AS problem, count(*)::INTEGER AS n FROM readings
         WHERE meter_id IS NULL OR channel IS NULL OR quality IS NULL OR kwh IS NULL OR interval_start IS NULL
       UNION ALL
       SELECT 'duplicate key', count(*)::INTEGER FROM (
         SELECT meter_id, channel, interval_start FROM readings GROUP BY ALL HAVING count(*) > 1)`,
    );
    for (const p of problems) {
      if (Number(p.n) > 0) throw new Error(`truth: ${String(p.n)} readings: ${String(p.problem)}`);
    }

    // Contract versions: one row per (contract_id, valid_from), the last delivered wins.
    const contractFiles = filesOf(simDir, manifest, 'contracts');
    const contractParts: string[] = [];
    for (const [index, file] of contractFiles.entries()) {
      const contract = await readContract(contractsDir, 'contracts', file.source);
      const field = (name: string): string => `src.${ident(name)}`;
      const col = (name: string): string => canonical(contract, name, field, undefined, 'NULL');
      const zone = contract.timestamp.timezone ?? 'UTC';
      const instant = (name: string): string =>
        `(CASE WHEN nullif(trim(${col(name)}), '') IS NULL THEN NULL ELSE ${isoInstant(col(name), zone)} END)`;
      const num = (name: string): string => `CAST(nullif(trim(${col(name)}), '') AS DOUBLE)`;
      const text = (name: string): string => `nullif(trim(${col(name)}), '')`;
      contractParts.push(`SELECT ${index} AS file_index, row_number() OVER () AS line,
          ${text('contract_id')} AS contract_id, ${text('customer_id')} AS customer_id,
          CAST(${text('meter_id')} AS VARCHAR) AS meter_id, ${text('tariff_type')} AS tariff_type,
          ${num('unit_rate_eur_per_kwh')} AS unit_rate_eur_per_kwh,
          ${text('tariff_timezone')} AS tariff_timezone,
          ${num('standing_charge_eur_per_day')} AS standing_charge_eur_per_day,
          ${text('bidding_zone')} AS bidding_zone,
          ${instant('valid_from')} AS valid_from, ${instant('valid_to')} AS source_valid_to
        FROM ${csvReader([file], contract)} src`);
    }
    await connection.run(
      contractParts.length === 0
        ? `CREATE TABLE versions (contract_id VARCHAR, customer_id VARCHAR, meter_id VARCHAR, tariff_type VARCHAR,
             unit_rate_eur_per_kwh DOUBLE, tariff_timezone VARCHAR, standing_charge_eur_per_day DOUBLE,
             bidding_zone VARCHAR, valid_from TIMESTAMPTZ, valid_to TIMESTAMPTZ)`
        : `CREATE TABLE versions AS
           WITH delivered AS (${contractParts.map((p) => `(${p})`).join(' UNION ALL ')}),
           latest AS (
             SELECT * EXCLUDE (file_index, line) FROM delivered
             QUALIFY row_number() OVER (PARTITION BY contract_id, valid_from ORDER BY file_index DESC, line DESC) = 1)
           SELECT * EXCLUDE (source_valid_to),
                  least(source_valid_to, lead(valid_from) OVER (PARTITION BY contract_id ORDER BY valid_from)) AS valid_to
           FROM latest`,
    );
    // Supply periods per meter: a later version's start ends the earlier one (gold's contract_periods).
    await connection.run(`CREATE TABLE periods AS
      SELECT *, valid_from AS eff_from,
             least(valid_to, lead(valid_from) OVER (PARTITION BY meter_id ORDER BY valid_from, contract_id)) AS eff_to
      FROM versions`);
    await connection.run(`CREATE TABLE enriched AS
      SELECT r.*, p.contract_id, p.valid_from AS contract_valid_from, p.customer_id,
             coalesce(p.tariff_timezone, ${str(defaultZone)}) AS timezone,
             timezone(coalesce(p.tariff_timezone, ${str(defaultZone)}), r.interval_start) AS local_ts,
             CAST(timezone(coalesce(p.tariff_timezone, ${str(defaultZone)}), r.interval_start) AS DATE) AS date
      FROM readings r LEFT JOIN periods p
        ON r.meter_id = p.meter_id AND r.interval_start >= p.eff_from
       AND (p.eff_to IS NULL OR r.interval_start < p.eff_to)`);
    const [{ n: joined } = { n: 0 }] = await rows(connection, 'SELECT count(*)::INTEGER AS n FROM enriched');
    const [{ n: read } = { n: 0 }] = await rows(connection, 'SELECT count(*)::INTEGER AS n FROM readings');
    if (joined !== read)
      throw new Error(`truth: overlapping supply periods (${String(read)} -> ${String(joined)})`);
    return await body(connection, manifest);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function rows(connection: DuckDBConnection, sql: string): Promise<Array<Record<string, unknown>>> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJson();
}

// ------------------------------------------------------------------------------------------ expectations

const DAILY_SQL = `
  WITH daily AS (
    SELECT date, meter_id, customer_id, timezone,
           sum(kwh) FILTER (WHERE channel = 'import' AND quality <> 'missing') AS import_kwh,
           sum(kwh) FILTER (WHERE channel = 'export' AND quality <> 'missing') AS export_kwh,
           count(*) AS readings_count,
           count(*) FILTER (WHERE channel = 'import' AND quality <> 'missing') AS import_readings,
           count(*) FILTER (WHERE channel = 'import' AND quality IN ('estimated', 'substituted')) AS estimated,
           min(interval_minutes) AS interval_minutes
    FROM enriched GROUP BY ALL),
  expected AS (
    SELECT *, CAST(trunc((epoch(timezone(timezone, (date + 1)::TIMESTAMP)) - epoch(timezone(timezone, date::TIMESTAMP)))
                         / 60 / interval_minutes) AS INTEGER) AS expected_readings
    FROM daily)
  SELECT strftime(date, '%Y-%m-%d') AS date, meter_id, customer_id, timezone,
         round(coalesce(import_kwh, 0), 6) AS import_kwh, round(coalesce(export_kwh, 0), 6) AS export_kwh,
         readings_count::INTEGER AS readings_count, import_readings::INTEGER AS import_readings,
         expected_readings,
         least(1.0, import_readings / expected_readings)::DOUBLE AS completeness,
         CASE WHEN import_readings > 0 THEN (estimated / import_readings)::DOUBLE END AS estimated_share
  FROM expected ORDER BY date, meter_id, customer_id`;

function toDailyRow(r: Record<string, unknown>): DailyConsumptionRow {
  return {
    date: String(r.date),
    meter_id: String(r.meter_id),
    customer_id: typeof r.customer_id === 'string' ? r.customer_id : null,
    timezone: String(r.timezone),
    import_kwh: Number(r.import_kwh),
    export_kwh: Number(r.export_kwh),
    readings_count: Number(r.readings_count),
    import_readings: Number(r.import_readings),
    expected_readings: Number(r.expected_readings),
    completeness: Number(r.completeness),
    estimated_share: r.estimated_share === null ? null : Number(r.estimated_share),
  };
}

/**
 * gold.daily_consumption as the pipeline should compute it from every meter-reading file of the simulation
 * (all local days the readings touch, including partial first and last days), sorted by date, meter_id.
 */
export async function expectedDailyConsumption(
  simDir: string,
  options: TruthOptions = {},
): Promise<DailyConsumptionRow[]> {
  return withTruthDb(simDir, options, async (connection) =>
    (await rows(connection, DAILY_SQL)).map(toDailyRow),
  );
}

/** The figures a test compares first: kWh per channel over every meter and day, and the row count. */
export async function expectedTotals(simDir: string, options: TruthOptions = {}): Promise<ExpectedTotals> {
  return totalsOf(await expectedDailyConsumption(simDir, options));
}

/** Totals of daily_consumption rows (the truth's or gold's, read back), summed the same way. */
export function totalsOf(daily: readonly DailyConsumptionRow[]): ExpectedTotals {
  return {
    import_kwh: daily.reduce((sum, r) => sum + r.import_kwh, 0),
    export_kwh: daily.reduce((sum, r) => sum + r.export_kwh, 0),
    rows: daily.length,
    meters: new Set(daily.map((r) => r.meter_id)).size,
    dates: [...new Set(daily.map((r) => r.date))].sort(),
    readings: daily.reduce((sum, r) => sum + r.readings_count, 0),
  };
}

/**
 * gold.customer_daily_cost rows of fixed-tariff contracts only: per (date, customer, meter, contract) the
 * usable import kWh x the version's unit rate, plus the standing charge of the version valid at local
 * midnight. `dates` are the local days the gold run(s) covered (the gold manifest's `local_dates`): gold
 * writes a standing-charge-only row for each contract valid on such a day even without readings. Default:
 * the local days of the readings (expectedTotals().dates).
 *
 * Rows are left out (not modelled) where any version involved on that day is not fixed: time-of-use and
 * dynamic costs need the local peak window and the spot price series.
 */
export async function expectedCustomerDailyCost(
  simDir: string,
  options: TruthOptions & { dates?: readonly string[] } = {},
): Promise<CustomerDailyCostRow[]> {
  const defaultZone = options.defaultTimezone ?? DEFAULT_TIMEZONE;
  return withTruthDb(simDir, options, async (connection) => {
    const dates =
      options.dates ??
      (
        await rows(connection, `SELECT DISTINCT strftime(date, '%Y-%m-%d') AS d FROM enriched ORDER BY 1`)
      ).map((r) => String(r.d));
    if (dates.length === 0) return [];
    const days = dates.map((d) => `(DATE ${str(d)})`).join(', ');
    const result = await rows(
      connection,
      `WITH days(date) AS (VALUES ${days}),
       energy AS (
         SELECT e.date, e.customer_id, e.meter_id, e.contract_id,
                sum(e.kwh) AS import_kwh, sum(e.kwh * v.unit_rate_eur_per_kwh) AS energy_cost_eur,
                bool_and(v.tariff_type = 'fixed') AS all_fixed, max_by(v.bidding_zone, v.valid_from) AS zone
         FROM enriched e JOIN versions v ON v.contract_id = e.contract_id AND v.valid_from = e.contract_valid_from
         WHERE e.channel = 'import' AND e.quality <> 'missing' AND e.date IN (SELECT date FROM days)
         GROUP BY ALL),
       standing AS (
         SELECT d.date, v.customer_id, v.meter_id, v.contract_id,
                sum(v.standing_charge_eur_per_day) AS standing_charge_eur,
                bool_and(v.tariff_type = 'fixed') AS all_fixed, max_by(v.bidding_zone, v.valid_from) AS zone
         FROM versions v CROSS JOIN days d
         WHERE v.valid_from <= timezone(coalesce(v.tariff_timezone, ${str(defaultZone)}), d.date::TIMESTAMP)
           AND (v.valid_to IS NULL
                OR timezone(coalesce(v.tariff_timezone, ${str(defaultZone)}), d.date::TIMESTAMP) < v.valid_to)
         GROUP BY ALL)
       SELECT strftime(date, '%Y-%m-%d') AS date, customer_id, meter_id, contract_id,
              coalesce(e.zone, s.zone) AS bidding_zone,
              round(coalesce(e.import_kwh, 0), 6) AS import_kwh,
              round(coalesce(e.energy_cost_eur, 0), 6) AS energy_cost_eur,
              coalesce(s.standing_charge_eur, 0) AS standing_charge_eur,
              round(round(coalesce(e.energy_cost_eur, 0), 6) + coalesce(s.standing_charge_eur, 0), 6) AS total_cost_eur
       FROM energy e FULL JOIN standing s USING (date, customer_id, meter_id, contract_id)
       WHERE coalesce(e.all_fixed, true) AND coalesce(s.all_fixed, true)
       ORDER BY date, customer_id, meter_id, contract_id`,
    );
    return result.map((r) => ({
      date: String(r.date),
      customer_id: String(r.customer_id),
      meter_id: String(r.meter_id),
      contract_id: String(r.contract_id),
      tariff_type: 'fixed' as const,
      bidding_zone: String(r.bidding_zone),
      import_kwh: Number(r.import_kwh),
      energy_cost_eur: Number(r.energy_cost_eur),
      standing_charge_eur: Number(r.standing_charge_eur),
      total_cost_eur: Number(r.total_cost_eur),
      unpriced_kwh: 0,
    }));
  });
}
