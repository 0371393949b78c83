import { promises as fs } from 'node:fs';
import path from 'node:path';

import { type AuditRecord, auditRecordSchema } from '../../lib/audit';
import { SqlClient, StaticTokenProvider, toRecords } from '../../lib/databricks';
import { type Manifest, simulate } from '../../lib/simulator';
import type { Dropped } from '../../local/drops';
import { type Pipeline, startPipeline } from './support';
import { type DailyConsumptionRow, expectedTotals, totalsOf } from './truth';

/*
 * A simulated day through every dataset and every simulated source, dropped as the source systems would
 * send it, through the whole embedded pipeline; then the ways files come back: overwritten, and failed
 * then replayed. Gold is read through the SQL API (Spark SQL on the emulator's warm worker) and compared
 * with figures computed from the simulator's own files by DuckDB (truth.ts), independently of the code.
 */

jest.setTimeout(1_800_000);

let pipeline: Pipeline;
let simDir: string;
let manifest: Manifest;
let sql: SqlClient;

type ManifestFile = Manifest['files'][number];

function target(file: ManifestFile): { dataset: string; source: string; date: string; name: string } {
  const [, , dataset, source, yyyy, mm, dd, name] = file.path.split('/');
  return { dataset: dataset!, source: source!, date: `${yyyy}-${mm}-${dd}`, name: name! };
}

async function dropAndWait(file: string, where: ReturnType<typeof target>): Promise<Dropped> {
  const dropped = await pipeline.drop(file, where);
  const status = await pipeline.wait(dropped.instanceId);
  expect({ file: where.name, ...status }).toMatchObject({ runtimeStatus: 'Completed' });
  return dropped;
}

async function query(statement: string): Promise<Array<Record<string, unknown>>> {
  return toRecords(await sql.executeStatement(statement, { warehouseId: 'e2e', waitTimeoutSeconds: 50 }));
}

async function auditOf(instanceId: string): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for await (const entry of pipeline.lake.list('audit', 'runs/')) {
    if (!entry.path.includes(`/${instanceId}/`)) continue;
    const object = await pipeline.lake.read('audit', entry.path);
    records.push(auditRecordSchema.parse(JSON.parse(object.data.toString('utf8'))));
  }
  return records.sort((a, b) => a.generation - b.generation);
}

beforeAll(async () => {
  pipeline = await startPipeline();
  sql = new SqlClient({
    host: pipeline.runtime.emulator!.url,
    tokens: new StaticTokenProvider(process.env.DATABRICKS_TOKEN!),
  });
  simDir = path.join(pipeline.root, 'sim');
  // The autumn clock change (a 25-hour day in London) with a clean data set: every file is accepted.
  manifest = await simulate(simDir, { meters: 4, days: 1, start: '2025-10-26', defects: 0, seed: 'e2e-day' });
}, 600_000);

afterAll(async () => {
  await pipeline?.close();
});

describe('the pipeline end to end', () => {
  it('when a simulated day goes through every dataset, then gold totals equal those computed from the simulator’s files', async () => {
    const files = [...manifest.files].sort((a, b) => a.delivery_date.localeCompare(b.delivery_date));
    // Reference data first, as the source systems send it; then prices and readings all at once.
    for (const dataset of ['contracts', 'customers']) {
      for (const file of files.filter((f) => f.dataset === dataset)) {
        await dropAndWait(path.join(simDir, file.path), target(file));
      }
    }
    const rest = files.filter((f) => f.dataset === 'prices' || f.dataset === 'meter_readings');
    expect(new Set(rest.filter((f) => f.dataset === 'meter_readings').map((f) => f.source)).size).toBe(3);
    const dropped = await Promise.all(
      rest.map((file) => pipeline.drop(path.join(simDir, file.path), target(file))),
    );
    const statuses = await Promise.all(dropped.map((d) => pipeline.wait(d.instanceId)));
    expect(statuses.map((s) => s.runtimeStatus)).toEqual(dropped.map(() => 'Completed'));

    const expected = await expectedTotals(simDir);
    const gold = (await query(`
      SELECT CAST(date AS STRING) AS date, meter_id, customer_id, timezone, import_kwh, export_kwh,
             readings_count, import_readings, expected_readings, completeness, estimated_share
      FROM gold.daily_consumption`)) as unknown as DailyConsumptionRow[];
    const actual = totalsOf(gold);
    expect(actual.rows).toBe(expected.rows);
    expect(actual.meters).toBe(expected.meters);
    expect(actual.readings).toBe(expected.readings);
    expect(actual.import_kwh).toBeCloseTo(expected.import_kwh, 6);
    expect(actual.export_kwh).toBeCloseTo(expected.export_kwh, 6);
  });

  it('when a contract’s rates are corrected for its whole validity, then its meter’s past days are re-costed at the new rates', async () => {
    const file = manifest.files.find((f) => f.dataset === 'contracts' && f.path.includes('_full_'))!;
    const original = await fs.readFile(path.join(simDir, file.path), 'utf8');
    const [header, ...rows] = original.trimEnd().split('\n') as [string, ...string[]];
    const columns = header.split(',');
    const at = (name: string): number => columns.indexOf(name);
    const rates = ['unit_rate_eur_kwh', 'peak_rate_eur_kwh', 'offpeak_rate_eur_kwh', 'spot_markup_eur_kwh'];
    expect(rates.map(at).every((i) => i >= 0)).toBe(true);
    // A version in force on the whole simulated day (2025-10-26, any zone).
    const index = rows.findIndex((row) => {
      const cells = row.split(',');
      const to = cells[at('valid_to')]!;
      return cells[at('valid_from')]! <= '2025-10-25' && (to === '' || to >= '2025-10-28');
    });
    expect(index).toBeGreaterThanOrEqual(0);
    const chosen = rows[index]!.split(',');
    expect(chosen).toHaveLength(columns.length);
    const meter = chosen[at('meter_point')]!;
    const contractNo = chosen[at('contract_no')]!;
    const delta = 0.1234;
    for (const name of rates) {
      const cell = chosen[at(name)]!;
      if (cell.trim() !== '') chosen[at(name)] = (Number(cell) + delta).toFixed(6);
    }
    const costs = async (): Promise<Array<Record<string, unknown>>> =>
      query(
        `SELECT CAST(date AS STRING) AS date, import_kwh, unpriced_kwh, energy_cost_eur
         FROM gold.customer_daily_cost WHERE meter_id = '${meter}' AND contract_id = '${contractNo}' ORDER BY date`,
      );
    const before = await costs();
    expect(before.length).toBeGreaterThan(0);
    const corrected = path.join(pipeline.root, 'contracts-corrected.csv');
    const lines = rows.map((row, i) => (i === index ? chosen.join(',') : row));
    await fs.writeFile(corrected, [header, ...lines].join('\n') + '\n');

    const dropped = await dropAndWait(corrected, target(file));

    const after = await costs();
    expect(after.map((r) => r.date)).toEqual(before.map((r) => r.date));
    // Each cost is rounded to the micro-euro: a difference of two may be off by one.
    after.forEach((row, i) => {
      const priced = Number(row.import_kwh) - Number(row.unpriced_kwh);
      expect(Number(row.energy_cost_eur) - Number(before[i]!.energy_cost_eur)).toBeCloseTo(priced * delta, 5);
    });
    const [record] = await auditOf(dropped.instanceId);
    const silverRun = record!.databricksRuns.find((r) => r.step === 'silver')!;
    const goldRun = record!.databricksRuns.find((r) => r.step === 'gold')!;
    // The corrected version covers every reading of its meter: the stale days are the UTC days of those
    // readings (gold then recomputes the local days around them, which is why every cost row above changed).
    const readingDays = await query(
      `SELECT DISTINCT CAST(reading_date AS STRING) AS day FROM silver.meter_readings
       WHERE meter_id = '${meter}' ORDER BY day`,
    );
    const days = readingDays.map((r) => String(r.day));
    expect(days.length).toBeGreaterThan(0);
    expect(silverRun.affectedDates).toEqual(days);
    expect(goldRun.parameters.dates!.split(',')).toEqual(days);
  });

  it('when a source re-sends a file with a corrected value (a new eTag), then it is processed again and the correction wins', async () => {
    const file = manifest.files.find((f) => f.dataset === 'meter_readings' && f.source === 'headend_utc')!;
    const original = await fs.readFile(path.join(simDir, file.path), 'utf8');
    const [header, first, ...others] = original.trimEnd().split('\n') as [string, string, ...string[]];
    const columns = header.split(',');
    const cells = first.split(',');
    const kwhColumn = columns.findIndex((c) => /kwh|value|energy/i.test(c));
    expect(kwhColumn).toBeGreaterThanOrEqual(0);
    const meterColumn = columns.findIndex((c) => /meter/i.test(c));
    cells[kwhColumn] = '9.875';
    const corrected = path.join(pipeline.root, 'corrected.csv');
    await fs.writeFile(corrected, [header, cells.join(','), ...others].join('\n') + '\n');

    const again = await dropAndWait(corrected, target(file));
    const records = await auditOf(again.instanceId);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'completed', generation: 0 });

    const rows = await query(
      `SELECT sum(kwh) AS kwh, count(*) AS n FROM silver.meter_readings WHERE meter_id = '${cells[meterColumn]}' AND kwh = 9.875`,
    );
    expect(Number(rows[0]!.n)).toBe(1);
  });

  it('when silver fails, then the run ends Failed with an audit record, and a replay completes it without duplicate rows', async () => {
    const file = manifest.files.find((f) => f.dataset === 'meter_readings' && f.source === 'smartfeed')!;
    const where = { ...target(file), name: `replayed-${target(file).name}` };
    // Every attempt of the next silver run fails (the task's two retries included).
    pipeline.runtime.emulator!.faults.set({
      tasks: [
        { job: 'lakewatt-silver', task: 'silver', outcome: 'FAILED', message: 'injected by e2e', count: 3 },
      ],
    });
    const silverBefore = await query('SELECT count(*) AS n FROM silver.meter_readings');
    const dropped = await pipeline.drop(path.join(simDir, file.path), where);
    const failed = await pipeline.wait(dropped.instanceId);
    expect(failed.runtimeStatus).toBe('Failed');
    expect(String(failed.output)).toContain('JOB_FAILED');
    const [failedRecord] = await auditOf(dropped.instanceId);
    expect(failedRecord).toMatchObject({
      status: 'failed',
      generation: 0,
      error: { stage: 'silver', code: 'JOB_FAILED' },
    });

    const replay = await fetch(
      `${pipeline.runtime.baseUrl}/api/runs/${encodeURIComponent(dropped.instanceId)}/replay`,
      { method: 'POST', headers: { 'x-functions-key': pipeline.runtime.key } },
    );
    expect(replay.status).toBe(202);
    expect(await replay.json()).toMatchObject({ instanceId: dropped.instanceId, generation: 1 });
    const replayed = await pipeline.wait(dropped.instanceId);
    expect(replayed).toMatchObject({ runtimeStatus: 'Completed', output: { status: 'completed' } });
    const records = await auditOf(dropped.instanceId);
    expect(records.map((r) => [r.generation, r.status])).toEqual([
      [0, 'failed'],
      [1, 'completed'],
    ]);

    // The same readings were in silver already (the first test): a replayed file adds no row anywhere.
    const silverAfter = await query('SELECT count(*) AS n FROM silver.meter_readings');
    expect(silverAfter).toEqual(silverBefore);
    const duplicates = await query(`
      SELECT count(*) AS n FROM (
        SELECT meter_id, channel, interval_start FROM silver.meter_readings
        GROUP BY meter_id, channel, interval_start HAVING count(*) > 1)`);
    expect(Number(duplicates[0]!.n)).toBe(0);
    const bronzeRows = await query(
      `SELECT count(*) AS n FROM bronze.meter_readings WHERE ingest_instance_id = '${dropped.instanceId}'`,
    );
    expect(Number(bronzeRows[0]!.n)).toBe(records[1]!.validation!.counts.rowsValid);
  });
});
