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
    readonly delimiter: number,
    private readonly quote: number,
  ) {}

  /**
   * Whether `bytes[start, end)` holds the quote. Lines come in order through the chunk they lie in: one
   * search per chunk finds its next quote, so this is a comparison for nearly every line.
   */
  holdsQuote(bytes: Buffer, start: number, end: number): boolean {
    if (bytes !== this.searched || (this.nextQuote !== -1 && this.nextQuote < start)) {
      this.searched = bytes;
      this.nextQuote = bytes.indexOf(this.quote, start);
    }
    return this.nextQuote !== -1 && this.nextQuote < end;
  }

  /** Splits `bytes[start, end)` into fields; returns their count, or -1 (nothing split) when the line holds the quote. */
  split(bytes: Buffer, start: number, end: number): number {
    if (this.holdsQuote(bytes, start, end)) return -1;
    // Locals, not fields, in the loop: V8 reloads `this.starts` after every store otherwise (measured:
    // a third of the split's time). A line with more fields than the arrays hold grows them and starts over.
    for (;;) {
      const count = splitInto(bytes, start, end, this.delimiter, this.starts, this.ends);
      if (count >= 0) {
        this.count = count;
        return count;
      }
      this.grow();
    }
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

/** Fills `starts` and `ends` with the fields of `bytes[start, end)`; -1 when there are more than they hold. */
function splitInto(
  bytes: Buffer,
  start: number,
  end: number,
  delimiter: number,
  starts: Int32Array,
  ends: Int32Array,
): number {
  const capacity = starts.length;
  let count = 0;
  let fieldStart = start;
  for (let i = start; i < end; i++) {
    if (bytes[i] === delimiter) {
      if (count === capacity) return -1;
      starts[count] = fieldStart;
      ends[count++] = i;
      fieldStart = i + 1;
    }
  }
  if (count === capacity) return -1;
  starts[count] = fieldStart;
  ends[count++] = end;
  return count;
}
