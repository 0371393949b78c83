import { useEffect, useMemo, useState } from 'preact/hooks';

import { bulkReplay, listRuns } from '../api';
import { EMPTY_FILTER, filterFromParams, filterToParams, type RunFilter } from '../filters';
import { errorText, utc } from '../format';
import { useInterval, useLoad } from '../hooks';
import {
  ACTIVE_STATUSES,
  type BulkReplayResult,
  DATASETS,
  type RunSummary,
  RUNTIME_STATUSES,
  VERDICTS,
} from '../types';

const PAGE = 50;

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status.toLowerCase()}`}>{status}</span>;
}

export const runHref = (id: string): string => `#/runs/${encodeURIComponent(id)}`;

function Select(props: {
  id: string;
  label: string;
  value: string;
  options: readonly string[];
  onChange: (value: string) => void;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        <option value="">any</option>
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}

function FilterForm({ filter }: { filter: RunFilter }) {
  const [draft, setDraft] = useState(filter);
  useEffect(() => setDraft(filter), [filter]);
  const set = (key: keyof RunFilter) => (value: string) => setDraft((d) => ({ ...d, [key]: value }));
  const apply = (next: RunFilter): void => {
    location.hash = `/runs?${filterToParams(next).toString()}`;
  };
  return (
    <form
      class="filters"
      aria-label="Filter runs"
      onSubmit={(e) => {
        e.preventDefault();
        apply(draft);
      }}
    >
      <Select
        id="f-status"
        label="Status"
        value={draft.runtimeStatus}
        options={RUNTIME_STATUSES}
        onChange={set('runtimeStatus')}
      />
      <Select
        id="f-verdict"
        label="Verdict"
        value={draft.verdict}
        options={VERDICTS}
        onChange={set('verdict')}
      />
      <Select
        id="f-dataset"
        label="Dataset"
        value={draft.dataset}
        options={DATASETS}
        onChange={set('dataset')}
      />
      <div class="field">
        <label for="f-source">Source</label>
        <input
          id="f-source"
          value={draft.source}
          placeholder="e.g. headend_utc"
          onInput={(e) => set('source')(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="f-from">Created from (UTC)</label>
        <input
          id="f-from"
          type="datetime-local"
          value={draft.from}
          onInput={(e) => set('from')(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="f-to">Created to (UTC)</label>
        <input
          id="f-to"
          type="datetime-local"
          value={draft.to}
          onInput={(e) => set('to')(e.currentTarget.value)}
        />
      </div>
      <div class="actions">
        <button type="submit">Apply filters</button>
        <button type="button" onClick={() => apply(EMPTY_FILTER)}>
          Clear filters
        </button>
      </div>
    </form>
  );
}

function BulkReplay({ filter, onDone }: { filter: RunFilter; onDone: () => void }) {
  const [max, setMax] = useState(50);
  const [includeCompleted, setIncludeCompleted] = useState(false);
  const [preview, setPreview] = useState<BulkReplayResult | undefined>();
  const [done, setDone] = useState<BulkReplayResult | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  useEffect(() => {
    setPreview(undefined);
    setDone(undefined);
  }, [filter, max, includeCompleted]);
  const run = async (dryRun: boolean): Promise<void> => {
    setBusy(true);
    setError('');
    try {
      const result = await bulkReplay(filter, { max, dryRun, includeCompleted });
      if (dryRun) setPreview(result);
      else {
        setDone(result);
        setPreview(undefined);
        onDone();
      }
    } catch (thrown) {
      setError(errorText(thrown));
    } finally {
      setBusy(false);
    }
  };
  const status = filter.runtimeStatus || 'Failed';
  return (
    <section class="panel" aria-labelledby="bulk-title">
      <h2 id="bulk-title">Replay many</h2>
      <p>
        Replays the ingestion runs this filter selects with status <strong>{status}</strong>, oldest first.
        Preview first: nothing starts until you confirm.
      </p>
      <div class="row">
        <div class="field">
          <label for="bulk-max">At most (runs)</label>
          <input
            id="bulk-max"
            type="number"
            min={1}
            max={1000}
            value={max}
            onInput={(e) => setMax(Number(e.currentTarget.value) || 1)}
          />
        </div>
        {status === 'Completed' && (
          <div class="field checkbox">
            <input
              id="bulk-completed"
              type="checkbox"
              checked={includeCompleted}
              onChange={(e) => setIncludeCompleted(e.currentTarget.checked)}
            />
            <label for="bulk-completed">Replay runs that completed (redoes finished work)</label>
          </div>
        )}
        <button type="button" disabled={busy} onClick={() => void run(true)}>
          Preview replay
        </button>
      </div>
      <div role="status" aria-live="polite">
        {error && <p class="error">{error}</p>}
        {preview && (
          <div data-testid="bulk-preview">
            <p>
              {preview.matched} runs match; {preview.replayed.length} would start, {preview.refused.length}{' '}
              would be refused.
            </p>
            <ul class="compact">
              {preview.replayed.map((r) => (
                <li key={r.instanceId}>
                  <code>{r.instanceId}</code> → generation {r.generation}
                </li>
              ))}
              {preview.refused.map((r) => (
                <li key={r.instanceId}>
                  <code>{r.instanceId}</code>: {r.code} — {r.message}
                </li>
              ))}
            </ul>
            {preview.replayed.length > 0 && (
              <button type="button" disabled={busy} onClick={() => void run(false)}>
                Replay {preview.replayed.length} runs
              </button>
            )}
          </div>
        )}
        {done && (
          <p data-testid="bulk-done">
            Started {done.replayed.length} replays; {done.refused.length} refused.
          </p>
        )}
      </div>
    </section>
  );
}

function RunsTable({ runs }: { runs: readonly RunSummary[] }) {
  if (runs.length === 0) return <p class="empty">No runs match.</p>;
  return (
    <table class="runs">
      <caption>Runs, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Status</th>
          <th scope="col">Stage</th>
          <th scope="col">Verdict</th>
          <th scope="col">Generation</th>
          <th scope="col">Dataset</th>
          <th scope="col">Source</th>
          <th scope="col">Created (UTC)</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <tr key={run.instanceId} data-run={run.instanceId}>
            <td>
              <a href={runHref(run.instanceId)}>{run.instanceId}</a>
            </td>
            <td>
              <StatusBadge status={run.runtimeStatus} />
            </td>
            <td>{run.stage ?? '—'}</td>
            <td>{run.verdict ?? '—'}</td>
            <td>{run.generation ?? '—'}</td>
            <td>{run.dataset ?? '—'}</td>
            <td>{run.source ?? '—'}</td>
            <td>{utc(run.createdTime)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function RunsPage({ query }: { query: string }) {
  const filter = useMemo(() => filterFromParams(new URLSearchParams(query)), [query]);
  const [more, setMore] = useState<{ runs: RunSummary[]; token: string | null }>({ runs: [], token: null });
  const first = useLoad((signal) => listRuns(filter, PAGE, null, signal), query);
  useEffect(() => setMore({ runs: [], token: null }), [query, first.data]);
  const runs = [...(first.data?.runs ?? []), ...more.runs];
  const token = more.runs.length > 0 ? more.token : (first.data?.continuationToken ?? null);
  useInterval(
    first.reload,
    5000,
    runs.some((r) => ACTIVE_STATUSES.has(r.runtimeStatus)),
  );
  const loadMore = async (): Promise<void> => {
    const page = await listRuns(filter, PAGE, token);
    setMore((m) => ({ runs: [...m.runs, ...page.runs], token: page.continuationToken }));
  };
  return (
    <>
      <h1>Runs</h1>
      <FilterForm filter={filter} />
      <div aria-busy={first.loading} aria-live="polite" data-testid="runs-list">
        {first.error !== undefined && <p class="error">{errorText(first.error)}</p>}
        {first.data && <RunsTable runs={runs} />}
      </div>
      <div class="row">
        <button type="button" onClick={first.reload}>
          Refresh
        </button>
        {token && (
          <button type="button" onClick={() => void loadMore()}>
            Load more runs
          </button>
        )}
      </div>
      <BulkReplay filter={filter} onDone={first.reload} />
    </>
  );
}
