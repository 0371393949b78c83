/**
 * The defects the simulator can inject, and what the validation engine is expected to do with each.
 * Every injected defect is listed in the simulation manifest, so tests can check that each one is caught.
 */

/** Kinds of injected defects. Row kinds affect single lines; file kinds affect a whole file. */
export enum DefectKind {
  /** A row repeated byte for byte (same key, same value) on the next line. The repeat is dropped. */
  DuplicateIdentical = 'duplicate_identical',
  /** A second row with the same key (meter, channel, interval) but a different value. The later row is rejected. */
  DuplicateConflicting = 'duplicate_conflicting',
  /** Readings left out: one or more consecutive intervals (long/NDJSON) or a whole meter-day row (wide). */
  Gap = 'gap',
  /** A negative energy value on the import channel. */
  NegativeValue = 'negative_value',
  /** A value above the source's per-interval ceiling, e.g. the 0xFFFFFF Wh meter sentinel. */
  ImplausibleValue = 'implausible_value',
  /** A plausible but anomalous value (several times the expected one, under the ceiling): for anomaly detection. */
  Spike = 'spike',
  /** A row that cannot be parsed: wrong number of columns, non-numeric value, broken JSON. */
  MalformedRow = 'malformed_row',
  /** A timestamp or date that cannot be parsed with the contract's format (or is not a real calendar time). */
  BadTimestamp = 'bad_timestamp',
  /** A value in a local settlement period that does not exist on that day (e.g. period 47 on a 46-period day). */
  NonexistentLocalTime = 'nonexistent_local_time',
  /** A file delivered days after its data date (its landing path carries the later delivery date). */
  LateFile = 'late_file',
  /**
   * A run of consecutive intervals of one meter written as 0 on every channel although the meter consumed
   * energy (a meter or head-end fault that reports nothing as zero): 3 to 8 hours. Export is zeroed too: a
   * zero import beside a real export is what a prosumer covering its own load reads, not a fault.
   */
  ZeroRun = 'zero_run',
  /**
   * A stuck register: consecutive import intervals repeat the non-zero value of the interval before the run
   * (1.5 to 6 hours).
   */
  FrozenValue = 'frozen_value',
  /**
   * Readings of one meter (every channel, 1 to 6 hours, or a wide meter-day row) left out of their file and
   * delivered days later in a separate fill file for the same data date: the day is first short, then complete.
   */
  LateFill = 'late_fill',
  /**
   * A whole day of one meter's import readings far above its usual level (a CT ratio or multiplier set
   * wrong at the head-end): every reading of the file's day scaled by 4 to 6. Only after the meter has two
   * weeks of history, against which such a day stands out.
   */
  HighDay = 'high_day',
  /** As HighDay, scaled by 0.03 to 0.08 (a multiplier or a unit that lost a factor of ten or more). */
  LowDay = 'low_day',
  /** A zero-byte file. */
  EmptyFile = 'empty_file',
  /** An HTML page (a supplier portal's login page) saved under a .csv name. */
  HtmlAsCsv = 'html_as_csv',
  /** A .gz file cut short: the gzip stream ends before its trailer. */
  TruncatedGzip = 'truncated_gzip',
  /** A CSV whose header does not match the source contract (renamed or missing columns). */
  WrongHeader = 'wrong_header',
}

/** What the validation engine is expected to conclude about a defect. */
export enum ExpectedVerdict {
  /** The listed line is rejected (quarantined with a reason). */
  RowRejected = 'row_rejected',
  /** The listed line is an identical duplicate: counted and dropped, not a rejection. */
  RowDroppedDuplicate = 'row_dropped_duplicate',
  /** The whole file fails a file-level check and is quarantined. */
  FileRejected = 'file_rejected',
  /**
   * Not a validation error (gap, spike, zero run, frozen value, late fill, high or low day, late file): later stages
   * (completeness, VEE rules, anomalies) see it.
   */
  NotAValidationError = 'not_a_validation_error',
}

export type DefectScope = 'row' | 'file';

export const DEFECT_INFO: Record<DefectKind, { scope: DefectScope; verdict: ExpectedVerdict }> = {
  [DefectKind.DuplicateIdentical]: { scope: 'row', verdict: ExpectedVerdict.RowDroppedDuplicate },
  [DefectKind.DuplicateConflicting]: { scope: 'row', verdict: ExpectedVerdict.RowRejected },
  [DefectKind.Gap]: { scope: 'row', verdict: ExpectedVerdict.NotAValidationError },
  [DefectKind.NegativeValue]: { scope: 'row', verdict: ExpectedVerdict.RowRejected },
  [DefectKind.ImplausibleValue]: { scope: 'row', verdict: ExpectedVerdict.RowRejected },
  [DefectKind.Spike]: { scope: 'row', verdict: ExpectedVerdict.NotAValidationError },
  [DefectKind.MalformedRow]: { scope: 'row', verdict: ExpectedVerdict.RowRejected },
  [DefectKind.BadTimestamp]: { scope: 'row', verdict: ExpectedVerdict.RowRejected },
  [DefectKind.NonexistentLocalTime]: { scope: 'row', verdict: ExpectedVerdict.RowRejected },
  [DefectKind.ZeroRun]: { scope: 'row', verdict: ExpectedVerdict.NotAValidationError },
  [DefectKind.FrozenValue]: { scope: 'row', verdict: ExpectedVerdict.NotAValidationError },
  [DefectKind.LateFill]: { scope: 'row', verdict: ExpectedVerdict.NotAValidationError },
  [DefectKind.HighDay]: { scope: 'row', verdict: ExpectedVerdict.NotAValidationError },
  [DefectKind.LowDay]: { scope: 'row', verdict: ExpectedVerdict.NotAValidationError },
  [DefectKind.LateFile]: { scope: 'file', verdict: ExpectedVerdict.NotAValidationError },
  [DefectKind.EmptyFile]: { scope: 'file', verdict: ExpectedVerdict.FileRejected },
  [DefectKind.HtmlAsCsv]: { scope: 'file', verdict: ExpectedVerdict.FileRejected },
  [DefectKind.TruncatedGzip]: { scope: 'file', verdict: ExpectedVerdict.FileRejected },
  [DefectKind.WrongHeader]: { scope: 'file', verdict: ExpectedVerdict.FileRejected },
};

export const DEFECT_KINDS: readonly DefectKind[] = Object.values(DefectKind);

/** Identifies the reading a row defect is about (absent for file defects). */
export interface DefectKey {
  meter_id: string;
  /** Absent when the defect covers every channel of the meter (late fills of long layouts). */
  channel?: 'import' | 'export';
  /** UTC start of the (first) affected interval. */
  interval_start?: string;
  /** Local date of a wide (meter-day) row. */
  date?: string;
}

/** One injected defect, as listed in the manifest. */
export interface DefectRecord {
  kind: DefectKind;
  verdict: ExpectedVerdict;
  /** Lake-relative path of the affected file (`bronze/landing/...`). */
  file: string;
  /** 1-based physical line numbers (after decompression) that carry the defect; empty for gaps and file defects. */
  lines: number[];
  key?: DefectKey;
  /** Wide layout: the value column that carries the defect. */
  column?: string;
  /** For conflicting duplicates: the line of the first (kept) row with the same key. */
  original_line?: number;
  /** For gaps and late fills: how many readings are missing (over every channel the defect covers). */
  missing_readings?: number;
  /** Interval length of the affected series, minutes (gaps, spikes, zero runs, frozen values, late fills). */
  interval_minutes?: number;
  /**
   * How many consecutive intervals, from `key.interval_start`, the defect covers per channel: with
   * `interval_minutes` it names every affected interval, for per-interval scoring of VEE rules.
   */
  intervals?: number;
  /** For late fills: lake-relative path of the later file that delivers the missing readings. */
  fill_file?: string;
  /** One human-readable sentence: what was injected. */
  detail: string;
}

export function defect(kind: DefectKind, fields: Omit<DefectRecord, 'kind' | 'verdict'>): DefectRecord {
  return { kind, verdict: DEFECT_INFO[kind].verdict, ...fields };
}
