import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { JobsClient, RunInfo } from '../../lib/databricks';
import { simulate } from '../../lib/simulator';
import { JobsEmulator } from '../../local/databricks/emulator';
import {
  duckdb,
  parquetList,
  simulateAndStage,
  type StagedInput,
  waitForProjectRun,
} from '../integration/databricks/lakeSupport';
import { clientFor, REPO_ROOT } from '../integration/databricks/support';
import {
  type CustomerDailyCostRow,
  type DailyConsumptionRow,
  DEFAULT_TIMEZONE,
  expectedCustomerDailyCost,
  expectedDailyConsumption,
  expectedTotals,
  totalsOf,
} from './truth';

/*
 * Checks the truth helper (./truth.ts) against the real pipeline pieces without the orchestration: every
 * file of a small clean simulation staged by the real validation engine, lakewatt-silver per dataset and
 * lakewatt-gold over the readings' UTC days on the Jobs emulator, then gold read back from its Delta log's
 * live Parquet files. The simulation covers the 2025-10-26 fall-back day (50 settlement periods in London,
 * 25-hour local days) and a contract version change at local midnight.
 */

jest.setTimeout(900_000);

const RUN_TIMEOUT_MS = 400_000;
const SIMULATION = { meters: 6, days: 2, start: '2025-10-25', defects: 0, seed: 'e2e-truth' };
const KWH_TOLERANCE = 1e-6;

let root: string;
let lakeRoot: string;
let emulator: JobsEmulator | undefined;
let client: JobsClient;
let staged: StagedInput[];
let readingsInManifest: number;

const byDataset = (dataset: string): StagedInput[] => staged.filter((s) => s.dataset === dataset);
const goldDir = (table: string): string => path.join(lakeRoot, 'gold', table);

async function runToEnd(job: string, jobParameters: Record<string, string>): Promise<RunInfo> {
  const { runId } = await client.runJob(job, { jobParameters, idempotencyToken: randomUUID() });
  const run = await waitForProjectRun(client, runId, RUN_TIMEOUT_MS);
  if (run.outcome.kind !== 'Succeeded') throw new Error(`${job} run ${runId} ended ${run.outcome.reason}`);
  return run;
}

/** The live data files of a Delta table from its JSON commit log (no checkpoints, no deletion vectors). */
async function deltaLiveFiles(tableDir: string): Promise<string[]> {
  const logDir = path.join(tableDir, '_delta_log');
  const names = (await fs.readdir(logDir)).filter((n) => /^\d{20}\.json$/.test(n)).sort();
  const live = new Set<string>();
  for (const name of names) {
    const text = await fs.readFile(path.join(logDir, name), 'utf8');
    const actions = text
      .split('\n')
      .filter((l) => l.trim())
      .map(
        (l) =>
          JSON.parse(l) as { add?: { path: string; deletionVector?: unknown }; remove?: { path: string } },
      );
    for (const a of actions) if (a.remove) live.delete(a.remove.path);
    for (const a of actions) {
      if (!a.add) continue;
      if (a.add.deletionVector) throw new Error(`${tableDir}: deletion vectors are not read here`);
      live.add(a.add.path);
    }
  }
  return [...live].map((p) => path.join(tableDir, decodeURIComponent(p)));
}

async function goldRows(
  table: string,
  columns: string,
  order: string,
): Promise<Array<Record<string, unknown>>> {
  const files = await deltaLiveFiles(goldDir(table));
  if (files.length === 0) return [];
  return duckdb(`SELECT ${columns} FROM read_parquet(${parquetList(files)}) ORDER BY ${order}`);
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-e2e-truth-'));
  lakeRoot = path.join(root, 'lake');
  // Instance ids sort in delivery order, as the orchestration's later ingestion would (silver: latest wins).
  let n = 0;
  const result = await simulateAndStage(
    lakeRoot,
    SIMULATION,
    () => true,
    (file) => `e2e-${file.delivery_date}-${String(n++).padStart(3, '0')}-${file.dataset}`.replace(/_/g, '-'),
  );
  staged = result.staged;
  readingsInManifest = result.manifest.summary.readings;
  for (const input of staged) expect(input.report.verdict).toBe('accepted');

  const token = `test-${randomUUID()}`;
  emulator = await JobsEmulator.start({
    bundleDir: path.join(REPO_ROOT, 'databricks'),
    target: 'local',
    home: path.join(root, 'home'),
    lakeRoot,
    piiHashKey: `e2e-truth-${randomUUID()}`,
    env: {},
    token,
    port: 0,
    repoRoot: REPO_ROOT,
    prewarm: true,
  });
  client = clientFor(emulator.url, token);
}, 300_000);

afterAll(async () => {
  await emulator?.close();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

describe('the truth helper against silver and gold on the emulator', () => {
  let localDates: string[] = [];

  it('when the truth reads the bronze files, then it accounts for every simulated reading', async () => {
    const simDir = lakeRoot;
    const totals = await expectedTotals(simDir);
    expect(totals.readings).toBe(readingsInManifest);
    expect(totals.meters).toBe(SIMULATION.meters);
    // The London wide rows of the fall-back day carry 50 half-hours in a 25-hour local day.
    const daily = await expectedDailyConsumption(simDir);
    const fallBack = daily.filter((r) => r.date === '2025-10-26' && r.timezone === 'Europe/London');
    expect(fallBack.some((r) => r.import_readings === 50 && r.expected_readings === 50)).toBe(true);
  });

  it.each([15, 60] as const)(
    'when the long sources use %i-minute intervals, then the truth still accounts for every reading',
    async (interval) => {
      const dir = path.join(root, `interval-${interval}`);
      const manifest = await simulate(dir, { ...SIMULATION, interval });
      const totals = await expectedTotals(dir);
      expect(totals.readings).toBe(manifest.summary.readings);
      expect(totals.meters).toBe(SIMULATION.meters);
      const daily = await expectedDailyConsumption(dir);
      // Every full local day of a long-source meter has its DST-aware count of readings.
      for (const r of daily.filter((d) => d.date === '2025-10-26' && d.timezone !== 'Europe/London')) {
        expect(r.import_readings).toBe((25 * 60) / interval);
        expect(r.expected_readings).toBe((25 * 60) / interval);
      }
    },
  );

  it('when silver runs per dataset and gold over the readings days, then gold.daily_consumption is the truth', async () => {
    for (const dataset of ['contracts', 'customers', 'prices', 'meter_readings']) {
      const inputs = byDataset(dataset);
      await runToEnd('lakewatt-silver', {
        dataset,
        orchestration_id: inputs[0]!.instanceId,
        instance_ids: inputs.map((s) => s.entry).join(','),
        generation: '0',
      });
    }
    const readings = byDataset('meter_readings');
    const days = [...new Set(readings.flatMap((s) => s.report.affectedDates))].sort();
    const orchestrationId = readings[0]!.instanceId;
    await runToEnd('lakewatt-gold', {
      orchestration_id: orchestrationId,
      generation: '0',
      date_from: days[0]!,
      date_to: days.at(-1)!,
      dataset: 'meter_readings',
      tables: 'daily_consumption,customer_daily_cost',
    });
    const manifest = JSON.parse(
      await fs.readFile(path.join(lakeRoot, 'audit', 'job-runs', orchestrationId, '0', 'gold.json'), 'utf8'),
    ) as { parameters: { local_dates: string[]; default_timezone?: string } };
    localDates = manifest.parameters.local_dates;

    const expected = await expectedDailyConsumption(lakeRoot, { defaultTimezone: DEFAULT_TIMEZONE });
    const actual: DailyConsumptionRow[] = (
      await goldRows(
        'daily_consumption',
        `strftime(date, '%Y-%m-%d') AS date, meter_id, customer_id, timezone, import_kwh, export_kwh,
         readings_count::INTEGER AS readings_count, import_readings::INTEGER AS import_readings,
         expected_readings::INTEGER AS expected_readings, completeness, estimated_share`,
        'date, meter_id, customer_id',
      )
    ).map((r) => ({ ...r }) as unknown as DailyConsumptionRow);

    const want = totalsOf(expected);
    const got = totalsOf(actual);
    console.log(`truth check: expected ${JSON.stringify(want)}\n  gold ${JSON.stringify(got)}`);
    expect(got.rows).toBe(want.rows);
    expect(Math.abs(got.import_kwh - want.import_kwh)).toBeLessThanOrEqual(KWH_TOLERANCE);
    expect(Math.abs(got.export_kwh - want.export_kwh)).toBeLessThanOrEqual(KWH_TOLERANCE);
    expect(got.readings).toBe(want.readings);

    // Row by row: same keys, counts and kWh within rounding.
    const key = (r: DailyConsumptionRow): string => `${r.date}|${r.meter_id}|${r.customer_id}|${r.timezone}`;
    const gold = new Map(actual.map((r) => [key(r), r]));
    const mismatches: string[] = [];
    for (const e of expected) {
      const a = gold.get(key(e));
      if (!a) {
        mismatches.push(`missing in gold: ${key(e)}`);
        continue;
      }
      gold.delete(key(e));
      const close = (x: number, y: number | null): boolean => y !== null && Math.abs(x - y) <= KWH_TOLERANCE;
      const same =
        close(e.import_kwh, a.import_kwh) &&
        close(e.export_kwh, a.export_kwh) &&
        e.readings_count === a.readings_count &&
        e.import_readings === a.import_readings &&
        e.expected_readings === a.expected_readings &&
        close(e.completeness, a.completeness) &&
        (e.estimated_share === null
          ? a.estimated_share === null
          : close(e.estimated_share, a.estimated_share));
      if (!same) mismatches.push(`differs: ${JSON.stringify(e)} vs gold ${JSON.stringify(a)}`);
    }
    for (const k of gold.keys()) mismatches.push(`only in gold: ${k}`);
    expect(mismatches).toEqual([]);
  });

  it('when gold ran, then the fixed-tariff rows of gold.customer_daily_cost are the truth', async () => {
    expect(localDates.length).toBeGreaterThan(0);
    const expected = await expectedCustomerDailyCost(lakeRoot, { dates: localDates });
    expect(expected.length).toBeGreaterThan(0);
    const actual = (
      await goldRows(
        'customer_daily_cost',
        `strftime(date, '%Y-%m-%d') AS date, customer_id, meter_id, contract_id, tariff_type, bidding_zone,
         import_kwh, energy_cost_eur, standing_charge_eur, total_cost_eur, unpriced_kwh`,
        'date, customer_id, meter_id, contract_id',
      )
    ).filter((r) => r.tariff_type === 'fixed') as unknown as CustomerDailyCostRow[];
    console.log(`truth check: ${expected.length} fixed cost rows expected, gold has ${actual.length}`);
    const round = (rows: CustomerDailyCostRow[]): CustomerDailyCostRow[] =>
      rows.map((r) => ({
        ...r,
        import_kwh: Number(r.import_kwh.toFixed(5)),
        energy_cost_eur: Number(r.energy_cost_eur.toFixed(5)),
        standing_charge_eur: Number(r.standing_charge_eur.toFixed(5)),
        total_cost_eur: Number(r.total_cost_eur.toFixed(5)),
      }));
    expect(round(actual)).toEqual(round(expected));
  });
});
