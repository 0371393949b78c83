/**
 * The hidden truth of a simulation (`simulation-truth.csv.gz`, beside the manifest, never under
 * bronze/landing/): one row per real reading that the files leave out or carry with another value than the
 * meter measured, with the true value. VEE rules are scored against it (which intervals were wrong) and
 * estimates too (how far from the true value). Only those readings are listed, not every reading. Pure.
 */
import type { DefectKind } from './defects';
import type { Channel } from './readings';
import { formatUtc } from './time';

export const TRUTH_FILE = 'simulation-truth.csv.gz';

export const TRUTH_HEADER = [
  'kind',
  'meter_id',
  'channel',
  'interval_start',
  'interval_minutes',
  'true_kwh',
  'written_kwh',
  'file',
] as const;

/** One reading the files do not carry as measured. */
export interface TruthRecord {
  kind: DefectKind;
  meterId: string;
  channel: Channel;
  startMs: number;
  minutes: number;
  /** What a clean file would carry, in kWh (at the precision of the source's layout). */
  trueKwh: number;
  /**
   * The value the file carries for this reading, in kWh, also when validation rejects it (a negative value);
   * null when the reading is left out or its row cannot be read (malformed, unreadable timestamp).
   */
  writtenKwh: number | null;
  /** Lake-relative path of the file (for late fills: the file the reading is missing from). */
  file: string;
}

export type TruthSink = (record: TruthRecord) => void;

/** kWh with the 3 decimals every layout has (Wh integers of the NDJSON feed included). */
const kwhText = (kwh: number): string => kwh.toFixed(3);

/** One CSV line (with its newline). No field needs quoting: ids, codes, numbers and paths have no commas. */
export function truthLine(r: TruthRecord): string {
  return `${[
    r.kind,
    r.meterId,
    r.channel,
    formatUtc(r.startMs),
    r.minutes,
    kwhText(r.trueKwh),
    r.writtenKwh === null ? '' : kwhText(r.writtenKwh),
    r.file,
  ].join(',')}\n`;
}
