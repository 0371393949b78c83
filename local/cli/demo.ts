import path from 'node:path';

import type { Command } from 'commander';

import { loadConfig } from '../../lib/config';
import { UsageError } from '../../lib/errors';
import { formatDemoSummary, runDemo } from '../demo';

interface DemoFlags {
  home?: string;
  meters: string;
  days: string;
  seed: string;
  defects: string;
  json?: boolean;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'simulate a small data set with defects, run it through the embedded pipeline (events, orchestrations, validation, Spark jobs, audit) and print a summary',
    )
    .option('--home <dir>', 'the demo’s own state folder, emptied first (default: $LAKEWATT_HOME/demo)')
    .option('--meters <n>', 'simulated meters', '20')
    .option('--days <n>', 'simulated days', '2')
    .option('--seed <seed>', 'simulation seed', '42')
    .option('--defects <p>', 'probability of a defect per row', '0.02')
    .option('--json', 'print the summary as JSON')
    .action(async (flags: DemoFlags) => {
      const numbers = {
        meters: Number(flags.meters),
        days: Number(flags.days),
        defects: Number(flags.defects),
      };
      for (const [name, value] of Object.entries(numbers)) {
        if (!Number.isFinite(value) || value < 0)
          throw new UsageError(`--${name} must be a non-negative number`);
      }
      const home = path.resolve(flags.home ?? path.join(loadConfig().home, 'demo'));
      const summary = await runDemo({
        home,
        ...numbers,
        seed: flags.seed,
        log: (line) => process.stderr.write(`demo: ${line}\n`),
      });
      process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : formatDemoSummary(summary));
      if (summary.files.some((f) => f.status === 'failed' || f.status === 'unknown')) process.exitCode = 1;
    });
}
