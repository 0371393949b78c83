import { MAX_FRESHNESS_WINDOW_DAYS, parseFreshnessQuery } from '../../../lib/freshness/api';
import { formatFreshnessBreach, freshnessBreachLog } from '../../../lib/freshness/breach';
import type { FreshnessFinding } from '../../../lib/freshness/finding';
import { RunsApiError } from '../../../lib/pipeline/runsRequest';

const NOW = new Date('2026-01-10T09:00:00Z');

function refusal(query: Record<string, string>): RunsApiError {
  try {
    parseFreshnessQuery(Object.entries(query), NOW, 14);
  } catch (error) {
    if (error instanceof RunsApiError) return error;
    throw error;
  }
  throw new Error('expected the query to be refused');
}

describe('GET /api/freshness query', () => {
  it('when no window is given, then it ends tomorrow (UTC) and spans the look-back plus one day before it', () => {
    // Tomorrow of 2026-01-10 is 2026-01-11; 15 days before it is 2025-12-27.
    expect(parseFreshnessQuery([], NOW, 14)).toEqual({ from: '2025-12-27', to: '2026-01-11' });
  });

  it('when a dataset and source are given, then they filter', () => {
    expect(
      parseFreshnessQuery(
        [
          ['dataset', 'prices'],
          ['source', 'dayahead'],
          ['from', '2025-10-01'],
          ['to', '2025-10-05'],
        ],
        NOW,
        14,
      ),
    ).toEqual({ from: '2025-10-01', to: '2025-10-05', dataset: 'prices', source: 'dayahead' });
  });

  it('when a date is not a calendar date, then a 400 names the parameter', () => {
    const error = refusal({ from: '2025-02-30' });
    expect([error.status, error.code, error.message]).toEqual([
      400,
      'INVALID_REQUEST',
      "from: '2025-02-30' is not a date YYYY-MM-DD",
    ]);
  });

  it('when from is later than to, then a 400 names from', () => {
    expect(refusal({ from: '2025-10-05', to: '2025-10-01' }).message).toBe('from: must not be later than to');
  });

  it('when the window is longer than the maximum, then a 400 names from', () => {
    expect(refusal({ from: '2025-01-01', to: '2025-12-31' }).message).toBe(
      `from: the window spans at most ${MAX_FRESHNESS_WINDOW_DAYS} days`,
    );
  });

  it('when an unknown parameter is given, then a 400 names it', () => {
    expect(refusal({ days: '7' }).message).toContain('days');
  });
});

describe('the FreshnessBreach log line', () => {
  const finding: FreshnessFinding = {
    id: '0123456789abcdef0123456789abcdef',
    kind: 'late',
    dataset: 'meter_readings',
    source: 'headend_utc',
    date: '2025-10-01',
    deadline: '2025-10-02T05:00:00.000Z',
    graceMinutes: 60,
    dueBy: '2025-10-02T06:00:00.000Z',
    landedAt: '2025-10-02T08:10:00.000Z',
    path: 'landing/meter_readings/headend_utc/2025/10/02/readings_2025-10-01.csv',
    delayMinutes: 190,
    detectedAt: '2025-10-02T08:15:00.000Z',
  };

  it('when a finding is logged, then the line is JSON that starts with the event name and carries the dimensions', () => {
    const line = formatFreshnessBreach(freshnessBreachLog(finding));
    expect(line.startsWith('{"event":"FreshnessBreach"')).toBe(true);
    expect(JSON.parse(line)).toMatchObject({
      event: 'FreshnessBreach',
      source: 'headend_utc',
      dataset: 'meter_readings',
      date: '2025-10-01',
      kind: 'late',
      delay_minutes: 190,
      finding_id: finding.id,
    });
  });
});
