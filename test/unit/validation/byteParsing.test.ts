import { TextDecoder } from 'node:util';

import fc from 'fast-check';

import { hasControlByte, incompleteUtf8Tail } from '../../../lib/formats/decode';
import { parsePlainDecimal, parsePlainInteger } from '../../../lib/validation/byteFields';
import { parseNumber } from '../../../lib/validation/values';

/** The byte path's building blocks against what the text path does with the same input. */

const CONTROL_CHARACTERS = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/; // eslint-disable-line no-control-regex

const decimalText = fc
  .tuple(
    fc.constantFrom('', '+', '-'),
    fc.stringMatching(/^[0-9]{0,9}$/),
    fc.constantFrom('', '.', ','),
    fc.stringMatching(/^[0-9]{0,9}$/),
  )
  .map((parts) => parts.join(''));

describe('byte parsing', () => {
  it('when a plain decimal is read from bytes, then it is the number the text path reads, or NaN', () => {
    fc.assert(
      fc.property(decimalText, fc.boolean(), fc.nat({ max: 3 }), (text, decimalComma, offset) => {
        const bytes = Buffer.concat([Buffer.alloc(offset, 0x20), Buffer.from(text)]);
        const fromBytes = parsePlainDecimal(bytes, offset, bytes.length, decimalComma);
        if (Number.isNaN(fromBytes)) return;
        expect(Object.is(fromBytes, parseNumber(text, decimalComma))).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('when an integer is read from bytes, then it is what Number reads from its text, or NaN', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[+-]?[0-9]{0,17}$/), (text) => {
        const fromBytes = parsePlainInteger(Buffer.from(text), 0, text.length);
        if (!Number.isNaN(fromBytes)) expect(Object.is(fromBytes, Number(text))).toBe(true);
      }),
    );
  });

  it('when bytes are checked for control characters, then the answer is the text check of their latin1 text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat({ max: 7 }), (array, offset) => {
        const bytes = Buffer.from(array).subarray(Math.min(offset, array.length));
        expect(hasControlByte(bytes)).toBe(CONTROL_CHARACTERS.test(bytes.toString('latin1')));
      }),
      { numRuns: 5000 },
    );
  });

  it('when a chunk ends inside a character, then the held-back tail is what a streaming decoder holds', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.nat(), (text, cut) => {
        const bytes = Buffer.from(text, 'utf8');
        const chunk = bytes.subarray(0, cut % (bytes.length + 1));
        const decoder = new TextDecoder('utf-8', { fatal: true });
        const decoded = decoder.decode(chunk, { stream: true });
        const tail = incompleteUtf8Tail(chunk);
        expect(Buffer.from(decoded, 'utf8').length).toBe(chunk.length - tail.length);
      }),
      { numRuns: 2000 },
    );
  });
});
