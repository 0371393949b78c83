import { promises as fs } from 'node:fs';

import type { Command } from 'commander';

import { UsageError } from '../../lib/errors';
import type { IngestResult } from '../../orchestrations/ingestFile';
import { dropFile, type Dropped, INGEST_STEPS, ingestProgress, waitForInstance } from '../drops';
import { withRuntime } from './dev';
import { startProgress } from './progress';

interface DropReport extends Dropped {
  runtimeStatus?: string;
  status?: string | null;
  verdict?: string | null;
  auditPath?: string | null;
  error?: string | null;
}

interface DropOptions {
  dataset: string;
  source: string;
  date?: string;
  name?: string;
  wait?: boolean;
  timeout: string;
  json?: boolean;
  progress?: boolean;
}

export function registerDrop(program: Command): void {
  program
    .command('drop')
    .description(
      'land a file in bronze/landing/{dataset}/{source}/{yyyy}/{mm}/{dd}/ and deliver its BlobCreated event, as Azure Storage and Event Grid would',
    )
    .argument('<file>', 'the file a source system sends')
    .requiredOption('--dataset <dataset>', 'meter_readings, customers, contracts or prices')
    .requiredOption('--source <source>', 'source system id, as in contracts/sources/')
    .option('--date <yyyy-mm-dd>', 'landing date folder (default: today, UTC)')
    .option('--name <name>', 'file name in the lake (default: the file’s own name)')
    .option('--wait', 'wait until the ingestion ends; exit 1 unless it completed')
    .option('--timeout <seconds>', 'longest wait with --wait', '900')
    .option('--json', 'print the result as JSON')
    .option('--no-progress', 'with --wait: plain stage lines on stderr, even on a terminal')
    .action(async (file: string, options: DropOptions) => {
      const stat = await fs.stat(file).catch(() => undefined);
      if (!stat?.isFile()) throw new UsageError(`${file} is not a readable file`);
      const date = options.date ?? new Date().toISOString().slice(0, 10);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new UsageError(`--date ${date} is not YYYY-MM-DD`);
      const timeoutSeconds = Number(options.timeout);
      if (!(timeoutSeconds > 0)) throw new UsageError('--timeout must be a positive number of seconds');
      await withRuntime(async (runtime) => {
        const dropped = await dropFile(runtime, file, {
          dataset: options.dataset,
          source: options.source,
          date,
          name: options.name,
        });
        let result: DropReport = { ...dropped };
        if (options.wait) {
          // The run's stage on stderr while it runs: stdout keeps the result alone.
          const progress = startProgress({ task: 'drop', live: options.progress !== false });
          let status;
          try {
            status = await waitForInstance(runtime, dropped.instanceId, timeoutSeconds * 1000, {
              onStatus: (polled) => {
                const where = ingestProgress(polled);
                progress.update({
                  stage: where.stage,
                  done: where.stepsDone ?? undefined,
                  total: INGEST_STEPS.length,
                  unit: 'stages done',
                  detail: where.detail ?? undefined,
                });
              },
            });
          } finally {
            progress.end();
          }
          const output = (typeof status.output === 'object' ? status.output : null) as IngestResult | null;
          result = {
            ...result,
            runtimeStatus: status.runtimeStatus,
            status: output?.status ?? null,
            verdict: output?.verdict ?? null,
            auditPath: output?.auditPath ?? null,
            error: status.runtimeStatus === 'Failed' ? JSON.stringify(status.output) : null,
          };
          if (output?.status !== 'completed') process.exitCode = 1;
        } else if (runtime.local) {
          process.stderr.write(
            'lakewatt drop: no `lakewatt dev` runs on this state folder; the ingestion continues the next time a runtime starts (or use --wait)\n',
          );
        }
        if (options.json) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        const lines = [
          `landed   bronze/${dropped.path}`,
          `eTag     ${dropped.etag}`,
          `run      ${dropped.instanceId}${dropped.announced ? '' : ' (this version was announced before)'}`,
        ];
        if (options.wait) {
          lines.push(`status   ${result.runtimeStatus}${result.status ? ` (${result.status})` : ''}`);
          if (result.verdict) lines.push(`verdict  ${result.verdict}`);
          if (result.auditPath) lines.push(`audit    ${result.auditPath}`);
          if (result.error) lines.push(`error    ${result.error}`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });
}
