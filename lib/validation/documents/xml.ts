import { FileRejection } from '../reasons';

/**
 * A small, safe XML reader for data documents (decision 0012). It builds an element tree from an
 * already size-limited string and refuses, before reading anything else, every document that declares a
 * DTD or entities: no DOCTYPE, no ENTITY, so no entity expansion and no external fetches. References
 * are limited to the five predefined entities and character references. Mixed content, namespaces and
 * attributes beyond name/value are not needed by the formats Lakewatt reads: names keep only their local
 * part (after any prefix), and an element's text is the concatenation of its text nodes.
 */

export interface XmlElement {
  /** Local name (namespace prefix removed). */
  name: string;
  attributes: ReadonlyMap<string, string>;
  children: XmlElement[];
  text: string;
  /** 1-based line of the start tag. */
  line: number;
}

export interface XmlLimits {
  maxDepth: number;
}

export const DEFAULT_LIMITS: XmlLimits = { maxDepth: 64 };
/*
 * The tag syntax and the safety rules below are shared with the streamed reader (lib/formats/xmlStream.ts),
 * so both accept and refuse the same documents. The sticky expressions are used by setting `lastIndex`
 * right before each `exec`.
 */
export const NAME = /[A-Za-z_][\w.\-:]*/y;
export const ATTRIBUTE = /\s+([A-Za-z_][\w.\-:]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/y;
export const TAG_END = /\s*(\/?)>/y;
/** A DTD or entity declaration anywhere (even in a comment) refuses the document: XML_DTD_FORBIDDEN. */
export const DECLARATION = /<!\s*(DOCTYPE|ENTITY)/i;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

export function localName(qualified: string): string {
  const colon = qualified.lastIndexOf(':');
  return colon < 0 ? qualified : qualified.slice(colon + 1);
}

/**
 * Text or an attribute value with its references resolved: only the five predefined entities and character
 * references to XML characters; anything else (a bare `&`, `&lol;`, `&#0;`) is the error `fail` makes.
 */
export function decodeReferences(raw: string, fail: (detail: string) => Error): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]{0,12})(;?)/g, (_match, body: string, semicolon: string) => {
    if (!semicolon) throw fail("a bare '&' (write &amp;)");
    const named = PREDEFINED[body];
    if (named !== undefined) return named;
    const numeric = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(body);
    if (numeric) {
      const code = numeric[1] !== undefined ? parseInt(numeric[1], 16) : Number(numeric[2]);
      if (isXmlChar(code)) return String.fromCodePoint(code);
    }
    throw fail(`the reference &${body}; is not a predefined entity`);
  });
}

export function parseXml(text: string, limits: XmlLimits = DEFAULT_LIMITS): XmlElement {
  let lineAt = 0;
  let line = 1;
  /** Line number of `position`; positions only grow, so lines are counted once. */
  const lineOf = (position: number): number => {
    for (let i = text.indexOf('\n', lineAt); i >= 0 && i < position; i = text.indexOf('\n', i + 1)) line++;
    lineAt = Math.max(lineAt, position);
    return line;
  };
  const malformed = (position: number, detail: string): FileRejection =>
    new FileRejection('DOCUMENT_MALFORMED', `XML line ${lineOf(position)}: ${detail}`);

  const declaration = DECLARATION.exec(text);
  if (declaration) {
    throw new FileRejection(
      'XML_DTD_FORBIDDEN',
      `<!${declaration[1]!.toUpperCase()} at line ${lineOf(declaration.index)}`,
    );
  }

  const decode = (raw: string, position: number): string =>
    decodeReferences(raw, (detail) => malformed(position, detail));

  const stack: Array<{ element: XmlElement; qualified: string; parts: string[] }> = [];
  let root: XmlElement | undefined;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const lt = text.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const chunk = text.slice(i, textEnd);
      const top = stack[stack.length - 1];
      if (top) top.parts.push(decode(chunk, i));
      else if (chunk.trim().length > 0) throw malformed(i, 'text outside the root element');
    }
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      const close = text.indexOf('-->', lt + 4);
      if (close < 0) throw malformed(lt, 'an unterminated comment');
      i = close + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      const close = text.indexOf(']]>', lt + 9);
      if (close < 0) throw malformed(lt, 'an unterminated CDATA section');
      const top = stack[stack.length - 1];
      if (!top) throw malformed(lt, 'CDATA outside the root element');
      top.parts.push(text.slice(lt + 9, close));
      i = close + 3;
      continue;
    }
    if (text.startsWith('<?', lt)) {
      const close = text.indexOf('?>', lt + 2);
      if (close < 0) throw malformed(lt, 'an unterminated processing instruction');
      i = close + 2;
      continue;
    }
    if (text.startsWith('<!', lt)) throw malformed(lt, 'an unexpected <! declaration');
    if (text.startsWith('</', lt)) {
      const close = text.indexOf('>', lt + 2);
      if (close < 0) throw malformed(lt, 'an unterminated end tag');
      const name = text.slice(lt + 2, close).trim();
      const open = stack.pop();
      if (!open || open.qualified !== name) {
        throw malformed(lt, `</${name}> does not close ${open ? `<${open.qualified}>` : 'any element'}`);
      }
      open.element.text = open.parts.join('');
      i = close + 1;
      continue;
    }
    NAME.lastIndex = lt + 1;
    const nameMatch = NAME.exec(text);
    if (!nameMatch) throw malformed(lt, "a '<' that starts no tag");
    const qualified = nameMatch[0];
    const attributes = new Map<string, string>();
    let position = NAME.lastIndex;
    for (;;) {
      ATTRIBUTE.lastIndex = position;
      const attribute = ATTRIBUTE.exec(text);
      if (!attribute) break;
      attributes.set(localName(attribute[1]!), decode(attribute[2] ?? attribute[3] ?? '', position));
      position = ATTRIBUTE.lastIndex;
    }
    TAG_END.lastIndex = position;
    const end = TAG_END.exec(text);
    if (!end) throw malformed(lt, `the start tag <${qualified}> is malformed`);
    const element: XmlElement = {
      name: localName(qualified),
      attributes,
      children: [],
      text: '',
      line: lineOf(lt),
    };
    const parent = stack[stack.length - 1];
    if (parent) parent.element.children.push(element);
    else if (root) throw malformed(lt, 'a second root element');
    else root = element;
    if (end[1] !== '/') {
      if (stack.length >= limits.maxDepth)
        throw malformed(lt, `elements nested deeper than ${limits.maxDepth}`);
      stack.push({ element, qualified, parts: [] });
    }
    i = TAG_END.lastIndex;
  }
  if (stack.length > 0) throw malformed(n, `<${stack[stack.length - 1]!.qualified}> is never closed`);
  if (!root) throw malformed(0, 'no root element');
  return root;
}

/** The first child with the given local name. */
export function childOf(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((child) => child.name === name);
}

export function childrenOf(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

/** Trimmed text of the element at a path of child names, or undefined when any step is missing. */
export function textAt(element: XmlElement, ...path: string[]): string | undefined {
  let current: XmlElement | undefined = element;
  for (const name of path) {
    current = current && childOf(current, name);
    if (!current) return undefined;
  }
  return current.text.trim();
}
