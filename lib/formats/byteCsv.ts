/**
 * Field boundaries of CSV lines held as UTF-8 bytes, for the byte path of the CSV long layout. Only lines
 * without the quote character are split here: a line holding one is read as text by `splitCsvLine`
 * (csv.ts), which keeps quoting (rare in meter exports) in one place. Without quotes both agree: fields are
 * what lies between delimiters, and a trailing delimiter ends with an empty field.
 */
export class CsvFieldBounds {
  count = 0;
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  /** The buffer last searched for the quote, and where its next quote is (-1: none). */
  private searched: Buffer | undefined;
  private nextQuote = -1;

  /** One-byte (ASCII) delimiter and quote. */
  constructor(
    private readonly delimiter: number,
    private readonly quote: number,
  ) {}

  /**
   * Splits `bytes[start, end)` into fields; returns their count, or -1 (nothing split) when the line holds
   * the quote. Lines come in order through the chunk they lie in: one search per chunk finds its next
   * quote, so the scan of a line only looks for delimiters when the chunk holds no quote (the usual case).
   */
  split(bytes: Buffer, start: number, end: number): number {
    if (bytes !== this.searched || (this.nextQuote !== -1 && this.nextQuote < start)) {
      this.searched = bytes;
      this.nextQuote = bytes.indexOf(this.quote, start);
    }
    if (this.nextQuote !== -1 && this.nextQuote < end) return -1;
    const delimiter = this.delimiter;
    let count = 0;
    let fieldStart = start;
    for (let i = start; i < end; i++) {
      if (bytes[i] === delimiter) {
        if (count === this.starts.length) this.grow();
        this.starts[count] = fieldStart;
        this.ends[count++] = i;
        fieldStart = i + 1;
      }
    }
    if (count === this.starts.length) this.grow();
    this.starts[count] = fieldStart;
    this.ends[count++] = end;
    this.count = count;
    return count;
  }

  private grow(): void {
    const starts = new Int32Array(this.starts.length * 2);
    const ends = new Int32Array(this.ends.length * 2);
    starts.set(this.starts);
    ends.set(this.ends);
    this.starts = starts;
    this.ends = ends;
  }
}
