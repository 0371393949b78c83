import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { JobsStore } from '../../../local/databricks/store';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-store-'));
});
afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

function newRun(store: JobsStore, token: string | undefined, state: 'PENDING' | 'QUEUED', bootId: string) {
  const job = store.upsertJob('silver', 'lakewatt-silver', 1);
  return store.createRun({
    jobId: job.job_id,
    token,
    parameters: [],
    queueEnabled: true,
    state,
    queueCode: null,
    taskKeys: ['a', 'b'],
    now: 1,
    bootId,
  });
}

describe('JobsStore', () => {
  it('when a token is reused, then the existing run is returned and no run is created', () => {
    const store = new JobsStore(path.join(dir, 'jobs.sqlite'));
    const first = newRun(store, 'tok', 'PENDING', 'boot-1');
    const second = newRun(store, 'tok', 'PENDING', 'boot-1');
    expect(second).toEqual({ run: first.run, created: false });
    store.close();
  });

  it('when a job is seen again after a reopen, then it keeps its id', () => {
    const first = new JobsStore(path.join(dir, 'jobs.sqlite'));
    const id = first.upsertJob('silver', 'lakewatt-silver', 1).job_id;
    first.close();
    const second = new JobsStore(path.join(dir, 'jobs.sqlite'));
    expect(second.upsertJob('silver', 'lakewatt-silver', 2).job_id).toBe(id);
    second.close();
  });

  it('when reopened by a new emulator process, then runs that were executing end INTERNAL_ERROR with a message', () => {
    const before = new JobsStore(path.join(dir, 'jobs.sqlite'));
    const { run } = newRun(before, undefined, 'PENDING', 'boot-1');
    before.update(run.run_id, { life_cycle_state: 'RUNNING' });
    before.close();
    const after = new JobsStore(path.join(dir, 'jobs.sqlite'));
    expect(after.endRunsLostWith('boot-2', 5)).toEqual([run.run_id]);
    const ended = after.run(run.run_id);
    expect(ended).toMatchObject({
      life_cycle_state: 'INTERNAL_ERROR',
      termination_code: 'INTERNAL_ERROR',
      end_time: 5,
    });
    expect(ended?.state_message).toMatch(/stopped while the run was RUNNING; its task process was lost/);
    expect(after.taskRuns(run.run_id).map((t) => t.life_cycle_state)).toEqual([
      'INTERNAL_ERROR',
      'INTERNAL_ERROR',
    ]);
    after.close();
  });

  it('when reopened, then queued runs stay queued', () => {
    const before = new JobsStore(path.join(dir, 'jobs.sqlite'));
    const { run } = newRun(before, undefined, 'QUEUED', 'boot-1');
    before.close();
    const after = new JobsStore(path.join(dir, 'jobs.sqlite'));
    after.endRunsLostWith('boot-2', 5);
    expect(after.queued().map((r) => r.run_id)).toEqual([run.run_id]);
    after.close();
  });

  it('when run ids and job ids are allocated, then they come from different ranges', () => {
    const store = new JobsStore(path.join(dir, 'jobs.sqlite'));
    const { run } = newRun(store, undefined, 'PENDING', 'boot-1');
    expect(run.job_id).toBeGreaterThan(1000);
    expect(run.run_id).toBeGreaterThan(100_000);
    store.close();
  });
});
