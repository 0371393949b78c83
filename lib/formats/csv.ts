/**
 * Splits one CSV line into fields (RFC 4180 quoting within the line). Quoted fields that span lines are not
 * supported: such a line has an unbalanced quote and is reported as malformed. Returns the number of
 * fields written into `out`, or -1 when the quoting is broken.
 */
export function splitCsvLine(line: string, delimiter: string, quote: string, out: string[]): number {
  if (line.indexOf(quote) === -1) {
    let count = 0;
    let start = 0;
    for (;;) {
      const next = line.indexOf(delimiter, start);
      if (next === -1) {
        out[count++] = line.slice(start);
        return count;
      }
      out[count++] = line.slice(start, next);
      start = next + 1;
    }
  }
  let count = 0;
  let i = 0;
  const n = line.length;
  for (;;) {
    if (i < n && line[i] === quote) {
      let value = '';
      i++;
      for (;;) {
        const close = line.indexOf(quote, i);
        if (close === -1) return -1;
        value += line.slice(i, close);
        if (line[close + 1] === quote) {
          value += quote;
          i = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
      // Only whitespace may sit between a closing quote and the delimiter.
      while (i < n && line[i] !== delimiter) {
        if (line[i] !== ' ' && line[i] !== '\t') return -1;
        i++;
      }
      out[count++] = value;
    } else {
      const next = line.indexOf(delimiter, i);
      const end = next === -1 ? n : next;
      const value = line.slice(i, end);
      if (value.indexOf(quote) !== -1) return -1;
      out[count++] = value;
      i = end;
    }
    if (i >= n) return count;
    i++; // delimiter
    if (i === n) {
      out[count++] = '';
      return count;
    }
  }
}
