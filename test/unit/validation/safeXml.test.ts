import { parseXml, textAt } from '../../../lib/validation/documents/xml';
import { FileRejection } from '../../../lib/validation/reasons';

function rejectionOf(xml: string): FileRejection {
  try {
    parseXml(xml);
  } catch (error) {
    if (error instanceof FileRejection) return error;
    throw error;
  }
  throw new Error('expected parseXml to reject the document');
}

describe('safe XML reader', () => {
  it('when elements carry a namespace prefix, then names keep only their local part', () => {
    const root = parseXml('<ns:a xmlns:ns="urn:x"><ns:b>1</ns:b></ns:a>');
    expect([root.name, root.children.map((child) => child.name), textAt(root, 'b')]).toEqual([
      'a',
      ['b'],
      '1',
    ]);
  });

  it('when text uses the predefined entities and character references, then they are decoded', () => {
    const root = parseXml('<a t="&quot;x&quot;">&lt;&amp;&gt;&apos;&#65;&#x42;</a>');
    expect([root.text, root.attributes.get('t')]).toEqual(["<&>'AB", '"x"']);
  });

  it('when an element starts on a later line, then its line number says so', () => {
    const root = parseXml('<?xml version="1.0"?>\n<a>\n  <b/>\n\n  <c>x</c>\n</a>');
    expect([root.line, ...root.children.map((child) => child.line)]).toEqual([2, 3, 5]);
  });

  it('when CDATA and comments appear, then CDATA is text and comments are ignored', () => {
    expect(parseXml('<a><!-- <b> --><![CDATA[1 < 2]]></a>').text).toBe('1 < 2');
  });

  it.each([
    ['a DOCTYPE', '<!DOCTYPE a><a/>'],
    ['an internal subset with entities', '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'],
    ['an external entity', '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'],
    ['a lower-case doctype', '<!doctype a><a/>'],
    ['an ENTITY declaration alone', '<a><!ENTITY x "y"></a>'],
  ])('when the document has %s, then it is rejected as XML_DTD_FORBIDDEN', (_case, xml) => {
    expect(rejectionOf(xml).code).toBe('XML_DTD_FORBIDDEN');
  });

  it.each([
    ['an undeclared entity reference', '<a>&lol;</a>'],
    ['a bare ampersand', '<a>fish & chips</a>'],
    ['a character reference to a non-XML character', '<a>&#0;</a>'],
    ['a mismatched end tag', '<a><b></a></b>'],
    ['an unclosed element', '<a><b></b>'],
    ['two root elements', '<a/><b/>'],
    ['text outside the root', 'x<a/>'],
    ['no element at all', '<?xml version="1.0"?>'],
    ['a broken start tag', '<a b=1/>'],
  ])('when the document has %s, then it is rejected as DOCUMENT_MALFORMED', (_case, xml) => {
    expect(rejectionOf(xml).code).toBe('DOCUMENT_MALFORMED');
  });

  it('when elements nest deeper than the limit, then the document is rejected instead of recursing', () => {
    const deep = `${'<a>'.repeat(100)}${'</a>'.repeat(100)}`;
    expect(rejectionOf(deep).message).toContain('nested deeper than 64');
  });

  it('when an attribute is named __proto__, then it stays a plain map entry', () => {
    const root = parseXml('<a __proto__="x"/>');
    expect([root.attributes.get('__proto__'), Object.getPrototypeOf({}) === Object.prototype]).toEqual([
      'x',
      true,
    ]);
  });
});
