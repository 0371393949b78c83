import {
  ATTRIBUTE,
  DECLARATION,
  decodeReferences,
  DEFAULT_LIMITS,
  localName,
  NAME,
  TAG_END,
} from '../validation/documents/xml';
import { FileRejection } from '../validation/reasons';
import type { LineSink, LineStats } from './lines';

/**
 * A streamed, safe XML reader for market documents too large to hold (ESPI / Green Button feeds): fed text
 * chunks of any size, it emits start, end and text events with the line each starts on, holding at most one
 * tag, comment or text node (over `maxLength` characters: LINE_TOO_LONG). The rules are those of the tree
 * reader for small documents (lib/validation/documents/xml.ts, decision 0012), with its tag syntax and
 * reference decoding: a DOCTYPE or ENTITY declaration anywhere (even inside a comment) is XML_DTD_FORBIDDEN,
 * met before any element can follow it; only the five predefined entities and character references are
 * resolved; names keep their local part; the document must be well-formed (one root, matching end tags,
 * nesting at most 64 deep), or it is DOCUMENT_MALFORMED. Text nodes of only white space are not emitted, so
 * the indentation between elements costs nothing; CDATA is text; comments and processing instructions are
 * skipped.
 */

/** One event; the tokenizer hands it over with the line it starts on. */
export type XmlToken =
  | { kind: 'start'; name: string; attributes: ReadonlyMap<string, string> }
  | { kind: 'end'; name: string }
  | { kind: 'text'; text: string };

const SPECIAL_OPENINGS = ['<!--', '<![CDATA[', '<?'] as const;
const TERMINATOR: Record<(typeof SPECIAL_OPENINGS)[number], string> = {
  '<!--': '-->',
  '<![CDATA[': ']]>',
  '<?': '?>',
};
const NOT_WHITE = /\S/;
/** Separates the attributes of an encoded start tag: U+0000 is no XML character, so no value holds it. */
const FIELD = '\u0000';

export class XmlTokenizer {
  private readonly breaks = { lf: 0, crlf: 0, cr: 0 };
  private statsCr = false;
  private lastChar = '';
  /** The start of a construct not complete at the end of the last chunk; it is read again with the next. */
  private carry = '';
  private carryLine = 1;
  /** Position in the current text up to which lines are counted, and the line there. */
  private cursor = 0;
  private cursorLine = 1;
  private readonly open: string[] = [];
  private rootSeen = false;

  constructor(
    private readonly maxLength: number,
    private readonly onEvent: (token: XmlToken, line: number) => void,
    private readonly maxDepth = DEFAULT_LIMITS.maxDepth,
  ) {}

  /** `lines` counts physical lines; the line-ending counts are those of the whole text. */
  get stats(): LineStats {
    const { lf, crlf, cr } = this.breaks;
    const partial = this.lastChar !== '' && this.lastChar !== '\n' && this.lastChar !== '\r' ? 1 : 0;
    return { lines: lf + crlf + cr + partial, blankLines: 0, lf, crlf, cr };
  }

  get mixedLineEndings(): boolean {
    const { lf, crlf, cr } = this.breaks;
    return (lf > 0 ? 1 : 0) + (crlf > 0 ? 1 : 0) + (cr > 0 ? 1 : 0) > 1;
  }

  push(chunk: string): void {
    if (chunk.length === 0) return;
    this.countBreaks(chunk);
    const text = this.carry + chunk;
    this.cursor = 0;
    this.cursorLine = this.carryLine;
    this.carry = '';
    this.scan(text);
    // Ended on a construct's end: the next chunk starts on the line after everything read.
    if (this.carry === '') this.carryLine = this.lineAt(text, text.length);
  }

  end(): void {
    if (this.statsCr) {
      this.statsCr = false;
      this.breaks.cr++;
    }
    const rest = this.carry;
    this.carry = '';
    if (rest.startsWith('<')) throw this.malformed(this.carryLine, `${this.describe(rest)} is never closed`);
    if (rest.length > 0) this.text(rest, this.carryLine);
    const top = this.open[this.open.length - 1];
    if (top !== undefined) throw this.malformed(this.cursorLine, `<${top}> is never closed`);
    if (!this.rootSeen) throw this.malformed(this.cursorLine, 'no root element');
  }

  private scan(text: string): void {
    let i = 0;
    while (i < text.length) {
      const lt = text.indexOf('<', i);
      if (lt < 0) {
        this.keep(text, i);
        return;
      }
      if (lt > i) this.text(text.slice(i, lt), this.lineAt(text, i));
      const end = this.markupEnd(text, lt);
      if (end < 0) {
        this.keep(text, lt);
        return;
      }
      this.markup(text.slice(lt, end), this.lineAt(text, lt));
      i = end;
    }
  }

  /** Keeps the construct from `from` for the next chunk, within the length limit. */
  private keep(text: string, from: number): void {
    const rest = text.slice(from);
    this.carryLine = this.lineAt(text, from);
    const declaration = rest.startsWith('<!') ? DECLARATION.exec(rest) : null;
    if (declaration) this.forbidden(declaration[1]!, this.carryLine);
    if (rest.length > this.maxLength)
      throw new FileRejection(
        'LINE_TOO_LONG',
        `${this.describe(rest)} at line ${this.carryLine} is over ${this.maxLength} characters`,
      );
    // A copy, so the chunk this came from is not kept alive by a slice of it (decision 0017).
    this.carry = rest.length > 0 ? Buffer.from(rest, 'utf8').toString('utf8') : '';
  }

  /** The index after the construct that starts with `<` at `lt`, or -1 when it goes on past this text. */
  private markupEnd(text: string, lt: number): number {
    for (const opening of SPECIAL_OPENINGS) {
      if (text.startsWith(opening, lt)) {
        const close = text.indexOf(TERMINATOR[opening], lt + opening.length);
        return close < 0 ? -1 : close + TERMINATOR[opening].length;
      }
      // Too little of it is here to tell a comment or CDATA from another `<!` construct.
      if (lt + opening.length > text.length && opening.startsWith(text.slice(lt))) return -1;
    }
    // A tag: up to the first `>` outside a quoted attribute value (a value may hold `>`).
    let p = lt + 1;
    for (;;) {
      const gt = text.indexOf('>', p);
      if (gt < 0) return -1;
      let q = p;
      while (q < gt && text.charCodeAt(q) !== 34 && text.charCodeAt(q) !== 39) q++;
      if (q === gt) return gt + 1;
      const close = text.indexOf(text.charAt(q), q + 1);
      if (close < 0) return -1;
      p = close + 1;
    }
  }

  private markup(markup: string, line: number): void {
    if (markup.length > this.maxLength)
      throw new FileRejection(
        'LINE_TOO_LONG',
        `${this.describe(markup)} at line ${line} is over ${this.maxLength} characters`,
      );
    if (markup.startsWith('<!') || markup.startsWith('<?')) {
      const declaration = DECLARATION.exec(markup);
      if (declaration) this.forbidden(declaration[1]!, line + this.breaksIn(markup, 0, declaration.index));
      if (markup.startsWith('<![CDATA[')) {
        if (this.open.length === 0) throw this.malformed(line, 'CDATA outside the root element');
        this.onEvent({ kind: 'text', text: markup.slice(9, -3) }, line);
      } else if (markup.startsWith('<!') && !markup.startsWith('<!--'))
        throw this.malformed(line, 'an unexpected <! declaration');
      return;
    }
    if (markup.startsWith('</')) {
      const name = markup.slice(2, -1).trim();
      const open = this.open.pop();
      if (open !== name)
        throw this.malformed(line, `</${name}> does not close ${open ? `<${open}>` : 'any element'}`);
      this.onEvent({ kind: 'end', name: localName(name) }, line);
      return;
    }
    this.startTag(markup, line);
  }

  private startTag(tag: string, line: number): void {
    NAME.lastIndex = 1;
    const nameMatch = NAME.exec(tag);
    if (!nameMatch || tag.includes(FIELD)) throw this.malformed(line, "a '<' that starts no tag");
    const qualified = nameMatch[0];
    const attributes = new Map<string, string>();
    let position = NAME.lastIndex;
    for (;;) {
      ATTRIBUTE.lastIndex = position;
      const attribute = ATTRIBUTE.exec(tag);
      if (!attribute) break;
      const value = decodeReferences(attribute[2] ?? attribute[3] ?? '', (detail) =>
        this.malformed(line, detail),
      );
      attributes.set(localName(attribute[1]!), value);
      position = ATTRIBUTE.lastIndex;
    }
    TAG_END.lastIndex = position;
    const end = TAG_END.exec(tag);
    if (!end || TAG_END.lastIndex !== tag.length)
      throw this.malformed(line, `the start tag <${qualified}> is malformed`);
    if (this.open.length === 0 && this.rootSeen) throw this.malformed(line, 'a second root element');
    if (this.open.length >= this.maxDepth)
      throw this.malformed(line, `elements nested deeper than ${this.maxDepth}`);
    this.rootSeen = true;
    const name = localName(qualified);
    this.onEvent({ kind: 'start', name, attributes }, line);
    if (end[1] === '/') this.onEvent({ kind: 'end', name }, line);
    else this.open.push(qualified);
  }

  private text(raw: string, line: number): void {
    if (raw.length > this.maxLength)
      throw new FileRejection(
        'LINE_TOO_LONG',
        `the text at line ${line} is over ${this.maxLength} characters`,
      );
    if (!NOT_WHITE.test(raw)) return;
    if (this.open.length === 0) throw this.malformed(line, 'text outside the root element');
    const text = decodeReferences(raw, (detail) => this.malformed(line, detail));
    this.onEvent({ kind: 'text', text }, line);
  }

  private forbidden(declaration: string, line: number): never {
    throw new FileRejection('XML_DTD_FORBIDDEN', `<!${declaration.toUpperCase()} at line ${line}`);
  }

  private malformed(line: number, detail: string): FileRejection {
    return new FileRejection('DOCUMENT_MALFORMED', `XML line ${line}: ${detail}`);
  }

  private describe(construct: string): string {
    if (construct.startsWith('<!--')) return 'a comment';
    if (construct.startsWith('<![CDATA[')) return 'a CDATA section';
    if (construct.startsWith('<?')) return 'a processing instruction';
    if (construct.startsWith('</')) return 'an end tag';
    if (construct.startsWith('<!')) return 'a <! declaration';
    return construct.startsWith('<') ? 'a start tag' : 'the text';
  }

  /** The line of `position` in `text`; positions only grow within one text, so each break is counted once. */
  private lineAt(text: string, position: number): number {
    this.cursorLine += this.breaksIn(text, this.cursor, position);
    this.cursor = position;
    return this.cursorLine;
  }

  /** Line breaks (LF, CRLF or a lone CR) that start in `text` between `from` and `to`. */
  private breaksIn(text: string, from: number, to = text.length): number {
    let count = 0;
    for (let i = from; i < to; i++) {
      const code = text.charCodeAt(i);
      if (code === 10 || (code === 13 && text.charCodeAt(i + 1) !== 10)) count++;
    }
    return count;
  }

  private countBreaks(chunk: string): void {
    let i = 0;
    if (this.statsCr) {
      this.statsCr = false;
      if (chunk.charCodeAt(0) === 10) {
        this.breaks.crlf++;
        i = 1;
      } else this.breaks.cr++;
    }
    for (; i < chunk.length; i++) {
      const code = chunk.charCodeAt(i);
      if (code === 10) this.breaks.lf++;
      else if (code === 13) {
        if (i + 1 === chunk.length) this.statsCr = true;
        else if (chunk.charCodeAt(i + 1) === 10) {
          this.breaks.crlf++;
          i++;
        } else this.breaks.cr++;
      }
    }
    this.lastChar = chunk.charAt(chunk.length - 1);
  }
}

/**
 * The tokenizer as the TextSplitter of a streamed record format (lib/formats/recordFormats.ts): each event
 * becomes one unit for the LineSink, numbered with the line it starts on, which is what a record made from
 * it carries as `source_line`. Units: `<name` followed by `\u0000attribute=value` per attribute, `/name`,
 * and `"text`; `decodeXmlUnit` reads them back.
 */
export class XmlSplitter {
  private readonly tokenizer: XmlTokenizer;

  constructor(maxLength: number, sink: LineSink) {
    this.tokenizer = new XmlTokenizer(maxLength, (token, line) => sink.onLine(encodeXmlToken(token), line));
  }

  get stats(): LineStats {
    return this.tokenizer.stats;
  }

  get mixedLineEndings(): boolean {
    return this.tokenizer.mixedLineEndings;
  }

  push(text: string): void {
    this.tokenizer.push(text);
  }

  end(): void {
    this.tokenizer.end();
  }
}

export function encodeXmlToken(token: XmlToken): string {
  if (token.kind === 'end') return `/${token.name}`;
  if (token.kind === 'text') return `"${token.text}`;
  let unit = `<${token.name}`;
  for (const [name, value] of token.attributes) unit += `${FIELD}${name}=${value}`;
  return unit;
}

export function decodeXmlUnit(unit: string): XmlToken {
  const rest = unit.slice(1);
  if (unit.startsWith('/')) return { kind: 'end', name: rest };
  if (unit.startsWith('"')) return { kind: 'text', text: rest };
  const [name = '', ...fields] = rest.split(FIELD);
  const attributes = new Map<string, string>();
  for (const field of fields) {
    const equals = field.indexOf('=');
    attributes.set(field.slice(0, equals), field.slice(equals + 1));
  }
  return { kind: 'start', name, attributes };
}
