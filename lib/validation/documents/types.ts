import type { RowReasonCode } from '../reasons';

/**
 * What a document format hands the engine: flat records whose fields the contract's `layout.columns`
 * map onto canonical columns (like NDJSON fields), plus notes for the report. Problems that concern one
 * record or one group of records (a series with an unknown zone) travel with it as `errors`; problems
 * with the whole document are thrown as FileRejection.
 */
export type DocumentValue = string | number | null;

export interface DocumentRecord {
  /** Physical line (XML) or 1-based entry number (JSON): the `source_line` of the staged row. */
  line: number;
  fields: Record<string, DocumentValue>;
  /**
   * Set for a record rejected whole with `errors`, without the usual value checks: the canonical rows it
   * stands for (an unusable ENTSO-E period: its intervals; a point outside its period: 1).
   */
  rows?: number;
  errors?: Array<{ code: RowReasonCode; message: string; column?: string }>;
}

export interface ParsedDocument {
  records: DocumentRecord[];
  notes: string[];
  /** Intervals a complete document should have had but did not (A01 gaps): counted as empty values. */
  gaps: number;
}
