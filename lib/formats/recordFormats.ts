import type { SourceContract } from '../contracts/sources';
import type { DocumentRecord } from '../validation/documents/types';
import { EdifactSplitter } from './edifact';
import { EspiReader } from './espi';
import { type LineSink, LineSplitter, type LineStats } from './lines';
import { MsconsReader } from './mscons';
import { Nem12Reader, type Nem12Summary } from './nem12';
import { XmlSplitter } from './xmlStream';

/**
 * What the engine needs to know of a streamed format: how the text splits into units (lines, EDIFACT
 * segments for MSCONS, XML events for ESPI) and, for a market record format, the reader that turns units
 * into records.
 */

/** Splits streamed text into the units a format is read by, handing each to the sink with its number. */
export interface TextSplitter {
  push(text: string): void;
  end(): void;
  /** Lines (or segments) read and the line endings met. */
  readonly stats: LineStats;
  readonly mixedLineEndings: boolean;
}

/** A market record format's reader: a line (NEM12), segment (MSCONS) or XML event (ESPI) in, its records out. */
export interface RecordFormatReader {
  push(unit: string, unitNumber: number): DocumentRecord[];
  end(): DocumentRecord[];
  /** After `end`: the notes the validation report lists. */
  notes(): string[];
}

/**
 * The splitter of a streamed format; `maxLength` bounds one line, segment, or XML tag or text node
 * (VALIDATION_MAX_LINE_BYTES).
 */
export function splitterFor(
  type: SourceContract['format']['type'],
  maxLength: number,
  sink: LineSink,
): TextSplitter {
  if (type === 'mscons') return new EdifactSplitter(maxLength, sink);
  if (type === 'espi_xml') return new XmlSplitter(maxLength, sink);
  return new LineSplitter(maxLength, sink);
}

/** The reader of a record format contract (NEM12, MSCONS, ESPI); undefined for CSV, NDJSON and documents. */
export function recordReaderFor(contract: SourceContract): RecordFormatReader | undefined {
  if (contract.format.type === 'nem12') {
    const reader = new Nem12Reader();
    return {
      push: (line, lineNumber) => reader.push(line, lineNumber),
      end: () => reader.end(),
      notes: () => nem12Notes(reader.summary),
    };
  }
  if (contract.format.type === 'mscons') {
    const reader = new MsconsReader({ timezone: contract.timestamp.timezone });
    return {
      push: (segment, segmentNumber) => reader.push(segment, segmentNumber),
      end: () => reader.end(),
      notes: () => reader.summary.notes,
    };
  }
  if (contract.format.type === 'espi_xml') {
    const reader = new EspiReader({ timezone: contract.timestamp.timezone });
    return {
      push: (unit, line) => reader.push(unit, line),
      end: () => reader.end(),
      notes: () => reader.summary.notes,
    };
  }
  return undefined;
}

function nem12Notes(summary: Nem12Summary): string[] {
  return [
    ...summary.notes,
    ...summary.notIngested.map(
      (channel) =>
        `NMI ${channel.meterId} ${channel.nmiSuffix} (${channel.uom}): ${channel.intervals} intervals on ${channel.days} day(s) reported, not ingested: ${channel.reason}`,
    ),
  ];
}
