import fc from 'fast-check';

import { FileRejection } from '../../../lib/validation/reasons';
import {
  errorsOf,
  field,
  interchange,
  intervals,
  lin,
  loc,
  MALO,
  message,
  qty,
  quarterHours,
  read,
  rejectionOf,
  simple,
  UNA,
} from './msconsInterchanges';

describe('MSCONS reader, readings', () => {
  it('when a QTY has its DTM+163/164, then its record has the fields of the reading', () => {
    const { records } = read(simple(1));
    expect(records).toEqual([
      {
        line: 13,
        fields: {
          meter_id: MALO,
          channel: 'import',
          obis: '1-1:1.29.0',
          product_id: '1-1:1.29.0:SRW',
          interval_start: '2015-12-01T00:00:00+01:00',
          interval_minutes: 15,
          kwh: 1.5,
          quality: 'actual',
          source_quality: '220',
          status: null,
        },
      },
    ]);
  });

  it('when the PIA names OBIS 1-1:2.29.0, then the readings are export', () => {
    const text = interchange([message('1', loc(), lin('1-1?:2.29.0:SRW'), quarterHours(1))]);
    expect(field(read(text).records[0], 'channel')).toBe('export');
  });

  it('when the PIA is a medium code (AUA:Z08), then the readings are import and a note names the code', () => {
    const { records, summary } = read(interchange([message('1', loc(), lin('AUA:Z08'), quarterHours(2))]));
    expect(records.map((r) => [field(r, 'channel'), field(r, 'obis'), field(r, 'product_id')])).toEqual([
      ['import', null, 'AUA:Z08'],
      ['import', null, 'AUA:Z08'],
    ]);
    expect(summary.notes).toContain(
      `meter ${MALO}: PIA 'AUA:Z08' is not an OBIS code; its values were read as import`,
    );
  });

  it('when the OBIS code is reactive energy (1-1:3.29.0), then its readings are reported, not ingested', () => {
    const { records, summary } = read(
      interchange([message('1', loc(), lin('1-1?:3.29.0:SRW'), quarterHours(4))]),
    );
    expect([records, summary.notIngested]).toEqual([
      [],
      [
        {
          meterId: MALO,
          product: '1-1:3.29.0',
          reason: 'OBIS 1-1:3.29.0 is not active energy import (1.x.x) or export (2.x.x)',
          intervals: 4,
        },
      ],
    ]);
  });

  it('when the UNA declares a decimal comma, then 1,25 is read as 1.25 kWh', () => {
    const { records } = read(simple(1, { value: '1,25' }, "UNA:+,? '"));
    expect(field(records[0], 'kwh')).toBe(1.25);
  });

  it('when the UNA declares a decimal comma and a value has a point, then it is INVALID_NUMBER', () => {
    const { records } = read(simple(1, { value: '1.25' }, "UNA:+,? '"));
    expect(errorsOf(records)).toEqual([
      ['INVALID_NUMBER', "QTY value '1.25' is not a number with decimal mark ','"],
    ]);
  });

  it('when there is no UNA, then the default syntax with a decimal point applies', () => {
    const { records } = read(simple(1, { value: '0.75' }, ''));
    expect([field(records[0], 'kwh'), records[0]?.line]).toEqual([0.75, 12]);
  });

  it('when the UNA declares other separators (UNA|*.# ~), then the records are those of the defaults', () => {
    // Released characters become plain ones (or released with #), separators become the declared ones.
    const swap: Record<string, string> = { ':': '|', '+': '*', "'": '~' };
    const custom = simple(2)
      .slice(UNA.length)
      .replace(/\?(.)|([:+'])/g, (_, released?: string, separator?: string) =>
        released !== undefined ? (/[|*#~]/.test(released) ? `#${released}` : released) : swap[separator!]!,
      );
    expect(read(`UNA|*.# ~${custom}`).records).toEqual(read(simple(2)).records);
  });

  it.each([
    [':KWH', '1.5', 1.5],
    [':WH', '1500', 1.5],
    [':WHR', '2312', 2.312],
    [':MWH', '0.0015', 1.5],
  ])('when the unit is %s, then %s becomes exactly %d kWh', (unit, value, kwh) => {
    expect(field(read(simple(1, { unit, value })).records[0], 'kwh')).toBe(kwh);
  });

  it('when QTY values carry no unit, then they are read as kWh and one note says so', () => {
    const { records, summary } = read(simple(3, { unit: '', value: '2' }));
    expect(records.map((r) => field(r, 'kwh'))).toEqual([2, 2, 2]);
    expect(summary.notes.filter((note) => /no unit/.test(note))).toEqual([
      '3 QTY value(s) carry no unit and were read as kWh',
    ]);
  });

  it('when the unit is not an energy unit (KVR), then the reading is INVALID_VALUE', () => {
    expect(errorsOf(read(simple(1, { unit: ':KVR' })).records)).toEqual([
      ['INVALID_VALUE', "unit 'KVR' is not KWH, WH (WHR) or MWH"],
    ]);
  });

  it.each([
    ['220', 'actual'],
    ['67', 'substituted'],
    ['201', 'estimated'],
  ])(
    'when the QTY qualifier is %s, then the quality is %s and the qualifier is kept',
    (qualifier, quality) => {
      const { records, summary } = read(simple(1, { qualifier }));
      expect([field(records[0], 'quality'), field(records[0], 'source_quality')]).toEqual([
        quality,
        qualifier,
      ]);
      expect(summary.channels[0]?.quality[quality as 'actual']).toBe(1);
    },
  );

  it('when the QTY qualifier is unknown (46), then the reading is INVALID_VALUE', () => {
    expect(errorsOf(read(simple(1, { qualifier: '46' })).records)).toEqual([
      [
        'INVALID_VALUE',
        "QTY qualifier '46' is not 220 (true value), 67 (substitute value) or 201 (proposed value)",
      ],
    ]);
  });

  it('when STS segments follow a QTY, then status joins them in file order', () => {
    const extra = ['STS+Z32++ZJ2', 'STS+Z34++ZB0'];
    const { records } = read(simple(1, { qualifier: '67', extra }));
    expect(field(records[0], 'status')).toBe('Z32++ZJ2 Z34++ZB0');
  });

  it('when an interval DTM has format 203 (no offset), then the reading is INVALID_TIMESTAMP', () => {
    const text = simple(1).replace('DTM+163:201512010000?+01:303', 'DTM+163:201512010000:203');
    expect(errorsOf(read(text).records)).toEqual([
      ['INVALID_TIMESTAMP', "DTM+163 interval start '201512010000': format 203 has no UTC offset"],
    ]);
  });
});

describe('MSCONS reader, intervals', () => {
  const series = (lengths: number[], from?: number): string =>
    interchange([
      message(
        '1',
        loc(),
        lin(),
        intervals(lengths, from).flatMap((pair) => qty(pair)),
      ),
    ]);

  it('when a 15-minute series has a 16- and a 14-minute interval, then each is INVALID_INTERVAL', () => {
    const { records, summary } = read(series([15, 16, 14, 15], Date.UTC(2015, 11, 1, 19, 45)));
    expect(errorsOf(records)).toEqual([
      ['INVALID_INTERVAL', 'interval 2015-12-01T20:00+01:00 to 20:16 is 16 minutes; the series is 15-minute'],
      ['INVALID_INTERVAL', 'interval 2015-12-01T20:16+01:00 to 20:30 is 14 minutes; the series is 15-minute'],
    ]);
    expect([summary.irregularIntervals, summary.channels[0]?.intervals]).toEqual([2, 2]);
    expect(summary.notes).toContain(
      '2 irregular interval(s) rejected as INVALID_INTERVAL: 1 × 16 min, 1 × 14 min',
    );
  });

  it('when a series starts with a 60-minute interval, then later quarter-hours are irregular', () => {
    const { records } = read(series([60, 15]));
    expect(errorsOf(records).map(([, message]) => message)).toEqual([
      'interval 2015-12-01T01:00+01:00 to 01:15 is 15 minutes; the series is 60-minute',
    ]);
  });

  it('when the first interval is neither 15 nor 60 minutes, then it is irregular and the next sets the length', () => {
    const { records } = read(series([30, 15, 15]));
    expect(errorsOf(records).map(([, message]) => message)).toEqual([
      'interval 2015-12-01T00:00+01:00 to 00:30 is 30 minutes; the series has no 15- or 60-minute interval before it',
    ]);
  });

  it('when an interval ends before it starts, then it is INVALID_INTERVAL saying so', () => {
    const text = simple(1).replace('DTM+164:201512010015', 'DTM+164:201511302345');
    expect(errorsOf(read(text).records)).toEqual([
      ['INVALID_INTERVAL', 'interval 2015-12-01T00:00+01:00 to 2015-11-30T23:45+01:00 ends before it starts'],
    ]);
  });

  it('when a series has a hole and a stretch delivered twice, then both are counted, not rejected', () => {
    const pairs = intervals([15, 15, 15, 15]);
    const detail = [...pairs, pairs[3]!, pairs[1]!].flatMap((pair) => qty(pair));
    const holed = detail.slice(0, 6).concat(detail.slice(9));
    const { records, summary } = read(interchange([message('1', loc(), lin(), holed)]));
    expect([errorsOf(records), summary.channels[0]?.gaps, summary.channels[0]?.gapMinutes]).toEqual([
      [],
      1,
      15,
    ]);
    expect(summary.channels[0]?.overlaps).toBe(2);
  });

  it.each([
    [
      '2022-03-27',
      Date.UTC(2022, 2, 26, 23),
      92,
      '2022-03-27 is a 23-hour day in Europe/Berlin (92 quarter-hours)',
    ],
    [
      '2022-10-30',
      Date.UTC(2022, 9, 29, 22),
      100,
      '2022-10-30 is a 25-hour day in Europe/Berlin (100 quarter-hours)',
    ],
  ])('when a UTC series covers the Berlin day %s, then a note names its length', (_, from, count, note) => {
    const pairs = intervals(new Array<number>(count).fill(15), from);
    const text = interchange([
      message(
        '1',
        loc(),
        lin(),
        pairs.flatMap((pair) => qty(pair, { offset: '?+00' })),
      ),
    ]);
    expect(read(text).summary.notes).toEqual([
      `${note}: meter ${MALO} import has ${count} quarter-hours of it`,
    ]);
  });
});

describe('MSCONS reader, structure', () => {
  it('when one message holds two LOCs and a second message a third, then each reading has its meter', () => {
    const text = interchange([
      message('1', loc('11111111111'), lin(), quarterHours(2), loc('22222222222'), lin(), quarterHours(3)),
      message('2', loc('33333333333'), lin('1-1?:2.29.0:SRW'), quarterHours(1)),
    ]);
    const { records, summary } = read(text);
    expect(summary.channels.map((c) => [c.meterId, c.channel, c.intervals])).toEqual([
      ['11111111111', 'import', 2],
      ['22222222222', 'import', 3],
      ['33333333333', 'export', 1],
    ]);
    expect([records.length, summary.messages]).toEqual([6, 2]);
  });

  it('when a LIN has no PIA, then its readings are rejected whole as REQUIRED_MISSING', () => {
    const { records } = read(interchange([message('1', loc(), ['LIN+1'], quarterHours(1))]));
    expect(records).toEqual([
      {
        line: 12,
        fields: {},
        rows: 1,
        errors: [
          { code: 'REQUIRED_MISSING', message: 'its LIN (segment 11) has no PIA+5 product identification' },
        ],
      },
    ]);
  });

  it('when a QTY comes before any LIN, then it is rejected whole as MALFORMED_ROW', () => {
    const { records } = read(interchange([message('1', loc(), quarterHours(1))]));
    expect(errorsOf(records)).toEqual([['MALFORMED_ROW', 'the QTY at segment 11 is not inside a LIN group']]);
  });

  it('when UNT counts another number of segments, then the file is rejected as EDIFACT_CONTROL_MISMATCH', () => {
    const rejection = rejectionOf(simple(2).replace('UNT+17+1', 'UNT+18+1'));
    expect([rejection.code, rejection.message]).toEqual([
      'EDIFACT_CONTROL_MISMATCH',
      expect.stringContaining("segment 19: UNT counts '18' segments; message '1' has 17") as string,
    ]);
  });

  it('when UNZ counts another number of messages, then the file is rejected as EDIFACT_CONTROL_MISMATCH', () => {
    expect(rejectionOf(simple(1).replace('UNZ+1+', 'UNZ+2+')).message).toMatch(
      /UNZ counts '2' messages; the interchange has 1/,
    );
  });

  it('when a segment follows UNZ, then the file is rejected as EDIFACT_MALFORMED', () => {
    const rejection = rejectionOf(`${simple(1)}UNH+2+MSCONS:D:04B:UN:2.4c'`);
    expect([rejection.code, rejection.message]).toEqual([
      'EDIFACT_MALFORMED',
      expect.stringContaining('segment 18 (UNH) follows the UNZ interchange trailer') as string,
    ]);
  });

  it('when the file is cut inside a segment, then it is rejected as cut short', () => {
    const text = simple(4);
    expect(rejectionOf(text.slice(0, text.indexOf('QTY+220:1.5:KWH') + 9))).toMatchObject({
      code: 'EDIFACT_MALFORMED',
      message: expect.stringMatching(/has no terminator "'": the file is cut short/) as string,
    });
  });

  it('when the file is cut after a whole segment, then it is rejected because the message has no UNT', () => {
    const text = simple(4);
    expect(rejectionOf(text.slice(0, text.indexOf('UNT+'))).message).toMatch(
      /message '1' \(UNH, segment 3\) has no UNT: the file is cut short/,
    );
  });

  it('when the file does not start with UNB, then it is rejected as HEADER_MISSING', () => {
    expect(rejectionOf(`${UNA}UNH+1+MSCONS:D:04B:UN:2.4c'`)).toMatchObject({ code: 'HEADER_MISSING' });
  });

  it('when the UNH names another message type, then the file is rejected as DOCUMENT_UNRECOGNISED', () => {
    const rejection = rejectionOf(simple(1).replace('MSCONS:D:04B', 'INVOIC:D:96A'));
    expect([rejection.code, rejection.message]).toEqual([
      'DOCUMENT_UNRECOGNISED',
      expect.stringContaining("segment 3: UNH names message type 'INVOIC', not MSCONS") as string,
    ]);
  });

  it('when a segment the reader does not use appears, then it is counted in a note', () => {
    const text = interchange([message('1', loc(), ['CCI+Z16'], lin(), quarterHours(1))]);
    expect(read(text).summary.notes).toEqual(['segments read and ignored: CCI (1)']);
  });
});

describe('MSCONS reader, mutated interchanges', () => {
  const base = interchange([
    message('1', loc(), lin(), quarterHours(3, { qualifier: '67', extra: ['STS+Z32++ZJ2'] })),
    message('2', loc('22222222222'), lin('AUA:Z08'), quarterHours(2, { unit: '' })),
  ]);
  interface Mutation {
    kind:
      'replace element' | 'drop segment' | 'duplicate segment' | 'swap segments' | 'cut text' | 'insert text';
    at: number;
    other: number;
    element: number;
    text: string;
  }
  const mutation: fc.Arbitrary<Mutation> = fc.record({
    kind: fc.constantFrom(
      'replace element',
      'drop segment',
      'duplicate segment',
      'swap segments',
      'cut text',
      'insert text' as const,
    ),
    at: fc.nat(),
    other: fc.nat(),
    element: fc.nat(),
    text: fc.string({
      maxLength: 8,
      unit: fc.constantFrom('0', '1', '9', '.', ',', ':', '+', "'", '?', 'A', 'Z', '-', ' ', '\n'),
    }),
  });

  function mutate(text: string, m: Mutation): string {
    if (m.kind === 'cut text') return text.slice(0, m.at % (text.length + 1));
    if (m.kind === 'insert text') {
      const i = m.at % (text.length + 1);
      return text.slice(0, i) + m.text + text.slice(i);
    }
    const segments = text.split("'");
    const i = m.at % segments.length;
    if (m.kind === 'replace element') {
      const elements = segments[i]!.split('+');
      elements[m.element % elements.length] = m.text;
      segments[i] = elements.join('+');
    }
    if (m.kind === 'drop segment') segments.splice(i, 1);
    if (m.kind === 'duplicate segment') segments.splice(i, 0, segments[i]!);
    if (m.kind === 'swap segments') {
      const j = m.other % segments.length;
      [segments[i], segments[j]] = [segments[j]!, segments[i]!];
    }
    return segments.join("'");
  }

  it('when a valid interchange is mutated, then the reader gives records or throws only FileRejection', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const mutated = mutations.reduce(mutate, base);
        try {
          const { records } = read(mutated);
          const segmentCount = mutated.split("'").length;
          return records.every((record) => record.line >= 1 && record.line <= segmentCount);
        } catch (error) {
          return error instanceof FileRejection;
        }
      }),
      { numRuns: 300 },
    );
  });
});
