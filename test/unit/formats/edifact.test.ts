import fc from 'fast-check';

import {
  DEFAULT_SYNTAX,
  EdifactSplitter,
  parseServiceStringAdvice,
  splitSegment,
} from '../../../lib/formats/edifact';
import { FileRejection } from '../../../lib/validation/reasons';

interface Split {
  segments: Array<[string, number]>;
  splitter: EdifactSplitter;
}

/** Splits `text` handed over in chunks of `chunkSize` characters. */
function split(text: string, chunkSize = text.length || 1, maxSegmentLength = 200): Split {
  const segments: Array<[string, number]> = [];
  const splitter = new EdifactSplitter(maxSegmentLength, {
    onLine: (segment, segmentNumber) => void segments.push([segment, segmentNumber]),
  });
  for (let i = 0; i < text.length; i += chunkSize) splitter.push(text.slice(i, i + chunkSize));
  splitter.end();
  return { segments, splitter };
}

function rejectionOf(run: () => unknown): FileRejection {
  try {
    run();
  } catch (error) {
    if (error instanceof FileRejection) return error;
    throw error;
  }
  throw new Error('expected a FileRejection');
}

const texts = (result: Split): string[] => result.segments.map(([segment]) => segment);
const INTERCHANGE =
  "UNA:+.? 'UNB+UNOC:3+S:500+R:500+240202:1250+REF'UNH+1+MSCONS:D:04B:UN:2.4c'QTY+220:1?'5'";

describe('EDIFACT segment splitter', () => {
  it('when a stream has no UNA, then it splits on apostrophes and numbers segments from 1', () => {
    expect(split("UNB+UNOC:3'UNH+1'UNT+2+1'").segments).toEqual([
      ['UNB+UNOC:3', 1],
      ['UNH+1', 2],
      ['UNT+2+1', 3],
    ]);
  });

  it('when a stream opens with a UNA, then the UNA is segment 1, all nine characters', () => {
    expect(split(INTERCHANGE).segments[0]).toEqual(["UNA:+.? '", 1]);
  });

  it('when a UNA declares other separators, then segments end at its terminator', () => {
    expect(texts(split('UNA|*,# ~UNB*UNOC|3~QTY*220|1,5~'))).toEqual([
      'UNA|*,# ~',
      'UNB*UNOC|3',
      'QTY*220|1,5',
    ]);
  });

  it("when a terminator is released (?'), then the segment goes on past it", () => {
    expect(texts(split(INTERCHANGE)).at(-1)).toBe("QTY+220:1?'5");
  });

  it("when a release character is itself released (??'), then the terminator after it ends the segment", () => {
    expect(texts(split("FTX+AAA+a???'b??'RFF+Z13'"))).toEqual(["FTX+AAA+a???'b??", 'RFF+Z13']);
  });

  it('when a released terminator is split across two chunks, then it is still released', () => {
    const text = "FTX+AAA+x?'y'RFF+Z13'";
    const cut = text.indexOf("'");
    const segments: string[] = [];
    const splitter = new EdifactSplitter(200, { onLine: (segment) => void segments.push(segment) });
    splitter.push(text.slice(0, cut));
    splitter.push(text.slice(cut));
    splitter.end();
    expect(segments).toEqual(["FTX+AAA+x?'y", 'RFF+Z13']);
  });

  it('when the same interchange arrives in chunks of any size, then the segments are the same', () => {
    const whole = split(INTERCHANGE).segments;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: INTERCHANGE.length }), (chunkSize) => {
        expect(split(INTERCHANGE, chunkSize).segments).toEqual(whole);
      }),
    );
  });

  it('when line breaks stand between segments, then they are skipped and counted by kind', () => {
    const result = split("UNB+UNOC:3'\r\nUNH+1'\nUNT+2+1'\r\n", 1);
    expect([texts(result), result.splitter.stats]).toEqual([
      ['UNB+UNOC:3', 'UNH+1', 'UNT+2+1'],
      { lines: 3, blankLines: 0, lf: 1, crlf: 2, cr: 0 },
    ]);
    expect(result.splitter.mixedLineEndings).toBe(true);
  });

  it('when a line break stands inside a segment, then it is kept as data', () => {
    expect(texts(split("FTX+AAA+a\nb'"))).toEqual(['FTX+AAA+a\nb']);
  });

  it('when only line breaks and spaces follow the last terminator, then nothing more is emitted', () => {
    expect(texts(split("UNZ+1+REF'\n  \n"))).toEqual(['UNZ+1+REF']);
  });

  it('when a segment is over the limit, then the file is rejected as LINE_TOO_LONG naming the segment', () => {
    const rejection = rejectionOf(() => split(`UNB+UNOC:3'QTY+220:${'1'.repeat(300)}'`));
    expect([rejection.code, rejection.message]).toEqual([
      'LINE_TOO_LONG',
      'a line is longer than the configured maximum: segment 2 is over 200 characters',
    ]);
  });

  it('when an unterminated segment grows past the limit across chunks, then it is rejected before the end', () => {
    const segments: string[] = [];
    const splitter = new EdifactSplitter(50, { onLine: (segment) => void segments.push(segment) });
    splitter.push("UNB+UNOC:3'FTX+");
    expect(() => {
      for (let i = 0; i < 10; i++) splitter.push('x'.repeat(10));
    }).toThrow(/segment 2 is over 50 characters/);
  });

  it('when the last segment has no terminator, then the file is rejected as cut short', () => {
    const rejection = rejectionOf(() => split("UNB+UNOC:3'UNZ+1+RE"));
    expect([rejection.code, rejection.message]).toEqual([
      'EDIFACT_MALFORMED',
      expect.stringContaining(
        "segment 2 ('UNZ+1+RE') has no terminator \"'\": the file is cut short",
      ) as string,
    ]);
  });

  it('when a stream ends inside its UNA, then it is rejected as a UNA cut short', () => {
    expect(rejectionOf(() => split('UNA:+')).message).toMatch(
      /UNA service string advice "UNA:\+" is cut short/,
    );
  });
});

describe('UNA service string advice', () => {
  it('when the UNA is the usual one, then it gives the default characters', () => {
    expect(parseServiceStringAdvice("UNA:+.? '")).toEqual(DEFAULT_SYNTAX);
  });

  it('when the UNA declares a decimal comma, then the decimal mark is a comma', () => {
    expect(parseServiceStringAdvice("UNA:+,? '").decimal).toBe(',');
  });

  it('when the UNA has a space for the release character, then there is none', () => {
    expect(parseServiceStringAdvice("UNA:+.  '").release).toBeNull();
  });

  it.each([
    ["UNA:+;? '", /declares decimal mark ";", not \. or ,/],
    ["UNA::.? '", /uses one character for two purposes/],
    ['UNA:+.? A', /uses a letter, digit or white space as a separator/],
  ])('when the UNA is %j, then it is rejected as EDIFACT_MALFORMED', (una, message) => {
    const rejection = rejectionOf(() => parseServiceStringAdvice(una));
    expect([rejection.code, rejection.message]).toEqual([
      'EDIFACT_MALFORMED',
      expect.stringMatching(message),
    ]);
  });
});

describe('EDIFACT segment elements', () => {
  it('when a component holds a released colon, then it is one component without the release character', () => {
    expect(splitSegment('PIA+5+1-1?:1.29.0:SRW', DEFAULT_SYNTAX)).toEqual([
      ['PIA'],
      ['5'],
      ['1-1:1.29.0', 'SRW'],
    ]);
  });

  it('when elements are empty, then they stay in place as empty strings', () => {
    expect(splitSegment('STS+Z34++ZA4', DEFAULT_SYNTAX)).toEqual([['STS'], ['Z34'], [''], ['ZA4']]);
  });

  it('when released separators and releases appear, then each becomes its literal character', () => {
    expect(splitSegment("FTX+a?+b?:c??d?'e", DEFAULT_SYNTAX)).toEqual([['FTX'], ["a+b:c?d'e"]]);
  });

  it('when the syntax has no release character, then a question mark is plain data', () => {
    const syntax = { ...DEFAULT_SYNTAX, release: null };
    expect(splitSegment('FTX+a?:b', syntax)).toEqual([['FTX'], ['a?', 'b']]);
  });
});
