import path from 'node:path';

import { loadSourceContracts, parseSourceContract } from '../../../lib/contracts/sources';
import { ContractError } from '../../../lib/errors';

const headendContract = {
  source: 'hes_long',
  dataset: 'meter_readings',
  description: 'Head-end system export, one row per reading, UTC.',
  format: { type: 'csv' },
  layout: {
    kind: 'long',
    columns: { meter_id: 'meter_id', interval_start: 'interval_start_utc', kwh: 'kwh', quality: 'q' },
  },
  timestamp: { format: 'iso8601' },
  interval_minutes: 30,
  unit: 'kWh',
  constants: { channel: 'import' },
  quality_map: { A: 'actual' },
};

const daily = { cadence: 'daily', expected_by: '06:00', time_zone: 'Europe/London' };

function withSchedule(schedule: unknown) {
  return parseSourceContract({ ...headendContract, schedule }, 'test.yaml');
}

function issuesOf(schedule: unknown): string[] {
  try {
    withSchedule(schedule);
  } catch (error) {
    if (error instanceof ContractError) return [...error.issues];
    throw error;
  }
  throw new Error('expected the schedule to be rejected');
}

describe('source contract schedules', () => {
  it('when a contract declares no schedule, then it has none', () => {
    expect(parseSourceContract(headendContract, 'test.yaml').schedule).toBeUndefined();
  });

  it('when a daily schedule gives only its time and zone, then grace 0, lag 1 day and file-name dates apply', () => {
    expect(withSchedule(daily).schedule).toEqual({
      cadence: 'daily',
      expected_by: '06:00',
      time_zone: 'Europe/London',
      grace_minutes: 0,
      lag_days: 1,
      data_date: 'file_name',
    });
  });

  it.each([
    ['PT30M', 30],
    ['PT2H', 120],
    ['PT1H30M', 90],
    [45, 45],
  ])('when grace is %p, then it is %p minutes', (grace, minutes) => {
    expect(withSchedule({ ...daily, grace }).schedule?.grace_minutes).toBe(minutes);
  });

  it('when grace is given in days, then schedule.grace is named and days are refused', () => {
    expect(issuesOf({ ...daily, grace: 'P1D' })).toEqual([
      expect.stringMatching(/^schedule\.grace: expected whole minutes .*no days/),
    ]);
  });

  it('when grace is longer than a week, then schedule.grace is named', () => {
    expect(issuesOf({ ...daily, grace: 'PT169H' })).toEqual([
      expect.stringMatching(/^schedule\.grace: at most 10080 minutes/),
    ]);
  });

  it.each(['6:00', '24:00', '06:60', 'noon'])(
    'when expected_by is %p, then schedule.expected_by is named',
    (time) => {
      expect(issuesOf({ ...daily, expected_by: time })).toEqual([
        expect.stringMatching(/^schedule\.expected_by: expected a local time HH:MM/),
      ]);
    },
  );

  it('when the time zone is not an IANA zone, then schedule.time_zone is named', () => {
    expect(issuesOf({ ...daily, time_zone: 'Europe/Londres' })).toEqual([
      expect.stringMatching(/^schedule\.time_zone: expected an IANA time zone/),
    ]);
  });

  it('when the cadence is not supported yet, then schedule.cadence names the supported ones', () => {
    expect(issuesOf({ ...daily, cadence: 'hourly' })).toEqual([
      "schedule.cadence: 'hourly' is not a supported cadence (supported: daily)",
    ]);
  });

  it('when since is not a calendar date, then schedule.since is named', () => {
    expect(issuesOf({ ...daily, since: '2025-02-30' })).toEqual([
      'schedule.since: expected a calendar date YYYY-MM-DD',
    ]);
  });

  it('when the lag is outside -7..31 days, then schedule.lag_days is named', () => {
    expect(issuesOf({ ...daily, lag_days: -8 })[0]).toMatch(/^schedule\.lag_days: at least -7/);
  });

  it('when a schedule key is misspelled, then the unknown key is reported', () => {
    expect(issuesOf({ ...daily, expected_at: '06:00' }).join()).toContain('expected_at');
  });

  it('when the shipped contracts load, then the four daily-delivered sources declare a schedule', async () => {
    const registry = await loadSourceContracts(path.resolve(__dirname, '../../../contracts/sources'));
    const scheduled = registry
      .list()
      .filter((c) => c.schedule !== undefined)
      .map((c) => `${c.dataset}/${c.source}`)
      .sort();
    expect(scheduled).toEqual([
      'meter_readings/headend_utc',
      'meter_readings/smartfeed',
      'meter_readings/uk_hh_wide',
      'prices/dayahead',
    ]);
  });
});
