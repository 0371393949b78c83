import { parseSourceContract } from '../../../lib/contracts/sources';
import { ContractError } from '../../../lib/errors';
import { CANONICAL_HEADER, contractOf, csv, TEST_NOW, validate } from '../../helpers/validation';

/*
 * The late-data policy of a source contract (#18 item 10): `late_readings.max_age_days` rejects a reading
 * whose interval ended longer ago than that before the file landed. TEST_NOW (2026-06-01T00:00Z) is both the
 * staging time and, unless given, the landing time.
 */

const thirtyDays = contractOf({ late_readings: { max_age_days: 30 } });

describe('late readings', () => {
  it('when a reading ended more than max_age_days before the file landed, then it is rejected READING_TOO_OLD with its age and the limit', async () => {
    // 00:00-00:30 on 1 April ends 60.98 days before 1 June 00:00: 60 whole days.
    const { rejected, rows } = await validate(
      thirtyDays,
      csv(
        CANONICAL_HEADER,
        'M1,2026-04-01T00:00:00Z,30,import,1,actual',
        'M1,2026-05-31T00:00:00Z,30,import,1,actual',
      ),
    );

    expect(rows.map((r) => r.interval_start)).toEqual(['2026-05-31T00:00:00.000Z']);
    expect(rejected.map((r) => r.reasons)).toEqual([
      [
        {
          code: 'READING_TOO_OLD',
          column: 'interval_start',
          message:
            'interval 2026-04-01T00:00:00.000Z ended 60 days before the file landed; this source accepts 30 (late_readings.max_age_days)',
        },
      ],
    ]);
  });

  it('when a reading ended exactly max_age_days before the file landed, then it is accepted', async () => {
    // 23:30-24:00 on 1 May ends at 2 May 00:00, 30 days before 1 June 00:00.
    const { rejected } = await validate(
      thirtyDays,
      csv(CANONICAL_HEADER, 'M1,2026-05-01T23:30:00Z,30,import,1,actual'),
    );

    expect(rejected).toEqual([]);
  });

  it('when the file landed long before it is staged (a replay), then the age counts from the landing', async () => {
    const landedAt = new Date(TEST_NOW.getTime() - 90 * 86_400_000);
    const { rejected } = await validate(
      thirtyDays,
      csv(CANONICAL_HEADER, 'M1,2026-02-20T00:00:00Z,30,import,1,actual'),
      { landedAt },
    );

    expect(rejected).toEqual([]);
  });

  it('when the contract has no late-data policy, then a five-year-old reading is accepted', async () => {
    const { rejected } = await validate(
      contractOf({}),
      csv(CANONICAL_HEADER, 'M1,2021-06-01T00:00:00Z,30,import,1,actual'),
    );

    expect(rejected).toEqual([]);
  });

  it('when a contract of another dataset sets late_readings, then the contract is refused naming the key', () => {
    const prices = {
      source: 'px',
      dataset: 'prices',
      description: 'Day-ahead prices.',
      format: { type: 'csv' },
      layout: {
        kind: 'long',
        columns: {
          bidding_zone: 'zone',
          interval_start: 'start',
          resolution_minutes: 'res',
          price_eur_per_mwh: 'price',
          provider: 'provider',
        },
      },
      timestamp: { format: 'iso8601' },
      unit: 'EUR/MWh',
      late_readings: { max_age_days: 30 },
    };

    let issues: readonly string[] = [];
    try {
      parseSourceContract(prices, 'px.yaml');
    } catch (error) {
      if (!(error instanceof ContractError)) throw error;
      issues = error.issues;
    }
    expect(issues).toEqual([
      expect.stringMatching(/^late_readings: late_readings applies to meter_readings only, not prices/),
    ]);
  });
});
