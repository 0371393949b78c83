/** The simulation manifest (`simulation-manifest.json`) and the run summary derived from it. Pure. */
import { DEFECT_KINDS, type DefectKind, type DefectRecord, ExpectedVerdict } from './defects';
import type { SimulationOptions } from './options';
import { MAX_REJECTED_SHARE } from './sources';
import { TRUTH_FILE } from './truth';

export const MANIFEST_FILE = 'simulation-manifest.json';
export const MANIFEST_VERSION = 1;

export type FileVerdict = 'accepted' | 'accepted_with_rejections' | 'rejected';

export interface ManifestFile {
  /** Lake-relative path with forward slashes. */
  path: string;
  dataset: string;
  source: string;
  /** The day the data describe (a delivery day for prices). */
  data_date: string;
  /** The day the file landed: the date in its path. */
  delivery_date: string;
  /** The contract's format type: `nem12`, `mscons` and `espi_xml` for the opt-in market formats. */
  format: 'csv' | 'ndjson' | 'nem12' | 'mscons' | 'espi_xml';
  compression: 'none' | 'gzip';
  /**
   * Physical lines after the header (after decompression); 0 for bytes-only files such as a truncated gzip;
   * for NEM12 its 300 (interval-day) records, for MSCONS its QTY segments, for ESPI its IntervalReadings.
   */
  rows: number;
  bytes: number;
  sha256: string;
  /** Lines carrying a defect whose verdict is row_rejected. */
  rejected_lines: number;
  /** What validation should conclude, given the contract's max_rejected_share. */
  expected_verdict: FileVerdict;
}

export interface ManifestSummary {
  files: number;
  rows: number;
  bytes: number;
  by_source: Array<{ dataset: string; source: string; files: number; rows: number; bytes: number }>;
  defects_by_kind: Record<DefectKind, number>;
  /**
   * Readings written (meter-reading values: one per long/NDJSON row, MSCONS QTY and ESPI IntervalReading,
   * 46/48/50 per wide row, 48 per NEM12 day).
   */
  readings: number;
}

export interface Manifest {
  manifest_version: typeof MANIFEST_VERSION;
  generator: 'lakewatt simulate';
  /** Derived from --start (midnight UTC), never from the clock, so runs are reproducible. */
  generated_at: string;
  options: SimulationOptions;
  date_range: {
    first_data_date: string;
    last_data_date: string;
    first_delivery_date: string;
    last_delivery_date: string;
  };
  files: ManifestFile[];
  defects: DefectRecord[];
  /**
   * The hidden truth: the true value of every reading the files leave out or alter. It lies beside the
   * manifest, outside bronze/landing/, so the pipeline never ingests it.
   */
  truth: {
    /** Path relative to the simulation's output folder (the lake root), like the manifest's. */
    path: typeof TRUTH_FILE;
    format: 'csv';
    compression: 'gzip';
    /** Data rows (after the header). */
    rows: number;
  };
  summary: ManifestSummary;
}

export function expectedVerdict(
  rows: number,
  defects: readonly DefectRecord[],
): { verdict: FileVerdict; rejected: number } {
  if (defects.some((d) => d.verdict === ExpectedVerdict.FileRejected))
    return { verdict: 'rejected', rejected: 0 };
  const rejectedLines = new Set<number>();
  for (const d of defects)
    if (d.verdict === ExpectedVerdict.RowRejected) d.lines.forEach((l) => rejectedLines.add(l));
  const rejected = rejectedLines.size;
  if (rejected === 0) return { verdict: 'accepted', rejected };
  const share = rows > 0 ? rejected / rows : 1;
  return { verdict: share > MAX_REJECTED_SHARE ? 'rejected' : 'accepted_with_rejections', rejected };
}

export function summarise(
  files: readonly ManifestFile[],
  defects: readonly DefectRecord[],
  readings: number,
): ManifestSummary {
  const bySource = new Map<string, ManifestSummary['by_source'][number]>();
  for (const f of files) {
    const key = `${f.dataset}/${f.source}`;
    const entry = bySource.get(key) ?? { dataset: f.dataset, source: f.source, files: 0, rows: 0, bytes: 0 };
    entry.files++;
    entry.rows += f.rows;
    entry.bytes += f.bytes;
    bySource.set(key, entry);
  }
  const defectsByKind = Object.fromEntries(DEFECT_KINDS.map((k) => [k, 0])) as Record<DefectKind, number>;
  for (const d of defects) defectsByKind[d.kind]++;
  return {
    files: files.length,
    rows: files.reduce((sum, f) => sum + f.rows, 0),
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    by_source: [...bySource.values()].sort((a, b) =>
      `${a.dataset}/${a.source}`.localeCompare(`${b.dataset}/${b.source}`),
    ),
    defects_by_kind: defectsByKind,
    readings,
  };
}

const mb = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MB`;

/** A short human-readable summary of a run. */
export function formatSummary(manifest: Manifest, outDir: string, seconds?: number): string {
  const s = manifest.summary;
  const lines: string[] = [];
  lines.push(
    `Simulated ${manifest.options.meters} meters, data ${manifest.date_range.first_data_date} .. ${manifest.date_range.last_data_date}` +
      ` (deliveries ${manifest.date_range.first_delivery_date} .. ${manifest.date_range.last_delivery_date}), seed ${manifest.options.seed}`,
  );
  lines.push(
    `Wrote ${s.files} files, ${s.rows} rows, ${s.readings} readings, ${mb(s.bytes)} under ${outDir}${seconds === undefined ? '' : ` in ${seconds.toFixed(1)} s`}`,
  );
  lines.push('  dataset/source                      files       rows        size');
  for (const e of s.by_source) {
    lines.push(
      `  ${`${e.dataset}/${e.source}`.padEnd(34)}${String(e.files).padStart(7)}${String(e.rows).padStart(11)}${mb(e.bytes).padStart(12)}`,
    );
  }
  const kinds = Object.entries(s.defects_by_kind).filter(([, n]) => n > 0);
  const total = kinds.reduce((sum, [, n]) => sum + n, 0);
  const { defects: rate, seriesDefects } = manifest.options;
  lines.push(
    `Defects (rate ${rate}, series ${seriesDefects} per meter-day): ${total}${total > 0 ? '' : ' (clean run)'}`,
  );
  for (const [kind, n] of kinds) lines.push(`  ${kind.padEnd(24)}${String(n).padStart(7)}`);
  const root = outDir.replace(/\/$/, '');
  lines.push(`Manifest: ${root}/${MANIFEST_FILE}`);
  lines.push(`Truth: ${root}/${manifest.truth.path} (${manifest.truth.rows} readings left out or altered)`);
  return `${lines.join('\n')}\n`;
}
