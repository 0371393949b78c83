import { FileRejection } from '../validation/reasons';
import type { LineSink, LineStats } from './lines';

/**
 * UN/EDIFACT syntax (ISO 9735): an interchange is a run of segments, each ended by the segment terminator;
 * a segment's data elements are separated by the element separator, an element's components by the
 * component separator, and the release character makes the next character literal (`?'` is a `'`, `??` a
 * `?`). An optional `UNA` service string advice at the very start declares these characters; without it
 * the defaults `:+.? '` apply.
 */
export interface EdifactSyntax {
  component: string;
  element: string;
  /** The decimal mark of numbers: `.` or `,`. */
  decimal: string;
  /** null: no release character (a space in the UNA's fourth position). */
  release: string | null;
  terminator: string;
}

export const DEFAULT_SYNTAX: Readonly<EdifactSyntax> = {
  component: ':',
  element: '+',
  decimal: '.',
  release: '?',
  terminator: "'",
};

/** `UNA` and its six service characters; the sixth is the segment terminator, so UNA has none of its own. */
export const UNA_LENGTH = 9;

const clip = (text: string): string => (text.length > 40 ? `${text.slice(0, 40)}…` : text);
const isLineBreak = (char: string): boolean => char === '\r' || char === '\n';

/** The syntax a `UNA:+.? '` service string advice declares; FileRejection when it is cut short or unusable. */
export function parseServiceStringAdvice(una: string): EdifactSyntax {
  const shown = JSON.stringify(clip(una));
  if (!una.startsWith('UNA') || una.length < UNA_LENGTH)
    throw new FileRejection('EDIFACT_MALFORMED', `the UNA service string advice ${shown} is cut short`);
  const [component, element, decimal, release, , terminator] = [...una.slice(3, UNA_LENGTH)] as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const separators = [component, element, terminator, ...(release === ' ' ? [] : [release])];
  const problem =
    decimal !== '.' && decimal !== ','
      ? `declares decimal mark ${JSON.stringify(decimal)}, not . or ,`
      : new Set([...separators, decimal]).size !== separators.length + 1
        ? 'uses one character for two purposes'
        : separators.some((c) => /[\p{L}\p{N}\s]/u.test(c))
          ? 'uses a letter, digit or white space as a separator'
          : null;
  if (problem !== null)
    throw new FileRejection('EDIFACT_MALFORMED', `the UNA service string advice ${shown} ${problem}`);
  return { component, element, decimal, release: release === ' ' ? null : release, terminator };
}

/**
 * A segment's data elements, each split into its components, with the release characters removed:
 * `PIA+5+1-1?:1.29.0:SRW` gives `[['PIA'], ['5'], ['1-1:1.29.0', 'SRW']]`.
 */
export function splitSegment(segment: string, syntax: EdifactSyntax): string[][] {
  const { component, element, release } = syntax;
  if (release === null || !segment.includes(release))
    return segment.split(element).map((part) => part.split(component));
  const elements: string[][] = [];
  let components: string[] = [];
  let text = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i]!;
    if (char === release && i + 1 < segment.length) text += segment[++i];
    else if (char === component) {
      components.push(text);
      text = '';
    } else if (char === element) {
      components.push(text);
      elements.push(components);
      components = [];
      text = '';
    } else text += char;
  }
  components.push(text);
  elements.push(components);
  return elements;
}

/**
 * Splits streamed EDIFACT text into segments, like LineSplitter splits lines, for the same LineSink: each
 * segment (without its terminator, release characters kept) with its 1-based number. A `UNA` at the start
 * is handed over as segment 1, all nine characters, and sets the terminator and release character; so
 * segment N is line N of `tr "'" '\n'` on a file without released terminators. Line breaks between
 * segments are skipped and counted (they are not part of EDIFACT, but files often put one after each
 * segment); a line break inside a segment is data. Memory: at most one segment, which may not grow past
 * the limit (LINE_TOO_LONG, checked before buffering more of it).
 */
export class EdifactSplitter {
  private segments = 0;
  private readonly breaks = { lf: 0, crlf: 0, cr: 0 };
  private lastWasCr = false;
  /** The start of the stream until it is known whether it opens with a UNA; null after that. */
  private head: string | null = '';
  private pending = '';
  private syntax: EdifactSyntax = { ...DEFAULT_SYNTAX };

  constructor(
    private readonly maxSegmentLength: number,
    private readonly sink: LineSink,
  ) {}

  /** `lines` counts segments; the line-ending counts are those of the line breaks between segments. */
  get stats(): LineStats {
    return { lines: this.segments, blankLines: 0, ...this.breaks };
  }

  get mixedLineEndings(): boolean {
    const { lf, crlf, cr } = this.breaks;
    return (lf > 0 ? 1 : 0) + (crlf > 0 ? 1 : 0) + (cr > 0 ? 1 : 0) > 1;
  }

  /** The service characters in force (the defaults until a UNA says otherwise). */
  get serviceCharacters(): EdifactSyntax {
    return { ...this.syntax };
  }

  push(text: string): void {
    if (this.head === null) {
      this.scan(text);
      return;
    }
    this.head += text;
    let start = 0;
    while (start < this.head.length && isLineBreak(this.head[start]!)) this.countBreak(this.head[start++]!);
    this.head = this.head.slice(start);
    const couldBeUna = 'UNA'.startsWith(this.head.slice(0, 3));
    if (this.head.length >= UNA_LENGTH || !couldBeUna) this.openStream();
  }

  end(): void {
    if (this.head !== null && this.head.length > 0) this.openStream();
    const rest = this.pending;
    this.pending = '';
    if (rest.trim().length > 0) {
      const terminator = JSON.stringify(this.syntax.terminator);
      throw new FileRejection(
        'EDIFACT_MALFORMED',
        `segment ${this.segments + 1} ('${clip(rest)}') has no terminator ${terminator}: the file is cut short`,
      );
    }
  }

  private openStream(): void {
    const head = this.head ?? '';
    this.head = null;
    if (!head.startsWith('UNA')) {
      this.scan(head);
      return;
    }
    this.syntax = parseServiceStringAdvice(head);
    this.emit(head.slice(0, UNA_LENGTH));
    this.scan(head.slice(UNA_LENGTH));
  }

  private scan(chunk: string): void {
    const length = chunk.length;
    let start = 0;
    while (start < length) {
      if (this.pending.length === 0) {
        while (start < length && isLineBreak(chunk[start]!)) this.countBreak(chunk[start++]!);
        if (start === length) return;
        this.lastWasCr = false;
      }
      const end = this.terminatorAt(chunk, start);
      if (end === -1) {
        this.pending += chunk.slice(start);
        if (this.pending.length > this.maxSegmentLength) this.tooLong(this.segments + 1);
        return;
      }
      const piece = chunk.slice(start, end);
      const segment = this.pending.length === 0 ? piece : this.pending + piece;
      this.pending = '';
      start = end + 1;
      this.emit(segment);
    }
  }

  /** The next terminator at or after `from` that is not released (preceded by an odd run of releases). */
  private terminatorAt(chunk: string, from: number): number {
    const { terminator, release } = this.syntax;
    let at = chunk.indexOf(terminator, from);
    while (at !== -1 && release !== null) {
      let releases = 0;
      let k = at - 1;
      while (k >= from && chunk[k] === release) {
        releases++;
        k--;
      }
      // The run reaches the start of this chunk's part: it may go on at the end of the buffered part.
      for (let p = this.pending.length - 1; k < from && p >= 0 && this.pending[p] === release; p--)
        releases++;
      if (releases % 2 === 0) return at;
      at = chunk.indexOf(terminator, at + 1);
    }
    return at;
  }

  private countBreak(char: string): void {
    if (char === '\r') {
      this.breaks.cr++;
      this.lastWasCr = true;
      return;
    }
    if (this.lastWasCr) {
      this.breaks.cr--;
      this.breaks.crlf++;
    } else this.breaks.lf++;
    this.lastWasCr = false;
  }

  private tooLong(segmentNumber: number): never {
    throw new FileRejection(
      'LINE_TOO_LONG',
      `segment ${segmentNumber} is over ${this.maxSegmentLength} characters`,
    );
  }

  private emit(segment: string): void {
    this.segments++;
    if (segment.length > this.maxSegmentLength) this.tooLong(this.segments);
    this.sink.onLine(segment, this.segments);
  }
}
