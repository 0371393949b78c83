import os from 'node:os';

import { ingestInstanceId } from '../../../lib/events/blobCreated';
import type { BulkReplayResult, RunSummary } from '../../../lib/pipeline/runsQuery';
import { runCli } from '../../helpers/cli';
import {
  badHeaderCsv,
  headendCsv,
  landingPath,
  moduleFile,
  PIPELINE_MODULES,
  type PipelineWorld,
  refusingDatabricks,
  startPipelineWorld,
} from './support';

const HOUR = 3_600_000;
const DAY = '2025-10-26';

let world: PipelineWorld;
let databricks: Awaited<ReturnType<typeof refusingDatabricks>>;
let rejected = '';
let failed = '';

async function dropAndFinish(path: string, content: string): Promise<string> {
  const { etag } = await world.drop(path, content);
  await world.run(HOUR);
  world.clock.advance(60_000);
  return ingestInstanceId({ container: 'bronze', path, etag, dataset: 'meter_readings' });
}

// The CLI finds the test's host through the lock file in LAKEWATT_HOME (set by the world), as it finds a
// running `lakewatt dev`.
beforeAll(async () => {
  databricks = await refusingDatabricks();
  world = await startPipelineWorld({
    modules: [...PIPELINE_MODULES, moduleFile('functions/runsApi.ts')],
    env: { DATABRICKS_HOST: databricks.url, DATABRICKS_TOKEN: 'any-token-the-workspace-refuses' },
  });
  rejected = await dropAndFinish(
    landingPath('meter_readings', 'headend_utc', DAY, 'bad.csv'),
    badHeaderCsv(),
  );
  failed = await dropAndFinish(
    landingPath('meter_readings', 'headend_utc', DAY, 'good.csv'),
    headendCsv('MTR-1', DAY),
  );
}, 60_000);

afterAll(async () => {
  await world?.close();
  await databricks?.close();
});

describe('lakewatt runs', () => {
  it('when listing as JSON, then every run is printed newest first', async () => {
    const result = await runCli('runs', 'list', '--json');

    expect(result).toMatchObject({ code: 0, stderr: '' });
    const printed = JSON.parse(result.stdout) as { runs: RunSummary[]; more: boolean };
    expect(printed.runs.map((r) => [r.instanceId, r.runtimeStatus])).toEqual([
      [failed, 'Failed'],
      [rejected, 'Completed'],
    ]);
    expect(printed.more).toBe(false);
  });

  it('when listing failed runs for a person, then an aligned table shows them', async () => {
    const result = await runCli('runs', 'list', '--status', 'Failed');

    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^INSTANCE\s+STATUS\s+STAGE\s+VERDICT\s+GEN\s+DATASET\/SOURCE\s+CREATED\s+FILE$/,
    );
    expect(lines[1]).toMatch(
      new RegExp(`^${failed}\\s+Failed\\s+failed\\s+accepted\\s+0\\s+meter_readings/headend_utc`),
    );
    expect(lines[1]!.indexOf('Failed')).toBe(lines[0]!.indexOf('STATUS'));
    expect(lines[2]).toBe('1 run(s)');
  });

  it('when a limit cuts the listing short, then it says more runs match', async () => {
    const result = await runCli('runs', 'list', '--limit', '1', '--json');

    expect(JSON.parse(result.stdout)).toMatchObject({ runs: [{ instanceId: failed }], more: true });
  });

  it('when a filter value is bad, then one line names it and the exit code is 2', async () => {
    const result = await runCli('runs', 'list', '--status', 'Bogus');

    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "lakewatt: INVALID_REQUEST: runtimeStatus: 'Bogus' is not a runtime status (one of Running, Completed, ContinuedAsNew, Failed, Canceled, Terminated, Pending, Suspended)\n",
    );
    expect((await runCli('runs', 'list', '--since', 'a while')).code).toBe(2);
  });

  it('when showing a failed run, then the summary has its stages, verdict and error', async () => {
    const result = await runCli('runs', 'show', failed);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `${failed}\n  status      Failed (stage failed), generation 0, trigger event`,
    );
    expect(result.stdout).toMatch(/verdict\s+accepted/);
    expect(result.stdout).toMatch(/stages\n\s+STAGE\s+STATUS\s+DURATION\s+STARTED\n\s+validate\s+succeeded/);
    expect(result.stdout).toMatch(/silver\s+failed/);
    expect(result.stdout).toMatch(/error\s+silver DATABRICKS_API: /);
  });

  it('when showing an unknown run, then one line with RUN_NOT_FOUND and exit code 1', async () => {
    const unknown = `ingest-meter_readings-${'0'.repeat(32)}`;
    const result = await runCli('runs', 'show', unknown);

    expect(result).toMatchObject({
      code: 1,
      stderr: `lakewatt: RUN_NOT_FOUND: no run with id ${unknown}\n`,
    });
  });

  it('when the id is not one Lakewatt creates, then the API refuses it as INVALID_INSTANCE_ID (exit 2)', async () => {
    const result = await runCli('runs', 'show', 'ingest-nope');

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^lakewatt: INVALID_INSTANCE_ID: /);
  });

  it('when a dry run of --all-failed is asked, then it lists the failed run and starts nothing', async () => {
    const result = await runCli('runs', 'replay', '--all-failed', '--dry-run', '--json');

    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as BulkReplayResult;
    expect(printed).toMatchObject({ matched: 1, dryRun: true, refused: [] });
    expect(printed.replayed).toEqual([expect.objectContaining({ instanceId: failed, generation: 1 })]);
  });

  it('when a failed run is replayed, then generation 1 starts; replaying it again while it runs is refused (exit 1)', async () => {
    const first = await runCli('runs', 'replay', failed);

    expect(first).toMatchObject({ code: 0, stdout: `replayed ${failed} as generation 1\n` });
    await world.run();

    const second = await runCli('runs', 'replay', failed, rejected);
    expect(second.code).toBe(1);
    expect(second.stdout).toBe(
      `replayed ${rejected} as generation 1\n` +
        `refused ${failed}: RUN_ACTIVE: run ${failed} is Running; replay it once it has ended\n`,
    );
    await world.run(HOUR);
  });

  it('when the CLI replays a run, then the run records the CLI user as its requester', async () => {
    const shown = await runCli('runs', 'show', rejected, '--json');

    const run = JSON.parse(shown.stdout) as { requestedBy: unknown; audit: { requestedBy: unknown } };
    const expected = {
      kind: 'local',
      id: `cli:${os.userInfo().username}`,
      name: `cli:${os.userInfo().username}`,
    };
    expect([run.requestedBy, run.audit.requestedBy]).toEqual([expected, expected]);
  });

  it('when --all-failed replays, then stdout is the outcome as JSON and stderr counts the runs in plain lines', async () => {
    const result = await runCli('runs', 'replay', '--all-failed', '--json', '--no-progress');

    expect(result.code).toBe(0);
    // The run replayed earlier failed again (the workspace refuses every job): generation 1, now 2.
    expect(JSON.parse(result.stdout)).toEqual({
      matched: 1,
      dryRun: false,
      refused: [],
      replayed: [
        {
          instanceId: failed,
          generation: 2,
          dataset: 'meter_readings',
          source: 'headend_utc',
          path: landingPath('meter_readings', 'headend_utc', DAY, 'good.csv'),
        },
      ],
    });
    const lines = result.stderr.trimEnd().split('\n');
    expect([result.stderr.includes('\r'), result.stderr.includes('\u001b')]).toEqual([false, false]);
    expect(lines).toEqual([
      expect.stringMatching(/^replay: replaying; 0\/1 runs; 0 replayed, 0 refused \(\d+ s\)$/),
      expect.stringMatching(
        new RegExp(`^replay: replaying; 1/1 runs; 1 replayed, 0 refused; ${failed} \\(\\d+ s\\)$`),
      ),
    ]);
    await world.run(HOUR);
  });

  it('when replay gets neither ids nor --all-failed, or filters without --all-failed, then it is a usage error', async () => {
    expect(await runCli('runs', 'replay')).toMatchObject({ code: 2 });
    expect(await runCli('runs', 'replay', failed, '--dataset', 'meter_readings')).toMatchObject({
      code: 2,
      stderr: 'lakewatt: USAGE: --dataset only go with --all-failed\n',
    });
    expect((await runCli('runs', 'replay', '--all-failed', '--max', '0')).code).toBe(2);
  });
});
