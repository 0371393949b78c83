import type { SourceSchedule } from '../../../lib/contracts/schedule';
import { evaluateFreshness, type LandedFile } from '../../../lib/freshness/evaluate';

/*
 * The freshness rule. Every deadline below is worked out by hand from the schedule: Europe/London is UTC+1
 * (BST) from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October, else UTC+0;
 * Europe/Berlin is one hour ahead of London. In 2025 those Sundays are 30 March and 26 October.
 */

const ukMorning: SourceSchedule = {
  cadence: 'daily',
  expected_by: '06:00',
  time_zone: 'Europe/London',
  grace_minutes: 60,
  lag_days: 1,
  data_date: 'file_name',
};

const at = (iso: string): Date => new Date(iso);

function landed(name: string, landingDate: string, time: string): LandedFile {
  const [yyyy, mm, dd] = landingDate.split('-');
  return {
    path: `landing/meter_readings/headend_utc/${yyyy}/${mm}/${dd}/${name}`,
    fileName: name,
    landingDate,
    landedAt: at(time),
  };
}

function check(
  schedule: SourceSchedule,
  files: LandedFile[],
  now: string,
  source = 'headend_utc',
): ReturnType<typeof evaluateFreshness> {
  return evaluateFreshness({
    dataset: 'meter_readings',
    source,
    schedule,
    files,
    now: at(now),
    lookbackDays: 14,
  });
}

const since = (date: string, schedule = ukMorning): SourceSchedule => ({ ...schedule, since: date });

describe('a file that never comes', () => {
  // 2025-10-01's file is due 2025-10-02 06:00 BST = 05:00Z; with an hour's grace, missing after 06:00Z.
  const schedule = since('2025-10-01');

  it('when the check runs before deadline + grace, then nothing is missing yet', () => {
    expect(check(schedule, [], '2025-10-02T06:00:00.000Z').findings).toEqual([]);
  });

  it('when the check runs after deadline + grace, then the date is missing with the minutes since the deadline', () => {
    const [finding, ...others] = check(schedule, [], '2025-10-02T06:15:00Z').findings;
    const { id, ...rest } = finding!;
    expect(others).toEqual([]);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect([rest]).toEqual([
      {
        kind: 'missing',
        dataset: 'meter_readings',
        source: 'headend_utc',
        date: '2025-10-01',
        deadline: '2025-10-02T05:00:00.000Z',
        graceMinutes: 60,
        dueBy: '2025-10-02T06:00:00.000Z',
        landedAt: null,
        path: null,
        delayMinutes: 75,
        detectedAt: '2025-10-02T06:15:00.000Z',
      },
    ]);
  });

  it('when dates precede the schedule’s since, then they are never missing', () => {
    const findings = check(since('2025-10-03'), [], '2025-10-06T12:00:00Z').findings;
    expect(findings.map((f) => f.date)).toEqual(['2025-10-03', '2025-10-04', '2025-10-05']);
  });
});

describe('a late file', () => {
  const schedule = since('2025-10-01');

  it('when the first file lands after deadline + grace, then the date is late by the minutes since the deadline', () => {
    const file = landed('readings_2025-10-01.csv', '2025-10-02', '2025-10-02T08:10:00Z');
    const [finding, ...rest] = check(schedule, [file], '2025-10-02T09:00:00Z').findings;
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      kind: 'late',
      date: '2025-10-01',
      deadline: '2025-10-02T05:00:00.000Z',
      landedAt: '2025-10-02T08:10:00.000Z',
      path: file.path,
      delayMinutes: 190,
    });
  });

  it('when a date’s first file is on time, then a later fill file for it does not make it late', () => {
    const files = [
      landed('readings_2025-10-01.csv', '2025-10-02', '2025-10-02T04:30:00Z'),
      landed('readings_2025-10-01_fill.csv', '2025-10-05', '2025-10-05T04:30:00Z'),
    ];
    expect(
      check(schedule, files, '2025-10-05T05:00:00Z').findings.filter((f) => f.date === '2025-10-01'),
    ).toEqual([]);
  });

  it('when a file lands after the check’s time, then that check sees the date missing and a later one sees it late', () => {
    const files = [landed('readings_2025-10-01.csv', '2025-10-05', '2025-10-05T07:00:00Z')];
    const before = check(schedule, files, '2025-10-03T00:00:00Z').findings.find(
      (f) => f.date === '2025-10-01',
    );
    const after = check(schedule, files, '2025-10-06T00:00:00Z').findings.find(
      (f) => f.date === '2025-10-01',
    );
    expect(before).toMatchObject({ kind: 'missing', delayMinutes: 19 * 60 });
    // 2025-10-02T05:00Z to 2025-10-05T07:00Z: three days and two hours.
    expect(after).toMatchObject({ kind: 'late', delayMinutes: 3 * 24 * 60 + 120 });
  });
});

describe('the grace boundary', () => {
  const schedule = since('2025-10-01');
  const landingAt = (time: string) => [landed('readings_2025-10-01.csv', '2025-10-02', time)];
  const judged = (time: string) =>
    check(schedule, landingAt(time), '2025-10-02T12:00:00Z').findings.filter((f) => f.date === '2025-10-01');

  it('when the file lands exactly at deadline + grace, then it is on time', () => {
    expect(judged('2025-10-02T06:00:00.000Z')).toEqual([]);
  });

  it('when the file lands one millisecond after deadline + grace, then it is late by the grace', () => {
    expect(judged('2025-10-02T06:00:00.001Z')).toEqual([
      expect.objectContaining({ kind: 'late', delayMinutes: 60 }),
    ]);
  });

  it('when the file lands one minute after deadline + grace, then it is late by grace + 1 minute', () => {
    expect(judged('2025-10-02T06:01:00Z')).toEqual([
      expect.objectContaining({ kind: 'late', delayMinutes: 61 }),
    ]);
  });
});

describe('daylight-saving days', () => {
  const noGrace = { ...ukMorning, grace_minutes: 0 };

  it('when the clocks go back (a 25-hour day), then 06:00 on the delivery day moves from 05:00Z to 06:00Z', () => {
    // 2025-10-24 is due Sat 25 Oct 06:00 BST = 05:00Z; 2025-10-25 is due Sun 26 Oct 06:00 GMT = 06:00Z.
    const files = [
      landed('readings_2025-10-24.csv', '2025-10-25', '2025-10-25T05:30:00Z'),
      landed('readings_2025-10-25.csv', '2025-10-26', '2025-10-26T05:30:00Z'),
    ];
    const findings = check(since('2025-10-24', noGrace), files, '2025-10-26T12:00:00Z').findings;
    expect(findings).toEqual([
      expect.objectContaining({
        kind: 'late',
        date: '2025-10-24',
        deadline: '2025-10-25T05:00:00.000Z',
        delayMinutes: 30,
      }),
    ]);
  });

  it('when the clocks go forward (a 23-hour day), then consecutive deadlines are 23 hours apart', () => {
    // 2025-03-28 is due Sat 29 Mar 06:00 GMT = 06:00Z; 2025-03-29 is due Sun 30 Mar 06:00 BST = 05:00Z.
    const findings = check(since('2025-03-28', noGrace), [], '2025-03-30T05:30:00Z').findings;
    expect(findings.map((f) => [f.date, f.deadline, f.delayMinutes])).toEqual([
      ['2025-03-28', '2025-03-29T06:00:00.000Z', 23 * 60 + 30],
      ['2025-03-29', '2025-03-30T05:00:00.000Z', 30],
    ]);
  });

  it('when expected_by falls in the spring-forward gap, then it is read with the offset before the gap', () => {
    // 01:30 does not exist on 30 Mar 2025 in London; read as GMT it is 01:30Z (02:30 BST).
    const schedule = { ...noGrace, expected_by: '01:30', lag_days: 0, since: '2025-03-30' };
    const [finding] = check(schedule, [], '2025-03-30T12:00:00Z').findings;
    expect(finding?.deadline).toBe('2025-03-30T01:30:00.000Z');
  });

  it('when expected_by falls in the autumn overlap, then the first of the two instants counts', () => {
    // 01:30 happens twice on 26 Oct 2025 in London: 00:30Z (BST), then 01:30Z (GMT).
    const schedule = { ...noGrace, expected_by: '01:30', lag_days: 0, since: '2025-10-26' };
    const [finding] = check(schedule, [], '2025-10-26T12:00:00Z').findings;
    expect(finding?.deadline).toBe('2025-10-26T00:30:00.000Z');
  });
});

describe('finding ids', () => {
  const schedule = since('2025-10-01');

  it('when the check runs again later, then the same missing date has the same id', () => {
    const first = check(schedule, [], '2025-10-02T07:00:00Z').findings;
    const second = check(schedule, [], '2025-10-04T07:00:00Z').findings;
    expect(second[0]?.id).toBe(first[0]?.id);
    expect(second[0]?.delayMinutes).not.toBe(first[0]?.delayMinutes);
  });

  it('when the date, kind or source differs, then the id differs', () => {
    const late = check(
      schedule,
      [landed('readings_2025-10-01.csv', '2025-10-03', '2025-10-03T00:00:00Z')],
      '2025-10-04T07:00:00Z',
    ).findings;
    const missing = check(schedule, [], '2025-10-04T07:00:00Z').findings;
    const elsewhere = check(schedule, [], '2025-10-04T07:00:00Z', 'smartfeed').findings;
    const ids = [late[0]!.id, missing[0]!.id, missing[1]!.id, elsewhere[0]!.id];
    expect(late[0]?.date).toBe(missing[0]?.date);
    expect(new Set(ids).size).toBe(4);
  });
});

describe('the last file', () => {
  const schedule = since('2025-10-01');

  it('when files of several dates landed, then the last file is the first file of the latest date, with its delay', () => {
    const files = [
      landed('readings_2025-10-01.csv', '2025-10-02', '2025-10-02T04:40:00Z'),
      landed('readings_2025-10-02_fill.csv', '2025-10-03', '2025-10-03T09:00:00Z'),
      landed('readings_2025-10-02.csv', '2025-10-03', '2025-10-03T05:20:00Z'),
      landed('readings_2025-09-30_resend.csv', '2025-10-03', '2025-10-03T10:00:00Z'),
    ];
    // 2025-10-02 is due 2025-10-03T05:00Z: its first file came 20 minutes after.
    expect(check(schedule, files, '2025-10-03T12:00:00Z').lastFile).toEqual({
      path: files[2]!.path,
      date: '2025-10-02',
      landedAt: '2025-10-03T05:20:00.000Z',
      deadline: '2025-10-03T05:00:00.000Z',
      delayMinutes: 20,
    });
  });

  it('when a file’s name carries no date, then it is counted as undated and judges nothing', () => {
    const files = [landed('readings_latest.csv', '2025-10-02', '2025-10-02T04:00:00Z')];
    const result = check(schedule, files, '2025-10-02T12:00:00Z');
    expect(result.undatedFiles).toBe(1);
    expect(result.lastFile).toBeNull();
    expect(result.findings.map((f) => f.kind)).toEqual(['missing']);
  });
});

describe('other schedules', () => {
  it('when files are due the day before their date (day-ahead prices), then the deadline is on the day before', () => {
    // 2025-10-01 is due 2025-09-30 13:30 CEST = 11:30Z; 30 minutes' grace: late after 12:00Z.
    const prices: SourceSchedule = {
      cadence: 'daily',
      expected_by: '13:30',
      time_zone: 'Europe/Berlin',
      grace_minutes: 30,
      lag_days: -1,
      data_date: 'file_name',
      since: '2025-10-01',
    };
    const files = [landed('dayahead_DE-LU_2025-10-01.csv', '2025-09-30', '2025-09-30T12:10:00Z')];
    expect(check(prices, files, '2025-09-30T13:00:00Z').findings).toEqual([
      expect.objectContaining({
        kind: 'late',
        date: '2025-10-01',
        deadline: '2025-09-30T11:30:00.000Z',
        delayMinutes: 40,
      }),
    ]);
  });

  it('when the data date comes from the landing folder, then a file named without a date counts for its folder', () => {
    const schedule: SourceSchedule = {
      ...ukMorning,
      data_date: 'landing_folder',
      lag_days: 0,
      since: '2025-10-01',
    };
    const files = [landed('export.csv', '2025-10-01', '2025-10-01T04:00:00Z')];
    const result = check(schedule, files, '2025-10-01T12:00:00Z');
    expect(result.findings).toEqual([]);
    expect(result.lastFile?.date).toBe('2025-10-01');
  });
});
