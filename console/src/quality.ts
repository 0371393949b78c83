import type { SqlRow } from './sql';
import type { RunSummary } from './types';

/**
 * The Data quality page's summary per source (dataset and source system): rows from
 * gold.data_quality_daily and gold.data_quality_rule_failures over the data days of the range, estimated
 * share from silver, and files by verdict from the runs API over their arrival days. Worst first.
 */

export interface FileCounts {
  accepted: number;
  withRejections: number;
  rejected: number;
  failed: number;
}

export interface SourceQuality {
  key: string;
  dataset: string;
  source: string;
  rowsStaged: number;
  rowsRejected: number;
  /** rows rejected / rows seen over the range; null without rows. */
  rejectedShare: number | null;
  /** Share of staged rows with a value, weighted by rows; null without rows. */
  completeness: number | null;
  estimatedShare: number | null;
  ruleFailures: Array<{ code: string; rows: number }>;
  files: FileCounts;
}

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
export const sourceKey = (dataset: string, source: string): string => `${dataset}/${source}`;

export function fileCounts(runs: readonly RunSummary[]): Map<string, FileCounts> {
  const counts = new Map<string, FileCounts>();
  for (const run of runs) {
    if (run.kind !== 'ingest' || !run.dataset || !run.source) continue;
    const key = sourceKey(run.dataset, run.source);
    const entry = counts.get(key) ?? { accepted: 0, withRejections: 0, rejected: 0, failed: 0 };
    if (run.runtimeStatus === 'Failed') entry.failed++;
    else if (run.verdict === 'rejected') entry.rejected++;
    else if (run.verdict === 'accepted_with_rejections') entry.withRejections++;
    else if (run.verdict === 'accepted' && run.runtimeStatus === 'Completed') entry.accepted++;
    counts.set(key, entry);
  }
  return counts;
}

export function summarizeQuality(
  daily: readonly SqlRow[],
  rules: readonly SqlRow[],
  estimated: readonly SqlRow[],
  runs: readonly RunSummary[],
): SourceQuality[] {
  const byKey = new Map<string, SourceQuality & { withValue: number }>();
  const entry = (dataset: string, source: string) => {
    const key = sourceKey(dataset, source);
    let found = byKey.get(key);
    if (!found) {
      found = {
        key,
        dataset,
        source,
        rowsStaged: 0,
        rowsRejected: 0,
        rejectedShare: null,
        completeness: null,
        estimatedShare: null,
        ruleFailures: [],
        files: { accepted: 0, withRejections: 0, rejected: 0, failed: 0 },
        withValue: 0,
      };
      byKey.set(key, found);
    }
    return found;
  };
  for (const row of daily) {
    const item = entry(String(row.dataset), String(row.source_system));
    item.rowsStaged += num(row.rows_staged);
    item.rowsRejected += num(row.rows_rejected);
    item.withValue += num(row.completeness) * num(row.rows_staged);
  }
  for (const row of rules) {
    entry(String(row.dataset), String(row.source_system)).ruleFailures.push({
      code: String(row.rule_code),
      rows: num(row.rejected_rows),
    });
  }
  for (const row of estimated) {
    entry('meter_readings', String(row.source_system)).estimatedShare = num(row.estimated_share);
  }
  for (const [key, counts] of fileCounts(runs)) {
    const [dataset, source] = key.split('/') as [string, string];
    entry(dataset, source).files = counts;
  }
  const out: SourceQuality[] = [];
  for (const { withValue, ...item } of byKey.values()) {
    const seen = item.rowsStaged + item.rowsRejected;
    item.rejectedShare = seen > 0 ? item.rowsRejected / seen : null;
    item.completeness = item.rowsStaged > 0 ? withValue / item.rowsStaged : null;
    item.ruleFailures.sort((a, b) => b.rows - a.rows || a.code.localeCompare(b.code));
    out.push(item);
  }
  return out.sort(worstFirst);
}

/** By rejected row share, then rejected and failed files, then name. */
export function worstFirst(a: SourceQuality, b: SourceQuality): number {
  return (
    (b.rejectedShare ?? 0) - (a.rejectedShare ?? 0) ||
    b.files.rejected + b.files.failed - (a.files.rejected + a.files.failed) ||
    a.key.localeCompare(b.key)
  );
}
