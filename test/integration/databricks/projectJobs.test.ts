import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { JobsClient, RunInfo } from '../../../lib/databricks';
import { JobsEmulator } from '../../../local/databricks/emulator';
import {
  deltaSnapshot,
  duckdb,
  parquetList,
  simulateAndStage,
  sqlString,
  type StagedInput,
  waitForProjectRun,
} from './lakeSupport';
import { clientFor, REPO_ROOT, taskRunId } from './support';

/*
 * The project's own silver and gold jobs (databricks/, target local) through the real Jobs API client and the
 * emulator, on a small simulated data set staged by the real validation engine, in a temporary lake. One warm
 * Spark worker serves every run; the data is a few meters over two days so Spark's own work stays small.
 */

// Spark start plus five job runs on a busy 2-core machine.
jest.setTimeout(600_000);

const RUN_TIMEOUT_MS = 300_000;
const DEFAULT_TIMEZONE = 'Europe/London';
const PII_KEY = `project-jobs-test-key-${randomUUID()}`;

let root: string;
let lakeRoot: string;
let emulator: JobsEmulator | undefined;
let client: JobsClient;
let staged: StagedInput[];

const byDataset = (dataset: string): StagedInput[] => staged.filter((s) => s.dataset === dataset);
const silverDir = (table: string): string => path.join(lakeRoot, 'silver', table);
const goldDir = (table: string): string => path.join(lakeRoot, 'gold', table);
const bronzeDir = (dataset: string): string => path.join(lakeRoot, 'silver', '_bronze', dataset);
const manifestPath = (orchestrationId: string, generation: number, job: string): string =>
  path.join(lakeRoot, 'audit', 'job-runs', orchestrationId, String(generation), `${job}.json`);

async function readManifest(orchestrationId: string, job: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(manifestPath(orchestrationId, 0, job), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** What the pipeline sends the silver job for one batch of staged files of a dataset. */
function silverParameters(orchestrationId: string, inputs: StagedInput[]): Record<string, string> {
  return {
    dataset: inputs[0]!.dataset,
    orchestration_id: orchestrationId,
    instance_ids: inputs.map((s) => s.entry).join(','),
    generation: '0',
  };
}

async function runToEnd(job: string, jobParameters: Record<string, string>, token: string): Promise<RunInfo> {
  const { runId } = await client.runJob(job, { jobParameters, idempotencyToken: token });
  const run = await waitForProjectRun(client, runId, RUN_TIMEOUT_MS);
  if (run.outcome.kind !== 'Succeeded') {
    const output = await client.getRunOutput(taskRunId(run, run.tasks[0]!.taskKey));
    throw new Error(
      `${job} run ${runId} ended ${run.outcome.reason}: ${output.error}\n${output.logs?.slice(-4000)}`,
    );
  }
  return run;
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-project-jobs-'));
  lakeRoot = path.join(root, 'lake');
  ({ staged } = await simulateAndStage(
    lakeRoot,
    { meters: 6, days: 2, defects: 0, seed: 'project-jobs' },
    (file) =>
      (file.dataset === 'contracts' && file.path.includes('contracts_full')) ||
      (file.dataset === 'customers' && file.path.includes('customers_full')) ||
      (file.dataset === 'meter_readings' && file.source === 'headend_utc'),
    (file) => `it-${file.dataset}-${file.source}-${file.data_date}`.replace(/_/g, '-'),
  ));
  for (const input of staged) expect(input.report.verdict).toBe('accepted');
  expect(byDataset('meter_readings')).toHaveLength(2);

  const token = `test-${randomUUID()}`;
  emulator = await JobsEmulator.start({
    bundleDir: path.join(REPO_ROOT, 'databricks'),
    target: 'local',
    home: path.join(root, 'home'),
    lakeRoot,
    piiHashKey: PII_KEY,
    // Nothing from the developer's shell (BUNDLE_VAR_*, LAKE_ROOT) may point the jobs elsewhere.
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

describe('the project jobs on the emulator', () => {
  it('when silver runs for staged contracts, customers and readings, then bronze and silver hold them and each run leaves its manifest', async () => {
    for (const dataset of ['contracts', 'customers', 'meter_readings']) {
      const inputs = byDataset(dataset);
      const orchestrationId = inputs[0]!.instanceId;
      const run = await runToEnd(
        'lakewatt-silver',
        silverParameters(orchestrationId, inputs),
        `${orchestrationId}:0:silver`,
      );
      expect(run.jobParameters).toMatchObject({ dataset, orchestration_id: orchestrationId });
      const manifest = await readManifest(orchestrationId, 'silver');
      expect(manifest).toMatchObject({ job: 'silver', orchestrationId, generation: 0, status: 'succeeded' });
      expect(manifest.databricksRunId).toBe(String(run.runId));
      // The key reaches the job through its environment only: not a parameter, not in the manifest.
      expect(JSON.stringify(run.raw)).not.toContain(PII_KEY);
      expect(JSON.stringify(manifest)).not.toContain(PII_KEY);
    }

    const readings = parquetList(byDataset('meter_readings').map((s) => s.parquet));
    const [expected] = await duckdb(`
      SELECT count(*)::INTEGER AS staged,
             count(DISTINCT (meter_id, channel, interval_start))::INTEGER AS distinct_keys
      FROM read_parquet(${readings})`);
    expect((await deltaSnapshot(bronzeDir('meter_readings'))).rows).toBe(expected!.staged);
    expect((await deltaSnapshot(silverDir('meter_readings'))).rows).toBe(expected!.distinct_keys);

    const [contracts] = await duckdb(
      `SELECT count(DISTINCT (contract_id, valid_from))::INTEGER AS n FROM read_parquet(${parquetList(byDataset('contracts').map((s) => s.parquet))})`,
    );
    expect((await deltaSnapshot(silverDir('contracts'))).rows).toBe(contracts!.n);
    const [customers] = await duckdb(
      `SELECT count(DISTINCT (customer_id, updated_at))::INTEGER AS n FROM read_parquet(${parquetList(byDataset('customers').map((s) => s.parquet))})`,
    );
    expect((await deltaSnapshot(silverDir('customers'))).rows).toBe(customers!.n);
    expect((await deltaSnapshot(silverDir('validation_reports'))).rows).toBe(staged.length);
  });

  it('when gold runs for the days the readings cover, then the gold tables hold those days', async () => {
    const readings = byDataset('meter_readings');
    const days = readings.flatMap((s) => s.report.affectedDates).sort();
    const orchestrationId = readings[0]!.instanceId;
    const run = await runToEnd(
      'lakewatt-gold',
      {
        orchestration_id: orchestrationId,
        generation: '0',
        date_from: days[0]!,
        date_to: days.at(-1)!,
        dataset: 'meter_readings',
      },
      `${orchestrationId}:0:gold`,
    );
    const manifest = await readManifest(orchestrationId, 'gold');
    expect(manifest).toMatchObject({ job: 'gold', status: 'succeeded', databricksRunId: String(run.runId) });

    // Local days per meter: the contract's time zone at the reading, else the default zone.
    const staging = (dataset: string): string => parquetList(byDataset(dataset).map((s) => s.parquet));
    const [daily] = await duckdb(`
      WITH r AS (SELECT DISTINCT meter_id, channel, interval_start FROM read_parquet(${staging('meter_readings')})),
           c AS (SELECT meter_id, customer_id, tariff_timezone, valid_from, valid_to FROM read_parquet(${staging('contracts')}))
      SELECT count(DISTINCT (CAST(timezone(coalesce(c.tariff_timezone, ${sqlString(DEFAULT_TIMEZONE)}), r.interval_start) AS DATE),
                             r.meter_id, c.customer_id))::INTEGER AS n
      FROM r LEFT JOIN c ON r.meter_id = c.meter_id AND r.interval_start >= c.valid_from
                         AND (c.valid_to IS NULL OR r.interval_start < c.valid_to)`);
    expect((await deltaSnapshot(goldDir('daily_consumption'))).rows).toBe(daily!.n);
    const [quality] = await duckdb(`
      SELECT count(DISTINCT (CAST(interval_start AS DATE), source_system))::INTEGER AS n
      FROM read_parquet(${staging('meter_readings')})
      WHERE CAST(interval_start AS DATE) BETWEEN DATE ${sqlString(days[0]!)} AND DATE ${sqlString(days.at(-1)!)}`);
    expect((await deltaSnapshot(goldDir('data_quality_daily'))).rows).toBe(quality!.n);
  });

  it('when gold runs the dimensions only, without days, then they hold every meter and contract version the contracts name', async () => {
    const contracts = byDataset('contracts');
    const orchestrationId = contracts[0]!.instanceId;
    await runToEnd(
      'lakewatt-gold',
      {
        orchestration_id: orchestrationId,
        generation: '0',
        tables: 'dim_meter,dim_customer,dim_contract',
        dataset: 'contracts',
      },
      `${orchestrationId}:0:gold`,
    );
    const manifest = await readManifest(orchestrationId, 'gold');
    expect(manifest).toMatchObject({ job: 'gold', status: 'succeeded' });

    const [expected] = await duckdb(`
      SELECT count(DISTINCT meter_id)::INTEGER AS meters,
             count(DISTINCT (contract_id, valid_from))::INTEGER AS versions
      FROM read_parquet(${parquetList(contracts.map((s) => s.parquet))})`);
    expect((await deltaSnapshot(goldDir('dim_meter'))).rows).toBe(expected!.meters);
    expect((await deltaSnapshot(goldDir('dim_contract'))).rows).toBe(expected!.versions);
  });

  it('when silver runs again with the same inputs, then no table changes and the manifest stays as it was', async () => {
    const inputs = byDataset('meter_readings');
    const orchestrationId = inputs[0]!.instanceId;
    const tables = [
      bronzeDir('meter_readings'),
      silverDir('meter_readings'),
      silverDir('validation_reports'),
    ];
    const before = await Promise.all(tables.map((t) => deltaSnapshot(t)));
    const manifestBefore = await fs.readFile(manifestPath(orchestrationId, 0, 'silver'), 'utf8');

    await runToEnd(
      'lakewatt-silver',
      silverParameters(orchestrationId, inputs),
      `${orchestrationId}:0:silver:again`,
    );

    const after = await Promise.all(tables.map((t) => deltaSnapshot(t)));
    expect(after.map((s) => [s.version, s.rows])).toEqual(before.map((s) => [s.version, s.rows]));
    expect(await fs.readFile(manifestPath(orchestrationId, 0, 'silver'), 'utf8')).toBe(manifestBefore);
  });
});
