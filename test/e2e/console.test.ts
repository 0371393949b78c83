import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';

import { type Browser, chromium, type Page } from 'playwright-core';
import { parse as parseYaml } from 'yaml';

import { buildConsole } from '../../local/console/build';
import { ConsoleServer } from '../../local/console/server';
import { duckdb } from '../integration/databricks/lakeSupport';
import { auditRecords, deltaSource, type Pipeline, REPO_ROOT, startPipeline } from './support';

/*
 * The operations console in a real browser (Debian's chromium through playwright-core) against the embedded
 * runtime: a rejected file and a file whose silver run is made to fail, then the page filters the runs,
 * opens the failed one, replays it from the keyboard and shows the gold and data-quality charts. Expected
 * values come from the files this test writes, never from the code under test. One silver and one gold
 * Spark run in all (the replay); the failure is injected before Spark starts.
 */

jest.setTimeout(1_200_000);

const CHROMIUM = process.env.LAKEWATT_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
/** Set to a folder to keep screenshots of the pages (docs/img/console-runs.png comes from here). */
const SCREENSHOTS = process.env.LAKEWATT_CONSOLE_SCREENSHOTS;

const DAYS = ['2025-03-04', '2025-03-05'];
const METERS = ['CONSOLE-1', 'CONSOLE-2'];
/** Physical lines (the header is line 1) of the accepted file whose kWh is negative: rejected. */
const BAD_LINES = [5, 61];

interface Written {
  file: string;
  rows: number;
}

/** Half-hourly import readings of METERS over DAYS, with negative kWh on BAD_LINES. */
async function writeReadings(dir: string): Promise<Written> {
  const lines = ['meter_id,interval_start,interval_minutes,channel,kwh,quality'];
  for (const meter of METERS) {
    for (const day of DAYS) {
      for (let period = 0; period < 48; period++) {
        const start = new Date(Date.parse(`${day}T00:00:00Z`) + period * 1_800_000).toISOString();
        const kwh = (period % 24) / 10 + 0.05;
        const bad = BAD_LINES.includes(lines.length + 1); // the line this row is about to become
        lines.push(`${meter},${start.replace('.000Z', 'Z')},30,import,${bad ? '-1' : kwh.toFixed(3)},actual`);
      }
    }
  }
  const file = path.join(dir, 'console-readings.csv');
  await fs.writeFile(file, `${lines.join('\n')}\n`);
  return { file, rows: lines.length - 1 };
}

/** A file whose every row is rejected (negative kWh): verdict rejected, no Spark run. */
async function writeRejected(dir: string): Promise<string> {
  const rows = [0, 1, 2].map((i) => `CONSOLE-X,2025-03-04T0${i}:00:00Z,30,import,-5,actual`);
  const file = path.join(dir, 'console-rejected.csv');
  await fs.writeFile(
    file,
    `meter_id,interval_start,interval_minutes,channel,kwh,quality\n${rows.join('\n')}\n`,
  );
  return file;
}

/** The ids of the runs the list shows, in order. */
async function listedRuns(page: Page): Promise<Array<string | null>> {
  const rows = await page.locator('[data-testid="runs-list"] tr[data-run]').all();
  return Promise.all(rows.map((row) => row.getAttribute('data-run')));
}

/** `dataset/source` of the runtime's source contracts, read from their YAML: with a schedule, and without. */
async function contractSources(): Promise<{ scheduled: string[]; unscheduled: string[] }> {
  const dir = path.join(REPO_ROOT, 'contracts', 'sources');
  const scheduled: string[] = [];
  const unscheduled: string[] = [];
  for (const name of (await fs.readdir(dir)).filter((n) => n.endsWith('.yaml'))) {
    const contract = parseYaml(await fs.readFile(path.join(dir, name), 'utf8')) as Record<string, unknown>;
    const key = `${String(contract.dataset)}/${String(contract.source)}`;
    (contract.schedule ? scheduled : unscheduled).push(key);
  }
  return { scheduled: scheduled.sort(), unscheduled: unscheduled.sort() };
}

/** The `data-source` of every element `selector` matches, sorted. */
async function sourcesListed(page: Page, selector: string): Promise<string[]> {
  const keys = await Promise.all(
    (await page.locator(selector).all()).map((el) => el.getAttribute('data-source')),
  );
  return keys.map(String).sort();
}

// Code that runs in the page is passed as text: this project's TypeScript has no DOM types.
const FOCUSED = `({ id: document.activeElement?.id ?? '', text: document.activeElement?.textContent?.trim() ?? '' })`;

/** Every control (input, select, button, link, summary) without an accessible name: a label or its text. */
const UNLABELLED = `Array.from(document.querySelectorAll('input, select, textarea, button, a[href], summary'))
  .filter((el) => {
    const label = el.labels && el.labels.length > 0 ? el.labels[0].textContent.trim() : '';
    const aria = (el.getAttribute('aria-label') || '').trim() !== '' || el.hasAttribute('aria-labelledby');
    const text = !['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName) && (el.textContent || '').trim() !== '';
    return label === '' && !aria && !text;
  })
  .map((el) => el.outerHTML.slice(0, 120))`;

/** Presses Tab until the focused element matches `test` (at most `limit` presses). */
async function tabTo(
  page: Page,
  test: (el: { id: string; text: string }) => boolean,
  limit = 60,
): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    if (test(await page.evaluate<{ id: string; text: string }>(FOCUSED))) return;
  }
  throw new Error('the keyboard did not reach the control');
}

const unlabelledControls = (page: Page): Promise<string[]> => page.evaluate<string[]>(UNLABELLED);

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  await fs.mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, name), fullPage: false });
}

const suite = HAVE_CHROMIUM ? describe : describe.skip;
if (!HAVE_CHROMIUM) {
  process.stderr.write(
    `console.test.ts: SKIPPED: no chromium at ${CHROMIUM} (make setup-browser installs Debian's; or set LAKEWATT_CHROMIUM)\n`,
  );
}

suite(`the operations console in chromium (${CHROMIUM})`, () => {
  let pipeline: Pipeline;
  let consoleServer: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let written: Written;
  let failedId = '';
  let rejectedId = '';
  const pageErrors: string[] = [];

  beforeAll(async () => {
    pipeline = await startPipeline();
    const built = await buildConsole({ outDir: path.join(pipeline.root, 'console') });
    const emulator = pipeline.runtime.emulator!;
    consoleServer = await ConsoleServer.start({
      port: 0,
      hostUrl: pipeline.runtime.baseUrl,
      sql: { url: emulator.url, token: emulator.token },
      assetsDir: built.outDir,
    });
    const dir = path.join(pipeline.root, 'files');
    await fs.mkdir(dir, { recursive: true });
    written = await writeReadings(dir);

    const rejected = await pipeline.drop(await writeRejected(dir), {
      dataset: 'meter_readings',
      source: 'canonical',
      date: DAYS[0]!,
    });
    rejectedId = rejected.instanceId;
    expect(await pipeline.wait(rejectedId)).toMatchObject({ runtimeStatus: 'Completed' });

    // Every silver run fails (retries included) until the replay, as a job bug would make it.
    emulator.faults.set({
      tasks: [
        {
          task: 'silver',
          job: 'lakewatt-silver',
          outcome: 'FAILED',
          count: 1000,
          message: 'ValueError: injected',
        },
      ],
    });
    try {
      const dropped = await pipeline.drop(written.file, {
        dataset: 'meter_readings',
        source: 'canonical',
        date: DAYS[1]!,
      });
      failedId = dropped.instanceId;
      expect(await pipeline.wait(failedId)).toMatchObject({ runtimeStatus: 'Failed' });
    } finally {
      emulator.faults.set({});
    }

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    await consoleServer?.close();
    await pipeline?.close();
  });

  it('when the console opens, then the runs list shows both runs, newest first, with labelled controls', async () => {
    await page.goto(consoleServer.url);
    await page.locator('tr[data-run]').nth(1).waitFor();
    expect(await listedRuns(page)).toEqual([failedId, rejectedId]);
    expect(await unlabelledControls(page)).toEqual([]);
  });

  it('when the status filter is set and applied with the keyboard, then only the failed run is listed', async () => {
    await page.locator('body').focus();
    await tabTo(page, (el) => el.id === 'f-status');
    await page.keyboard.press('F'); // the first status starting with F: Failed
    await tabTo(page, (el) => el.text === 'Apply filters');
    await page.keyboard.press('Enter');
    await page.waitForURL(/runtimeStatus=Failed/);
    await page.locator(`tr[data-run="${rejectedId}"]`).waitFor({ state: 'detached' });
    expect(await listedRuns(page)).toEqual([failedId]);
  });

  it('when a bulk replay is previewed, then it lists the failed run and its next generation and starts nothing', async () => {
    await page.getByRole('button', { name: 'Preview replay' }).click();
    const preview = page.locator('[data-testid="bulk-preview"]');
    await preview.waitFor();
    expect(await preview.innerText()).toContain(`${failedId} → generation 1`);
    const statuses = await fetch(`${pipeline.runtime.baseUrl}/api/runs/${failedId}`).then(
      (r) => r.json() as Promise<{ runtimeStatus: string; generation: number }>,
    );
    expect(statuses).toMatchObject({ runtimeStatus: 'Failed', generation: 0 });
  });

  it('when the verdict filter is set to rejected, then only the rejected file is listed', async () => {
    await page.selectOption('#f-status', '');
    await page.selectOption('#f-verdict', 'rejected');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator(`tr[data-run="${failedId}"]`).waitFor({ state: 'detached' });
    expect(await listedRuns(page)).toEqual([rejectedId]);
  });

  it('when the failed run is opened, then it shows the failed silver stage and the rejected rows with reasons', async () => {
    await page.goto(`${consoleServer.url}#/runs/${encodeURIComponent(failedId)}`);
    await page.locator('[data-testid="rejected-rows"]').waitFor();
    expect(await page.locator('[data-testid="run-error"]').innerText()).toContain('JOB_FAILED');
    expect(await page.locator('.timeline li[data-stage="silver"]').getAttribute('data-status')).toBe(
      'failed',
    );
    const rows = await page.locator('[data-testid="rejected-rows"] tbody tr').allInnerTexts();
    expect(rows.map((text) => Number(text.split('\t')[0]))).toEqual(BAD_LINES);
    for (const text of rows) expect(text).toContain('NEGATIVE_VALUE');
    expect(await unlabelledControls(page)).toEqual([]);
  });

  it('when the replay button is pressed from the keyboard, then the page follows the run until it completes', async () => {
    await page.locator('body').focus();
    await tabTo(page, (el) => el.text === 'Replay this run');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="replay-status"]', { hasText: 'generation 1' }).waitFor();
    // Locator waits, not waitForFunction: the page's Content-Security-Policy forbids eval, as it should.
    await page.locator('dd[data-fact="Generation"]', { hasText: /^1$/ }).waitFor();
    const status = page.locator('dd[data-fact="Status"]');
    await status.filter({ hasText: /^(Completed|Failed|Terminated)$/ }).waitFor({ timeout: 900_000 });
    expect(await status.innerText()).toBe('Completed');
    const record = (await auditRecords(pipeline.lake)).find(
      (r) => r.instanceId === failedId && r.generation === 1,
    );
    expect(record).toMatchObject({ status: 'completed', requestedBy: { kind: 'local' } });
    await page.goto(consoleServer.url);
    await page.locator('tr[data-run]').nth(1).waitFor();
    await screenshot(page, 'console-runs.png');
  });

  it('when the gold page opens, then the daily consumption chart draws the file’s days with the kWh gold holds', async () => {
    await page.goto(`${consoleServer.url}#/gold`);
    const chart = page.locator('figure[data-chart="daily-consumption"]');
    await chart.locator('canvas').first().waitFor({ timeout: 300_000 });
    // Two series (import, export) over the file's days.
    expect(Number(await chart.getAttribute('data-points'))).toBe(2 * DAYS.length);
    const table = await Promise.all(
      // The chart's data table (in a closed <details>: textContent, as innerText is empty when not drawn).
      (await chart.locator('table.data tbody tr').all()).map(async (row) => ({
        day: (await row.locator('th').textContent()) ?? '',
        kwh: Number(await row.locator('td').first().getAttribute('data-value')),
      })),
    );
    // The file's UTC days (its meters' local days: Europe/London is on UTC in early March), with the kWh gold
    // holds for them read straight from the Delta table with DuckDB (VEE fills the rejected readings' gaps).
    expect(table.map((row) => row.day)).toEqual(DAYS);
    const source = await deltaSource(path.join(pipeline.lakeRoot, 'gold', 'daily_consumption'));
    const gold = await duckdb(
      `SELECT CAST(date AS VARCHAR) AS day, sum(import_kwh) AS kwh FROM ${source} GROUP BY date ORDER BY date`,
    );
    expect(table.map((row) => row.day)).toEqual(gold.map((row) => row.day));
    table.forEach((row, i) => expect(row.kwh).toBeCloseTo(Number(gold[i]!.kwh), 6));
    expect(await unlabelledControls(page)).toEqual([]);
    await screenshot(page, 'console-gold.png');
  });

  it('when the data quality page opens, then the source shows its rejected file and rejected row share', async () => {
    await page.goto(`${consoleServer.url}#/quality`);
    const source = page.locator('tr[data-source="meter_readings/canonical"]');
    await source.waitFor({ timeout: 300_000 });
    expect(await source.locator('[data-files-rejected]').innerText()).toBe('1');
    const share = (BAD_LINES.length / written.rows) * 100;
    expect(await source.innerText()).toContain(`${share.toFixed(2)} %`);
    expect(
      Number(await page.locator('figure[data-chart="rejected-share"]').getAttribute('data-points')),
    ).toBe(DAYS.length);
    expect(await unlabelledControls(page)).toEqual([]);
  });

  it('when the freshness page is opened from the nav with the keyboard, then it lists the sources with and without a schedule apart', async () => {
    await page.goto(consoleServer.url);
    await page.locator('tr[data-run]').first().waitFor();
    await page.locator('body').focus();
    await tabTo(page, (el) => el.text === 'Freshness');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/freshness$/);
    const expected = await contractSources();
    if (expected.scheduled.length === 0) {
      await page.locator('[data-testid="freshness-none"]', { hasText: 'No scheduled sources' }).waitFor();
    } else {
      await page.locator('[data-testid="freshness-sources"]').waitFor();
      expect(await sourcesListed(page, '[data-testid="freshness-sources"] tbody tr')).toEqual(
        expected.scheduled,
      );
    }
    expect(await sourcesListed(page, '[data-testid="freshness-unscheduled"] li')).toEqual(
      expected.unscheduled,
    );
    expect(await unlabelledControls(page)).toEqual([]);
  });

  it('when the pages were used, then the browser reported no script error', () => {
    expect(pageErrors).toEqual([]);
  });
});
