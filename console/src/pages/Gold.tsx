import { useMemo } from 'preact/hooks';

import { Chart } from '../Chart';
import { errorText } from '../format';
import { useLoad } from '../hooks';
import {
  DAILY_CONSUMPTION,
  DAILY_COST,
  DAILY_PRICE,
  dateRange,
  defaultRange,
  GOLD_DAYS,
  LOAD_PROFILE,
} from '../queries';
import { RangeForm, rangeOf } from '../Range';
import { columnsSeries, daySeconds, mergeDaily, pivotSeries } from '../series';
import { isMissingTable, runSql, type SqlRow } from '../sql';

const SEGMENTS = ['residential', 'sme', 'industrial'];
const byDay = (row: SqlRow): number => daySeconds(String(row.day));

function Failure({ error }: { error: unknown }) {
  return (
    <p class={isMissingTable(error) ? 'empty' : 'error'}>
      {isMissingTable(error) ? 'Gold has no such table yet: no gold run has written it.' : errorText(error)}
    </p>
  );
}

function Charts({ from, to }: { from: string; to: string }) {
  const key = `${from}/${to}`;
  const params = dateRange(from, to);
  const daily = useLoad((signal) => runSql(DAILY_CONSUMPTION, params, signal), key);
  const profile = useLoad((signal) => runSql(LOAD_PROFILE, params, signal), key);
  const costs = useLoad(
    async (signal) => Promise.all([runSql(DAILY_PRICE, params, signal), runSql(DAILY_COST, params, signal)]),
    key,
  );
  const dailyData = useMemo(
    () =>
      daily.data &&
      columnsSeries(daily.data, byDay, [
        { key: 'import_kwh', label: 'Import kWh' },
        { key: 'export_kwh', label: 'Export kWh' },
      ]),
    [daily.data],
  );
  const profileData = useMemo(
    () =>
      profile.data && pivotSeries(profile.data, (row) => Number(row.hour), 'segment', 'import_kwh', SEGMENTS),
    [profile.data],
  );
  const costData = useMemo(
    () =>
      costs.data &&
      mergeDaily(
        columnsSeries(costs.data[0], byDay, [{ key: 'price_eur_per_mwh', label: 'Day-ahead price EUR/MWh' }]),
        columnsSeries(costs.data[1], byDay, [
          { key: 'cost_eur_per_mwh', label: 'Energy cost EUR/MWh' },
          { key: 'total_cost_eur', label: 'Total cost EUR' },
        ]),
      ),
    [costs.data],
  );
  return (
    <>
      <section aria-labelledby="daily-title" aria-busy={daily.loading}>
        <h2 id="daily-title">Daily consumption</h2>
        {daily.error !== undefined && <Failure error={daily.error} />}
        {dailyData && (
          <Chart
            id="daily-consumption"
            title="Energy per local day, all meters"
            data={dailyData}
            xKind="day"
            xLabel="Local day"
            leftLabel="kWh"
          />
        )}
      </section>
      <section aria-labelledby="profile-title" aria-busy={profile.loading}>
        <h2 id="profile-title">Load profile</h2>
        {profile.error !== undefined && <Failure error={profile.error} />}
        {profileData && (
          <Chart
            id="load-profile"
            title="Mean import per local hour of day, by segment"
            data={profileData}
            xKind="hour"
            leftLabel="kWh per hour"
            digits={3}
          />
        )}
      </section>
      <section aria-labelledby="cost-title" aria-busy={costs.loading}>
        <h2 id="cost-title">Prices and cost</h2>
        {costs.error !== undefined && <Failure error={costs.error} />}
        {costData && (
          <Chart
            id="prices-cost"
            title="Day-ahead price vs what customers paid per MWh, and total cost"
            data={costData}
            xKind="day"
            xLabel="Local day"
            leftLabel="EUR/MWh"
            right={{ label: 'EUR', series: ['Total cost EUR'] }}
          />
        )}
      </section>
    </>
  );
}

export function GoldPage({ query }: { query: string }) {
  const asked = rangeOf(new URLSearchParams(query));
  const days = useLoad(
    (signal) => (asked ? Promise.resolve([]) : runSql(GOLD_DAYS, [], signal)),
    asked ? 'asked' : 'default',
  );
  const range = asked ?? defaultRange(days.data?.[0], 30);
  return (
    <>
      <h1>Gold at a glance</h1>
      {days.error !== undefined && <Failure error={days.error} />}
      {!range && days.data && <p class="empty">Gold has no consumption yet.</p>}
      {range && (
        <>
          <RangeForm page="gold" from={range.from} to={range.to} />
          <Charts from={range.from} to={range.to} />
        </>
      )}
    </>
  );
}
