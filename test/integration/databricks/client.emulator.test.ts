import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  DatabricksApiError,
  DatabricksJobNotFoundError,
  JobsClient,
  StaticTokenProvider,
} from '../../../lib/databricks';
import { clientFor, type Harness, startHarness, stopHarness, taskRunId, waitForRun } from './support';

// One warm emulator (one JVM) for the whole file: starting Spark is the slow part.
jest.setTimeout(120_000);

let harness: Harness;
let client: JobsClient;

beforeAll(async () => {
  harness = await startHarness({ prewarm: true });
  client = harness.client;
}, 120_000);

afterAll(async () => stopHarness(harness));

afterEach(() => harness.emulator.faults.set({}));

describe('jobs/list', () => {
  it('when a job name is resolved, then its id comes from jobs/list and is cached', async () => {
    const jobs = await client.listJobs();
    const echo = jobs.find((job) => job.name === 'fixture-echo');
    expect(echo).toBeDefined();
    expect(await client.resolveJobId('fixture-echo')).toBe(echo?.jobId);
    harness.emulator.faults.set({ http: [{ status: 500, count: 5, route: 'list' }] });
    // Answered from the cache: the failing list route is not called.
    expect(await client.resolveJobId('fixture-echo')).toBe(echo?.jobId);
  });

  it('when no job has the name, then resolveJobId fails with a clear DatabricksJobNotFoundError', async () => {
    const failure = client.resolveJobId('no-such-job');
    await expect(failure).rejects.toThrow(DatabricksJobNotFoundError);
    await expect(failure).rejects.toThrow(/No Databricks job named 'no-such-job'/);
  });
});

describe('run-now and runs/get', () => {
  it('when a run succeeds, then runs/get reports TERMINATED SUCCESS with task run ids, timings and a run page', async () => {
    const { runId, numberInJob } = await client.runJob('fixture-echo', {
      jobParameters: { message: 'hello' },
    });
    const run = await waitForRun(client, runId);
    expect(run.outcome.kind).toBe('Succeeded');
    expect(run.raw.status?.state).toBe('TERMINATED');
    expect(run.raw.state?.life_cycle_state).toBe('TERMINATED');
    expect(numberInJob).toBeGreaterThanOrEqual(1);
    expect(run.tasks.map((t) => t.taskKey)).toEqual(['echo']);
    expect(run.startTime).toBeLessThanOrEqual(run.endTime ?? 0);
    expect(run.durations.runMs).toBeGreaterThan(0);
    expect(run.runPageUrl).toBe(`${harness.emulator.url}/jobs/${run.jobId}/runs/${runId}`);
    expect(run.jobParameters).toEqual({ message: 'hello' });
  });

  it('when the same idempotency token is sent twice, then both calls return the same run id', async () => {
    const jobId = await client.resolveJobId('fixture-echo');
    const token = `orchestration-1:gen-0:silver-${Date.now()}`;
    const first = await client.runNow({ jobId, idempotencyToken: token });
    const second = await client.runNow({
      jobId,
      idempotencyToken: token,
      jobParameters: { message: 'other' },
    });
    expect(second.runId).toBe(first.runId);
    await waitForRun(client, first.runId);
  });

  it('when job parameters are passed, then the task receives them through {{job.parameters.*}} references', async () => {
    const { runId } = await client.runJob('fixture-echo', { jobParameters: { message: 'from-the-test' } });
    const run = await waitForRun(client, runId);
    const output = await client.getRunOutput(taskRunId(run, 'echo'));
    expect(output.logs).toContain(`ARGS from-the-test ${taskRunId(run, 'echo')} ${run.jobId}`);
  });

  it('when a parameter is not declared on the job, then run-now fails with INVALID_PARAMETER_VALUE', async () => {
    const failure = client.runJob('fixture-echo', { jobParameters: { nope: 'x' } });
    await expect(failure).rejects.toMatchObject({ status: 400, errorCode: 'INVALID_PARAMETER_VALUE' });
  });

  it('when the run id does not exist, then runs/get fails with a typed RESOURCE_DOES_NOT_EXIST error', async () => {
    await expect(client.getRun(999_999_999)).rejects.toMatchObject({
      errorCode: 'RESOURCE_DOES_NOT_EXIST',
      apiMessage: 'Run 999999999 does not exist.',
    });
  });
});

describe('resilience against injected faults', () => {
  it('when the API answers 429 with Retry-After, then the client waits that long and succeeds', async () => {
    harness.emulator.faults.set({
      http: [{ status: 429, count: 1, route: 'runs/get', retryAfterSeconds: 1 }],
    });
    const { runId } = await client.runJob('fixture-echo', {});
    const started = Date.now();
    const run = await client.getRun(runId);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(run.runId).toBe(runId);
    await waitForRun(client, runId);
  });

  it('when the API answers 503 twice, then the client retries and succeeds', async () => {
    harness.emulator.faults.set({ http: [{ status: 503, count: 2, route: 'list', retryAfterSeconds: 0 }] });
    const jobs = await client.listJobs('fixture-fail');
    expect(jobs).toHaveLength(1);
    expect(harness.emulator.faults.pending().http).toEqual([]);
  });

  it('when 429s outlast the retry budget, then the client throws the typed 429 error', async () => {
    harness.emulator.faults.set({ http: [{ status: 429, count: 50, retryAfterSeconds: 0 }] });
    const impatient = new JobsClient({
      host: harness.emulator.url,
      tokens: new StaticTokenProvider(harness.token),
      retry: { maxAttempts: 3, baseDelayMs: 10 },
    });
    await expect(impatient.listJobs()).rejects.toMatchObject({
      status: 429,
      errorCode: 'REQUEST_LIMIT_EXCEEDED',
    });
  });

  it('when a run-now without idempotency token gets a 500, then the client does not retry it', async () => {
    harness.emulator.faults.set({ http: [{ status: 500, count: 1, route: 'run-now' }] });
    const jobId = await client.resolveJobId('fixture-echo');
    await expect(client.runNow({ jobId })).rejects.toMatchObject({ status: 500 });
  });

  it('when a run-now with an idempotency token gets a 500, then the retry starts exactly one run', async () => {
    harness.emulator.faults.set({ http: [{ status: 500, count: 1, route: 'run-now' }] });
    const jobId = await client.resolveJobId('fixture-echo');
    const { runId } = await client.runNow({ jobId, idempotencyToken: `retry-${Date.now()}` });
    await waitForRun(client, runId);
  });

  it('when a task is configured to end INTERNAL_ERROR, then the run ends INTERNAL_ERROR and is retryable', async () => {
    harness.emulator.faults.set({
      tasks: [{ task: 'echo', job: 'fixture-echo', outcome: 'INTERNAL_ERROR' }],
    });
    const { runId } = await client.runJob('fixture-echo', {});
    const run = await waitForRun(client, runId);
    expect(run.raw.state?.life_cycle_state).toBe('INTERNAL_ERROR');
    expect(run.outcome).toMatchObject({ kind: 'Failed', retryable: true });
  });

  it('when a named task is configured to fail, then the run ends FAILED with that message', async () => {
    harness.emulator.faults.set({
      tasks: [{ task: 'write', outcome: 'FAILED', message: 'disk full (injected)' }],
    });
    const { runId } = await client.runJob('fixture-delta', { jobParameters: { output: '/nonexistent' } });
    const run = await waitForRun(client, runId);
    expect(run.outcome.kind).toBe('Failed');
    expect(run.outcome.reason).toContain('disk full (injected)');
    expect(run.tasks.find((t) => t.taskKey === 'check')?.outcome.raw.resultState).toBe('UPSTREAM_FAILED');
  });

  it('when the token is wrong, then every route answers a typed 401 UNAUTHENTICATED error', async () => {
    const stranger = clientFor(harness.emulator.url, 'wrong-token');
    await expect(stranger.listJobs()).rejects.toMatchObject({ status: 401, errorCode: 'UNAUTHENTICATED' });
  });
});

describe('failures, cancellation and timeouts', () => {
  it('when a task raises, then the run ends FAILED and get-output carries the error and its trace', async () => {
    const { runId } = await client.runJob('fixture-fail', {});
    const run = await waitForRun(client, runId);
    expect(run.outcome.kind).toBe('Failed');
    const output = await client.getRunOutput(taskRunId(run, 'explode'));
    expect(output.error).toBe('ValueError: boom from the fixture');
    expect(output.errorTrace).toContain('fail.py", line 7, in explode');
    expect(output.logs).toContain('about to fail');
  });

  it('when get-output is asked for a multi-task job run, then it fails with the API error', async () => {
    const { runId } = await client.runJob('fixture-fail', {});
    await waitForRun(client, runId);
    await expect(client.getRunOutput(runId)).rejects.toMatchObject({
      errorCode: 'INVALID_PARAMETER_VALUE',
      apiMessage: expect.stringContaining('multiple tasks') as string,
    });
  });

  it('when a run with a running Spark job is cancelled, then it ends CANCELED and the worker stays usable', async () => {
    const pidsBefore = harness.emulator.workerPids();
    const { runId } = await client.runJob('fixture-long', { jobParameters: { mode: 'spark' } });
    const running = await waitForRun(client, runId, (run) => run.raw.state?.life_cycle_state === 'RUNNING');
    // Give the task time to submit its Spark job.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await client.cancelRun(running.runId);
    const run = await waitForRun(client, runId);
    expect(run.outcome.kind).toBe('Canceled');
    expect(run.raw.status?.termination_details?.code).toBe('USER_CANCELED');
    const next = await waitForRun(client, (await client.runJob('fixture-echo', {})).runId);
    expect(next.outcome.kind).toBe('Succeeded');
    expect(harness.emulator.workerPids()).toEqual(pidsBefore);
  });

  it('when a job exceeds its timeout_seconds, then the run ends TIMEDOUT', async () => {
    const { runId } = await client.runJob('fixture-timeout', {});
    const run = await waitForRun(client, runId);
    expect(run.outcome.kind).toBe('TimedOut');
    expect(run.raw.state?.result_state).toBe('TIMEDOUT');
  });

  it('when a job is at max_concurrent_runs with queueing, then the next run waits QUEUED and runs after', async () => {
    const first = await client.runJob('fixture-serial', {});
    const second = await client.runJob('fixture-serial', {});
    const queued = await client.getRun(second.runId);
    expect(queued.raw.state?.life_cycle_state).toBe('QUEUED');
    expect(queued.raw.status?.queue_details?.code).toBe('MAX_CONCURRENT_RUNS_REACHED');
    const [a, b] = await Promise.all([waitForRun(client, first.runId), waitForRun(client, second.runId)]);
    expect([a.outcome.kind, b.outcome.kind]).toEqual(['Succeeded', 'Succeeded']);
    expect(b.startTime).toBeGreaterThanOrEqual(a.startTime ?? 0);
    expect(b.durations.queueMs).toBeGreaterThan(0);
  });

  it('when a job is at max_concurrent_runs without queueing, then the next run is skipped', async () => {
    const first = await client.runJob('fixture-serial-no-queue', {});
    const second = await client.runJob('fixture-serial-no-queue', {});
    const skipped = await waitForRun(client, second.runId);
    expect(skipped.raw.state).toMatchObject({
      life_cycle_state: 'SKIPPED',
      result_state: 'MAXIMUM_CONCURRENT_RUNS_REACHED',
    });
    expect(skipped.outcome).toMatchObject({ kind: 'Failed', retryable: true });
    await waitForRun(client, first.runId);
  });
});

describe('bundle tasks on local Spark', () => {
  it('when the Delta fixture job runs, then its table holds the rows and the commit carries the orchestration id', async () => {
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-delta-'));
    const table = path.join(out, 'greetings');
    try {
      const { runId } = await client.runJob('fixture-delta', {
        jobParameters: { output: table, orchestration_id: 'ingest-42' },
      });
      const run = await waitForRun(client, runId);
      expect(run.outcome.kind).toBe('Succeeded');
      const check = await client.getRunOutput(taskRunId(run, 'check'));
      const line = (check.logs ?? '').split('\n').find((l) => l.startsWith('DELTA_CHECK '));
      const summary = JSON.parse(line?.slice('DELTA_CHECK '.length) ?? '{}') as {
        rows: Array<Record<string, unknown>>;
        version: number;
        userMetadata: string;
      };
      expect(summary.rows).toEqual([
        {
          id: 1,
          greeting: 'hello-local',
          run_id: String(runId),
          comment: 'written by lakewatt-fixture (local)',
        },
        {
          id: 2,
          greeting: 'hello-local',
          run_id: String(runId),
          comment: 'written by lakewatt-fixture (local)',
        },
      ]);
      expect(summary).toMatchObject({ version: 0, userMetadata: 'ingest-42' });
      expect(await fs.readdir(path.join(table, '_delta_log'))).toContain('00000000000000000000.json');
    } finally {
      await fs.rm(out, { recursive: true, force: true });
    }
  });

  it('when a python_wheel_task runs, then the entry point of the installed package runs with its parameters', async () => {
    const { runId } = await client.runJob('fixture-wheel', {});
    const run = await waitForRun(client, runId);
    expect(run.outcome.kind).toBe('Succeeded');
    const output = await client.getRunOutput(taskRunId(run, 'pip_version'));
    expect(output.logs).toMatch(/^pip \d+/m);
  });
});

test('when the client sees any DatabricksApiError, then it carries the route, status, code and message', async () => {
  const error = await client.getRun(123).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DatabricksApiError);
  expect((error as DatabricksApiError).message).toBe(
    'Databricks runs/get failed: HTTP 400 RESOURCE_DOES_NOT_EXIST: Run 123 does not exist.',
  );
});
