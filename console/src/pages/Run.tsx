import { useEffect, useState } from 'preact/hooks';

import { rejectedRows, replayRun, showRun } from '../api';
import { duration, errorText, utc } from '../format';
import { useInterval, useLoad } from '../hooks';
import {
  ACTIVE_STATUSES,
  type AuditRecord,
  type DatabricksRun,
  type RejectedRow,
  type RunDetail,
  type StageTiming,
} from '../types';
import { runHref, StatusBadge } from './Runs';

/** The stages as bars on one time axis, from the first stage's start to the last one's end. */
function Timeline({ stages }: { stages: readonly StageTiming[] }) {
  if (stages.length === 0) return <p class="empty">No stage has ended yet.</p>;
  const start = Math.min(...stages.map((s) => Date.parse(s.startedAt)));
  const end = Math.max(...stages.map((s) => Date.parse(s.endedAt)));
  const span = Math.max(1, end - start);
  return (
    <ol class="timeline" aria-label={`Stages, ${duration(end - start)} in all`}>
      {stages.map((s) => {
        const left = ((Date.parse(s.startedAt) - start) / span) * 100;
        const width = Math.max(0.5, (s.durationMs / span) * 100);
        return (
          <li key={s.stage} data-stage={s.stage} data-status={s.status}>
            <span class="stage-name">{s.stage}</span>
            <span class="track" aria-hidden="true">
              <span class={`bar ${s.status}`} style={{ left: `${left}%`, width: `${width}%` }} />
            </span>
            <span class="stage-text">
              {s.status}, {duration(s.durationMs)} (from {utc(s.startedAt)})
            </span>
          </li>
        );
      })}
    </ol>
  );
}

/** Wall time from submit to end, less the run's own time: what the run spent queued (and in polls). */
const waited = (run: DatabricksRun): number | null =>
  run.endedAt && run.durationMs !== null
    ? Math.max(0, Date.parse(run.endedAt) - Date.parse(run.submittedAt) - run.durationMs)
    : null;

function DatabricksRuns({ runs }: { runs: readonly DatabricksRun[] }) {
  if (runs.length === 0) return <p class="empty">No Databricks run.</p>;
  return (
    <table>
      <caption>Databricks runs</caption>
      <thead>
        <tr>
          <th scope="col">Step</th>
          <th scope="col">Run</th>
          <th scope="col">Outcome</th>
          <th scope="col">Submitted (UTC)</th>
          <th scope="col">Waited</th>
          <th scope="col">Ran</th>
          <th scope="col">Batch</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run, i) => (
          <tr key={`${run.step}-${run.runId ?? i}-${i}`}>
            <td>{run.step}</td>
            <td>
              {run.runPageUrl ? (
                <a href={run.runPageUrl} rel="noreferrer" target="_blank">
                  {run.job} #{run.runId}
                </a>
              ) : (
                `${run.job} #${run.runId ?? '—'}`
              )}
            </td>
            <td>
              {run.outcome ?? run.lifeCycleState ?? '—'}
              {run.stateMessage && <div class="muted">{run.stateMessage}</div>}
            </td>
            <td>{utc(run.submittedAt)}</td>
            <td>{duration(waited(run))}</td>
            <td>{duration(run.durationMs)}</td>
            <td>
              {run.batch ? (
                <>
                  <code>{run.batch.id}</code> ({run.batch.size} {run.batch.size === 1 ? 'file' : 'files'})
                </>
              ) : (
                '—'
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Validation({ audit }: { audit: AuditRecord }) {
  const report = audit.validation;
  const reasons = [...(report?.reasons ?? []), ...audit.reasons];
  const failures = Object.entries(report?.ruleFailures ?? {}).sort((a, b) => b[1] - a[1]);
  return (
    <>
      {report && (
        <p>
          {report.counts.rowsRead} rows read, {report.counts.rowsValid} valid, {report.counts.rowsRejected}{' '}
          rejected.
        </p>
      )}
      {failures.length > 0 && (
        <ul class="compact" aria-label="Rule failures">
          {failures.map(([code, count]) => (
            <li key={code}>
              <code>{code}</code>: {count}
            </li>
          ))}
        </ul>
      )}
      {reasons.length > 0 && (
        <ul class="compact" aria-label="File-level reasons">
          {reasons.map((r) => (
            <li key={r.code}>
              <code>{r.code}</code>: {r.message}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function RejectedRows({ run }: { run: RunDetail }) {
  const generation = run.generation ?? 0;
  const [extra, setExtra] = useState<{ rows: RejectedRow[]; next: number | null }>({ rows: [], next: null });
  const first = useLoad(
    (signal) => rejectedRows(run.instanceId, generation, 0, signal),
    `${run.instanceId}@${generation}`,
  );
  useEffect(() => setExtra({ rows: [], next: null }), [first.data]);
  if (first.error !== undefined) return <p class="error">{errorText(first.error)}</p>;
  if (!first.data) return <p aria-busy="true">Loading rejected rows…</p>;
  const rows = [...first.data.rows, ...extra.rows];
  const next = extra.rows.length > 0 ? extra.next : first.data.nextOffset;
  if (rows.length === 0) return <p class="empty">Generation {generation} rejected no rows.</p>;
  const more = async (): Promise<void> => {
    if (next === null) return;
    const page = await rejectedRows(run.instanceId, generation, next);
    setExtra((e) => ({ rows: [...e.rows, ...page.rows], next: page.nextOffset }));
  };
  return (
    <>
      <table data-testid="rejected-rows">
        <caption>
          Rejected rows of generation {generation} (<code>{first.data.path}</code>)
        </caption>
        <thead>
          <tr>
            <th scope="col">Line</th>
            <th scope="col">Reasons</th>
            <th scope="col">Raw line</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={`${row.line}-${row.column ?? ''}`}>
              <td>{row.line}</td>
              <td>
                {row.reasons.map((r, i) => (
                  <div key={i}>
                    <code>{r.code}</code> {r.message}
                  </div>
                ))}
              </td>
              <td>
                {row.raw === null ? <em>withheld (personal data)</em> : <code class="raw">{row.raw}</code>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {next !== null && (
        <button type="button" onClick={() => void more()}>
          Load more rejected rows
        </button>
      )}
    </>
  );
}

function ReplayButton({ run, onStarted }: { run: RunDetail; onStarted: (generation: number) => void }) {
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const active = ACTIVE_STATUSES.has(run.runtimeStatus);
  const replay = async (): Promise<void> => {
    setBusy(true);
    try {
      const started = await replayRun(run.instanceId);
      setMessage(`Replay started: generation ${started.generation}.`);
      onStarted(started.generation);
    } catch (thrown) {
      setMessage(`Replay refused: ${errorText(thrown)}`);
    } finally {
      setBusy(false);
    }
  };
  if (run.kind !== 'ingest') return null;
  return (
    <div class="row">
      <button
        type="button"
        disabled={busy || active}
        onClick={() => void replay()}
        aria-describedby="replay-help"
      >
        Replay this run
      </button>
      <span id="replay-help" class="muted">
        {active
          ? 'The run is active; it can be replayed once it ends.'
          : 'Starts the next generation with the same input.'}
      </span>
      <span role="status" aria-live="polite" data-testid="replay-status">
        {message}
      </span>
    </div>
  );
}

function Facts({ run }: { run: RunDetail }) {
  const batch = run.batch
    ? 'in' in run.batch
      ? `in ${run.batch.in}`
      : `waiting behind ${run.batch.behind}`
    : '—';
  const facts: Array<[string, preact.ComponentChildren]> = [
    ['Status', <StatusBadge key="s" status={run.runtimeStatus} />],
    ['Stage', run.stage ?? '—'],
    ['Verdict', run.verdict ?? '—'],
    ['Generation', run.generation ?? '—'],
    ['Trigger', run.trigger ?? '—'],
    ['Requested by', run.requestedBy ? `${run.requestedBy.name} (${run.requestedBy.kind})` : '—'],
    ['Dataset', run.dataset ?? '—'],
    ['Source', run.source ?? '—'],
    ['File', run.path ? <code key="p">{run.path}</code> : '—'],
    ['Batch', batch],
    ['Created', utc(run.createdTime)],
    ['Last update', utc(run.lastUpdatedTime)],
  ];
  return (
    <dl class="facts">
      {facts.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd data-fact={term}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function RunPage({ id }: { id: string }) {
  const loaded = useLoad((signal) => showRun(id, signal), id);
  // After a replay, the page follows the run until the new generation shows and ends.
  const [awaited, setAwaited] = useState<number | null>(null);
  const run = loaded.data;
  const active = run !== undefined && ACTIVE_STATUSES.has(run.runtimeStatus);
  const behind = awaited !== null && (run?.generation ?? -1) < awaited;
  useEffect(() => {
    if (awaited !== null && !behind && !active) setAwaited(null);
  }, [awaited, behind, active]);
  useInterval(loaded.reload, 2000, active || behind);
  return (
    <>
      <p>
        <a href="#/runs">← All runs</a>
      </p>
      <h1>
        Run <code>{id}</code>
      </h1>
      {loaded.error !== undefined && <p class="error">{errorText(loaded.error)}</p>}
      {run && (
        <>
          <Facts run={run} />
          {run.error && (
            <p class="error" data-testid="run-error">
              {run.error}
            </p>
          )}
          <ReplayButton
            run={run}
            onStarted={(generation) => {
              setAwaited(generation);
              loaded.reload();
            }}
          />
          <section aria-labelledby="timeline-title">
            <h2 id="timeline-title">Stages</h2>
            {run.audit ? (
              <Timeline stages={run.audit.stages} />
            ) : (
              <p>Current stage: {run.stage ?? 'unknown'}.</p>
            )}
          </section>
          {run.audit && (
            <>
              <section aria-labelledby="jobs-title">
                <h2 id="jobs-title">Databricks</h2>
                <DatabricksRuns runs={run.audit.databricksRuns} />
              </section>
              <section aria-labelledby="validation-title">
                <h2 id="validation-title">Validation</h2>
                <Validation audit={run.audit} />
              </section>
            </>
          )}
          {run.kind === 'ingest' && (
            <section aria-labelledby="rejected-title">
              <h2 id="rejected-title">Rejected rows</h2>
              <RejectedRows key={`${run.generation ?? 0}-${run.stage ?? ''}`} run={run} />
            </section>
          )}
          <section aria-labelledby="audit-title">
            <h2 id="audit-title">Audit record</h2>
            {run.audit ? (
              <details>
                <summary>Audit record of generation {run.audit.generation} (JSON)</summary>
                <pre class="json">{JSON.stringify(run.audit, null, 2)}</pre>
              </details>
            ) : (
              <p class="empty">
                No audit record for this generation yet{run.auditPath ? ` (${run.auditPath})` : ''}.
              </p>
            )}
          </section>
          <p class="muted">
            Link to this run: <a href={runHref(run.instanceId)}>{run.instanceId}</a>
          </p>
        </>
      )}
    </>
  );
}
