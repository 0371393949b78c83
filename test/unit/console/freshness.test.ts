import {
  delayText,
  findingRows,
  type FreshnessLate,
  type FreshnessMissing,
  freshnessQuery,
  type FreshnessResponse,
  scheduleText,
  type SourceFreshness,
  sourceRows,
} from '../../../console/src/freshness';
import type { FreshnessResponse as ApiFreshnessResponse } from '../../../lib/freshness/api';

/* The Freshness page's shaping of `GET /api/freshness`: findings and sources worst first, texts for delays. */

// Compile-time: the API's response type still fits what the page reads (tsc fails here when they drift).
const fits = (response: ApiFreshnessResponse): FreshnessResponse => response;
void fits;

const SCHEDULE = {
  cadence: 'daily',
  expectedBy: '06:00',
  timeZone: 'Europe/London',
  graceMinutes: 30,
  lagDays: 1,
  dataDate: 'file_name',
  since: null,
};

let ids = 0;
const nextId = (): string => (ids++).toString(16).padStart(32, '0');

function finding(date: string, delayMinutes: number) {
  const deadline = `${date}T06:00:00.000Z`;
  return {
    id: nextId(),
    dataset: 'meter_readings',
    source: 'smartfeed',
    date,
    deadline,
    graceMinutes: 30,
    dueBy: new Date(Date.parse(deadline) + 30 * 60_000).toISOString(),
    landedAt: null,
    path: null,
    delayMinutes,
    detectedAt: '2026-01-10T00:00:00.000Z',
  };
}

const missing = (date: string, delay: number, arrivedAt: string | null = null): FreshnessMissing => ({
  ...finding(date, delay),
  kind: 'missing',
  arrivedAt,
});

const late = (date: string, delay: number): FreshnessLate => ({
  ...finding(date, delay),
  kind: 'late',
  landedAt: new Date(Date.parse(`${date}T06:00:00.000Z`) + delay * 60_000).toISOString(),
  path: `bronze/meter_readings/smartfeed/${date}.csv`,
});

function source(
  name: string,
  found: { missing?: FreshnessMissing[]; late?: FreshnessLate[] },
): SourceFreshness {
  return {
    dataset: 'meter_readings',
    source: name,
    schedule: SCHEDULE,
    lastFile: null,
    missing: found.missing ?? [],
    late: found.late ?? [],
  };
}

describe('freshness findings', () => {
  it('when a source has open, arrived-later and late findings, then open ones come first, then by delay', () => {
    const rows = findingRows({
      missing: [missing('2026-01-03', 600, '2026-01-04T16:00:00.000Z'), missing('2026-01-05', 90)],
      late: [late('2026-01-02', 45), late('2026-01-01', 2000)],
    });
    expect(rows.map((r) => [r.date, r.state])).toEqual([
      ['2026-01-05', 'missing'],
      ['2026-01-03', 'arrived later'],
      ['2026-01-01', 'late'],
      ['2026-01-02', 'late'],
    ]);
  });

  it('when a missing file arrived later, then its landing time is the arrival', () => {
    const [row] = findingRows({
      missing: [missing('2026-01-03', 600, '2026-01-04T16:00:00.000Z')],
      late: [],
    });
    expect(row?.landedAt).toBe('2026-01-04T16:00:00.000Z');
  });

  it('when a file is late, then its row carries its deadline, due-by and landing', () => {
    const given = late('2026-01-02', 45);
    const [row] = findingRows({ missing: [], late: [given] });
    expect(row).toMatchObject({
      deadline: '2026-01-02T06:00:00.000Z',
      dueBy: '2026-01-02T06:30:00.000Z',
      landedAt: '2026-01-02T06:45:00.000Z',
      delayMinutes: 45,
    });
  });
});

describe('freshness sources', () => {
  it('when sources differ in open dates, findings and delays, then the worst comes first', () => {
    const rows = sourceRows({
      sources: [
        source('clean', {}),
        source('one-late', { late: [late('2026-01-02', 30)] }),
        source('very-late', { late: [late('2026-01-02', 3000)] }),
        source('open', { missing: [missing('2026-01-05', 10)] }),
        source('two-late', { late: [late('2026-01-02', 5), late('2026-01-03', 5)] }),
      ],
    });
    expect(rows.map((r) => r.source)).toEqual(['open', 'two-late', 'very-late', 'one-late', 'clean']);
    expect(rows.map((r) => r.open)).toEqual([1, 0, 0, 0, 0]);
  });

  it('when two sources are equally fresh, then they are listed by name', () => {
    const rows = sourceRows({ sources: [source('b', {}), source('a', {})] });
    expect(rows.map((r) => r.key)).toEqual(['meter_readings/a', 'meter_readings/b']);
  });
});

describe('freshness texts', () => {
  it('when a delay is given, then it reads in the largest sensible units', () => {
    expect(delayText(0)).toBe('on time');
    expect(delayText(-15)).toBe('on time (15 min early)');
    expect(delayText(45)).toBe('45 min late');
    expect(delayText(2 * 60 + 5)).toBe('2 h 5 min late');
    expect(delayText(3 * 60)).toBe('3 h late');
    expect(delayText(3 * 1440 + 4 * 60 + 59)).toBe('3 d 4 h late');
  });

  it('when a schedule is shown, then it names time, zone, grace and when a date is due', () => {
    expect(scheduleText(SCHEDULE)).toBe(
      'daily by 06:00 Europe/London, grace 30 min, due the day after the data date',
    );
    expect(scheduleText({ ...SCHEDULE, graceMinutes: 0, lagDays: -1, since: '2026-01-01' })).toBe(
      'daily by 06:00 Europe/London, grace none, due the day before the data date, since 2026-01-01',
    );
    expect(scheduleText({ ...SCHEDULE, lagDays: 0 })).toContain('due on the data date');
  });

  it('when the address has no range, then the API gets no window and picks its default', () => {
    expect(freshnessQuery(undefined)).toBe('');
    expect(new URLSearchParams(freshnessQuery({ from: '2026-01-01', to: '2026-01-31' }))).toEqual(
      new URLSearchParams('from=2026-01-01&to=2026-01-31'),
    );
  });
});
