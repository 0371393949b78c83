import { readFileSync } from 'node:fs';
import path from 'node:path';

import { loadSourceContracts, type SourceContractRegistry } from '../../../lib/contracts/sources';
import { RECORD_COLUMNS, recordContractIssues } from '../../helpers/contracts';
import { validate } from '../../helpers/validation';

/** AEMO's NEM12/NEM13 examples (aguinane/nem-reader, MIT; see SOURCE.txt), read in place, never copied. */
const REAL = path.join(__dirname, '../../../../shared/real-data/nem12_australia');
const read = (name: string): Buffer => readFileSync(path.join(REAL, name));

/** Per NMI suffix: the values of its 300 records, split here independently of the reader. */
function valuesBySuffix(text: string): Map<string, string[]> {
  const bySuffix = new Map<string, string[]>();
  let suffix = '';
  for (const line of text.split(/\r?\n/)) {
    const cells = line.split(',');
    if (cells[0] === '200') suffix = cells[4] ?? '';
    if (cells[0] === '300') bySuffix.set(suffix, [...(bySuffix.get(suffix) ?? []), ...cells.slice(2, -5)]);
  }
  return bySuffix;
}

let registry: SourceContractRegistry;
beforeAll(async () => {
  registry = await loadSourceContracts(path.join(__dirname, '../../../contracts/sources'));
});

async function run(file: string) {
  return validate(registry.resolve('meter_readings', 'nem12'), read(file), { chunkSize: 4096 });
}

describe('real NEM12 files through the validation engine', () => {
  it('when the solar month is validated, then every interval of both channels is staged with the kWh the file says', async () => {
    const values = valuesBySuffix(read('Example_NEM12_month_solar.csv').toString('utf8'));
    const { report, rows } = await run('Example_NEM12_month_solar.csv');

    const kwhOf = (channel: string) =>
      rows.filter((r) => r.channel === channel).reduce((total, r) => total + Number(r.kwh), 0);
    const expectedKwh = (suffix: string) =>
      (values.get(suffix) ?? []).reduce((total, v) => total + Number(v), 0);
    expect([report.verdict, report.counts.rowsValid]).toEqual([
      'accepted',
      (values.get('B1')?.length ?? 0) + (values.get('E1')?.length ?? 0),
    ]);
    expect(kwhOf('export')).toBeCloseTo(expectedKwh('B1'), 6);
    expect(kwhOf('import')).toBeCloseTo(expectedKwh('E1'), 6);
  });

  it('when the solar month is validated, then its first interval starts at midnight AEST, 14:00 UTC the day before', async () => {
    const firstDate = /^300,(\d{4})(\d{2})(\d{2}),/m.exec(
      read('Example_NEM12_month_solar.csv').toString('utf8'),
    )!;
    const { report } = await run('Example_NEM12_month_solar.csv');

    const midnight = Date.UTC(Number(firstDate[1]), Number(firstDate[2]) - 1, Number(firstDate[3]));
    expect(report.firstInterval).toBe(new Date(midnight - 10 * 3_600_000).toISOString());
  });

  it('when a day of variable quality is validated, then each interval keeps the quality its 400 record gives', async () => {
    const { report, rows } = await run('Example_NEM12_multiple_quality.csv');

    expect(report.verdict).toBe('accepted');
    expect(rows.map((r) => r.quality)).toEqual([
      ...new Array<string>(20).fill('substituted'),
      ...new Array<string>(4).fill('actual'),
      ...new Array<string>(24).fill('substituted'),
    ]);
  });

  it('when a day of variable quality is staged, then each interval keeps the flag and reason of its 400 record', async () => {
    const text = read('Example_NEM12_multiple_quality.csv').toString('utf8');
    // Each 400 record: first and last interval, flag with method, reason code.
    const expected: Array<[string, string | null]> = [];
    for (const [, first, last, flag, reason] of text.matchAll(/^400,(\d+),(\d+),(\w+),(\d*),/gm)) {
      for (let k = Number(first); k <= Number(last); k++) expected.push([flag!, reason || null]);
    }
    const { rows } = await run('Example_NEM12_multiple_quality.csv');

    expect(rows.map((r) => [r.source_quality, r.source_quality_reason])).toEqual(expected);
  });

  it('when a file has a reactive channel, then its energy channel is staged and the report notes the other', async () => {
    const { report, rows } = await run('Example_NEM12_substituted_interval.csv');

    expect([report.verdict, rows.length, new Set(rows.map((r) => r.channel))]).toEqual([
      'accepted',
      48,
      new Set(['import']),
    ]);
    expect(report.notes.join('\n')).toMatch(
      /Q1 \(kVArh\): 48 intervals on 1 day\(s\) reported, not ingested/,
    );
  });

  it('when a NEM13 file of register reads arrives, then it is rejected as not interval data', async () => {
    const { report } = await run('Example_NEM13_consumption_data.csv');

    expect(report.verdict).toBe('rejected');
    expect(report.reasons).toEqual([
      { code: 'DOCUMENT_UNRECOGNISED', message: expect.stringContaining('NEM13') as string },
    ]);
  });
});

describe('nem12 source contracts', () => {
  const contract = (overrides: Record<string, unknown>): string[] => recordContractIssues('nem12', overrides);

  it('when a nem12 contract maps a field NEM12 records lack, then the field and the field list are named', () => {
    const issues = contract({
      layout: { kind: 'long', columns: { ...RECORD_COLUMNS, meter_id: 'nmi' } },
    });

    expect(issues).toEqual([
      expect.stringMatching(
        /^layout\.columns\.meter_id: nem12 records have no field 'nmi' \(fields: meter_id,/,
      ),
    ]);
  });

  it('when nem12 is used for prices, then format.type names the meter_readings dataset', () => {
    expect(contract({ dataset: 'prices', unit: 'EUR/MWh' })).toContain(
      'format.type: nem12 is for the meter_readings dataset',
    );
  });
});
