import { promises as fs } from 'node:fs';
import path from 'node:path';

import type { AuditRecord } from '../../lib/audit';
import { auditRecords, type Pipeline, silverReadings, startPipeline, writeMeterDay } from './support';

/*
 * Group commit on the whole embedded pipeline: many small files share few Databricks runs, a lone file
 * starts its run at once, and a poison file fails alone. Files are canonical CSVs written here, one meter-day
 * each, so the expected silver rows are known without the code under test.
 */

jest.setTimeout(1_800_000);

const CAP = 100;
const BURST = 200;
const DAY = '2025-03-04';
const BULK = 100;

let pipeline: Pipeline;
let dir: string;

async function dropMeterDay(meter: string): Promise<string> {
  const { file } = await writeMeterDay(dir, meter, DAY);
  return dropWritten(file);
}

async function dropWritten(file: string): Promise<string> {
  const dropped = await pipeline.drop(file, {
    dataset: 'meter_readings',
    source: 'canonical',
    date: DAY,
    name: path.basename(file),
  });
  return dropped.instanceId;
}

/** A call to the runs API as the CLI makes it (JSON body, loopback host). */
async function runsApi(route: string, body: unknown): Promise<Response> {
  return fetch(`${pipeline.runtime.baseUrl}/api/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

function runIdsOf(records: readonly AuditRecord[]): Set<number> {
  return new Set(
    records.flatMap((r) => r.databricksRuns.flatMap((run) => (run.runId === null ? [] : [run.runId]))),
  );
}

beforeAll(async () => {
  pipeline = await startPipeline({ env: { BATCH_MAX_FILES: String(CAP) } });
  dir = path.join(pipeline.root, 'files');
  await fs.mkdir(dir, { recursive: true });
}, 600_000);

afterAll(async () => {
  await pipeline?.close();
});

describe('group commit', () => {
  let lone: AuditRecord;
  let poisoned = '';

  it('when a lone file arrives with nothing in flight, then it starts its silver run without waiting for others', async () => {
    const id = await dropMeterDay('LONE-0001');
    expect(await pipeline.wait(id)).toMatchObject({
      runtimeStatus: 'Completed',
      output: { status: 'completed' },
    });
    lone = (await auditRecords(pipeline.lake)).find((r) => r.instanceId === id)!;
    const silver = lone.databricksRuns.filter((r) => r.step === 'silver');
    expect(silver).toHaveLength(1);
    expect(silver[0]!.batch).toMatchObject({ size: 1, members: [id] });
    // By the order of its audit record: validation ended, then its own batch's run was the first submitted,
    // with no other file in it and no run before it that it waited behind.
    const validated = lone.stages.find((s) => s.stage === 'validate')!;
    expect(Date.parse(silver[0]!.submittedAt)).toBeGreaterThanOrEqual(Date.parse(validated.endedAt));
    expect(lone.databricksRuns[0]).toBe(silver[0]);
    expect(silver[0]!.batch?.id).toMatch(/-000001$/);
  });

  it(`when ${BURST} small files arrive at once, then each one's rows are in silver once and they share few runs`, async () => {
    const meters = Array.from({ length: BURST }, (_, i) => `BURST-${String(i).padStart(4, '0')}`);
    // Written first, then dropped back to back: the burst arrives as fast as the host takes events.
    const files = await Promise.all(meters.map(async (meter) => (await writeMeterDay(dir, meter, DAY)).file));
    const ids: string[] = [];
    for (const file of files) ids.push(await dropWritten(file));
    const statuses = await Promise.all(ids.map((id) => pipeline.wait(id, 1_500_000)));
    expect(statuses.filter((s) => s.runtimeStatus !== 'Completed')).toEqual([]);

    const records = (await auditRecords(pipeline.lake)).filter((r) => ids.includes(r.instanceId));
    expect(records).toHaveLength(BURST);
    const runs = runIdsOf(records);
    // Per step (silver, gold): the first file's own batch, full batches of CAP, and at most one more that
    // started while the burst was still arriving (validation under load spreads the arrivals; a quicker run
    // drains the queue sooner). One run per file would be 2 x BURST.
    expect(runs.size).toBeLessThanOrEqual(2 * (Math.ceil(BURST / CAP) + 2));
    for (const record of records) {
      for (const run of record.databricksRuns) expect(run.batch?.members).toContain(record.instanceId);
    }

    const burstRows = await silverReadings(pipeline.lakeRoot, 'BURST-');
    expect(burstRows).toHaveLength(BURST * 48);
    expect(burstRows.filter((row) => row.copies > 1)).toEqual([]);
    expect(new Set(burstRows.map((row) => row.meter_id))).toEqual(new Set(meters));
  });

  it('when one file of a batch of 20 makes the silver job fail, then it alone ends Failed and the others complete', async () => {
    // Hold the queue with a running batch so that the 20 files form the next batch together.
    const blocker = await dropMeterDay('HOLD-0001');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await dropMeterDay(`POISON-${String(i).padStart(3, '0')}`));
    const poison = ids[13]!;
    poisoned = poison;
    const emulator = pipeline.runtime.emulator!;
    emulator.faults.set({
      tasks: [
        {
          task: 'silver',
          job: 'lakewatt-silver',
          outcome: 'FAILED',
          count: 1000,
          message: 'ValueError: unreadable staged file (injected)',
          parameter: { name: 'instance_ids', contains: poison },
        },
      ],
    });
    try {
      expect(await pipeline.wait(blocker)).toMatchObject({ runtimeStatus: 'Completed' });
      const statuses = await Promise.all(ids.map((id) => pipeline.wait(id, 1_500_000)));
      const failed = statuses.filter((s) => s.runtimeStatus !== 'Completed').map((s) => s.instanceId);
      expect(failed).toEqual([poison]);
    } finally {
      emulator.faults.set({});
    }
    const records = await auditRecords(pipeline.lake);
    const poisonRecord = records.find((r) => r.instanceId === poison)!;
    expect(poisonRecord).toMatchObject({ status: 'failed', error: { stage: 'silver', code: 'JOB_FAILED' } });
    const lastRun = poisonRecord.databricksRuns.at(-1)!;
    expect(lastRun.batch?.members).toEqual([poison]);
    for (const id of ids.filter((i) => i !== poison)) {
      expect(records.find((r) => r.instanceId === id)).toMatchObject({ status: 'completed' });
    }
  });

  it('when the failed file is replayed, then its new generation runs alone and completes', async () => {
    const reply = await runsApi(`runs/${poisoned}/replay`, {});
    expect(reply.status).toBe(202);
    expect(await pipeline.wait(poisoned)).toMatchObject({ runtimeStatus: 'Completed' });
    const record = (await auditRecords(pipeline.lake)).find(
      (r) => r.instanceId === poisoned && r.generation === 1,
    )!;
    expect(record.status).toBe('completed');
    for (const run of record.databricksRuns) expect(run.batch?.members).toEqual([poisoned]);
  });

  it('when a batch of files is lost by the platform, then a bulk replay of the failed files uses a handful of runs', async () => {
    const blocker = await dropMeterDay('HOLD-0002');
    const ids = [await dropMeterDay('LOST-000')];
    // Every run of the batch holding the first file ends INTERNAL_ERROR: its run and both resubmits, each with
    // its task's retries. Set at once, while that file still waits behind the blocker's batch (a fault set
    // after all the drops could come after its batch ran). Lifted before the replay.
    const emulator = pipeline.runtime.emulator!;
    emulator.faults.set({
      tasks: [
        {
          task: 'silver',
          job: 'lakewatt-silver',
          outcome: 'INTERNAL_ERROR',
          count: 1000,
          parameter: { name: 'instance_ids', contains: ids[0]! },
        },
      ],
    });
    let failed: string[];
    try {
      for (let i = 1; i < BULK; i++) ids.push(await dropMeterDay(`LOST-${String(i).padStart(3, '0')}`));
      expect(await pipeline.wait(blocker)).toMatchObject({ runtimeStatus: 'Completed' });
      const first = await Promise.all(ids.map((id) => pipeline.wait(id, 1_500_000)));
      failed = first.filter((s) => s.runtimeStatus === 'Failed').map((s) => s.instanceId);
    } finally {
      emulator.faults.set({});
    }
    expect(failed).toContain(ids[0]);

    const reply = await runsApi('runs/replay', { runtimeStatus: ['Failed'], max: 500 });
    expect(reply.status).toBe(200);
    const started = (await reply.json()) as { replayed: Array<{ instanceId: string }> };
    expect(started.replayed.map((r) => r.instanceId).sort()).toEqual([...failed].sort());
    const again = await Promise.all(failed.map((id) => pipeline.wait(id, 1_500_000)));
    expect(again.filter((s) => s.runtimeStatus !== 'Completed')).toEqual([]);
    const replayed = (await auditRecords(pipeline.lake)).filter(
      (r) => failed.includes(r.instanceId) && r.generation === 1,
    );
    expect(replayed).toHaveLength(failed.length);
    // A silver and a gold batch for all of them, and at most one lone-file batch of each ahead of those.
    expect(runIdsOf(replayed).size).toBeLessThanOrEqual(4);
  });
});
