import { MB, MIB, type ParquetCheck, sameSum, table, thousands } from './common';
import {
  type AnyGenerated,
  GENERATED_FORMATS,
  type GeneratedEspi,
  type GeneratedFormat,
  type GeneratedMscons,
  type GeneratedNem12,
} from './generate';

/**
 * The results of the validation benchmark (run.ts): what each child measured and checked, the checks of a
 * staged Parquet file against what its generator wrote, the cross-format notes, and the table and summary
 * lines the run prints.
 */

/** The formats measured: every format the generator writes. */
export const FORMATS = GENERATED_FORMATS;
export type Format = GeneratedFormat;

export interface Measurement {
  format: Format;
  side: 'ours' | 'duckdb';
  rows: number;
  rowsValid: number;
  inputBytes: number;
  outputBytes: number;
  outputPath: string;
  durationMs: number;
  peakRssBytes: number;
  verdict?: string;
  /** process.memoryUsage() when the engine finished (ours only): where the peak RSS went. */
  memoryAtEnd?: Record<string, number>;
}

export interface Check extends ParquetCheck {
  peakRssBytes: number;
}

function rowsPerSecond(m: Measurement): number {
  return m.rows / (m.durationMs / 1000);
}

function mbPerSecond(m: Measurement): number {
  return m.inputBytes / MB / (m.durationMs / 1000);
}

export interface FormatResult {
  format: Format;
  file: AnyGenerated;
  ours: Measurement;
  duckdb: Measurement | undefined;
  checks: { ours: Check; duckdb: Check | undefined; ok: boolean; problems: string[] };
}

export interface SizeResult {
  size: string;
  /**
   * Readings asked for: the CSV, MSCONS and ESPI files hold them all (MSCONS each as two quarter-hours), the
   * NEM12 file rounded down to whole channel-days (48 readings).
   */
  readings: number;
  formats: FormatResult[];
  /** Cross-format facts (same readings or not), not failures. */
  notes: string[];
  loadAverage: number[];
}

/** A market format's file: it records its first and last interval start as the staged Parquet gives them. */
function hasIntervals(file: AnyGenerated): file is GeneratedNem12 | GeneratedMscons | GeneratedEspi {
  return 'firstInterval' in file;
}

/** How many of the CSV's readings a file holds: MSCONS writes each as two quarter-hours (two rows). */
function csvReadingsIn(format: Format, file: AnyGenerated): number {
  return format === 'mscons' ? (file as GeneratedMscons).readings : file.rows;
}

export function checkFile(
  name: string,
  file: AnyGenerated,
  measurement: Measurement,
  check: Check,
  problems: string[],
): void {
  if (check.rows !== file.rows)
    problems.push(`${name}: ${check.rows} rows in Parquet, generated ${file.rows}`);
  if (!sameSum(check.kwhSum, file.kwhSum))
    problems.push(`${name}: kWh sum ${check.kwhSum}, generated ${file.kwhSum}`);
  if (measurement.side === 'ours' && measurement.rowsValid !== file.rows)
    problems.push(`${name}: ${measurement.rowsValid} valid rows of ${file.rows}`);
  if (
    hasIntervals(file) &&
    (check.firstInterval !== file.firstInterval || check.lastInterval !== file.lastInterval)
  ) {
    problems.push(
      `${name}: intervals ${check.firstInterval}..${check.lastInterval}, generated ${file.firstInterval}..${file.lastInterval}`,
    );
  }
  if (measurement.side === 'ours' && hasIntervals(file)) {
    // The reader's quality mapping (NEM12 flags, QTY qualifiers, ReadingQuality codes) against what was written.
    const staged = (['actual', 'estimated', 'substituted'] as const).map((q) => check.quality[q] ?? 0);
    const written = [file.quality.actual, file.quality.estimated, file.quality.substituted];
    if (staged.join() !== written.join())
      problems.push(
        `${name}: quality actual/estimated/substituted ${staged.join('/')} in Parquet, generated ${written.join('/')}`,
      );
  }
}

/**
 * Same model, same draws: a format that holds as many of the CSV's readings as the CSV holds the very same
 * readings, so its staged kWh sum must equal the CSV's (a failure otherwise); fewer readings are a note.
 */
export function sameReadingNotes(results: FormatResult[]): string[] {
  const notes: string[] = [];
  const csv = results.find((r) => r.format === 'csv');
  if (!csv) return notes;
  for (const other of results) {
    if (other === csv) continue;
    const name = other.format.toUpperCase();
    const readings = csvReadingsIn(other.format, other.file);
    if (readings !== csv.file.rows) {
      const why = other.format === 'nem12' ? ' (whole channel-days)' : '';
      notes.push(
        `${name} holds the first ${thousands(readings)} of the CSV's ${thousands(csv.file.rows)} readings${why}`,
      );
    } else if (sameSum(other.checks.ours.kwhSum, csv.checks.ours.kwhSum)) {
      const rows =
        other.file.rows === csv.file.rows
          ? 'staged row counts and kWh sums equal'
          : `${thousands(other.file.rows)} staged rows (two quarter-hours per reading), kWh sums equal`;
      notes.push(`same readings in ${name} as in the CSV (${rows})`);
    } else {
      other.checks.ok = false;
      other.checks.problems.push(
        `staged kWh sum ${other.checks.ours.kwhSum} differs from the CSV's ${csv.checks.ours.kwhSum}`,
      );
    }
  }
  return notes;
}

export function render(results: SizeResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    const csv = r.formats.find((f) => f.format === 'csv');
    for (const f of r.formats) {
      const sides = f.duckdb ? [f.ours, f.duckdb] : [f.ours];
      for (const m of sides) {
        const ours = m.side === 'ours';
        rows.push([
          r.size,
          f.format,
          `${(f.file.bytes / MB).toFixed(0)} MB`,
          m.side,
          thousands(m.rows),
          (m.durationMs / 1000).toFixed(1),
          thousands(rowsPerSecond(m)),
          mbPerSecond(m).toFixed(1),
          (m.peakRssBytes / MIB).toFixed(0),
          `${(m.outputBytes / MB).toFixed(1)} MB`,
          ours && f.duckdb ? `${(rowsPerSecond(f.ours) / rowsPerSecond(f.duckdb)).toFixed(2)}×` : '',
          ours && csv && f !== csv ? `${(rowsPerSecond(f.ours) / rowsPerSecond(csv.ours)).toFixed(2)}×` : '',
          ours ? (f.checks.ok ? 'ok' : 'MISMATCH') : '',
          ours ? r.loadAverage.join(' ') : '',
        ]);
      }
    }
  }
  return table(
    [
      'size',
      'format',
      'input',
      'side',
      'rows',
      's',
      'rows/s',
      'MB/s',
      'peak RSS MiB',
      'Parquet',
      'ours/DuckDB',
      'rows/s vs CSV',
      'check',
      'load after',
    ],
    rows,
  );
}

/** What a format's file holds besides its readings, for the summary line. */
function fileFacts(format: Format, file: AnyGenerated): string {
  switch (format) {
    case 'csv':
      return `${thousands(file.series)} series`;
    case 'nem12': {
      const nem12 = file as GeneratedNem12;
      return `${thousands(nem12.channelDays)} channel-days, ${thousands(nem12.variableDays)} of quality V`;
    }
    case 'mscons': {
      const mscons = file as GeneratedMscons;
      return (
        `${thousands(mscons.rows)} quarter-hours (2 per reading) in ${thousands(mscons.messages)} messages, ` +
        `${thousands(mscons.quality.estimated)} estimated, ${thousands(mscons.quality.substituted)} substituted`
      );
    }
    case 'espi': {
      const espi = file as GeneratedEspi;
      return (
        `${thousands(espi.intervalBlocks)} IntervalBlocks, ` +
        `${thousands(espi.quality.estimated)} estimated, ${thousands(espi.quality.substituted)} substituted`
      );
    }
  }
}

export function targets(results: SizeResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    for (const f of r.formats) {
      if (f.duckdb) {
        const ratio = rowsPerSecond(f.ours) / rowsPerSecond(f.duckdb);
        lines.push(
          `${r.size}: throughput ${ratio.toFixed(2)}× DuckDB (target ≥ 0.5×): ${ratio >= 0.5 ? 'MET' : 'NOT MET'}`,
        );
      }
      const mib = f.ours.peakRssBytes / MIB;
      if (f.format === 'csv' && f.file.bytes >= 1.9e9) {
        lines.push(
          `${r.size}: peak RSS ${mib.toFixed(0)} MiB for ${(f.file.bytes / 1e9).toFixed(2)} GB (target < 300 MB): ${mib < 300 ? 'MET' : 'NOT MET'}`,
        );
      }
      if (f.format !== 'csv' || r.formats.length > 1) {
        // Readings of the CSV per second as well where a row is not one (MSCONS: two quarter-hours per reading).
        const readings = csvReadingsIn(f.format, f.file);
        const perReading =
          readings === f.file.rows
            ? ''
            : ` (${thousands(readings / (f.ours.durationMs / 1000))} CSV readings/s)`;
        lines.push(
          `${r.size}: ${f.format} ${thousands(rowsPerSecond(f.ours))} rows/s${perReading}, ${mbPerSecond(f.ours).toFixed(1)} MB/s, ` +
            `peak RSS ${mib.toFixed(0)} MiB for ${(f.file.bytes / MB).toFixed(0)} MB (${fileFacts(f.format, f.file)})`,
        );
      }
      for (const problem of f.checks.problems) lines.push(`${r.size}: CHECK FAILED: ${problem}`);
    }
    for (const note of r.notes) lines.push(`${r.size}: ${note}`);
  }
  return lines;
}
