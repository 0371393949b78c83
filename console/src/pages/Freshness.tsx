import { call } from '../api';
import { errorText, utc } from '../format';
import { delayText, type FindingRow, freshnessQuery, type FreshnessResponse, sourceRows } from '../freshness';
import { useLoad } from '../hooks';
import { RangeForm, rangeOf } from '../Range';

/**
 * Freshness: per scheduled source its schedule, last file and the missing and late files the freshness
 * check recorded for data dates in the window (`GET /api/freshness`), worst source first; sources without a
 * schedule listed apart. Without a range in the address the API's default window (its look-back) applies.
 */

const headingId = (key: string): string => `freshness-${key.replace(/[^a-z0-9_-]/gi, '-')}`;

function Findings({ label, findings }: { label: string; findings: readonly FindingRow[] }) {
  return (
    <table data-testid="freshness-findings">
      <caption>{label}</caption>
      <thead>
        <tr>
          <th scope="col">Data date</th>
          <th scope="col">Finding</th>
          <th scope="col">Deadline</th>
          <th scope="col">Due by (with grace)</th>
          <th scope="col">Landed at</th>
          <th scope="col">Delay</th>
        </tr>
      </thead>
      <tbody>
        {findings.map((f) => (
          <tr key={f.id} data-finding={f.state}>
            <th scope="row">{f.date}</th>
            <td>
              <span class={`badge ${f.state === 'missing' ? 'status-failed' : 'status-running'}`}>
                {f.state}
              </span>
            </td>
            <td>{utc(f.deadline)}</td>
            <td>{utc(f.dueBy)}</td>
            <td>{f.landedAt ? utc(f.landedAt) : 'not yet'}</td>
            <td data-delay-minutes={f.delayMinutes}>{delayText(f.delayMinutes)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Report({ report }: { report: FreshnessResponse }) {
  const sources = sourceRows(report);
  return (
    <>
      <p class="muted">
        Data dates {report.from} to {report.to}; as of {utc(report.generatedAt)}. Times in UTC.
      </p>
      <h2>Scheduled sources</h2>
      {sources.length === 0 && (
        <p class="empty" data-testid="freshness-none">
          No scheduled sources: no source contract declares a delivery schedule.
        </p>
      )}
      {sources.length > 0 && (
        <table data-testid="freshness-sources">
          <caption>Scheduled sources, worst first: most dates still missing, then most findings</caption>
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Schedule</th>
              <th scope="col">Last file</th>
              <th scope="col">Its delay</th>
              <th scope="col">Still missing</th>
              <th scope="col">Missing and late</th>
            </tr>
          </thead>
          <tbody>
            {sources.map((s) => (
              <tr key={s.key} data-source={s.key}>
                <th scope="row">
                  {s.source} <span class="muted">({s.dataset})</span>
                </th>
                <td>{s.schedule}</td>
                <td>
                  {s.lastFile ? (
                    <>
                      {s.lastFile.date}, landed {utc(s.lastFile.landedAt)}
                      <div>
                        <code>{s.lastFile.path}</code>
                      </div>
                    </>
                  ) : (
                    'none in the window'
                  )}
                </td>
                <td data-delay-minutes={s.lastFile?.delayMinutes}>
                  {s.lastFile ? delayText(s.lastFile.delayMinutes) : '—'}
                </td>
                <td data-open={s.open}>{s.open}</td>
                <td>{s.findings.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {sources
        .filter((s) => s.findings.length > 0)
        .map((s) => (
          <section key={s.key} data-source={s.key} aria-labelledby={headingId(s.key)}>
            <h3 id={headingId(s.key)}>
              {s.source} <span class="muted">({s.dataset})</span>
            </h3>
            <Findings label={`Missing and late files of ${s.key}, worst first`} findings={s.findings} />
          </section>
        ))}
      <h2>Sources without a schedule</h2>
      {report.unscheduled.length === 0 ? (
        <p class="muted">Every source declares a schedule.</p>
      ) : (
        <ul data-testid="freshness-unscheduled">
          {report.unscheduled.map((u) => (
            <li key={`${u.dataset}/${u.source}`} data-source={`${u.dataset}/${u.source}`}>
              {u.source} <span class="muted">({u.dataset})</span>: nothing is expected of it
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

export function FreshnessPage({ query }: { query: string }) {
  const range = rangeOf(new URLSearchParams(query));
  const loaded = useLoad(
    (signal) => call<FreshnessResponse>(`/api/freshness${freshnessQuery(range)}`, {}, signal),
    freshnessQuery(range),
  );
  const shown = range ?? (loaded.data ? { from: loaded.data.from, to: loaded.data.to } : undefined);
  return (
    <>
      <h1>Freshness</h1>
      {shown && <RangeForm page="freshness" from={shown.from} to={shown.to} />}
      {loaded.error !== undefined && <p class="error">{errorText(loaded.error)}</p>}
      <div aria-busy={loaded.loading} data-testid="freshness">
        {loaded.data && <Report report={loaded.data} />}
      </div>
    </>
  );
}
