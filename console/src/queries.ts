import type { SqlParameter, SqlRow } from './sql';

/**
 * The statements the console runs on the warehouse (gold, and silver where gold has no such column), with
 * a date range as typed parameters. Column meanings: databricks/src/lakewatt/gold_columns.py.
 */

export const dateRange = (from: string, to: string): SqlParameter[] => [
  { name: 'from', value: from, type: 'DATE' },
  { name: 'to', value: to, type: 'DATE' },
];

/** First and last local day gold has consumption for: the default range of the Gold page. */
export const GOLD_DAYS = `SELECT CAST(min(date) AS STRING) AS first_day, CAST(max(date) AS STRING) AS last_day
FROM gold.daily_consumption`;

export const DAILY_CONSUMPTION = `SELECT CAST(date AS STRING) AS day, sum(import_kwh) AS import_kwh,
  sum(export_kwh) AS export_kwh, count(DISTINCT meter_id) AS meters
FROM gold.daily_consumption WHERE date BETWEEN :from AND :to
GROUP BY date ORDER BY date`;

/** Mean kWh per local hour of day and segment, over the days of the range that have load. */
export const LOAD_PROFILE = `SELECT segment, hour, sum(import_kwh) / count(DISTINCT date) AS import_kwh
FROM gold.load_profile_hourly WHERE date BETWEEN :from AND :to
GROUP BY segment, hour ORDER BY segment, hour`;

/** Per local day: energy cost per MWh the customers paid (priced kWh only) and the total cost. */
export const DAILY_COST = `SELECT CAST(date AS STRING) AS day,
  CASE WHEN sum(import_kwh - unpriced_kwh) > 0
    THEN 1000 * sum(energy_cost_eur) / sum(import_kwh - unpriced_kwh) END AS cost_eur_per_mwh,
  sum(total_cost_eur) AS total_cost_eur
FROM gold.customer_daily_cost WHERE date BETWEEN :from AND :to
GROUP BY date ORDER BY date`;

/** Per local day: the mean hourly day-ahead price of the zones the meters are in (each hour once per zone). */
export const DAILY_PRICE = `SELECT CAST(date AS STRING) AS day, avg(price_eur_per_mwh) AS price_eur_per_mwh
FROM (SELECT DISTINCT date, bidding_zone, hour_start_utc, price_eur_per_mwh FROM gold.forecast_features
  WHERE date BETWEEN :from AND :to AND price_eur_per_mwh IS NOT NULL)
GROUP BY date ORDER BY date`;

export const QUALITY_DAYS = `SELECT CAST(min(utc_date) AS STRING) AS first_day,
  CAST(max(utc_date) AS STRING) AS last_day FROM gold.data_quality_daily`;

export const QUALITY_DAILY = `SELECT CAST(utc_date AS STRING) AS day, dataset, source_system,
  files, rows_staged, rows_rejected, rejected_share, completeness
FROM gold.data_quality_daily WHERE utc_date BETWEEN :from AND :to
ORDER BY utc_date, dataset, source_system`;

export const RULE_FAILURES = `SELECT dataset, source_system, rule_code, sum(rejected_rows) AS rejected_rows
FROM gold.data_quality_rule_failures WHERE utc_date BETWEEN :from AND :to
GROUP BY dataset, source_system, rule_code ORDER BY rejected_rows DESC`;

/** Gold has no per-source estimated share: silver's readings have the quality of each value. */
export const ESTIMATED_SHARE = `SELECT source_system,
  avg(CASE WHEN quality IN ('estimated', 'substituted') THEN 1.0 ELSE 0.0 END) AS estimated_share
FROM silver.meter_readings
WHERE channel = 'import' AND reading_date BETWEEN :from AND :to
GROUP BY source_system`;

/** `YYYY-MM-DD` `days` before `day` (UTC calendar arithmetic). */
export function daysBefore(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - days);
  return date.toISOString().slice(0, 10);
}

/** The default range: the last `days` days up to the last day with data, not before the first. */
export function defaultRange(
  row: SqlRow | undefined,
  days: number,
): { from: string; to: string } | undefined {
  const first = row?.first_day;
  const last = row?.last_day;
  if (typeof first !== 'string' || typeof last !== 'string') return undefined;
  const from = daysBefore(last, days - 1);
  return { from: from < first ? first : from, to: last };
}
