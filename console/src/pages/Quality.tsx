import { useMemo } from 'preact/hooks';

import { allRuns } from '../api';
import { Chart } from '../Chart';
import { EMPTY_FILTER } from '../filters';
import { errorText, percent } from '../format';
import { useLoad } from '../hooks';
import { sourceKey, type SourceQuality, summarizeQuality } from '../quality';
import {
  dateRange,
  defaultRange,
  ESTIMATED_SHARE,
  QUALITY_DAILY,
  QUALITY_DAYS,
  RULE_FAILURES,
} from '../queries';
import { RangeForm, rangeOf } from '../Range';
import { daySeconds, pivotSeries } from '../series';
import { isMissingTable, runSql, type SqlRow } from '../sql';

/** Sources drawn in the plot: the worst ones; the table lists every source. */
const PLOTTED = 6;
const ARRIVAL_DAYS = 7;
const MAX_RUNS = 5000;

/** An empty answer where gold or silver has no such table yet (no run has written it). */
const orEmpty = (error: unknown): SqlRow[] => {
  if (isMissingTable(error)) return [];
  throw error;
};

function SourcesTable({ sources }: { sources: readonly SourceQuality[] }) {
  if (sources.length === 0) return <p class="empty">No source delivered data in this range.</p>;
  return (
    <table data-testid="quality-sources">
      <caption>Sources, worst first</caption>
      <thead>
        <tr>
          <th scope="col">Source</th>
          <th scope="col">Files accepted</th>
          <th scope="col">Files rejected</th>
          <th scope="col">Files failed</th>
          <th scope="col">Rows staged</th>
          <th scope="col">Rows rejected</th>
          <th scope="col">Rejected share</th>
          <th scope="col">Completeness</th>
          <th scope="col">Estimated share</th>
          <th scope="col">Rule failures</th>
        </tr>
      </thead>
      <tbody>
        {sources.map((s) => (
          <tr key={s.key} data-source={s.key}>
            <th scope="row">
              {s.source} <span class="muted">({s.dataset})</span>
            </th>
            <td>{s.files.accepted + s.files.withRejections}</td>
            <td data-files-rejected={s.files.rejected}>{s.files.rejected}</td>
            <td>{s.files.failed}</td>
            <td>{s.rowsStaged}</td>
            <td>{Math.round(s.rowsRejected)}</td>
            <td>{percent(s.rejectedShare, 2)}</td>
            <td>{percent(s.completeness)}</td>
            <td>{percent(s.estimatedShare)}</td>
            <td>
              {s.ruleFailures.slice(0, 3).map((r) => (
                <div key={r.code}>
                  <code>{r.code}</code> {r.rows}
                </div>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Quality({ from, to }: { from: string; to: string }) {
  const key = `${from}/${to}`;
  const loaded = useLoad(async (signal) => {
    const params = dateRange(from, to);
    const since = new Date(Date.now() - ARRIVAL_DAYS * 86_400_000).toISOString().slice(0, 16);
    const [daily, rules, estimated, runs] = await Promise.all([
      runSql(QUALITY_DAILY, params, signal),
      runSql(RULE_FAILURES, params, signal).catch(orEmpty),
      runSql(ESTIMATED_SHARE, params, signal).catch(orEmpty),
      allRuns({ ...EMPTY_FILTER, from: since }, MAX_RUNS, signal),
    ]);
    return { daily, sources: summarizeQuality(daily, rules, estimated, runs) };
  }, key);
  const chart = useMemo(() => {
    if (!loaded.data) return undefined;
    const worst = loaded.data.sources.slice(0, PLOTTED).map((s) => s.key);
    const rows = loaded.data.daily
      .map((row) => ({ ...row, key: sourceKey(String(row.dataset), String(row.source_system)) }))
      .filter((row) => worst.includes(row.key));
    return pivotSeries(rows, (row) => daySeconds(String(row.day)), 'key', 'rejected_share', worst);
  }, [loaded.data]);
  if (loaded.error !== undefined) return <p class="error">{errorText(loaded.error)}</p>;
  return (
    <div aria-busy={loaded.loading}>
      {chart && (
        <Chart
          id="rejected-share"
          title={`Rejected row share per data day, the ${PLOTTED} worst sources first`}
          data={chart}
          xKind="day"
          xLabel="UTC data day"
          leftLabel="share of rows rejected"
          digits={4}
        />
      )}
      <p class="muted">
        Rows: gold.data_quality_daily and data_quality_rule_failures over the data days of the range;
        estimated share: silver meter readings; files: the runs API, by arrival over the last {ARRIVAL_DAYS}{' '}
        days.
      </p>
      {loaded.data && <SourcesTable sources={loaded.data.sources} />}
    </div>
  );
}

export function QualityPage({ query }: { query: string }) {
  const asked = rangeOf(new URLSearchParams(query));
  const days = useLoad(
    (signal) => (asked ? Promise.resolve([]) : runSql(QUALITY_DAYS, [], signal)),
    asked ? 'asked' : 'default',
  );
  const range = asked ?? defaultRange(days.data?.[0], 30);
  return (
    <>
      <h1>Data quality</h1>
      {days.error !== undefined && (
        <p class={isMissingTable(days.error) ? 'empty' : 'error'}>
          {isMissingTable(days.error) ? 'Gold has no data quality table yet.' : errorText(days.error)}
        </p>
      )}
      {!range && days.data && <p class="empty">Gold has no data quality rows yet.</p>}
      {range && (
        <>
          <RangeForm page="quality" from={range.from} to={range.to} />
          <Quality from={range.from} to={range.to} />
        </>
      )}
    </>
  );
}
