import { promises as fs } from 'node:fs';
import path from 'node:path';

import { type AuditRecord, auditRecordSchema } from '../../lib/audit';
import { buildBlobCreatedEvent } from '../../lib/events/blobCreatedEvent';
import type { Manifest } from '../../lib/simulator';
import { simulate } from '../../lib/simulator';
import { deltaSnapshot, duckdb } from '../integration/databricks/lakeSupport';
import { deltaSource, type Pipeline, startPipeline } from './support';

/*
 * One file at a time through the whole embedded pipeline: the Event Grid trigger, ingestFile on the
 * durable host, validation, the project's silver and gold jobs on the Jobs API emulator and local Spark,
 * and the audit record. A small simulated data set (4 meters, 1 day) keeps Spark's share small.
 */

jest.setTimeout(900_000);

/** AEMO's NEM12 examples (aguinane/nem-reader, MIT; see SOURCE.txt), read in place, never copied. */
const NEM12_SOLAR = path.resolve(
  __dirname,
  '../../../shared/real-data/nem12_australia/Example_NEM12_month_solar.csv',
);

/** A German MSCONS interchange (vdmitriyev/msconsconverter, MIT; see SOURCE.txt): 2 MaLos, March 2022. */
const MSCONS_MULTIPLE_LOC = path.resolve(
  __dirname,
  '../../../shared/real-data/mscons_de/MSCONS_TL_Multiple_LOC_SAMPLE.txt',
);

/** A Green Button (ESPI) year of hourly readings (see SOURCE.txt), with its DST defects. */
const ESPI_COASTAL = path.resolve(
  __dirname,
  '../../../shared/real-data/greenbutton_espi/Coastal_Single_Family_Jan_1_2011_to_Jan_1_2012.xml',
);

let pipeline: Pipeline;
let simDir: string;
let manifest: Manifest;

type ManifestFile = Manifest['files'][number];

function pick(dataset: string, source: string): ManifestFile {
  const file = manifest.files.find((f) => f.dataset === dataset && f.source === source);
  if (!file) throw new Error(`the simulation has no ${dataset}/${source} file`);
  return file;
}

/** Drops a simulated file where the simulator landed it (same dataset, source, date and name). */
async function dropSimulated(
  file: ManifestFile,
  name?: string,
): Promise<{ instanceId: string; path: string }> {
  const [, , dataset, source, yyyy, mm, dd, fileName] = file.path.split('/');
  return pipeline.drop(path.join(simDir, file.path), {
    dataset: dataset!,
    source: source!,
    date: `${yyyy}-${mm}-${dd}`,
    name: name ?? fileName,
  });
}

async function auditRecords(): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for await (const entry of pipeline.lake.list('audit', 'runs/')) {
    const object = await pipeline.lake.read('audit', entry.path);
    records.push(auditRecordSchema.parse(JSON.parse(object.data.toString('utf8'))));
  }
  return records;
}

async function databricksRuns(): Promise<Array<{ run_id: number; job_id: number }>> {
  const emulator = pipeline.runtime.emulator!;
  const response = await fetch(`${emulator.url}/api/2.2/jobs/runs/list?limit=25`, {
    headers: { authorization: `Bearer ${process.env.DATABRICKS_TOKEN}` },
  });
  const body = (await response.json()) as { runs?: Array<{ run_id: number; job_id: number }> };
  return body.runs ?? [];
}

beforeAll(async () => {
  pipeline = await startPipeline();
  simDir = path.join(pipeline.root, 'sim');
  manifest = await simulate(simDir, { meters: 4, days: 1, defects: 0, seed: 'e2e-ingest' });
  // Reference data first, as a source system would send it before readings.
  for (const [dataset, source] of [
    ['contracts', 'billing'],
    ['customers', 'crm'],
  ] as const) {
    const dropped = await dropSimulated(pick(dataset, source));
    expect(await pipeline.wait(dropped.instanceId)).toMatchObject({
      runtimeStatus: 'Completed',
      output: { status: 'completed' },
    });
  }
}, 600_000);

afterAll(async () => {
  await pipeline?.close();
});

describe('ingestFile end to end', () => {
  it('when a valid readings file is dropped, then it reaches silver and gold and its audit record cites both runs', async () => {
    const file = pick('meter_readings', 'headend_utc');
    const dropped = await dropSimulated(file);
    const status = await pipeline.wait(dropped.instanceId);
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: { status: 'completed' } });

    const record = (await auditRecords()).find((r) => r.instanceId === dropped.instanceId);
    expect(record).toMatchObject({ status: 'completed', generation: 0, verdict: 'accepted', error: null });
    expect(record!.databricksRuns.map((r) => [r.step, r.outcome])).toEqual([
      ['silver', 'Succeeded'],
      ['gold', 'Succeeded'],
    ]);
    const silverCommits = record!.databricksRuns[0]!.commits;
    expect(silverCommits.map((c) => c.table)).toEqual(
      expect.arrayContaining([expect.stringContaining('meter_readings')]),
    );
    const silver = await deltaSnapshot(path.join(pipeline.lakeRoot, 'silver', 'meter_readings'));
    expect(silver.rows).toBe(record!.validation!.counts.rowsValid);
    const gold = await deltaSnapshot(path.join(pipeline.lakeRoot, 'gold', 'daily_consumption'));
    expect(gold.rows).toBeGreaterThan(0);
  });

  it('when a file fails validation, then it is quarantined and audited and no Databricks run starts', async () => {
    const before = (await databricksRuns()).length;
    const bad = path.join(pipeline.root, 'not-readings.csv');
    await fs.writeFile(bad, 'this,is,not\nthe,expected,header\n');
    const dropped = await pipeline.drop(bad, {
      dataset: 'meter_readings',
      source: 'headend_utc',
      date: '2025-09-28',
    });
    const status = await pipeline.wait(dropped.instanceId);
    expect(status).toMatchObject({
      runtimeStatus: 'Completed',
      output: { status: 'rejected', verdict: 'rejected' },
    });
    const record = (await auditRecords()).find((r) => r.instanceId === dropped.instanceId);
    expect(record).toMatchObject({ status: 'rejected', databricksRuns: [] });
    expect(record!.reasons.length).toBeGreaterThan(0);
    expect(
      await pipeline.lake.exists('quarantine', `meter_readings/${dropped.instanceId}/g0/not-readings.csv`),
    ).toBe(true);
    expect((await databricksRuns()).length).toBe(before);
  });

  it('when the same event is delivered again and three more times at once, then one orchestration and no new Databricks run start', async () => {
    const file = pick('meter_readings', 'headend_utc');
    const objectPath = file.path.replace(/^bronze\//, '');
    const properties = await pipeline.lake.properties('bronze', objectPath);
    const event = buildBlobCreatedEvent({
      accountName: 'lakewattlocal',
      container: 'bronze',
      path: objectPath,
      etag: properties.etag,
      contentLength: properties.size,
      contentType: 'text/csv',
      sequencer: '0'.repeat(31) + '1',
    });
    const runsBefore = (await databricksRuns()).length;
    const answers = await Promise.all([1, 2, 3, 4].map(() => pipeline.runtime.deliver([event])));
    expect(answers.map((a) => a.ok)).toEqual([true, true, true, true]);
    await pipeline.idle();
    expect((await databricksRuns()).length).toBe(runsBefore);
    const records = (await auditRecords()).filter((r) => r.file.path === objectPath);
    expect(records).toHaveLength(1);
  });

  it('when a real NEM12 file is dropped, then silver holds its intervals with the kWh per channel the file gives', async () => {
    // The file's own figures, split here: per 200 record's suffix, its 300 records' values.
    const expected = new Map<string, { intervals: number; kwh: number }>();
    let nmi = '';
    let channel = '';
    for (const line of (await fs.readFile(NEM12_SOLAR, 'utf8')).split(/\r?\n/)) {
      const cells = line.split(',');
      if (cells[0] === '200') {
        nmi = cells[1]!;
        channel = cells[4]!.startsWith('B') ? 'export' : 'import';
      }
      if (cells[0] !== '300') continue;
      const values = cells.slice(2, -5).map(Number);
      const total = expected.get(channel) ?? { intervals: 0, kwh: 0 };
      total.intervals += values.length;
      total.kwh += values.reduce((sum, value) => sum + value, 0);
      expected.set(channel, total);
    }

    const dropped = await pipeline.drop(NEM12_SOLAR, {
      dataset: 'meter_readings',
      source: 'nem12',
      date: '2023-04-01',
    });
    expect(await pipeline.wait(dropped.instanceId)).toMatchObject({
      runtimeStatus: 'Completed',
      output: { status: 'completed' },
    });

    const silver = await deltaSource(path.join(pipeline.lakeRoot, 'silver', 'meter_readings'));
    const rows = await duckdb(
      `SELECT channel, CAST(count(*) AS INTEGER) AS intervals, CAST(round(sum(kwh), 3) AS VARCHAR) AS kwh
       FROM ${silver!} WHERE meter_id = '${nmi}' AND source_system = 'nem12' GROUP BY channel ORDER BY channel`,
    );
    expect(rows.map((r) => [r.channel, Number(r.intervals), Number(r.kwh)])).toEqual(
      ['export', 'import'].map((c) => [
        c,
        expected.get(c)!.intervals,
        Number(expected.get(c)!.kwh.toFixed(3)),
      ]),
    );
  });

  it('when a real MSCONS interchange is dropped, then silver holds the quarter-hours and kWh of each location with their qualifier', async () => {
    // The file's own figures, split here: segments end at ' (the file releases none), each QTY after its LOC.
    const expected = new Map<string, { intervals: number; kwh: number; qualifiers: Set<string> }>();
    let location = '';
    for (const segment of (await fs.readFile(MSCONS_MULTIPLE_LOC, 'utf8')).split("'")) {
      const loc = /^LOC\+172\+(\w+)/.exec(segment);
      if (loc) location = loc[1]!;
      const qty = /^QTY\+(\d+):([\d.]+)/.exec(segment);
      if (!qty) continue;
      const total = expected.get(location) ?? { intervals: 0, kwh: 0, qualifiers: new Set<string>() };
      total.intervals += 1;
      total.kwh += Number(qty[2]);
      total.qualifiers.add(qty[1]!);
      expected.set(location, total);
    }

    const dropped = await pipeline.drop(MSCONS_MULTIPLE_LOC, {
      dataset: 'meter_readings',
      source: 'mscons',
      date: '2024-02-02',
    });
    expect(await pipeline.wait(dropped.instanceId)).toMatchObject({
      runtimeStatus: 'Completed',
      output: { status: 'completed' },
    });

    const silver = await deltaSource(path.join(pipeline.lakeRoot, 'silver', 'meter_readings'));
    const rows = await duckdb(
      `SELECT meter_id, CAST(count(*) AS INTEGER) AS intervals, CAST(round(sum(kwh), 3) AS VARCHAR) AS kwh,
         string_agg(DISTINCT source_quality, ',') AS qualifiers
       FROM ${silver!} WHERE source_system = 'mscons' GROUP BY meter_id ORDER BY meter_id`,
    );
    expect(rows.map((r) => [r.meter_id, Number(r.intervals), Number(r.kwh), r.qualifiers])).toEqual(
      [...expected.keys()].sort().map((m) => {
        const total = expected.get(m)!;
        return [m, total.intervals, Number(total.kwh.toFixed(3)), [...total.qualifiers].sort().join(',')];
      }),
    );
  });

  it('when a real Green Button feed is dropped, then silver holds its hourly readings and kWh', async () => {
    // The file's own figures, read here: one-hour readings, the first of each start (the DST defects give a
    // two-hour, a zero-length and a repeated reading, which are rejected).
    const hours = new Map<string, number>();
    const text = await fs.readFile(ESPI_COASTAL, 'utf8');
    for (const [, duration, start, value] of text.matchAll(
      /<duration>(\d+)<\/duration>\s*<start>(\d+)<\/start>\s*<\/timePeriod>\s*<value>(-?\d+)<\/value>/g,
    )) {
      if (duration === '3600' && !hours.has(start!)) hours.set(start!, Number(value));
    }
    const wh = [...hours.values()].reduce((sum, value) => sum + value, 0);

    const dropped = await pipeline.drop(ESPI_COASTAL, {
      dataset: 'meter_readings',
      source: 'greenbutton',
      date: '2012-01-01',
    });
    expect(await pipeline.wait(dropped.instanceId)).toMatchObject({
      runtimeStatus: 'Completed',
      output: { status: 'completed' },
    });

    const silver = await deltaSource(path.join(pipeline.lakeRoot, 'silver', 'meter_readings'));
    const rows = await duckdb(
      `SELECT CAST(count(*) AS INTEGER) AS intervals, CAST(round(sum(kwh), 3) AS VARCHAR) AS kwh
       FROM ${silver!} WHERE source_system = 'greenbutton'`,
    );
    expect(rows.map((r) => [Number(r.intervals), Number(r.kwh)])).toEqual([[hours.size, wh / 1000]]);
  });
});
