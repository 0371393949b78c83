import { FileRejection } from '../validation/reasons';
import type { LineStats } from './lines';

/** Receives each non-blank line as a range of UTF-8 bytes, valid only during the call, with its line number. */
export interface ByteLineSink {
  onLineBytes(bytes: Buffer, start: number, end: number, lineNumber: number): void;
}

const LF = 10;
const CR = 13;
/** Bytes handed to one call of the scanning loop (see LineSplitter.scan for why it is bounded). */
const SCAN_SPAN = 1 << 16;

/** UTF-16 code units of a range of valid UTF-8: what `string.length` of its text would be. */
export function utf16Length(bytes: Buffer, start: number, end: number): number {
  let units = 0;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if ((byte & 0xc0) !== 0x80) units += byte >= 0xf0 ? 2 : 1;
  }
  return units;
}

/** Whether a line is blank as `line.trim()` sees it; non-ASCII lines are decoded to ask exactly that. */
function isBlank(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte === 0x20 || byte === 0x09) continue;
    if (byte < 0x80) return false;
    return bytes.toString('utf8', start, end).trim().length === 0;
  }
  return true;
}

/**
 * LineSplitter (lines.ts) over UTF-8 bytes instead of text: the same LF, CRLF and lone-CR endings, counts,
 * blank lines, line numbers and LINE_TOO_LONG limit (in characters, as the text splitter counts them), fed
 * with `TextFileDecoder.utf8()` chunks. A line is handed over as a range of the chunk it lies in; only a
 * line that spans chunks is copied.
 */
export class ByteLineSplitter {
  private lines = 0;
  private blankLines = 0;
  private lf = 0;
  private crlf = 0;
  private cr = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingCr = false;
  /** Position of the next CR in the current chunk (-1: none left). */
  private nextCr = -1;

  constructor(
    private readonly maxLineLength: number,
    private readonly sink: ByteLineSink,
  ) {}

  get stats(): LineStats {
    return { lines: this.lines, blankLines: this.blankLines, lf: this.lf, crlf: this.crlf, cr: this.cr };
  }

  get mixedLineEndings(): boolean {
    return (this.lf > 0 ? 1 : 0) + (this.crlf > 0 ? 1 : 0) + (this.cr > 0 ? 1 : 0) > 1;
  }

  push(bytes: Buffer): void {
    let chunk = bytes;
    if (this.pendingCr) {
      // A CR ended the previous chunk: it was either a lone CR or the first half of CRLF.
      this.pendingCr = false;
      if (chunk.length > 0 && chunk[0] === LF) {
        this.crlf++;
        chunk = chunk.subarray(1);
      } else this.cr++;
      this.emitPending(undefined, 0, 0);
    }
    const length = chunk.length;
    this.nextCr = chunk.indexOf(CR, 0);
    let start = 0;
    while (start >= 0 && start < length) start = this.scan(chunk, start, Math.min(length, start + SCAN_SPAN));
  }

  /** Emits the lines that start before `limit`; returns where the next line starts, or -1 (rest kept). */
  private scan(chunk: Buffer, from: number, limit: number): number {
    const length = chunk.length;
    let start = from;
    while (start < limit) {
      const nextLf = chunk.indexOf(LF, start);
      if (this.nextCr !== -1 && this.nextCr < start) this.nextCr = chunk.indexOf(CR, start);
      const nextCr = this.nextCr;
      if (nextCr !== -1 && (nextLf === -1 || nextCr < nextLf)) {
        if (nextCr === length - 1) {
          this.keep(chunk, start, nextCr);
          this.pendingCr = true;
          return -1;
        }
        const lineStart = start;
        if (chunk[nextCr + 1] === LF) {
          this.crlf++;
          start = nextCr + 2;
        } else {
          this.cr++;
          start = nextCr + 1;
        }
        this.emitWithPending(chunk, lineStart, nextCr);
        continue;
      }
      if (nextLf === -1) {
        this.keep(chunk, start, length);
        if (this.pendingBytes > this.maxLineLength && this.pendingLength() > this.maxLineLength) {
          this.tooLong(this.lines + 1);
        }
        return -1;
      }
      this.lf++;
      this.emitWithPending(chunk, start, nextLf);
      start = nextLf + 1;
    }
    return start;
  }

  end(): void {
    if (this.pendingCr) {
      this.pendingCr = false;
      this.cr++;
      this.emitPending(undefined, 0, 0);
    } else if (this.pendingBytes > 0) {
      this.emitPending(undefined, 0, 0);
    }
    this.pending = [];
    this.pendingBytes = 0;
  }

  private keep(chunk: Buffer, start: number, end: number): void {
    if (end <= start) return;
    this.pending.push(chunk.subarray(start, end));
    this.pendingBytes += end - start;
  }

  private pendingLength(): number {
    return this.pending.reduce((units, part) => units + utf16Length(part, 0, part.length), 0);
  }

  private tooLong(lineNumber: number): never {
    throw new FileRejection('LINE_TOO_LONG', `line ${lineNumber} is over ${this.maxLineLength} characters`);
  }

  private emitWithPending(chunk: Buffer, start: number, end: number): void {
    if (this.pendingBytes === 0) this.emit(chunk, start, end);
    else this.emitPending(chunk, start, end);
  }

  /** Emits the kept start of a line joined with its rest (`chunk` from `start` to `end`, if any). */
  private emitPending(chunk: Buffer | undefined, start: number, end: number): void {
    if (chunk && end > start) this.pending.push(chunk.subarray(start, end));
    const whole = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.emit(whole, 0, whole.length);
  }

  private emit(bytes: Buffer, start: number, end: number): void {
    this.lines++;
    const length = end - start;
    if (length > this.maxLineLength && utf16Length(bytes, start, end) > this.maxLineLength) {
      this.tooLong(this.lines);
    }
    if (isBlank(bytes, start, end)) {
      this.blankLines++;
      return;
    }
    this.sink.onLineBytes(bytes, start, end, this.lines);
  }
}
