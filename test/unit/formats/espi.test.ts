import fc from 'fast-check';

import { type EspiEntry, EspiLinks } from '../../../lib/formats/espiLinks';
import { dstRuleTime } from '../../../lib/formats/espiTime';
import { FileRejection } from '../../../lib/validation/reasons';
import {
  entry,
  errorsOf,
  feed,
  field,
  hours,
  intervalBlock,
  JAN_1,
  localTime,
  meterReading,
  read,
  readingType,
  rejectionOf,
  RT,
  simple,
  UP,
  usagePoint,
} from './espiFeeds';

/** 2011-03-13T08:00:00Z, local midnight in Pacific standard time on the day daylight saving starts. */
const MARCH_13 = 1300003200;

describe('ESPI reader, readings', () => {
  it('when a feed links UsagePoint, MeterReading, ReadingType and IntervalBlock, then each reading is a record', () => {
    const { records } = read(simple(hours(1, JAN_1, { value: '703' })));
    expect(records).toEqual([
      {
        line: 35,
        fields: {
          meter_id: UP,
          channel: 'import',
          interval_start: '2011-01-01T08:00:00Z',
          interval_minutes: 60,
          kwh: 0.703,
          quality: 'actual',
          source_quality: null,
          reading_type: RT,
        },
      },
    ]);
  });

  it.each([
    ['0', '703', 0.703],
    ['-3', '1500', 0.0015],
    ['3', '2', 2],
    ['-8', '103659540', 0.0010365954],
  ])('when powerOfTenMultiplier is %s, then value %s Wh is exactly %d kWh', (power, value, kwh) => {
    const { records } = read(simple(hours(1, JAN_1, { value }), { powerOfTenMultiplier: power }));
    expect(field(records[0], 'kwh')).toBe(kwh);
  });

  it('when flowDirection is 19 (reverse), then the readings are export', () => {
    expect(field(read(simple(hours(1), { flowDirection: '19' })).records[0], 'channel')).toBe('export');
  });

  it('when the ReadingType gives no flowDirection, then the readings are import and a note says so', () => {
    const { records, summary } = read(simple(hours(1), { flowDirection: undefined }));
    expect([field(records[0], 'channel'), summary.notes]).toEqual([
      'import',
      expect.arrayContaining([`ReadingType ${RT}: no flowDirection: read as forward (import)`]),
    ]);
  });

  it('when the elements carry namespace prefixes, then the feed reads as with default namespaces', () => {
    const plain = simple(hours(2));
    const prefixed = plain
      .replace(/<(\/?)(feed|entry|id|link|content)\b/g, '<$1atom:$2')
      .replace(' xmlns="http://www.w3.org/2005/Atom"', ' xmlns:atom="http://www.w3.org/2005/Atom"')
      .replace(/<(\/?)(?!atom:|\?)(\w+)/g, '<$1espi:$2');
    expect(read(prefixed).records).toEqual(read(plain).records);
  });

  it('when a value is not a whole number or is missing, then the reading carries the error', () => {
    const { records } = read(
      simple([...hours(1, JAN_1, { value: '1.5' }), ...hours(1, JAN_1 + 3600, { value: null })]),
    );
    expect(errorsOf(records)).toEqual([
      ['INVALID_NUMBER', "value '1.5' is not a whole number"],
      ['REQUIRED_MISSING', 'the IntervalReading has no value'],
    ]);
  });
});

describe('ESPI reader, quality', () => {
  it.each([
    ['0', 'actual'],
    ['7', 'substituted'],
    ['8', 'estimated'],
    ['9', 'estimated'],
    ['11', 'estimated'],
    ['12', 'estimated'],
    ['13', 'estimated'],
    ['14', 'actual'],
    ['17', 'actual'],
    ['18', 'actual'],
    ['19', 'actual'],
  ])(
    'when a reading has ReadingQuality %s, then its quality is %s and the code is its source_quality',
    (code, quality) => {
      const { records } = read(simple(hours(1, JAN_1, { quality: [code] })));
      expect([field(records[0], 'quality'), field(records[0], 'source_quality'), records[0]?.errors]).toEqual(
        [quality, code, undefined],
      );
    },
  );

  it.each([
    ['10', "ReadingQuality '10' (questionable) is not ingested"],
    ['15', "ReadingQuality '15' (normalized for weather) is not ingested"],
    ['3', "ReadingQuality '3' is not an ESPI QualityOfReading code"],
  ])('when a reading has ReadingQuality %s, then it is rejected as INVALID_VALUE', (code, message) => {
    expect(errorsOf(read(simple(hours(1, JAN_1, { quality: [code] }))).records)).toEqual([
      ['INVALID_VALUE', message],
    ]);
  });

  it('when a reading has codes 0 and 8, then the less certain one (estimated) is its quality', () => {
    const { records } = read(simple(hours(1, JAN_1, { quality: ['0', '8'] })));
    expect([field(records[0], 'quality'), field(records[0], 'source_quality')]).toEqual(['estimated', '0 8']);
  });

  it('when readings have no ReadingQuality, then the ReadingType defaultQuality applies', () => {
    const { records } = read(simple(hours(1), { defaultQuality: '8' }));
    expect([field(records[0], 'quality'), field(records[0], 'source_quality')]).toEqual(['estimated', '8']);
  });

  it('when neither the readings nor the ReadingType give a quality, then they are actual and a note counts them', () => {
    const { records, summary } = read(simple(hours(3)));
    expect([records.map((r) => field(r, 'quality')), summary.notes]).toEqual([
      ['actual', 'actual', 'actual'],
      expect.arrayContaining([
        '3 reading(s) carry no ReadingQuality and their ReadingType no defaultQuality: read as actual',
      ]),
    ]);
  });
});

describe('ESPI reader, what is not electricity energy', () => {
  const gas = { uom: '169', commodity: '7', powerOfTenMultiplier: '-8', intervalLength: '86400' };

  it('when the UsagePoint is gas and the ReadingType therm, then the feed is rejected as NO_INGESTIBLE_READINGS', () => {
    const text = feed(usagePoint('1'), meterReading(), readingType(gas), intervalBlock(hours(2)));
    const error = rejectionOf(text);
    expect([error.code, error.message]).toEqual([
      'NO_INGESTIBLE_READINGS',
      expect.stringContaining(
        `2 reading(s) of 1 ReadingType(s), none electricity energy: meter ${UP}: UsagePoint ServiceCategory kind 1 (gas) is not electricity (0); uom 169 (therm) is not Wh (72); commodity 7 (naturalGas) is not electricity`,
      ) as string,
    ]);
  });

  it('when a feed has a W ReadingType beside a Wh one, then the W readings are noted, not ingested', () => {
    const power = 'ReadingType/08';
    const text = feed(
      usagePoint(),
      meterReading(),
      readingType(),
      meterReading(power, `${UP}/MeterReading/02`),
      readingType({ uom: '38' }, power),
      intervalBlock(hours(2)),
      intervalBlock(hours(3), `${UP}/MeterReading/02/IntervalBlock`),
    );
    const { records, summary } = read(text);
    expect([records.length, summary.notIngested]).toEqual([
      2,
      [{ meterId: UP, readingType: power, reason: 'uom 38 (W) is not Wh (72)', intervals: 3 }],
    ]);
  });

  it('when accumulationBehaviour is 3 (cumulative), then the readings are rejected as not interval consumption', () => {
    const text = feed(
      usagePoint(),
      meterReading(),
      readingType({ accumulationBehaviour: '3' }),
      intervalBlock(hours(1)),
    );
    expect(rejectionOf(text).message).toContain(
      `meter ${UP}: accumulationBehaviour 3 (cumulative) is not deltaData (4), consumption per interval`,
    );
  });
});

describe('ESPI reader, links between entries', () => {
  it('when the MeterReading names a ReadingType no entry has and the feed has one, then it is used and noted', () => {
    const text = feed(
      usagePoint(),
      meterReading('ReadingType/REDACTED'),
      readingType(),
      intervalBlock(hours(1)),
    );
    const { records, summary } = read(text);
    expect([field(records[0], 'reading_type'), summary.notes]).toEqual([
      RT,
      expect.arrayContaining([
        `MeterReading ${UP}/MeterReading/01 links ReadingType 'ReadingType/REDACTED', which no entry of the feed is; the feed's only ReadingType ${RT} was used`,
      ]),
    ]);
  });

  it('when a feed repeats its describing entries, then they count once against the limit, and distinct ones beyond it refuse the feed', () => {
    const described = (self: string): EspiEntry => ({
      line: 1,
      id: self,
      links: { self, up: '', related: [] },
      resource: 'UsagePoint',
      fields: new Map(),
    });
    const links = new EspiLinks(3);
    for (let day = 0; day < 10; day++)
      for (const self of ['UsagePoint/1', 'UsagePoint/2', 'UsagePoint/3'])
        links.register(described(self), 'UsagePoint');
    let refusal: unknown;
    try {
      links.register(described('UsagePoint/4'), 'UsagePoint');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(FileRejection);
    expect((refusal as FileRejection).code).toBe('TOO_MANY_SERIES');
  });

  it('when an IntervalBlock comes before its MeterReading, then its readings are rejected together', () => {
    const text = feed(usagePoint(), intervalBlock(hours(3)), meterReading(), readingType());
    expect(read(text).records).toEqual([
      {
        line: 17,
        fields: {},
        rows: 3,
        errors: [
          {
            code: 'MALFORMED_ROW',
            message: `the IntervalBlock at line 17: its up link '${UP}/MeterReading/01/IntervalBlock' names no MeterReading entry read before it`,
          },
        ],
      },
    ]);
  });

  it('when two Wh ReadingTypes of one UsagePoint are both import, then a note says they share the channel', () => {
    const quarter = 'ReadingType/15';
    const text = feed(
      usagePoint(),
      meterReading(),
      readingType(),
      meterReading(quarter, `${UP}/MeterReading/02`),
      readingType({ intervalLength: '900' }, quarter),
      intervalBlock(hours(1)),
      intervalBlock([{ start: JAN_1, duration: 900 }], `${UP}/MeterReading/02/IntervalBlock`),
    );
    expect(read(text).summary.notes).toContain(
      `meter ${UP} import: readings of 2 ReadingTypes (${RT}, ${quarter}) share the channel; where their starts meet, the duplicate check keeps one`,
    );
  });

  it('when the root element is not an Atom feed, then the file is DOCUMENT_UNRECOGNISED', () => {
    expect(rejectionOf('<entry><id>x</id></entry>').message).toContain('the root element is <entry>');
  });

  it('when a feed has entries of other resources, then a note counts them by kind', () => {
    const summary = entry({ self: 'S/1' }, '<ElectricPowerUsageSummary xmlns="http://naesb.org/espi"/>');
    const text = feed(usagePoint(), meterReading(), readingType(), intervalBlock(hours(1)), summary);
    expect(read(text).summary.notes).toContain('entries read and ignored: ElectricPowerUsageSummary (1)');
  });
});

describe('ESPI reader, intervals and daylight saving', () => {
  it('when a reading lasts longer than the intervalLength, then it is INVALID_INTERVAL and noted', () => {
    const readings = [...hours(1), { start: JAN_1 + 3600, duration: 7200 }, ...hours(1, JAN_1 + 3 * 3600)];
    const { records } = read(simple(readings));
    expect(errorsOf(records)).toEqual([
      [
        'INVALID_INTERVAL',
        "the reading at 2011-01-01T09:00Z lasts 120 minutes; its ReadingType's interval is 60 minutes",
      ],
    ]);
  });

  it('when an hour is read twice and another is missing, then both are named in the notes with their local day', () => {
    const readings = [
      ...hours(3),
      ...hours(1, JAN_1 + 2 * 3600, { value: '999' }),
      ...hours(1, JAN_1 + 5 * 3600),
    ];
    const { records, summary } = read(simple(readings));
    expect([records.length, summary.notes]).toEqual([
      5,
      expect.arrayContaining([
        `meter ${UP} import: 0 reading(s) of irregular length rejected, 1 gap(s) (120 minutes without data), 1 reading(s) starting before the previous one ends`,
        `2011-01-01: meter ${UP} import: 2011-01-01T10:00Z is read twice; no reading from 2011-01-01T11:00Z to 2011-01-01T13:00Z`,
      ]),
    ]);
  });

  it('when defects fall on the day daylight saving starts per LocalTimeParameters, then the notes say so', () => {
    const readings = [...hours(2, MARCH_13), ...hours(20, MARCH_13 + 3 * 3600)];
    const text = feed(usagePoint(), localTime(), meterReading(), readingType(), intervalBlock(readings));
    expect(read(text).summary.notes).toEqual(
      expect.arrayContaining([
        `2011-03-13 (daylight saving starts, per LocalTimeParameters): meter ${UP} import: no reading from 2011-03-13T10:00Z to 2011-03-13T11:00Z`,
        'all 1 interval defect(s) listed fall on days daylight saving starts or ends (2011-03-13): likely daylight-saving defects of the sender',
      ]),
    );
  });

  it('when the feed has no LocalTimeParameters, then the contract zone names the local day and its change', () => {
    const readings = [...hours(2, MARCH_13), ...hours(1, MARCH_13 + 3 * 3600)];
    expect(read(simple(readings), { timezone: 'America/New_York' }).summary.notes).toContain(
      `2011-03-13 (daylight saving starts, per the contract's zone America/New_York): meter ${UP} import: no reading from 2011-03-13T10:00Z to 2011-03-13T11:00Z`,
    );
  });

  it.each([
    ['360E2000', 2011, '2011-03-13T02:00'],
    ['B40E2000', 2011, '2011-11-06T02:00'],
    ['360E2000', 2020, '2020-03-08T02:00'],
    ['B40E2000', 2020, '2020-11-01T02:00'],
  ])('when DST rule %s is read for %d, then it is the local time %s', (rule, year, local) => {
    expect(new Date(dstRuleTime(parseInt(rule, 16), year)!).toISOString().slice(0, 16)).toBe(local);
  });
});

describe('ESPI reader, mutated feeds', () => {
  const base = feed(
    usagePoint(),
    localTime(),
    meterReading(),
    readingType({ defaultQuality: '17' }),
    intervalBlock([...hours(3, JAN_1, { quality: ['0'] }), ...hours(2, JAN_1 + 3 * 3600, { value: '12' })]),
  );
  const piece = fc.string({
    maxLength: 8,
    unit: fc.constantFrom('<', '>', '/', '&', ';', '"', '=', '!', '-', '0', '9', 'a', 'Z', ' ', '\n'),
  });
  const mutation = fc.record({
    kind: fc.constantFrom('cut', 'insert', 'drop line', 'duplicate line', 'swap lines'),
    at: fc.nat(),
    other: fc.nat(),
    text: piece,
  });
  type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

  function mutate(text: string, m: Mutation): string {
    if (m.kind === 'cut') return text.slice(0, m.at % (text.length + 1));
    if (m.kind === 'insert') {
      const i = m.at % (text.length + 1);
      return text.slice(0, i) + m.text + text.slice(i);
    }
    const lines = text.split('\n');
    const i = m.at % lines.length;
    if (m.kind === 'drop line') lines.splice(i, 1);
    if (m.kind === 'duplicate line') lines.splice(i, 0, lines[i]!);
    if (m.kind === 'swap lines') {
      const j = m.other % lines.length;
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    }
    return lines.join('\n');
  }

  it('when a valid feed is mutated, then the reader gives records within the file or throws only FileRejection', () => {
    fc.assert(
      fc.property(
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 64 }),
        (ms, chunk) => {
          const mutated = ms.reduce(mutate, base);
          try {
            const { records } = read(mutated, { chunk });
            const lines = mutated.split('\n').length;
            return records.every((record) => record.line >= 1 && record.line <= lines);
          } catch (error) {
            return error instanceof FileRejection;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
