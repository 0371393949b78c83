import { readFileSync } from 'node:fs';
import path from 'node:path';

import { loadSourceContracts, type SourceContractRegistry } from '../../../lib/contracts/sources';
import { RECORD_COLUMNS, recordContractIssues } from '../../helpers/contracts';
import { totals, totalsOfRows } from '../../helpers/recordFormats';
import { validate } from '../../helpers/validation';
import { interchange, lin, loc, message, quarterHours } from '../formats/msconsInterchanges';

/** The real MSCONS samples (vdmitriyev/msconsconverter, MIT; see SOURCE.txt), read in place, never copied. */
const REAL = path.join(__dirname, '../../../../shared/real-data/mscons_de');
const SAMPLE01 = 'MSCONS_TL_SAMPLE01.txt';
const MULTIPLE_LOC = 'MSCONS_TL_Multiple_LOC_SAMPLE.txt';
const read = (name: string): Buffer => readFileSync(path.join(REAL, name));

/** A reading as a plain regex over the file sees it, independently of lib/formats/edifact.ts and mscons.ts. */
interface Reading {
  segment: number;
  meter: string;
  channel: 'import' | 'export';
  qualifier: string;
  kwh: number;
  startMs: number;
  minutes: number;
}

const QUALITY: Record<string, string> = { '220': 'actual', '67': 'substituted', '201': 'estimated' };

function readingsOf(text: string): Reading[] {
  const decimal = text.startsWith('UNA') ? text.charAt(5) : '.';
  // Neither file releases a release character right before a terminator, so ' not after ? ends a segment.
  const segments = text.trim().split(/(?<!\?)'/);
  const utc = (dtm: string | undefined, qualifier: string): number => {
    const m = new RegExp(
      `^DTM\\+${qualifier}:(\\d{4})(\\d\\d)(\\d\\d)(\\d\\d)(\\d\\d)\\?([+-]\\d\\d):303$`,
    ).exec(dtm ?? '');
    if (!m) throw new Error(`no DTM+${qualifier} in '${dtm}'`);
    const [y, mo, d, h, mi, offset] = m.slice(1).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    return Date.UTC(y, mo - 1, d, h, mi) - offset * 3_600_000;
  };
  let meter = '';
  let channel: Reading['channel'] = 'import';
  const readings: Reading[] = [];
  segments.forEach((segment, index) => {
    const location = /^LOC\+172\+(\w+)$/.exec(segment);
    if (location) meter = location[1]!;
    if (segment.startsWith('PIA+5+')) channel = /^PIA\+5\+\d+-\d+\?:2\./.test(segment) ? 'export' : 'import';
    const quantity = /^QTY\+(\d+):([^:]+)(?::KWH)?$/.exec(segment);
    if (!quantity) return;
    const startMs = utc(segments[index + 1], '163');
    const minutes = (utc(segments[index + 2], '164') - startMs) / 60_000;
    const kwh = Number(quantity[2]!.replace(decimal, '.'));
    readings.push({ segment: index + 1, meter, channel, qualifier: quantity[1]!, kwh, startMs, minutes });
  });
  return readings;
}

interface Expected {
  staged: Reading[];
  irregular: number;
  conflicts: number;
}

/**
 * What the engine should stage: per meter, intervals of the first interval's length; a later reading of
 * the same start is dropped when it repeats the value and rejected (DUPLICATE_CONFLICT) when it differs.
 */
function expectedOf(readings: Reading[]): Expected {
  const regular = new Map<string, number>();
  const seen = new Map<string, number>();
  const expected: Expected = { staged: [], irregular: 0, conflicts: 0 };
  for (const reading of readings) {
    if (!regular.has(reading.meter)) regular.set(reading.meter, reading.minutes);
    if (reading.minutes !== regular.get(reading.meter)) {
      expected.irregular++;
      continue;
    }
    const key = `${reading.meter} ${reading.channel} ${reading.startMs}`;
    const earlier = seen.get(key);
    if (earlier === undefined) {
      seen.set(key, reading.kwh);
      expected.staged.push(reading);
    } else if (earlier !== reading.kwh) expected.conflicts++;
  }
  return expected;
}

const fromReadings = (readings: Reading[]) =>
  totals(readings.map((r) => ({ ...r, quality: QUALITY[r.qualifier] ?? r.qualifier })));

let registry: SourceContractRegistry;
beforeAll(async () => {
  registry = await loadSourceContracts(path.join(__dirname, '../../../contracts/sources'));
});

const run = (name: string) =>
  validate(registry.resolve('meter_readings', 'mscons'), read(name), { chunkSize: 4096 });
const rejectedWith = (rejected: Awaited<ReturnType<typeof run>>['rejected'], pattern: RegExp): number =>
  rejected.filter((row) => row.reasons.some((reason) => pattern.test(reason.message))).length;
const IRREGULAR = /minutes; the series is|ends before it starts/;

describe('real MSCONS files through the validation engine', () => {
  it.each([SAMPLE01, MULTIPLE_LOC])(
    'when %s is validated, then readings, kWh and quality per meter and channel are those of a plain reading',
    async (name) => {
      const expected = expectedOf(readingsOf(read(name).toString('utf8')));
      const { rows } = await run(name);

      expect(totalsOfRows(rows)).toEqual(fromReadings(expected.staged));
    },
  );

  it.each([
    [SAMPLE01, 'accepted_with_rejections'],
    [MULTIPLE_LOC, 'accepted'],
  ])(
    'when %s is validated, then its irregular intervals and conflicting repeats are the rejected rows',
    async (name, verdict) => {
      const readings = readingsOf(read(name).toString('utf8'));
      const expected = expectedOf(readings);
      const { report, rejected } = await run(name);

      expect([report.verdict, report.counts.rowsRead, report.counts.rowsRejected]).toEqual([
        verdict,
        readings.length,
        expected.irregular + expected.conflicts,
      ]);
      expect([
        rejectedWith(rejected, IRREGULAR),
        rejectedWith(rejected, /repeats an earlier row with different values/),
      ]).toEqual([expected.irregular, expected.conflicts]);
    },
  );

  it('when SAMPLE01 is validated, then an irregular reading carries one reason and ruleFailures counts rejected readings', async () => {
    const expected = expectedOf(readingsOf(read(SAMPLE01).toString('utf8')));
    const { report, rejected } = await run(SAMPLE01);

    expect([rejected.filter((row) => row.reasons.length !== 1).length, report.ruleFailures]).toEqual([
      0,
      { INVALID_INTERVAL: expected.irregular, DUPLICATE_CONFLICT: expected.conflicts },
    ]);
  });

  it('when SAMPLE01 is validated, then the notes count its irregular intervals and say values had no unit', async () => {
    const readings = readingsOf(read(SAMPLE01).toString('utf8'));
    const { report } = await run(SAMPLE01);

    expect(report.notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^${expectedOf(readings).irregular} irregular interval\\(s\\) rejected`),
        ),
        `${readings.length} QTY value(s) carry no unit and were read as kWh`,
      ]),
    );
  });

  it('when the March file is validated, then a note names the 23-hour day with the quarter-hours each meter has of it', async () => {
    const readings = readingsOf(read(MULTIPLE_LOC).toString('utf8'));
    const { report } = await run(MULTIPLE_LOC);

    // 2022-03-27 in Europe/Berlin runs from 2022-03-26T23:00Z to 2022-03-27T22:00Z.
    const onDay = (meter: string) =>
      readings.filter(
        (r) =>
          r.meter === meter &&
          r.startMs >= Date.UTC(2022, 2, 26, 23) &&
          r.startMs < Date.UTC(2022, 2, 27, 22),
      ).length;
    const meters = [...new Set(readings.map((r) => r.meter))];
    expect(report.notes).toEqual(
      expect.arrayContaining(
        meters.map(
          (meter) =>
            `2022-03-27 is a 23-hour day in Europe/Berlin (92 quarter-hours): meter ${meter} import has ${onDay(meter)} quarter-hours of it`,
        ),
      ),
    );
  });

  it('when the March file is validated, then its first row starts at the first DTM+163 and names the QTY segment', async () => {
    const [first] = readingsOf(read(MULTIPLE_LOC).toString('utf8'));
    const { rows } = await run(MULTIPLE_LOC);

    expect([rows[0]?.interval_start, rows[0]?.source_line]).toEqual([
      new Date(first!.startMs).toISOString(),
      first!.segment,
    ]);
  });
});

describe('the shipped mscons contract', () => {
  it('when an interchange in UNOC (ISO 8859-1) names a meter with an umlaut, then the meter id keeps it', async () => {
    const text = interchange([message('1', loc('MÜNSTER0001'), lin(), quarterHours(4))]);

    const { report, rows } = await validate(
      registry.resolve('meter_readings', 'mscons'),
      Buffer.from(text, 'latin1'),
    );

    expect([report.verdict, [...new Set(rows.map((r) => r.meter_id))]]).toEqual([
      'accepted',
      ['MÜNSTER0001'],
    ]);
  });
});

describe('mscons source contracts', () => {
  const issuesOf = (overrides: Record<string, unknown>): string[] =>
    recordContractIssues('mscons', overrides);

  it('when an mscons contract maps a field MSCONS records lack, then the field and the field list are named', () => {
    expect(issuesOf({ layout: { kind: 'long', columns: { ...RECORD_COLUMNS, meter_id: 'malo' } } })).toEqual([
      expect.stringMatching(
        /^layout\.columns\.meter_id: mscons records have no field 'malo' \(fields: meter_id,/,
      ),
    ]);
  });

  it('when mscons is used for prices, then format.type names the meter_readings dataset', () => {
    expect(issuesOf({ dataset: 'prices', unit: 'EUR/MWh' })).toContain(
      'format.type: mscons is for the meter_readings dataset',
    );
  });
});
