import type { SourceContract } from '../../../lib/contracts/sources';
import { codesOf, priceContract, priceRows, runDocument } from './priceDocuments';

const LICENSE = 'CC BY 4.0 (creativecommons.org/licenses/by/4.0) from Bundesnetzagentur | SMARD.de';
/** 2025-09-30T22:00:00Z, local midnight of 2025-10-01 in Berlin. */
const MIDNIGHT = 1759269600;

function body(seconds: unknown[], prices: unknown[], unit = 'EUR / MWh'): string {
  return JSON.stringify({
    license_info: LICENSE,
    unix_seconds: seconds,
    price: prices,
    unit,
    deprecated: false,
  });
}

let contract: SourceContract;

beforeAll(async () => {
  contract = await priceContract('energy-charts');
});

describe('Energy-Charts JSON (prices/energy-charts)', () => {
  it('when the timestamps are 900 s apart, then the rows are quarter-hours of the zone named by the file', async () => {
    const json = body([MIDNIGHT, MIDNIGHT + 900, MIDNIGHT + 1800], [67.22, -0.01, 120]);
    const { rows, report } = await runDocument(contract, json, 'DE-LU_2025-10-01.json');
    expect(priceRows(rows)).toEqual([
      { zone: 'DE-LU', start: '2025-09-30T22:00:00.000Z', minutes: 15, price: 67.22 },
      { zone: 'DE-LU', start: '2025-09-30T22:15:00.000Z', minutes: 15, price: -0.01 },
      { zone: 'DE-LU', start: '2025-09-30T22:30:00.000Z', minutes: 15, price: 120 },
    ]);
    expect(rows.map((row) => [row.provider, row.published_at, row.source_line])).toEqual([
      ['energy-charts', null, 1],
      ['energy-charts', null, 2],
      ['energy-charts', null, 3],
    ]);
    expect(report.verdict).toBe('accepted');
  });

  it('when the timestamps are an hour apart, then the resolution is 60 minutes', async () => {
    const json = body([MIDNIGHT, MIDNIGHT + 3600], [50, 51]);
    const { rows } = await runDocument(contract, json, 'NL_2025-10-01.json');
    expect(priceRows(rows)).toEqual([
      { zone: 'NL', start: '2025-09-30T22:00:00.000Z', minutes: 60, price: 50 },
      { zone: 'NL', start: '2025-09-30T23:00:00.000Z', minutes: 60, price: 51 },
    ]);
  });

  it('when one interval is missing, then the resolution still follows the common spacing', async () => {
    const json = body([MIDNIGHT, MIDNIGHT + 900, MIDNIGHT + 2700, MIDNIGHT + 3600], [1, 2, 4, 5]);
    const { rows } = await runDocument(contract, json, 'DE-LU_2025-10-01.json');
    expect(rows.map((row) => [row.interval_start, row.resolution_minutes])).toEqual([
      ['2025-09-30T22:00:00.000Z', 15],
      ['2025-09-30T22:15:00.000Z', 15],
      ['2025-09-30T22:45:00.000Z', 15],
      ['2025-09-30T23:00:00.000Z', 15],
    ]);
  });

  it('when a price is null, then that row is rejected as REQUIRED_MISSING and the rest is staged', async () => {
    const seconds = Array.from({ length: 24 }, (_, i) => MIDNIGHT + i * 3600);
    const prices: Array<number | null> = seconds.map((_, i) => 40 + i);
    prices[5] = null;
    const { rows, rejected, report } = await runDocument(
      contract,
      body(seconds, prices),
      'AT_2025-10-01.json',
    );
    expect(rows).toHaveLength(23);
    expect(rejected.map((row) => [row.line, row.reasons.map((reason) => reason.code)])).toEqual([
      [6, ['REQUIRED_MISSING']],
    ]);
    expect(report.verdict).toBe('accepted_with_rejections');
  });

  it('when the file name does not carry {zone}_{day}.json, then the file is rejected as DOCUMENT_NAME_INVALID', async () => {
    const { report } = await runDocument(contract, body([MIDNIGHT, MIDNIGHT + 900], [1, 2]), 'prices.json');
    expect(report.reasons.map((reason) => reason.code)).toEqual(['DOCUMENT_NAME_INVALID']);
    expect(report.reasons[0]!.message).toContain('{zone}_{YYYY-MM-DD}.json');
  });

  it('when the file name names an unknown zone, then the file is rejected as UNKNOWN_BIDDING_ZONE', async () => {
    const { report } = await runDocument(
      contract,
      body([MIDNIGHT, MIDNIGHT + 900], [1, 2]),
      'XX_2025-10-01.json',
    );
    expect(report.reasons.map((reason) => reason.code)).toEqual(['UNKNOWN_BIDDING_ZONE']);
  });

  it('when the arrays are empty, then the file is rejected as PRICES_NOT_PUBLISHED', async () => {
    const { report } = await runDocument(contract, body([], []), 'DE-LU_2025-10-01.json');
    expect(report.reasons.map((reason) => reason.code)).toEqual(['PRICES_NOT_PUBLISHED']);
  });

  it('when the arrays differ in length, then the file is rejected as DOCUMENT_UNRECOGNISED', async () => {
    const { report } = await runDocument(
      contract,
      body([MIDNIGHT, MIDNIGHT + 900], [1]),
      'DE-LU_2025-10-01.json',
    );
    expect(report.reasons.map((reason) => reason.code)).toEqual(['DOCUMENT_UNRECOGNISED']);
  });

  it('when the unit is not EUR / MWh, then the file is rejected as PRICE_UNIT_UNSUPPORTED', async () => {
    const json = body([MIDNIGHT, MIDNIGHT + 900], [1, 2], 'ct / kWh');
    const { report } = await runDocument(contract, json, 'DE-LU_2025-10-01.json');
    expect(report.reasons.map((reason) => reason.code)).toEqual(['PRICE_UNIT_UNSUPPORTED']);
  });

  it('when the body is not JSON, then the file is rejected as DOCUMENT_MALFORMED', async () => {
    const { report } = await runDocument(contract, '{"unix_seconds":[1,', 'DE-LU_2025-10-01.json');
    expect(report.reasons.map((reason) => reason.code)).toEqual(['DOCUMENT_MALFORMED']);
  });

  it('when a timestamp is not an integer, then its row is rejected as INVALID_TIMESTAMP', async () => {
    const json = body([MIDNIGHT, MIDNIGHT + 900, 'soon', MIDNIGHT + 2700], [1, 2, 3, 4]);
    const { rejected } = await runDocument(contract, json, 'DE-LU_2025-10-01.json');
    expect(codesOf(rejected)).toEqual(['INVALID_TIMESTAMP']);
  });
});
