import { FileRejection } from '../validation/reasons';

export interface LineStats {
  lines: number;
  blankLines: number;
  lf: number;
  crlf: number;
  cr: number;
}

export type LineHandler = (line: string, lineNumber: number) => void;

/**
 * Splits streamed text into physical lines, accepting LF, CRLF and lone CR endings (mixed in one file
 * too), counting each kind, skipping blank lines, and rejecting any line longer than the limit before
 * buffering more of it. Line numbers are 1-based and count blank lines, so they match an editor's.
 */
export class LineSplitter {
  readonly stats: LineStats = { lines: 0, blankLines: 0, lf: 0, crlf: 0, cr: 0 };
  private pending = '';
  private pendingCr = false;

  constructor(private readonly maxLineLength: number) {}

  push(text: string, onLine: LineHandler): void {
    let chunk = text;
    if (this.pendingCr) {
      // A CR ended the previous chunk: it was either a lone CR or the first half of CRLF.
      this.pendingCr = false;
      if (chunk.startsWith('\n')) {
        this.stats.crlf++;
        chunk = chunk.slice(1);
      } else this.stats.cr++;
      this.emit(this.pending, onLine);
      this.pending = '';
    }
    let start = 0;
    const length = chunk.length;
    // The next CR is looked up once and reused, so a chunk without CRs is not rescanned for every line.
    let cr = chunk.indexOf('\r');
    while (start < length) {
      const lf = chunk.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = chunk.indexOf('\r', start);
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        const line = chunk.slice(start, cr);
        if (cr === length - 1) {
          this.pending += line;
          this.pendingCr = true;
          return;
        }
        if (chunk.charCodeAt(cr + 1) === 10) {
          this.stats.crlf++;
          start = cr + 2;
        } else {
          this.stats.cr++;
          start = cr + 1;
        }
        this.emit(this.pending + line, onLine);
        this.pending = '';
        continue;
      }
      if (lf === -1) {
        this.pending += chunk.slice(start);
        if (this.pending.length > this.maxLineLength) this.tooLong(this.stats.lines + 1);
        return;
      }
      this.stats.lf++;
      this.emit(this.pending + chunk.slice(start, lf), onLine);
      this.pending = '';
      start = lf + 1;
    }
  }

  end(onLine: LineHandler): void {
    if (this.pendingCr) {
      this.pendingCr = false;
      this.stats.cr++;
      this.emit(this.pending, onLine);
    } else if (this.pending.length > 0) {
      this.emit(this.pending, onLine);
    }
    this.pending = '';
  }

  get mixedLineEndings(): boolean {
    return [this.stats.lf, this.stats.crlf, this.stats.cr].filter((n) => n > 0).length > 1;
  }

  private tooLong(lineNumber: number): never {
    throw new FileRejection('LINE_TOO_LONG', `line ${lineNumber} is over ${this.maxLineLength} characters`);
  }

  private emit(line: string, onLine: LineHandler): void {
    this.stats.lines++;
    if (line.length > this.maxLineLength) this.tooLong(this.stats.lines);
    if (line.length === 0 || line.trim().length === 0) {
      this.stats.blankLines++;
      return;
    }
    onLine(line, this.stats.lines);
  }
}
