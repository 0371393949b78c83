import type { SqlRow, SqlValue } from './sql';

/**
 * Query rows shaped for uPlot: one x array and one y array per series, aligned (null where a series has no
 * value at that x). Pure, so the shapes are tested without a browser.
 */

export interface ChartData {
  x: number[];
  series: Array<{ label: string; values: Array<number | null> }>;
}

/** `YYYY-MM-DD` as the Unix seconds of that day's UTC midnight (uPlot's time axis counts seconds). */
export function daySeconds(day: string): number {
  return Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10))) / 1000;
}

export function dayOf(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

const numberOr = (value: SqlValue | undefined): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

/** Rows with one x column and value columns (one series each), in the rows' order of x. */
export function columnsSeries(
  rows: readonly SqlRow[],
  xOf: (row: SqlRow) => number,
  columns: ReadonlyArray<{ key: string; label: string }>,
): ChartData {
  return {
    x: rows.map(xOf),
    series: columns.map(({ key, label }) => ({ label, values: rows.map((row) => numberOr(row[key])) })),
  };
}

/**
 * Long rows (x, group, value) as one series per group over the sorted union of x; `groups` fixes the
 * series order (others follow, by name), so a chart can list the worst first.
 */
export function pivotSeries(
  rows: readonly SqlRow[],
  xOf: (row: SqlRow) => number,
  groupKey: string,
  valueKey: string,
  groups: readonly string[] = [],
): ChartData {
  const xs = [...new Set(rows.map(xOf))].sort((a, b) => a - b);
  const position = new Map(xs.map((x, i) => [x, i]));
  const names = [...new Set(rows.map((row) => String(row[groupKey])))];
  const order = [
    ...groups.filter((g) => names.includes(g)),
    ...names.filter((n) => !groups.includes(n)).sort(),
  ];
  const byGroup = new Map(order.map((name) => [name, new Array<number | null>(xs.length).fill(null)]));
  for (const row of rows) {
    byGroup.get(String(row[groupKey]))![position.get(xOf(row))!] = numberOr(row[valueKey]);
  }
  return { x: xs, series: order.map((label) => ({ label, values: byGroup.get(label)! })) };
}

/** Two daily series from different queries on one x axis: the union of their days. */
export function mergeDaily(a: ChartData, b: ChartData): ChartData {
  const xs = [...new Set([...a.x, ...b.x])].sort((p, q) => p - q);
  const align = (data: ChartData) => {
    const at = new Map(data.x.map((x, i) => [x, i]));
    return data.series.map((s) => ({
      label: s.label,
      values: xs.map((x) => (at.has(x) ? (s.values[at.get(x)!] ?? null) : null)),
    }));
  };
  return { x: xs, series: [...align(a), ...align(b)] };
}

/** How many points a chart draws: the non-null values over all series. */
export function pointCount(data: ChartData): number {
  return data.series.reduce((sum, s) => sum + s.values.filter((v) => v !== null).length, 0);
}
