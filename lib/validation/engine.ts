import { ByteLineSplitter } from '../formats/byteLines';
import { TextFileDecoder } from '../formats/decode';
import type { LineStats } from '../formats/lines';
import { splitterFor } from '../formats/recordFormats';
import { parseDocument } from './documents';
import { FileValidator, type ValidationInput, type ValidationSinks } from './fileValidator';
import { FILE_REASONS, type FileReasonCode, FileRejection, ROW_REASONS } from './reasons';
import { VALIDATION_REPORT_VERSION, type ValidationReport } from './report';
import { DAY } from './values';

/**
 * The validation engine: streams one source file through its source contract into canonical rows.
 * Valid rows go to `sinks.writeBatch` as typed column batches, rejected rows to `sinks.writeRejected`
 * with reasons, and the returned report says what happened. It never throws for bad data: file-level
 * problems become a `rejected` verdict. Memory stays bounded: one batch of rows plus the duplicate index.
 *
 * This file drives the stream (decoding, lines or whole documents) and builds the report; the records go
 * through `FileValidator` (fileValidator.ts), which uses the column binding (header.ts), the value
 * conversion (convert.ts), the dataset rules (rowRules.ts) and the meter-series bookkeeping (series.ts).
 */

export type { ValidationInput, ValidationLimits, ValidationSinks } from './fileValidator';

/** Line statistics of a document read whole (documents are not split into lines). */
class DocumentLines {
  private readonly counts = { lf: 0, crlf: 0, cr: 0 };
  private characters = 0;
  private lastWasCr = false;
  private lastWasNewline = true;

  push(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === 10) {
        if (this.lastWasCr) {
          this.counts.cr--;
          this.counts.crlf++;
        } else this.counts.lf++;
      } else if (code === 13) this.counts.cr++;
      this.lastWasCr = code === 13;
      this.lastWasNewline = code === 10 || code === 13;
    }
    this.characters += text.length;
  }

  get stats(): LineStats {
    const { lf, crlf, cr } = this.counts;
    const breaks = lf + crlf + cr;
    const lines = this.characters === 0 ? 0 : breaks + (this.lastWasNewline ? 0 : 1);
    return { lines, blankLines: 0, lf, crlf, cr };
  }

  get mixed(): boolean {
    const { lf, crlf, cr } = this.counts;
    return (lf > 0 ? 1 : 0) + (crlf > 0 ? 1 : 0) + (cr > 0 ? 1 : 0) > 1;
  }
}

/**
 * The report of a file rejected before any byte was read (for example an unsafe name): identity and reason,
 * nothing counted.
 */
export function rejectedUnread(
  input: Omit<ValidationInput, 'source'>,
  code: FileReasonCode,
  detail: string,
): ValidationReport {
  const { contract } = input;
  return {
    schemaVersion: VALIDATION_REPORT_VERSION,
    file: {
      path: input.file.path,
      etag: input.file.etag,
      size: 0,
      sha256: '',
      compressed: false,
      decompressedSize: 0,
      encoding: null,
    },
    contract: {
      dataset: contract.dataset,
      source: contract.source,
      maxRejectedShare: contract.max_rejected_share,
    },
    instanceId: input.instanceId,
    counts: {
      linesRead: 0,
      blankLines: 0,
      rowsRead: 0,
      rowsValid: 0,
      rowsRejected: 0,
      duplicatesDropped: 0,
      emptyValues: 0,
      ambiguousTimesResolved: 0,
    },
    rejectedShare: 0,
    ruleFailures: {},
    columns: {},
    distinctMeters: null,
    firstInterval: null,
    lastInterval: null,
    affectedDates: [],
    lineEndings: { lf: 0, crlf: 0, cr: 0, mixed: false },
    notes: [],
    performance: { durationMs: 0, bytesPerSecond: 0, rowsPerSecond: 0 },
    verdict: 'rejected',
    reasons: [{ code, message: `${FILE_REASONS[code]}: ${detail}` }],
    startedAt: input.now.toISOString(),
  };
}

/** Runs the whole file through the engine and returns its report. */
export async function validateStream(
  input: ValidationInput,
  sinks: ValidationSinks,
): Promise<ValidationReport> {
  const started = Date.now();
  const { contract } = input;
  const format = contract.format;
  const decoder = new TextFileDecoder(input.source, {
    ...input.limits,
    compression: contract.compression,
    encoding: contract.encoding,
    markup: format.type === 'entsoe_xml' || format.type === 'espi_xml' ? 'xml' : 'reject',
  });
  const validator = new FileValidator(input, sinks);
  // A CSV long layout is read from its bytes (byteLines.ts, byteFields.ts); everything else as text.
  const byteSplitter = validator.readsBytes
    ? new ByteLineSplitter(input.limits.maxLineBytes, validator)
    : undefined;
  const textSplitter = splitterFor(format.type, input.limits.maxLineBytes, validator);
  const splitter = byteSplitter ?? textSplitter;
  const documentLines = new DocumentLines();
  const lines = (): { stats: LineStats; mixed: boolean } =>
    'max_bytes' in format
      ? { stats: documentLines.stats, mixed: documentLines.mixed }
      : { stats: splitter.stats, mixed: splitter.mixedLineEndings };
  const reasons: Array<{ code: string; message: string }> = [];
  try {
    if ('max_bytes' in format) {
      // Document formats: the whole (size-limited) document, then its records through the row checks.
      const parts: string[] = [];
      for await (const text of decoder.text()) {
        if (decoder.stats.decompressedBytes > format.max_bytes) {
          throw new FileRejection('DOCUMENT_TOO_LARGE', `over ${format.max_bytes} bytes`);
        }
        documentLines.push(text);
        parts.push(text);
      }
      const path = input.file.path;
      const parsed = parseDocument(contract, parts.join(''), path.slice(path.lastIndexOf('/') + 1));
      validator.state.notes.push(...parsed.notes);
      validator.state.emptyValues += parsed.gaps;
      for (const record of parsed.records) {
        validator.onDocumentRecord(record);
        if (validator.needsFlush) await validator.flush();
      }
    } else if (byteSplitter) {
      for await (const bytes of decoder.utf8()) {
        byteSplitter.push(bytes);
        if (validator.needsFlush) await validator.flush();
      }
      byteSplitter.end();
    } else {
      for await (const text of decoder.text()) {
        textSplitter.push(text);
        if (validator.needsFlush) await validator.flush();
      }
      textSplitter.end();
      validator.endOfLines();
    }
    if (
      contract.format.type === 'csv' &&
      contract.format.header &&
      validator.state.rowsRead === 0 &&
      splitter.stats.lines - splitter.stats.blankLines <= 1
    ) {
      throw new FileRejection(
        splitter.stats.lines === splitter.stats.blankLines ? 'HEADER_MISSING' : 'NO_DATA_ROWS',
      );
    }
    if (validator.state.rowsRead === 0) throw new FileRejection('NO_DATA_ROWS');
    await validator.flush(true);
  } catch (error) {
    if (!(error instanceof FileRejection)) throw error;
    reasons.push({ code: error.code, message: error.message });
    await decoder.finish();
  }
  const state = validator.state;
  const rejectedShare = state.rowsRead === 0 ? 0 : state.rowsRejected / state.rowsRead;
  if (reasons.length === 0 && rejectedShare > contract.max_rejected_share) {
    reasons.push({
      code: 'REJECTED_SHARE_EXCEEDED',
      message: `${FILE_REASONS.REJECTED_SHARE_EXCEEDED}: ${(rejectedShare * 100).toFixed(1)}% of ${state.rowsRead} rows rejected, threshold ${(contract.max_rejected_share * 100).toFixed(1)}%`,
    });
  }
  const verdict =
    reasons.length > 0 ? 'rejected' : state.rowsRejected > 0 ? 'accepted_with_rejections' : 'accepted';
  const durationMs = Date.now() - started;
  const seconds = Math.max(durationMs, 1) / 1000;
  const { stats: lineStats, mixed: mixedLineEndings } = lines();
  if (mixedLineEndings)
    state.notes.push(`mixed line endings: ${lineStats.lf} LF, ${lineStats.crlf} CRLF, ${lineStats.cr} CR`);
  if (lineStats.blankLines > 0) state.notes.push(`${lineStats.blankLines} blank lines skipped`);
  if (decoder.stats.bom) state.notes.push(`${decoder.stats.encoding ?? ''} byte-order mark`);
  const hasIntervals = state.firstInterval !== Infinity;
  return {
    schemaVersion: VALIDATION_REPORT_VERSION,
    file: {
      path: input.file.path,
      etag: input.file.etag,
      size: decoder.stats.bytes,
      sha256: decoder.stats.sha256,
      compressed: decoder.stats.compressed,
      decompressedSize: decoder.stats.decompressedBytes,
      encoding: decoder.stats.encoding ?? null,
    },
    contract: {
      dataset: contract.dataset,
      source: contract.source,
      maxRejectedShare: contract.max_rejected_share,
    },
    instanceId: input.instanceId,
    counts: {
      linesRead: lineStats.lines,
      blankLines: lineStats.blankLines,
      rowsRead: state.rowsRead,
      rowsValid: state.rowsValid,
      rowsRejected: state.rowsRejected,
      duplicatesDropped: state.duplicatesDropped,
      emptyValues: state.emptyValues,
      ambiguousTimesResolved: state.ambiguousResolved,
    },
    rejectedShare,
    ruleFailures: state.ruleFailures,
    columns: state.columnStats,
    distinctMeters: contract.dataset === 'meter_readings' ? validator.series.meterCount : null,
    firstInterval: hasIntervals ? new Date(state.firstInterval).toISOString() : null,
    lastInterval: hasIntervals ? new Date(state.lastInterval).toISOString() : null,
    affectedDates: [...state.days]
      .sort((a, b) => a - b)
      .map((day) => new Date(day * DAY).toISOString().slice(0, 10)),
    lineEndings: {
      lf: lineStats.lf,
      crlf: lineStats.crlf,
      cr: lineStats.cr,
      mixed: mixedLineEndings,
    },
    notes: state.notes,
    performance: {
      durationMs,
      bytesPerSecond: Math.round(decoder.stats.bytes / seconds),
      rowsPerSecond: Math.round(state.rowsRead / seconds),
    },
    verdict,
    reasons,
    startedAt: new Date(started).toISOString(),
  };
}

export { ROW_REASONS };
