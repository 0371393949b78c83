import fc from 'fast-check';

import {
  decodeXmlUnit,
  encodeXmlToken,
  XmlSplitter,
  type XmlToken,
  XmlTokenizer,
} from '../../../lib/formats/xmlStream';
import { parseXml } from '../../../lib/validation/documents/xml';
import { FileRejection } from '../../../lib/validation/reasons';

type Event = [number, string, string];

/** The events of a document pushed in the given chunks: [line, kind, name and attributes or text]. */
function eventsOf(chunks: string[], maxLength = 4096): Event[] {
  const events: Event[] = [];
  const shown = (token: XmlToken): string =>
    token.kind === 'text'
      ? token.text
      : token.kind === 'end'
        ? token.name
        : [token.name, ...[...token.attributes].map(([k, v]) => `${k}=${v}`)].join(' ');
  const tokenizer = new XmlTokenizer(maxLength, (token, line) =>
    events.push([line, token.kind, shown(token)]),
  );
  for (const chunk of chunks) tokenizer.push(chunk);
  tokenizer.end();
  return events;
}

function rejectionOf(chunks: string[], maxLength = 4096): FileRejection {
  try {
    eventsOf(chunks, maxLength);
  } catch (error) {
    if (error instanceof FileRejection) return error;
    throw error;
  }
  throw new Error('expected the tokenizer to reject the document');
}

const SAMPLE = [
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<!-- a comment with <tags> and "quotes" -->',
  '<ns1:feed xmlns:ns1="http://www.w3.org/2005/Atom">',
  '  <ns1:link rel="self" href="a/b?x=1&amp;y=&quot;2&quot;"/>',
  "  <ns0:value unit='>Wh'>7&#48;3 &lt;&gt; &#x41;</ns0:value>",
  '  <note><![CDATA[1 < 2 & 3]]></note>',
  '</ns1:feed>',
  '',
].join('\n');

describe('streamed XML tokenizer', () => {
  it('when a document is pushed whole, then it gives start, end and text events with their lines', () => {
    expect(eventsOf([SAMPLE])).toEqual([
      [3, 'start', 'feed ns1=http://www.w3.org/2005/Atom'],
      [4, 'start', 'link rel=self href=a/b?x=1&y="2"'],
      [4, 'end', 'link'],
      [5, 'start', 'value unit=>Wh'],
      [5, 'text', '703 <> A'],
      [5, 'end', 'value'],
      [6, 'start', 'note'],
      [6, 'text', '1 < 2 & 3'],
      [6, 'end', 'note'],
      [7, 'end', 'feed'],
    ]);
  });

  it('when the same document is cut into chunks anywhere, then the events and lines are the same', () => {
    const whole = eventsOf([SAMPLE]);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: SAMPLE.length - 1 }), { maxLength: 12 }),
        (cuts) => {
          const at = [0, ...cuts.sort((a, b) => a - b), SAMPLE.length];
          const chunks = at.slice(1).map((end, i) => SAMPLE.slice(at[i], end));
          expect(eventsOf(chunks)).toEqual(whole);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('when the document is pushed one character at a time, then the events are those of one push', () => {
    expect(eventsOf([...SAMPLE])).toEqual(eventsOf([SAMPLE]));
  });

  it.each([
    ['a DOCTYPE', ['<!DOCTYPE a><a/>']],
    ['an internal subset with entities', ['<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>']],
    ['an external entity', ['<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>']],
    ['a lower-case doctype', ['<!doctype a><a/>']],
    ['an ENTITY declaration inside the root', ['<a><!ENTITY x "y"></a>']],
    ['a DOCTYPE cut across chunks', ['<?xml version="1.0"?><!DOC', 'TYPE a [<!ENT', 'ITY x "y">]><a/>']],
    ['a DOCTYPE inside a comment', ['<a><!-- <!DOCTYPE a> --></a>']],
    ['a DOCTYPE whose internal subset never ends', ['<!DOCTYPE a [', '<!ENTITY x "', 'y'.repeat(100)]],
  ])('when the document has %s, then it is rejected as XML_DTD_FORBIDDEN', (_case, chunks) => {
    expect(rejectionOf(chunks, 64).code).toBe('XML_DTD_FORBIDDEN');
  });

  it('when a DOCTYPE comes after a prolog, then the rejection names its line and no element was emitted', () => {
    const events: string[] = [];
    const tokenizer = new XmlTokenizer(4096, (token) => events.push(token.kind));
    expect(() => tokenizer.push('<?xml version="1.0"?>\n<!-- x -->\n<!DOCTYPE feed>\n<feed/>')).toThrow(
      '<!DOCTYPE at line 3',
    );
    expect(events).toEqual([]);
  });

  it.each([
    ['an undeclared entity reference', '<a>&lol;</a>'],
    ['a bare ampersand', '<a>fish & chips</a>'],
    ['a character reference to a non-XML character', '<a>&#0;</a>'],
    ['an undeclared entity in an attribute', '<a b="&lol;"/>'],
    ['a mismatched end tag', '<a><b></a></b>'],
    ['an unclosed element', '<a><b></b>'],
    ['two root elements', '<a/><b/>'],
    ['text outside the root', 'x<a/>'],
    ['no element at all', '<?xml version="1.0"?>'],
    ['a broken start tag', '<a b=1/>'],
    ['a comment that never ends', '<a><!-- x'],
    ['a start tag cut short', '<a><b c="1"'],
    ['a <! declaration that is not a comment or CDATA', '<a><!ELEMENT a ANY></a>'],
    ['CDATA outside the root', '<![CDATA[x]]><a/>'],
  ])(
    'when the document has %s, then it is rejected as DOCUMENT_MALFORMED like parseXml does',
    (_case, xml) => {
      expect(() => parseXml(xml)).toThrow(FileRejection);
      expect(rejectionOf([xml]).code).toBe('DOCUMENT_MALFORMED');
    },
  );

  it('when elements nest deeper than 64, then the document is rejected instead of growing the stack', () => {
    const deep = `${'<a>'.repeat(100)}${'</a>'.repeat(100)}`;
    expect(rejectionOf([deep]).message).toContain('nested deeper than 64');
  });

  it('when a start tag is longer than the limit, then it is LINE_TOO_LONG naming its line', () => {
    const error = rejectionOf(['<a>\n', `<b c="${'x'.repeat(100)}"/>`, '</a>'], 64);
    expect([error.code, error.message]).toEqual([
      'LINE_TOO_LONG',
      expect.stringContaining('a start tag at line 2 is over 64 characters') as string,
    ]);
  });

  it('when a text node is longer than the limit, then it is LINE_TOO_LONG, even split over chunks', () => {
    const chunks = ['<a>', ...new Array<string>(10).fill('0123456789'), '</a>'];
    expect(rejectionOf(chunks, 64).code).toBe('LINE_TOO_LONG');
  });

  it('when a long document is made of short tags and texts, then a small limit accepts it', () => {
    const long = `<a>${'<b>12345</b>\n'.repeat(1000)}</a>`;
    expect(eventsOf([long], 16).filter(([, kind]) => kind === 'text')).toHaveLength(1000);
  });

  it('when lines end in CRLF or a lone CR, then events carry editor line numbers and endings are counted', () => {
    const lines: number[] = [];
    const tokenizer = new XmlTokenizer(4096, (token, line) => {
      if (token.kind === 'start') lines.push(line);
    });
    tokenizer.push('<a>\r');
    tokenizer.push('\n<b/>\r<c/>\n<d/>');
    tokenizer.push('</a>');
    tokenizer.end();
    expect([lines, tokenizer.stats, tokenizer.mixedLineEndings]).toEqual([
      [1, 2, 3, 4],
      { lines: 4, blankLines: 0, lf: 1, crlf: 1, cr: 1 },
      true,
    ]);
  });

  it('when text between elements is only white space, then no text event is emitted for it', () => {
    expect(eventsOf(['<a>\n  <b> x </b>\n</a>']).map(([, kind, text]) => `${kind}:${text}`)).toEqual([
      'start:a',
      'start:b',
      'text: x ',
      'end:b',
      'end:a',
    ]);
  });
});

describe('XML splitter units', () => {
  it('when events pass through the splitter, then each is one unit numbered with its line and reads back', () => {
    const units: Array<[string, number]> = [];
    const splitter = new XmlSplitter(4096, { onLine: (unit, line) => void units.push([unit, line]) });
    splitter.push('<feed>\n  <link rel="up" href="a=b"/>\n  <v>1</v>\n</feed>');
    splitter.end();
    expect(units).toEqual([
      ['<feed', 1],
      ['<link\u0000rel=up\u0000href=a=b', 2],
      ['/link', 2],
      ['<v', 3],
      ['"1', 3],
      ['/v', 3],
      ['/feed', 4],
    ]);
    expect(decodeXmlUnit(units[1]![0])).toEqual({
      kind: 'start',
      name: 'link',
      attributes: new Map([
        ['rel', 'up'],
        ['href', 'a=b'],
      ]),
    });
  });

  it('when any token is encoded, then decoding gives it back', () => {
    const name = fc.stringMatching(/^[A-Za-z_][\w.-]{0,8}$/);
    const token: fc.Arbitrary<XmlToken> = fc.oneof(
      fc.record({ kind: fc.constant('end' as const), name }),
      fc.record({ kind: fc.constant('text' as const), text: fc.string({ minLength: 1 }) }),
      fc.record({
        kind: fc.constant('start' as const),
        name,
        attributes: fc
          .uniqueArray(
            fc.tuple(
              name,
              fc.string().filter((v) => !v.includes('\u0000')),
            ),
            {
              selector: ([k]) => k,
              maxLength: 4,
            },
          )
          .map((pairs) => new Map(pairs) as ReadonlyMap<string, string>),
      }),
    );
    fc.assert(fc.property(token, (t) => expect(decodeXmlUnit(encodeXmlToken(t))).toEqual(t)));
  });
});
