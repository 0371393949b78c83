import { readFileSync } from 'node:fs';
import path from 'node:path';

import { loadSourceContracts, type SourceContractRegistry } from '../../../lib/contracts/sources';
import { RECORD_COLUMNS, recordContractIssues } from '../../helpers/contracts';
import { totals, totalsOfRows } from '../../helpers/recordFormats';
import { validate } from '../../helpers/validation';

/** The Green Button files in ../shared/real-data/greenbutton_espi/ (see SOURCE.txt), read in place. */
const REAL = path.join(__dirname, '../../../../shared/real-data/greenbutton_espi');
const COASTAL = 'Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml';
const GAS = 'pge_gas_daily_redacted_from_eemeter_test.xml';
const read = (name: string): Buffer => readFileSync(path.join(REAL, name));
const HOUR = 3_600_000;

/** A reading as a plain regex over the file sees it, independently of lib/formats/xmlStream.ts and espi.ts. */
interface Reading {
  line: number;
  startMs: number;
  seconds: number;
  value: number;
  quality: string | null;
}

const tag = (name: string, text: string): string | undefined =>
  new RegExp(`<(?:\\w+:)?${name}>\\s*([^<]*?)\\s*</(?:\\w+:)?${name}>`).exec(text)?.[1];

function readingsOf(text: string): Reading[] {
  const readings: Reading[] = [];
  const pattern = /<(?:\w+:)?IntervalReading>([\s\S]*?)<\/(?:\w+:)?IntervalReading>/g;
  let line = 1;
  let counted = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const body = match[1]!;
    for (let i = text.indexOf('\n', counted); i !== -1 && i < match.index; i = text.indexOf('\n', i + 1))
      line++;
    counted = match.index;
    readings.push({
      line,
      startMs: Number(tag('start', body)) * 1000,
      seconds: Number(tag('duration', body)),
      value: Number(tag('value', body)),
      quality: tag('quality', body) ?? null,
    });
  }
  return readings;
}

/** Each file has one UsagePoint and one ReadingType: the meter is the UsagePoint entry's self href. */
function describeOf(text: string) {
  const entries = text.split(/<(?:\w+:)?entry[\s>]/);
  const usagePoint = entries.find((e) => /<(?:\w+:)?UsagePoint[\s>]/.test(e))!;
  const readingType = /<(?:\w+:)?ReadingType[\s>][\s\S]*?<\/(?:\w+:)?ReadingType>/.exec(text)![0];
  return {
    meter: /<(?:\w+:)?link (?:rel="self" href="([^"]+)"|href="([^"]+)" rel="self")/
      .exec(usagePoint)!
      .slice(1)
      .find((href) => href !== undefined)!,
    intervalSeconds: Number(tag('intervalLength', readingType)),
    multiplier: Number(tag('powerOfTenMultiplier', readingType)),
    serviceKind: tag('kind', usagePoint),
    uom: tag('uom', readingType),
  };
}

interface Expected {
  staged: Reading[];
  irregular: Reading[];
  conflicts: number;
  /** Per local date, what the notes should say of it, in file order. */
  findings: Map<string, string[]>;
}

const PACIFIC = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Los_Angeles' });
const localDate = (ms: number): string => PACIFIC.format(ms);
const shown = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16)}Z`;

/**
 * What the engine should stage and the notes say: readings of the ReadingType's length, a later reading of
 * a start dropped when it repeats the value and rejected when it differs; gaps and repeats between the
 * readings of regular length, each on its local day in US Pacific time (the file's LocalTimeParameters).
 */
function expectedOf(readings: Reading[], intervalSeconds: number): Expected {
  const expected: Expected = { staged: [], irregular: [], conflicts: 0, findings: new Map() };
  const find = (ms: number, text: string): void => {
    const date = localDate(ms);
    expected.findings.set(date, [...(expected.findings.get(date) ?? []), text]);
  };
  const seen = new Map<number, number>();
  let previous: Reading | undefined;
  for (const reading of readings) {
    if (reading.seconds !== intervalSeconds) {
      expected.irregular.push(reading);
      const minutes = reading.seconds / 60;
      find(
        reading.startMs,
        `${shown(reading.startMs)} lasts ${minutes} minutes, not ${intervalSeconds / 60} (rejected)`,
      );
      continue;
    }
    if (previous !== undefined) {
      const end = previous.startMs + previous.seconds * 1000;
      if (reading.startMs > end) find(end, `no reading from ${shown(end)} to ${shown(reading.startMs)}`);
      if (reading.startMs === previous.startMs)
        find(reading.startMs, `${shown(reading.startMs)} is read twice`);
    }
    previous = reading;
    const earlier = seen.get(reading.startMs);
    if (earlier === undefined) {
      seen.set(reading.startMs, reading.value);
      expected.staged.push(reading);
    } else if (earlier !== reading.value) expected.conflicts++;
  }
  return expected;
}

/** Local dates of 2011 in US Pacific time that do not have 24 hours. */
function changeDays(): Map<string, 'starts' | 'ends'> {
  const hours = new Map<string, number>();
  for (let ms = Date.UTC(2011, 0, 1, 8); ms < Date.UTC(2012, 0, 1, 8); ms += HOUR)
    hours.set(localDate(ms), (hours.get(localDate(ms)) ?? 0) + 1);
  return new Map(
    [...hours]
      .filter(([, n]) => n !== 24)
      .map(([date, n]): [string, 'starts' | 'ends'] => [date, n < 24 ? 'starts' : 'ends']),
  );
}

let registry: SourceContractRegistry;
beforeAll(async () => {
  registry = await loadSourceContracts(path.join(__dirname, '../../../contracts/sources'));
});
const run = (name: string) =>
  validate(registry.resolve('meter_readings', 'greenbutton'), read(name), { chunkSize: 4096 });

describe('the Green Button sample (Coastal, a year of hourly Wh) through the validation engine', () => {
  const text = read(COASTAL).toString('utf8');
  const readings = readingsOf(text);
  const { meter, intervalSeconds, multiplier } = describeOf(text);
  const expected = expectedOf(readings, intervalSeconds);

  it('when it is validated, then readings, kWh and quality per meter and channel are those of a plain reading', async () => {
    const { rows } = await run(COASTAL);
    // No ReadingQuality and no defaultQuality in the file: every reading is actual; flowDirection 1: import.
    const fromFile = totals(
      expected.staged.map((r) => ({
        meter,
        channel: 'import',
        kwh: (r.value * 10 ** multiplier) / 1000,
        quality: 'actual',
      })),
    );

    expect(totalsOfRows(rows)).toEqual(fromFile);
    expect(fromFile).toEqual({
      [`${meter} import`]: { readings: 8757, kwh: '6561.333', quality: { actual: 8757 } },
    });
  });

  it('when it is validated, then its irregular readings and conflicting repeat are the rejected rows', async () => {
    const { report, rejected } = await run(COASTAL);

    expect([report.verdict, report.counts.rowsRead, report.counts.rowsRejected, readings.length]).toEqual([
      'accepted_with_rejections',
      readings.length,
      expected.irregular.length + expected.conflicts,
      8760,
    ]);
    expect(rejected.map((row) => [row.line, row.reasons[0]?.code])).toEqual(
      expect.arrayContaining([
        ...expected.irregular.map((r) => [r.line, 'INVALID_INTERVAL']),
        [expect.any(Number), 'DUPLICATE_CONFLICT'],
      ]),
    );
  });

  it('when it is validated, then the notes name each defect on the days daylight saving starts and ends', async () => {
    const { report } = await run(COASTAL);
    const changes = changeDays();
    const notes = [...expected.findings].map(([date, items]) => {
      const change = changes.get(date);
      const label = change === undefined ? '' : ` (daylight saving ${change}, per LocalTimeParameters)`;
      return `${date}${label}: meter ${meter} import: ${items.join('; ')}`;
    });
    const count = [...expected.findings.values()].flat().length;

    expect([...expected.findings.keys()]).toEqual([...changes.keys()]);
    expect(report.notes).toEqual(
      expect.arrayContaining([
        ...notes,
        `all ${count} interval defect(s) listed fall on days daylight saving starts or ends (${[...changes.keys()].join(', ')}): likely daylight-saving defects of the sender`,
      ]),
    );
  });

  it('when it is validated, then its first row starts at the first reading and names its line', async () => {
    const { rows } = await run(COASTAL);

    expect([rows[0]?.interval_start, rows[0]?.source_line]).toEqual([
      new Date(readings[0]!.startMs).toISOString(),
      readings[0]!.line,
    ]);
  });
});

describe('the PG&E gas file (daily therms) through the validation engine', () => {
  it('when it is validated, then it is rejected as NO_INGESTIBLE_READINGS naming gas and therms', async () => {
    const text = read(GAS).toString('utf8');
    const { meter, serviceKind, uom } = describeOf(text);
    const { report, rows } = await run(GAS);

    expect([serviceKind, uom, rows.length, report.verdict, report.reasons]).toEqual([
      '1',
      '169',
      0,
      'rejected',
      [
        {
          code: 'NO_INGESTIBLE_READINGS',
          message: expect.stringContaining(
            `${readingsOf(text).length} reading(s) of 1 ReadingType(s), none electricity energy: meter ${meter}: UsagePoint ServiceCategory kind 1 (gas) is not electricity (0); uom 169 (therm) is not Wh (72)`,
          ) as string,
        },
      ],
    ]);
  });
});

describe('greenbutton source contracts', () => {
  const issuesOf = (overrides: Record<string, unknown>): string[] =>
    recordContractIssues('espi_xml', overrides);

  it('when an espi_xml contract maps a field ESPI records lack, then the field is named', () => {
    expect(
      issuesOf({ layout: { kind: 'long', columns: { ...RECORD_COLUMNS, meter_id: 'usage_point' } } }),
    ).toEqual([
      expect.stringMatching(/^layout\.columns\.meter_id: espi_xml records have no field 'usage_point'/),
    ]);
  });

  it('when espi_xml is used for prices, then format.type names the meter_readings dataset', () => {
    expect(issuesOf({ dataset: 'prices', unit: 'EUR/MWh' })).toContain(
      'format.type: espi_xml is for the meter_readings dataset',
    );
  });
});
