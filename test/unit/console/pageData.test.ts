import { bulkReplayBody, EMPTY_FILTER, filterFromParams, runsQuery } from '../../../console/src/filters';
import { summarizeQuality } from '../../../console/src/quality';
import { defaultRange } from '../../../console/src/queries';
import { daySeconds, mergeDaily, pivotSeries, pointCount } from '../../../console/src/series';
import { rowsOf } from '../../../console/src/sql';
import type { RunSummary } from '../../../console/src/types';

/* The console's pure data shaping: filters to API requests, SQL answers to rows, rows to chart series. */

function run(source: string, runtimeStatus: string, verdict: string | null): RunSummary {
  return {
    kind: 'ingest',
    instanceId: `ingest-meter_readings-${Math.random().toString(16).slice(2)}`,
    runtimeStatus,
    stage: null,
    batch: null,
    verdict,
    generation: 0,
    dataset: 'meter_readings',
    source,
    path: null,
    createdTime: '2026-01-01T00:00:00.000Z',
    lastUpdatedTime: '2026-01-01T00:00:00.000Z',
    auditPath: null,
  };
}

describe('runs filter', () => {
  it('when the form times are set, then the API gets them as UTC instants', () => {
    const query = new URLSearchParams(runsQuery({ ...EMPTY_FILTER, from: '2026-01-02T03:04' }, 50));
    expect(query.get('from')).toBe('2026-01-02T03:04:00Z');
    expect(query.get('top')).toBe('50');
  });

  it('when a bulk replay names no status, then it replays Failed runs only', () => {
    const body = bulkReplayBody(filterFromParams(new URLSearchParams('dataset=prices')), {
      max: 5,
      dryRun: true,
      includeCompleted: false,
    });
    expect(body).toEqual({ runtimeStatus: ['Failed'], dataset: 'prices', max: 5, dryRun: true });
  });
});

describe('SQL rows', () => {
  it('when a result has numeric and string columns, then numbers are parsed and nulls kept', () => {
    const columns = [
      { name: 'day', type_name: 'STRING' },
      { name: 'kwh', type_name: 'DOUBLE' },
      { name: 'meters', type_name: 'LONG' },
    ];
    expect(rowsOf(columns, [['2025-03-04', '1.5', null]])).toEqual([
      { day: '2025-03-04', kwh: 1.5, meters: null },
    ]);
  });
});

describe('chart series', () => {
  it('when groups have different x values, then each series is aligned with nulls and the named order comes first', () => {
    const rows = [
      { hour: 1, segment: 'sme', kwh: 2 },
      { hour: 0, segment: 'residential', kwh: 1 },
      { hour: 1, segment: 'residential', kwh: 3 },
    ];
    const data = pivotSeries(rows, (row) => Number(row.hour), 'segment', 'kwh', ['residential', 'sme']);
    expect(data).toEqual({
      x: [0, 1],
      series: [
        { label: 'residential', values: [1, 3] },
        { label: 'sme', values: [null, 2] },
      ],
    });
    expect(pointCount(data)).toBe(3);
  });

  it('when two daily series cover different days, then the merged chart has the union of days', () => {
    const a = { x: [daySeconds('2025-03-04')], series: [{ label: 'a', values: [1] }] };
    const b = { x: [daySeconds('2025-03-05')], series: [{ label: 'b', values: [2] }] };
    expect(mergeDaily(a, b).series).toEqual([
      { label: 'a', values: [1, null] },
      { label: 'b', values: [null, 2] },
    ]);
  });

  it('when gold has more days than the default window, then the range ends on its last day', () => {
    expect(defaultRange({ first_day: '2025-01-01', last_day: '2025-03-10' }, 10)).toEqual({
      from: '2025-03-01',
      to: '2025-03-10',
    });
  });
});

describe('data quality summary', () => {
  it('when sources differ in rejected share, then the worst comes first with its files by verdict', () => {
    const daily = [
      {
        dataset: 'meter_readings',
        source_system: 'good',
        rows_staged: 99,
        rows_rejected: 1,
        completeness: 1,
      },
      {
        dataset: 'meter_readings',
        source_system: 'bad',
        rows_staged: 50,
        rows_rejected: 50,
        completeness: 0.5,
      },
    ];
    const runs = [
      run('bad', 'Completed', 'rejected'),
      run('bad', 'Failed', 'accepted'),
      run('good', 'Completed', 'accepted'),
    ];
    const summary = summarizeQuality(daily, [], [{ source_system: 'bad', estimated_share: 0.25 }], runs);
    expect(summary.map((s) => s.source)).toEqual(['bad', 'good']);
    expect(summary[0]).toMatchObject({
      rejectedShare: 0.5,
      completeness: 0.5,
      estimatedShare: 0.25,
      files: { accepted: 0, withRejections: 0, rejected: 1, failed: 1 },
    });
    expect(summary[1]).toMatchObject({ rejectedShare: 0.01, files: { accepted: 1 } });
  });
});
