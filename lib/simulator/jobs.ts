/**
 * A planned file: where it lands, what it is, and its content as a lazy line generator or bytes. Pure: the
 * planner (plan.ts, marketJobs.ts) builds jobs, the writer streams them to disk.
 */
import type { DatasetName } from '../contracts/datasets';
import type { DefectRecord } from './defects';
import type { ManifestFile } from './manifest';
import type { DefectSink } from './readings';
import { dayParts, formatDay } from './time';
import type { TruthSink } from './truth';

/** Where a file's rendering reports what it injected: defect records, and the true values it hides. */
export interface RenderSinks {
  defect: DefectSink;
  truth: TruthSink;
  /** Told once per data row, for files whose rows are not their lines (`rowsFrom: 'reported'`). */
  row?: () => void;
}

export type FileContent =
  | { kind: 'lines'; render: (sinks: RenderSinks) => Iterable<string> }
  | { kind: 'bytes'; bytes: () => Buffer };

export interface FileJob {
  /** Lake-relative path, `bronze/landing/{dataset}/{source}/{yyyy}/{mm}/{dd}/{name}`. */
  path: string;
  dataset: DatasetName;
  source: string;
  dataDate: string;
  deliveryDate: string;
  format: ManifestFile['format'];
  compression: 'none' | 'gzip';
  /** Lines before the first data row. */
  headerLines: number;
  /**
   * Meter-reading values per data row (1 for long layouts, an MSCONS QTY and an ESPI IntervalReading, the
   * day's periods for wide, 48 for a NEM12 300 record, 0 otherwise).
   */
  valuesPerRow: number;
  /**
   * Where the data-row count comes from: the physical lines after the header (default), or the rows the
   * renderer reports through `RenderSinks.row` (the market formats: NEM12 300 records, MSCONS QTY segments,
   * ESPI IntervalReadings).
   */
  rowsFrom?: 'reported';
  content: FileContent;
  /** File-level defects (late delivery, whole-file rejects). */
  fileDefects: DefectRecord[];
}

export function landingPath(dataset: string, source: string, deliveryDay: number, name: string): string {
  const { year, month, date } = dayParts(deliveryDay);
  const mm = String(month).padStart(2, '0');
  const dd = String(date).padStart(2, '0');
  return `bronze/landing/${dataset}/${source}/${year}/${mm}/${dd}/${name}`;
}

export interface JobSpec extends Omit<
  FileJob,
  'path' | 'deliveryDate' | 'fileDefects' | 'dataDate' | 'valuesPerRow'
> {
  valuesPerRow?: number;
  name: string;
  dataDay: number;
  deliveryDay: number;
}

export function job(spec: JobSpec): FileJob {
  return {
    path: landingPath(spec.dataset, spec.source, spec.deliveryDay, spec.name),
    dataset: spec.dataset,
    source: spec.source,
    dataDate: formatDay(spec.dataDay),
    deliveryDate: formatDay(spec.deliveryDay),
    format: spec.format,
    compression: spec.compression,
    headerLines: spec.headerLines,
    valuesPerRow: spec.valuesPerRow ?? 0,
    ...(spec.rowsFrom === undefined ? {} : { rowsFrom: spec.rowsFrom }),
    content: spec.content,
    fileDefects: [],
  };
}
