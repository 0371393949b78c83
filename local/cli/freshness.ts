import type { Command } from 'commander';

import { loadConfig } from '../../lib/config';
import { loadSourceContracts } from '../../lib/contracts/sources';
import { UsageError } from '../../lib/errors';
import {
  freshnessReport,
  type FreshnessResponse,
  parseFreshnessQuery,
  runFreshnessCheck,
} from '../../lib/freshness';
import { createLakeStore } from '../../lib/lake';
import { RunsApiError } from '../../lib/pipeline/runsRequest';
import { shortTime, table } from './runs';

/**
 * `lakewatt freshness`: what GET /api/freshness answers, read from the configured lake. The `freshnessCheck`
 * timer runs only under `lakewatt dev` (FRESHNESS_SCHEDULE); `--check` runs the check now, as the timer would.
 */

interface FreshnessOptions {
  check?: boolean;
  from?: string;
  to?: string;
  dataset?: string;
  source?: string;
  json?: boolean;
}

function delay(minutes: number): string {
  if (minutes <= 0) return 'on time';
  return minutes < 60
    ? `+${minutes}m`
    : `+${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function freshnessText(report: FreshnessResponse): string {
  const lines = [
    `data dates ${report.from} .. ${report.to}`,
    table(
      ['DATASET/SOURCE', 'DUE', 'LAST DATE', 'LANDED', 'DELAY', 'MISSING', 'LATE'],
      report.sources.map((s) => [
        `${s.dataset}/${s.source}`,
        `${s.schedule.expectedBy} ${s.schedule.timeZone} (day ${s.schedule.lagDays >= 0 ? '+' : ''}${s.schedule.lagDays})`,
        s.lastFile?.date ?? '-',
        shortTime(s.lastFile?.landedAt),
        s.lastFile ? delay(s.lastFile.delayMinutes) : '-',
        String(s.missing.filter((m) => m.arrivedAt === null).length),
        String(s.late.length),
      ]),
    ),
  ];
  for (const s of report.sources) {
    for (const m of s.missing.filter((f) => f.arrivedAt === null)) {
      lines.push(`missing  ${s.dataset}/${s.source} ${m.date}: nothing landed (due ${shortTime(m.dueBy)})`);
    }
    for (const l of s.late) {
      lines.push(`late     ${s.dataset}/${s.source} ${l.date}: ${delay(l.delayMinutes)} ${l.path ?? ''}`);
    }
  }
  if (report.unscheduled.length > 0) {
    lines.push(`no schedule: ${report.unscheduled.map((u) => `${u.dataset}/${u.source}`).join(', ')}`);
  }
  return lines.join('\n');
}

export function registerFreshness(program: Command): void {
  program
    .command('freshness')
    .description(
      'late and missing files of the sources whose contract declares a schedule (GET /api/freshness)',
    )
    .option('--check', 'run the freshness check first and record what it finds (the freshnessCheck timer)')
    .option('--from <yyyy-mm-dd>', 'first data date (default: the look-back before --to)')
    .option('--to <yyyy-mm-dd>', 'last data date (default: tomorrow, UTC)')
    .option('--dataset <dataset>', 'only this dataset')
    .option('--source <source>', 'only this source')
    .option('--json', 'print the API response as JSON')
    .action(async (options: FreshnessOptions) => {
      const config = loadConfig();
      const lake = createLakeStore(config.lake);
      // A fresh local state folder has no lake yet; in Azure the containers come with the infrastructure.
      if (config.lake.kind === 'local') for (const c of ['bronze', 'audit']) await lake.ensureContainer(c);
      const contracts = await loadSourceContracts(config.sourceContractsDir);
      const now = new Date();
      const params = Object.entries({
        from: options.from,
        to: options.to,
        dataset: options.dataset,
        source: options.source,
      }).filter((entry): entry is [string, string] => entry[1] !== undefined);
      let query;
      try {
        query = parseFreshnessQuery(params, now, config.freshness.lookbackDays);
      } catch (error) {
        if (error instanceof RunsApiError) throw new UsageError(`--${error.message}`);
        throw error;
      }
      if (options.check) {
        const result = await runFreshnessCheck({
          lake,
          contracts,
          now,
          lookbackDays: config.freshness.lookbackDays,
        });
        process.stderr.write(
          `freshness check: ${result.created.length} new findings, ${result.known} known\n`,
        );
      }
      const report = await freshnessReport({ lake, contracts, query, now });
      process.stdout.write(`${options.json ? JSON.stringify(report, null, 2) : freshnessText(report)}\n`);
    });
}
