import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { type Harness, startHarness, stopHarness, taskRunId, waitForRun } from './support';

// Each test here needs its own Spark worker (a restart, a dead worker, fresh processes): about 10 s each.
jest.setTimeout(180_000);

const harnesses: Harness[] = [];
afterAll(async () => {
  for (const harness of harnesses) await stopHarness(harness);
});

async function harness(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const started = await startHarness(options);
  harnesses.push(started);
  return started;
}

it('when the emulator restarts, then earlier runs are still answered and a run lost with it ends INTERNAL_ERROR', async () => {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-jobs-restart-'));
  const first = await startHarness({ home });
  const done = await first.client.runJob('fixture-fail', {});
  await waitForRun(first.client, done.runId);
  const lost = await first.client.runJob('fixture-long', { jobParameters: { mode: 'python' } });
  await waitForRun(first.client, lost.runId, (run) => run.raw.state?.life_cycle_state === 'RUNNING');
  // Simulate a crash: the state file stays, the process (and its worker) goes.
  await first.emulator.close();

  const second = await harness({ home, token: first.token });
  const earlier = await second.client.getRun(done.runId);
  expect(earlier.outcome.kind).toBe('Failed');
  const output = await second.client.getRunOutput(taskRunId(earlier, 'explode'));
  expect(output.error).toBe('ValueError: boom from the fixture');
  const ended = await second.client.getRun(lost.runId);
  expect(ended.raw.state?.life_cycle_state).toBe('INTERNAL_ERROR');
  expect(ended.outcome).toMatchObject({ kind: 'Failed', retryable: true });
  expect(ended.outcome.reason).toMatch(/stopped while this run was executing|was lost/);
  expect(await second.client.resolveJobId('fixture-fail')).toBe(earlier.jobId);
});

it('when the Spark worker dies during a task, then that run ends INTERNAL_ERROR and the next run gets a new worker', async () => {
  const { client, emulator } = await harness();
  const { runId } = await client.runJob('fixture-die', {});
  const run = await waitForRun(client, runId);
  expect(run.raw.state?.life_cycle_state).toBe('INTERNAL_ERROR');
  expect(run.outcome.reason).toMatch(/local Spark worker \(pid \d+\) ended/);
  const next = await waitForRun(client, (await client.runJob('fixture-echo', {})).runId);
  expect(next.outcome.kind).toBe('Succeeded');
  expect(emulator.workerPids()).toHaveLength(1);
});

it('when execution is fresh, then each task runs in its own worker process that is gone afterwards', async () => {
  const { client, emulator } = await harness({ execution: 'fresh' });
  const { runId } = await client.runJob('fixture-echo', { jobParameters: { message: 'fresh' } });
  const run = await waitForRun(client, runId);
  expect(run.outcome.kind).toBe('Succeeded');
  const output = await client.getRunOutput(taskRunId(run, 'echo'));
  expect(output.logs).toContain('ARGS fresh');
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(emulator.workerPids()).toEqual([]);
});
