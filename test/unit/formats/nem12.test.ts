import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import fc from 'fast-check';

import { Nem12Reader, type Nem12Summary } from '../../../lib/formats/nem12';
import type { DocumentRecord } from '../../../lib/validation/documents/types';
import { FileRejection } from '../../../lib/validation/reasons';
import { rejectedBy } from '../../helpers/recordFormats';

/**
 * The real NEM12/NEM13 examples (aguinane/nem-reader, MIT; see SOURCE.txt), read in place, never copied.
 * Expectations come from splitting the files' lines here, independently of lib/formats/nem12.ts.
 */
const REAL = path.resolve(__dirname, '../../../../shared/real-data/nem12_australia');
const real = (name: string): string => readFileSync(path.join(REAL, name), 'utf8');
const SOLAR = 'Example_NEM12_month_solar.csv';
const MULTIPLE_QUALITY = 'Example_NEM12_multiple_quality.csv';
const SUBSTITUTED = 'Example_NEM12_substituted_interval.csv';
const NEM13 = 'Example_NEM13_consumption_data.csv';

function read(text: string): { records: DocumentRecord[]; summary: Nem12Summary } {
  const reader = new Nem12Reader();
  const records: DocumentRecord[] = [];
  text.split(/\r\n|\r|\n/).forEach((line, index) => records.push(...reader.push(line, index + 1)));
  records.push(...reader.end());
  return { records, summary: reader.summary };
}

const rejectionOf = (text: string): FileRejection => rejectedBy(read, text);

/** Per NMI suffix: the 300 records' values (everything between the date and the five trailing fields). */
function valuesBySuffix(text: string): Map<string, number[]> {
  const bySuffix = new Map<string, number[]>();
  let suffix = '';
  for (const line of text.split(/\r?\n/)) {
    const cells = line.split(',');
    if (cells[0] === '200') suffix = cells[4] ?? '';
    if (cells[0] === '300') {
      const values = cells.slice(2, cells.length - 5).map(Number);
      bySuffix.set(suffix, [...(bySuffix.get(suffix) ?? []), ...values]);
    }
  }
  return bySuffix;
}

const repeat = <T>(count: number, value: T): T[] => new Array<T>(count).fill(value);
const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);
const field = (record: DocumentRecord, name: string): unknown => record.fields[name];
const ofSuffix = (records: DocumentRecord[], suffix: string): DocumentRecord[] =>
  records.filter((record) => field(record, 'nmi_suffix') === suffix);

// Small inline files: one NMI, 30-minute intervals unless told otherwise.
const HEADER = '100,NEM12,202301020300,MDP1,RET1';
const channel = (suffix = 'E1', uom = 'kWh', minutes = '30'): string =>
  `200,NMI0000001,E1B1,1,${suffix},N1,SER1,${uom},${minutes},`;
const day = (values: string[], quality = 'A', reason = '', date = '20230101'): string =>
  `300,${date},${values.join(',')},${quality},${reason},,20230102030000,`;
const halfHours = (value = '1.5'): string[] => repeat(48, value);
const file = (...lines: string[]): string => [HEADER, ...lines, '900'].join('\n');
const variableDay = (...events: string[]): string => file(channel(), day(halfHours(), 'V'), ...events);
const codesOf = (records: DocumentRecord[]): string[] =>
  records.flatMap((record) => (record.errors ?? []).map((error) => error.code));

describe('NEM12 reader, real AEMO example files', () => {
  it('when the tests look for the real files, then they are in ../shared/real-data/nem12_australia', () => {
    expect(
      [SOLAR, MULTIPLE_QUALITY, SUBSTITUTED, NEM13].map((name) => existsSync(path.join(REAL, name))),
    ).toEqual([true, true, true, true]);
  });

  it.each([
    [SOLAR, 'records'],
    [MULTIPLE_QUALITY, 'records'],
    [SUBSTITUTED, 'records'],
    [NEM13, 'DOCUMENT_UNRECOGNISED'],
  ])('when %s is read, then it gives %s and throws nothing else', (name, outcome) => {
    let result: string;
    try {
      const { records } = read(real(name));
      result = records.length > 0 && codesOf(records).length === 0 ? 'records' : 'records with errors';
    } catch (error) {
      if (!(error instanceof FileRejection)) throw error;
      result = error.code;
    }
    expect(result).toBe(outcome);
  });

  it('when the NEM13 file is read, then the rejection says register reads are not interval data', () => {
    expect(rejectionOf(real(NEM13)).message).toMatch(
      /NEM13 holds accumulated register reads, not interval data/,
    );
  });

  it.each([
    ['B1', 'export'],
    ['E1', 'import'],
  ])(
    'when month_solar is read, then %s (%s) has the interval count and kWh total of an independent sum',
    (suffix, direction) => {
      const expected = valuesBySuffix(real(SOLAR)).get(suffix) ?? [];
      const records = ofSuffix(read(real(SOLAR)).records, suffix);
      const kwh = records.map((record) => Number(field(record, 'kwh')));
      expect(new Set(records.map((record) => field(record, 'channel')))).toEqual(new Set([direction]));
      expect(records).toHaveLength(expected.length);
      expect(sum(kwh)).toBeCloseTo(sum(expected), 9);
    },
  );

  it('when month_solar is read, then every channel-day has 288 five-minute intervals', () => {
    const perDay = new Map<string, number>();
    const { records } = read(real(SOLAR));
    for (const record of records) {
      const key = `${String(field(record, 'nmi_suffix'))} ${String(field(record, 'interval_start')).slice(0, 10)}`;
      perDay.set(key, (perDay.get(key) ?? 0) + 1);
    }
    const dayLines = real(SOLAR)
      .split(/\r?\n/)
      .filter((line) => line.startsWith('300,')).length;
    expect(perDay.size).toBe(dayLines);
    expect(new Set(perDay.values())).toEqual(new Set([288]));
    expect(new Set(records.map((record) => field(record, 'interval_minutes')))).toEqual(new Set([5]));
  });

  it('when month_solar is read, then the first day starts at midnight market time and ends at 23:55', () => {
    const firstDate = /^300,(\d{4})(\d{2})(\d{2}),/m.exec(real(SOLAR))!.slice(1).join('-');
    const firstDay = read(real(SOLAR)).records.slice(0, 288);
    expect([field(firstDay[0]!, 'interval_start'), field(firstDay[287]!, 'interval_start')]).toEqual([
      `${firstDate}T00:00:00+10:00`,
      `${firstDate}T23:55:00+10:00`,
    ]);
  });

  it('when month_solar is read, then the summary counts the same intervals and kWh per channel', () => {
    const expected = valuesBySuffix(real(SOLAR));
    const { summary } = read(real(SOLAR));
    const channels = summary.channels.map((c) => [
      c.channel,
      c.intervals,
      c.quality.actual,
      c.kwh.toFixed(3),
    ]);
    expect(channels).toEqual(
      [
        ['export', 'B1'],
        ['import', 'E1'],
      ].map(([direction, suffix]) => {
        const values = expected.get(suffix!) ?? [];
        return [direction, values.length, values.length, sum(values).toFixed(3)];
      }),
    );
    expect([summary.daysRead, summary.rejectedIntervals, summary.notes]).toEqual([62, 0, []]);
  });

  it('when the V day of multiple_quality is read, then 1-20 are F14/76, 21-24 actual, 25-48 S14/1', () => {
    const { records } = read(real(MULTIPLE_QUALITY));
    const qualities = records.map((r) => [r.fields.quality, r.fields.source_quality, r.fields.reason_code]);
    expect(qualities).toEqual([
      ...repeat(20, ['substituted', 'F14', '76']),
      ...repeat(4, ['actual', 'A', null]),
      ...repeat(24, ['substituted', 'S14', '1']),
    ]);
  });

  it('when the V day of multiple_quality is read, then its kWh are the 48 values in file order', () => {
    const { records } = read(real(MULTIPLE_QUALITY));
    expect(records.map((record) => field(record, 'kwh'))).toEqual(
      valuesBySuffix(real(MULTIPLE_QUALITY)).get('E1'),
    );
  });

  it('when substituted_interval is read, then its E1 day is 48 final substitutes F14, method 14, reason 32', () => {
    const { records } = read(real(SUBSTITUTED));
    const seen = records.map((r) => [
      r.fields.channel,
      r.fields.quality,
      r.fields.source_quality,
      r.fields.kwh,
    ]);
    const methods = new Set(records.map((r) => [r.fields.quality_method, r.fields.reason_code].join('/')));
    expect(seen).toEqual(repeat(48, ['import', 'substituted', 'F14', 2.312]));
    expect(methods).toEqual(new Set(['14/32']));
  });

  it('when substituted_interval is read, then its Q1 kVArh channel is reported, not ingested', () => {
    const { records, summary } = read(real(SUBSTITUTED));
    expect(ofSuffix(records, 'Q1')).toEqual([]);
    expect(summary.notIngested).toEqual([
      expect.objectContaining({
        meterId: 'VBCD000022',
        nmiSuffix: 'Q1',
        uom: 'kVArh',
        days: 1,
        intervals: 48,
      }),
    ]);
    expect(summary.notIngested[0]?.reason).toMatch(/'Q1' is not an E \(import\) or B \(export\)/);
  });
});

describe('NEM12 reader, malformed and edge inputs', () => {
  it('when a 300 record comes before any 200 record, then its day is rejected as MALFORMED_ROW', () => {
    const { records } = read(file(day(halfHours())));
    expect(records).toEqual([
      { line: 2, fields: {}, rows: 48, errors: [expect.objectContaining({ code: 'MALFORMED_ROW' })] },
    ]);
  });

  it('when a 30-minute day has 47 values, then the whole day is rejected as FIELD_COUNT_MISMATCH', () => {
    const { records } = read(file(channel(), day(halfHours().slice(1))));
    expect(records.map((record) => [record.line, record.rows, codesOf([record])])).toEqual([
      [3, 48, ['FIELD_COUNT_MISMATCH']],
    ]);
  });

  it("when a V day's 400 records leave interval 25 uncovered, then the whole day is rejected naming the gap", () => {
    const { records } = read(variableDay('400,1,24,A,,', '400,26,48,A,,'));
    expect(records).toHaveLength(1);
    expect(records[0]?.errors?.[0]?.message).toMatch(/no 400 record covers interval 25/);
  });

  it("when a V day's 400 records cover interval 20 twice, then the whole day is rejected naming the overlap", () => {
    const { records } = read(variableDay('400,1,20,F14,76,', '400,20,48,A,,'));
    expect(records.map((record) => record.rows)).toEqual([48]);
    expect(records[0]?.errors?.[0]?.message).toMatch(/covers interval 20 a second time/);
  });

  it('when one value is not a number, then that interval alone carries INVALID_NUMBER', () => {
    const values = halfHours();
    values[9] = '1.2.3';
    const { records } = read(file(channel(), day(values)));
    const flagged = records.filter((record) => record.errors !== undefined);
    expect([
      records.length,
      flagged.map((record) => [field(record, 'interval_start'), codesOf([record])]),
    ]).toEqual([48, [['2023-01-01T04:30:00+10:00', ['INVALID_NUMBER']]]]);
  });

  it('when an E1 day is empty-valued without quality N, then every interval carries INVALID_NUMBER', () => {
    const { records } = read(file(channel(), day(halfHours(''))));
    expect(new Set(codesOf(records))).toEqual(new Set(['INVALID_NUMBER']));
    expect(codesOf(records)).toHaveLength(48);
  });

  it('when a day has quality N, then its intervals are missing with kwh null', () => {
    const { records } = read(file(channel(), day(halfHours(''), 'N')));
    expect(
      new Set(records.map((record) => JSON.stringify([record.fields.quality, record.fields.kwh]))),
    ).toEqual(new Set(['["missing",null]']));
  });

  it.each([
    ['A', 'actual', null],
    ['E52', 'estimated', '52'],
    ['F14', 'substituted', '14'],
    ['S53', 'substituted', '53'],
  ])('when a day has quality %s, then its intervals are %s with method %s', (flag, quality, method) => {
    const { records } = read(file(channel(), day(halfHours(), flag, '1')));
    expect(new Set(records.map((r) => JSON.stringify([r.fields.quality, r.fields.quality_method])))).toEqual(
      new Set([JSON.stringify([quality, method])]),
    );
  });

  it.each([
    ['Wh', '2312', 2.312],
    ['KWH', '2.312', 2.312],
    ['MWh', '0.0023', 2.3],
  ])('when a channel is in %s, then %s becomes exactly %d kWh', (uom, value, kwh) => {
    const { records } = read(file(channel('E1', uom), day(halfHours(value))));
    expect(new Set(records.map((record) => field(record, 'kwh')))).toEqual(new Set([kwh]));
  });

  it('when a channel is reactive (Q1, kVArh), then it gives no records and is reported not ingested', () => {
    const { records, summary } = read(file(channel('Q1', 'kVArh'), day(halfHours())));
    expect(records).toEqual([]);
    expect(summary.notIngested.map((entry) => [entry.nmiSuffix, entry.days, entry.intervals])).toEqual([
      ['Q1', 1, 48],
    ]);
  });

  it('when an E1 channel is not in an energy unit, then it is reported not ingested with the unit as reason', () => {
    const { records, summary } = read(file(channel('E1', 'kW'), day(halfHours())));
    expect([records, summary.notIngested.map((entry) => entry.reason)]).toEqual([
      [],
      ["unit 'kW' is not an energy unit (Wh, kWh, MWh)"],
    ]);
  });

  it('when the 200 record gives a 20-minute interval, then its days are rejected as INVALID_INTERVAL', () => {
    const { records } = read(file(channel('E1', 'kWh', '20'), day(repeat(72, '1'))));
    expect(codesOf(records)).toEqual(['INVALID_INTERVAL']);
  });

  it('when a 400 record follows a day that is not V, then it is rejected as MALFORMED_ROW', () => {
    const { records } = read(file(channel(), day(halfHours()), '400,1,48,A,,'));
    expect(records.slice(48).map((record) => [record.line, codesOf([record])])).toEqual([
      [4, ['MALFORMED_ROW']],
    ]);
  });

  it("when a V day's 400 records arrive, then its records are released at the next record, not before", () => {
    const reader = new Nem12Reader();
    const lines = [HEADER, channel(), day(halfHours(), 'V'), '400,1,24,A,,', '400,25,48,E52,,', '900'];
    const releasedPerLine = lines.map((line, index) => reader.push(line, index + 1).length);
    expect(releasedPerLine).toEqual([0, 0, 0, 0, 0, 48]);
  });

  it('when E1 and E2 of one NMI are both read, then E2 is its own meter NMI/E2 and a note says so', () => {
    const { records, summary } = read(file(channel('E1'), day(halfHours()), channel('E2'), day(halfHours())));

    const meters = records.map((r) => `${String(r.fields.meter_id)} ${String(r.fields.channel)}`);
    expect([...new Set(meters)]).toEqual(['NMI0000001 import', 'NMI0000001/E2 import']);
    expect(summary.notes).toEqual(['import register E2 staged as its own meter NMI0000001/E2']);
  });

  it('when a 500 record is present, then it is ignored and noted', () => {
    const { records, summary } = read(file(channel(), day(halfHours()), '500,O,S01,20230102,'));
    expect([records.length, summary.notes]).toEqual([48, ['1 500 (B2B details) record(s) read and ignored']]);
  });

  it('when the file does not start with a 100 header, then it is rejected as HEADER_MISSING', () => {
    expect(rejectionOf([channel(), day(halfHours()), '900'].join('\n')).code).toBe('HEADER_MISSING');
  });

  it('when a record type is unknown, then the file is rejected as DOCUMENT_UNRECOGNISED', () => {
    expect(rejectionOf(file(channel(), '250,NMI0000001,11,1,11'))).toMatchObject({
      code: 'DOCUMENT_UNRECOGNISED',
    });
  });

  it('when the 900 end record is missing, then the records are read and a note says so', () => {
    const { records, summary } = read([HEADER, channel(), day(halfHours())].join('\n'));
    expect([records.length, summary.notes]).toEqual([48, ['no 900 end record: the file may be truncated']]);
  });
});

describe('NEM12 reader, mutated real files', () => {
  const solarHead = real(SOLAR).split(/\r?\n/).slice(0, 4).concat('900').join('\n');
  const base = fc.constantFrom(real(MULTIPLE_QUALITY), real(SUBSTITUTED), solarHead);
  interface Mutation {
    kind: 'replace cell' | 'drop line' | 'duplicate line' | 'swap lines' | 'cut line';
    line: number;
    other: number;
    cell: number;
    text: string;
  }
  const mutation: fc.Arbitrary<Mutation> = fc.record({
    line: fc.nat(),
    other: fc.nat(),
    cell: fc.nat(),
    text: fc.string({
      maxLength: 6,
      unit: fc.constantFrom('0', '1', '9', '.', '-', ',', 'V', 'A', 'x', ' ', ''),
    }),
    kind: fc.constantFrom('replace cell', 'drop line', 'duplicate line', 'swap lines', 'cut line' as const),
  });

  function mutate(text: string, m: Mutation): string {
    const lines = text.split(/\r?\n/);
    const at = m.line % lines.length;
    const cells = lines[at]!.split(',');
    if (m.kind === 'replace cell') cells[m.cell % cells.length] = m.text;
    if (m.kind === 'cut line') cells.length = 1 + (m.cell % cells.length);
    if (m.kind === 'replace cell' || m.kind === 'cut line') lines[at] = cells.join(',');
    if (m.kind === 'drop line') lines.splice(at, 1);
    if (m.kind === 'duplicate line') lines.splice(at, 0, lines[at]!);
    if (m.kind === 'swap lines') {
      const other = m.other % lines.length;
      [lines[at], lines[other]] = [lines[other]!, lines[at]!];
    }
    return lines.join('\n');
  }

  it('when lines of a real file are mutated, then the reader gives records or throws only FileRejection', () => {
    fc.assert(
      fc.property(base, fc.array(mutation, { minLength: 1, maxLength: 4 }), (text, mutations) => {
        const mutated = mutations.reduce(mutate, text);
        try {
          const { records } = read(mutated);
          const lineCount = mutated.split('\n').length;
          return records.every((record) => record.line >= 1 && record.line <= lineCount);
        } catch (error) {
          return error instanceof FileRejection;
        }
      }),
      { numRuns: 200 },
    );
  });
});
