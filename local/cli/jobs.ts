import type { Command } from 'commander';

import { loadConfig } from '../../lib/config';
import { createJobsClient, type JobsClient } from '../../lib/databricks';
import { UsageError } from '../../lib/errors';
import { emulatorSettings } from '../databricks/settings';
import { startLocalJobsEmulator } from '../databricks/start';
import { untilStopped } from './untilStopped';

interface ServeOptions {
  port?: string;
  bundle?: string;
  target?: string;
  execution?: string;
  prewarm?: boolean;
}

function localClient(): JobsClient {
  const config = loadConfig();
  const host = config.databricks.host ?? `http://127.0.0.1:${config.local.jobsPort}`;
  return createJobsClient({ ...config, databricks: { ...config.databricks, host } });
}

function parseParams(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--param expects name=value, got '${pair}'`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('the local Databricks Jobs API emulator and its runs');

  jobs
    .command('serve')
    .description('serve the Jobs API 2.2 on 127.0.0.1, running the bundle tasks on local Spark')
    .option('--port <port>', 'port (default LOCAL_JOBS_PORT)')
    .option('--bundle <dir>', 'bundle folder (default LOCAL_JOBS_BUNDLE_DIR)')
    .option('--target <target>', 'bundle target (default LOCAL_JOBS_TARGET)')
    .option('--execution <mode>', "'warm' or 'fresh' (default LOCAL_JOBS_EXECUTION)")
    .option('--prewarm', 'start the Spark worker now instead of on the first run')
    .action(async (options: ServeOptions) => {
      const config = loadConfig();
      const port = options.port === undefined ? undefined : Number(options.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
        throw new UsageError(`--port: not a port: ${options.port}`);
      const target = options.target ?? emulatorSettings().target;
      const execution = options.execution ?? emulatorSettings().execution;
      const emulator = await startLocalJobsEmulator(config, {
        port,
        bundleDir: options.bundle,
        target,
        execution,
        prewarm: options.prewarm,
      });
      process.stdout.write(`Jobs API emulator on ${emulator.url} (bundle target ${target}, ${execution})\n`);
      await untilStopped();
      await emulator.close();
    });

  jobs
    .command('list')
    .description('list the jobs the Jobs API (emulator or workspace) knows')
    .action(async () => {
      for (const job of await localClient().listJobs())
        process.stdout.write(`${job.jobId}\t${job.name ?? ''}\n`);
    });

  jobs
    .command('run')
    .description('start a job by name and wait for it to end')
    .argument('<name>', 'job name')
    .option('--param <name=value...>', 'job parameter (repeatable)', [])
    .action(async (name: string, options: { param: string[] }) => {
      const client = localClient();
      const { runId } = await client.runJob(name, { jobParameters: parseParams(options.param) });
      process.stdout.write(`run ${runId} started\n`);
      for (;;) {
        const run = await client.getRun(runId);
        if (run.outcome.terminal) {
          process.stdout.write(`run ${runId}: ${run.outcome.kind} (${run.outcome.reason})\n`);
          if (run.outcome.kind !== 'Succeeded') process.exitCode = 1;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });

  jobs
    .command('runs')
    .description('show a run and the output of its tasks')
    .argument('<runId>', 'run id')
    .action(async (text: string) => {
      const client = localClient();
      const run = await client.getRun(Number(text));
      process.stdout.write(
        `run ${run.runId} (job ${run.jobId}): ${run.outcome.kind}: ${run.outcome.reason}\n`,
      );
      for (const task of run.tasks) {
        process.stdout.write(`  task ${task.taskKey} (${task.runId}): ${task.outcome.kind}\n`);
        if (task.runId === undefined) continue;
        const output = await client.getRunOutput(task.runId);
        if (output.error) process.stdout.write(`    error: ${output.error}\n`);
        if (output.logs) process.stdout.write(output.logs.replace(/^/gm, '    | '));
      }
    });
}
