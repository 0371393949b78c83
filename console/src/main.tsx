import { render } from 'preact';

import { setToken } from './auth';
import { useHash } from './hooks';
import { FreshnessPage } from './pages/Freshness';
import { GoldPage } from './pages/Gold';
import { QualityPage } from './pages/Quality';
import { RunPage } from './pages/Run';
import { RunsPage } from './pages/Runs';

/** The operations console: a hash router over four pages, all reading the runs API and SQL statements. */

const PAGES = [
  { path: 'runs', title: 'Runs' },
  { path: 'gold', title: 'Gold' },
  { path: 'quality', title: 'Data quality' },
  { path: 'freshness', title: 'Freshness' },
] as const;

function Page({ path, query }: { path: string; query: string }) {
  const run = /^runs\/(.+)$/.exec(path);
  if (run) return <RunPage id={decodeURIComponent(run[1]!)} />;
  switch (path) {
    case 'gold':
      return <GoldPage query={query} />;
    case 'quality':
      return <QualityPage query={query} />;
    case 'freshness':
      return <FreshnessPage query={query} />;
    default:
      return <RunsPage query={query} />;
  }
}

function App() {
  const hash = useHash();
  const [rawPath = '', query = ''] = hash.replace(/^\//, '').split('?');
  const path = rawPath || 'runs';
  const section = path.split('/')[0];
  const title = PAGES.find((p) => p.path === section)?.title ?? 'Runs';
  document.title = `${title} · Lakewatt console`;
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header>
        <span class="brand">Lakewatt</span>
        <nav aria-label="Console pages">
          {PAGES.map((p) => (
            <a key={p.path} href={`#/${p.path}`} aria-current={section === p.path ? 'page' : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Page key={path} path={path} query={query} />
      </main>
    </>
  );
}

const TOKEN_KEY = 'lakewatt-console-token';

/**
 * The console token arrives in the address the user opened (`?token=`): kept for this tab in sessionStorage
 * (this origin's only, unlike a cookie, which every port of 127.0.0.1 would get) and dropped from the address.
 */
function adoptToken(): void {
  const url = new URL(location.href);
  const given = url.searchParams.get('token');
  if (given) {
    sessionStorage.setItem(TOKEN_KEY, given);
    url.searchParams.delete('token');
    history.replaceState(null, '', `${url.pathname}${url.search}${url.hash}`);
  }
  setToken(sessionStorage.getItem(TOKEN_KEY) ?? '');
}

adoptToken();
render(<App />, document.getElementById('app')!);
