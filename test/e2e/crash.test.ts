import type { AuditRecord } from '../../lib/audit';
import { type Dropped, type InstanceStatus, waitForInstance } from '../../local/drops';
import {
  type ChildState,
  childState,
  cleanUp,
  dropMeterDay,
  killRuntime,
  runningBatch,
  type Runtime,
  startRuntime,
  stopRuntime,
  survivors,
  until,
} from './runtimeChild';
import { auditRecords, silverReadings } from './support';

/*
 * Crash safety of the whole embedded runtime: the Functions/Durable host and the Jobs API emulator run in a
 * real child process (test/fixtures/runtime/child.js, the app's TypeScript registrations), which is killed
 * with SIGKILL while a batch of files waits on its silver run, started again on the same state folder, and
 * killed again while the batch's gold run runs. The emulator's Spark worker lived in that process tree, so
 * each run dies with it: the restarted emulator ends it INTERNAL_ERROR, and the restarted batch orchestration
 * has to get the step done anyway, once for every file.
 */

jest.setTimeout(1_500_000);

const TIMEOUT_MS = 600_000;

let state: ChildState;
const FILES = 50;
const DAY = '2025-05-06';
const METERS = Array.from({ length: FILES }, (_, i) => `CRASH-${String(i).padStart(3, '0')}`);
const files: Dropped[] = [];
let finals: InstanceStatus[] = [];
/** Process groups of the killed runtimes and of their Spark workers. */
const killedGroups: number[] = [];

/** SIGKILL of the runtime once a multi-file batch of `step` runs; returns the killed process groups. */
async function killDuring(runtime: Runtime, step: 'silver' | 'gold'): Promise<number[]> {
  await until(`a ${step} batch run to be running`, () => runningBatch(runtime, step, 2), TIMEOUT_MS);
  return killRuntime(state, runtime);
}

beforeAll(async () => {
  state = childState('crash');

  // A burst of files: the first starts a batch alone, the others form the next batch behind it.
  const first = await startRuntime(state);
  for (const meter of METERS) files.push(await dropMeterDay(state, first, meter, DAY));
  killedGroups.push(...(await killDuring(first, 'silver')));

  // Restarted on the same state: the lost silver run ends INTERNAL_ERROR and the batch is resubmitted.
  const second = await startRuntime(state);
  killedGroups.push(...(await killDuring(second, 'gold')));

  const third = await startRuntime(state);
  finals = await Promise.all(files.map((f) => waitForInstance(third, f.instanceId, TIMEOUT_MS)));
  await stopRuntime(third);
}, 1_400_000);

afterAll(() => cleanUp(state));

describe(`a host killed during a ${FILES}-file batch's silver run and again during its gold run`, () => {
  it('when the host restarts each time, then every file completes', () => {
    expect(finals.filter((f) => f.runtimeStatus !== 'Completed').map((f) => f.instanceId)).toEqual([]);
    expect(finals).toHaveLength(FILES);
  });

  it('when they have completed, then each file has exactly one audit record, a completed one', async () => {
    const records = await auditRecords(state.lake);
    const byFile = new Map<string, AuditRecord[]>();
    for (const record of records)
      byFile.set(record.file.path, [...(byFile.get(record.file.path) ?? []), record]);
    for (const file of files) {
      expect(byFile.get(file.path)?.map((r) => [r.instanceId, r.generation, r.status])).toEqual([
        [file.instanceId, 0, 'completed'],
      ]);
    }
  });

  it('when they have completed, then the lost runs and the runs that replaced them are in the audit records', async () => {
    const runs = (await auditRecords(state.lake)).flatMap((r) => r.databricksRuns);
    for (const step of ['silver', 'gold'] as const) {
      const lost = runs.filter((run) => run.step === step && run.lifeCycleState === 'INTERNAL_ERROR');
      expect(lost.length).toBeGreaterThan(0);
      // Every file of a lost batch run names the run that replaced it, in the same batch.
      for (const run of lost) {
        const again = runs.filter(
          (r) => r.batch?.id === run.batch?.id && r.outcome === 'Succeeded' && r.runId !== run.runId,
        );
        expect(again.length).toBeGreaterThan(0);
      }
    }
  });

  it('when they have completed, then silver holds each row of every file exactly once', async () => {
    const rows = await silverReadings(state.lakeRoot, 'CRASH-');
    expect(rows).toHaveLength(FILES * 48);
    expect(rows.filter((row) => row.copies > 1)).toEqual([]);
  });

  it('when the host was killed, then none of its processes outlive it (Spark worker and JVM included)', async () => {
    expect(killedGroups.length).toBeGreaterThan(2); // two hosts and at least one Spark worker
    const left = await survivors(killedGroups);
    expect(left).toEqual([]);
  });
});
