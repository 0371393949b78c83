import { readFileSync } from 'node:fs';
import path from 'node:path';

import { loadSourceContracts, type SourceContractRegistry } from '../../../lib/contracts/sources';
import { validate } from '../../helpers/validation';

/** Real exports from UK councils and suppliers (Energy Sparks test fixtures, MIT); read in place, never copied. */
const REAL = path.join(__dirname, '../../../../shared/real-data/uk_amr_energy_sparks');
const read = (name: string): Buffer => readFileSync(path.join(REAL, name));
const dataLines = (text: string): string[] =>
  text
    .split(/\r\n|\r|\n/)
    .filter((line) => line.trim() !== '')
    .filter((line) => !line.startsWith('sep='));

let registry: SourceContractRegistry;
beforeAll(async () => {
  registry = await loadSourceContracts(path.join(__dirname, '../../../contracts/sources'));
});

async function run(file: string, source: string) {
  return validate(registry.resolve('meter_readings', source), read(file), { chunkSize: 4096 });
}

describe('real UK AMR files', () => {
  it('when the Highland Council export has gaps, then every reading present is accepted with its interval-end shift', async () => {
    const file = 'amr_highlands__example-missing-half-hours.csv';
    const expected = dataLines(read(file).toString('utf8')).length - 1;
    const { report, rows } = await run(file, 'highland');
    expect([report.verdict, report.counts.rowsValid]).toEqual(['accepted', expected]);
    // "26 Aug 2019 00:30:00" ends the first half hour: it starts at 00:00 BST = 23:00 UTC the day before.
    expect(rows[0]?.interval_start).toBe('2019-08-25T23:00:00.000Z');
    expect(report.notes).toContain("line 1: skipped the 'sep=,' line");
  });

  it('when the Highland file is re-encoded as UTF-16LE with a byte-order mark, then it gives the same rows', async () => {
    const text = read('amr_upload_data_files__example-highlands-file.csv').toString('utf8');
    const contract = registry.resolve('meter_readings', 'highland');
    const utf8 = await validate(contract, Buffer.from(text, 'utf8'), { chunkSize: 512 });
    const utf16 = await validate(
      contract,
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
      { chunkSize: 511 },
    );
    expect(utf16.report.file.encoding).toBe('utf-16le');
    expect(utf16.rows.map((r) => [r.interval_start, r.kwh])).toEqual(
      utf8.rows.map((r) => [r.interval_start, r.kwh]),
    );
    expect(utf8.rows).toHaveLength(48);
  });

  it('when a UTF-16 file lost its byte-order mark in a conversion, then it is rejected with that reason', async () => {
    const { report } = await run('amr_upload_data_files__with-nulls-and-empty-lines.csv', 'highland');
    expect(report.verdict).toBe('rejected');
    expect(report.reasons).toEqual([
      {
        code: 'ENCODING_UNSUPPORTED',
        message: expect.stringContaining('byte-order mark was replaced by two U+FFFD') as string,
      },
    ]);
  });

  it("when a supplier portal's HTML login page is saved as .csv, then it is rejected as HTML_CONTENT", async () => {
    const { report } = await run('amr_upload_data_files__energy_assets_invalid.csv', 'sheffield');
    expect(report.reasons.map((r) => r.code)).toEqual(['HTML_CONTENT']);
  });

  it('when the BANES export labels interval ends [00:30]..[24:00], then every non-empty cell is a reading', async () => {
    const file = 'amr_upload_data_files__banes-example-file.csv';
    const rows = dataLines(read(file).toString('utf8')).slice(1);
    const cells = rows.flatMap((line) => line.slice(1, -1).split('","').slice(7, 55));
    const { report, rows: staged } = await run(file, 'banes');
    expect([report.verdict, report.counts.rowsValid]).toEqual([
      'accepted',
      cells.filter((c) => c !== '').length,
    ]);
    // [00:30] on 13 Nov 2019 (GMT) is the half hour starting at midnight UTC.
    expect(staged[0]?.interval_start).toBe('2019-11-13T00:00:00.000Z');
  });

  it('when the Sheffield export has kWh_1..kWh_48 periods, then two days give 96 readings', async () => {
    const { report } = await run('amr_upload_data_files__example-sheffield-file.csv', 'sheffield');
    expect([report.verdict, report.counts.rowsValid]).toEqual(['accepted', 96]);
  });

  it('when a headerless file mixes LF and CRLF line endings, then all rows are read and the mix is noted', async () => {
    const file = 'amr_upload_data_files__with-mixed-line-endings.csv';
    const lines = dataLines(read(file).toString('utf8'));
    const { report } = await run(file, 'es_headerless');
    expect([report.verdict, report.counts.rowsValid]).toEqual(['accepted', lines.length * 48]);
    expect(report.lineEndings.mixed).toBe(true);
  });

  it('when one meter-day appears twice with different values, then the conflicts reject the file', async () => {
    const file = 'amr_data__row-per-day__duplicate-rows.csv';
    const [first, second] = dataLines(read(file).toString('utf8'))
      .slice(1)
      .map((line) => line.split(',').slice(3));
    const same = first!.filter((value, i) => Number(value) === Number(second![i])).length;
    const { report } = await run(file, 'es_row_per_day');
    expect(report.verdict).toBe('rejected');
    expect(report.reasons.map((r) => r.code)).toEqual(['REJECTED_SHARE_EXCEEDED']);
    expect([report.counts.duplicatesDropped, report.ruleFailures.DUPLICATE_CONFLICT]).toEqual([
      same,
      48 - same,
    ]);
  });
});
