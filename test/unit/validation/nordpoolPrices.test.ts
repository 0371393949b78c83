import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { SourceContract } from '../../../lib/contracts/sources';
import { NORDPOOL_DIR, priceContract, runDocument } from './priceDocuments';

/**
 * The real recorded Nord Pool answers (../shared/real-data/nordpool, read in place). Expectations come from
 * a small reader written here, independent of lib/validation/documents/nordpool.ts.
 */
function recorded(name: string): string {
  return readFileSync(path.join(NORDPOOL_DIR, `${name}.response.json`), 'utf8');
}

interface Expected {
  zone: string;
  start: string;
  minutes: number;
  price: number;
  published: string;
}

function expectedRows(text: string): Expected[] {
  const answer = JSON.parse(text) as {
    updatedAt: string;
    multiIndexEntries: Array<{
      deliveryStart: string;
      deliveryEnd: string;
      entryPerArea: Record<string, number>;
    }>;
  };
  return answer.multiIndexEntries.flatMap((entry) =>
    Object.entries(entry.entryPerArea).map(([area, price]) => ({
      zone: area,
      start: new Date(entry.deliveryStart).toISOString(),
      minutes: (Date.parse(entry.deliveryEnd) - Date.parse(entry.deliveryStart)) / 60_000,
      price,
      published: new Date(answer.updatedAt).toISOString(),
    })),
  );
}

let contract: SourceContract;

beforeAll(async () => {
  contract = await priceContract('nordpool');
});

describe('Nord Pool DayAheadPriceIndices JSON (prices/nordpool), real recorded answers', () => {
  it.each([
    ['single_area_hourly', 24, 60],
    ['single_area_15min', 96, 15],
    ['multiple_area_hourly', 96, 60],
  ])(
    'when %s is validated, then every entry and area becomes one row (%i rows of %i minutes)',
    async (name, count, minutes) => {
      const text = recorded(name);
      const { rows, rejected, report } = await runDocument(contract, text, `${name}.json`);
      const staged = rows.map((row) => ({
        zone: row.bidding_zone,
        start: row.interval_start,
        minutes: row.resolution_minutes,
        price: row.price_eur_per_mwh,
        published: row.published_at,
      }));
      expect(rejected).toEqual([]);
      expect(staged).toEqual(expectedRows(text));
      expect([rows.length, new Set(staged.map((row) => row.minutes))]).toEqual([count, new Set([minutes])]);
      expect(report.verdict).toBe('accepted');
    },
  );

  it('when the multi-area answer is validated, then each of SE1-SE4 has its own 24 hours', async () => {
    const { rows } = await runDocument(contract, recorded('multiple_area_hourly'), 'se.json');
    const perZone = new Map<string, number>();
    for (const row of rows)
      perZone.set(String(row.bidding_zone), (perZone.get(String(row.bidding_zone)) ?? 0) + 1);
    expect(Object.fromEntries(perZone)).toEqual({ SE1: 24, SE2: 24, SE3: 24, SE4: 24 });
  });

  it('when the day is not yet published (empty entries), then the file is rejected as PRICES_NOT_PUBLISHED', async () => {
    const { report } = await runDocument(contract, recorded('prices_not_available'), 'fi.json');
    expect(report.reasons.map((reason) => reason.code)).toEqual(['PRICES_NOT_PUBLISHED']);
  });

  it('when an area is not a known zone and not in format.areas, then its rows are rejected as UNKNOWN_BIDDING_ZONE', async () => {
    const answer = JSON.parse(recorded('single_area_hourly')) as {
      multiIndexEntries: Array<{ entryPerArea: Record<string, number> }>;
    };
    answer.multiIndexEntries[0]!.entryPerArea.SYS = 20;
    const { rejected } = await runDocument(contract, JSON.stringify(answer), 'fi.json');
    expect(rejected.map((row) => [row.line, row.reasons.map((reason) => reason.code)])).toEqual([
      [1, ['UNKNOWN_BIDDING_ZONE']],
    ]);
  });

  it('when the contract maps an area code, then its rows carry the mapped zone', async () => {
    const answer = JSON.parse(recorded('single_area_hourly')) as {
      multiIndexEntries: Array<{ entryPerArea: Record<string, number> }>;
    };
    for (const entry of answer.multiIndexEntries) entry.entryPerArea = { GER: entry.entryPerArea.FI! };
    const { rows } = await runDocument(contract, JSON.stringify(answer), 'ger.json');
    expect(new Set(rows.map((row) => row.bidding_zone))).toEqual(new Set(['DE-LU']));
  });

  it('when the currency is not EUR, then the file is rejected as PRICE_CURRENCY_UNSUPPORTED', async () => {
    const answer = { ...(JSON.parse(recorded('single_area_hourly')) as object), currency: 'SEK' };
    const { report } = await runDocument(contract, JSON.stringify(answer), 'fi.json');
    expect(report.reasons.map((reason) => reason.code)).toEqual(['PRICE_CURRENCY_UNSUPPORTED']);
  });
});
