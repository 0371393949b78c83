import { existsSync } from 'node:fs';
import path from 'node:path';

import type { Command } from 'commander';

import { loadConfig } from '../../lib/config';
import { UsageError } from '../../lib/errors';
import { consoleAssetsDir, startLocalConsole } from '../console/start';
import { type DemoProgress, formatDemoSummary, runDemo, type ServedConsole } from '../demo';
import type { IngestOutcome } from '../drops';
import type { LocalRuntime } from '../runtime';
import { type Progress, startProgress, type Tone } from './progress';

interface DemoFlags {
  home?: string;
  meters: string;
  days: string;
  seed: string;
  defects: string;
  json?: boolean;
  progress?: boolean;
  console?: boolean;
}

const TONES: Record<IngestOutcome, Tone> = {
  completed: 'good',
  rejected: 'warn',
  failed: 'bad',
  unfinished: 'bad',
};

/** Feeds the demo's events to a progress line: files done of the total, with their outcomes. */
export function showDemoProgress(progress: Progress): (event: DemoProgress) => void {
  const tally: Record<IngestOutcome, number> = { completed: 0, rejected: 0, failed: 0, unfinished: 0 };
  let done = 0;
  const counts = (): Array<{ name: string; value: number; tone: Tone }> =>
    (Object.keys(tally) as IngestOutcome[])
      // A run still going when the wait gave up is rare: named only when it happens.
      .filter((outcome) => outcome !== 'unfinished' || tally.unfinished > 0)
      .map((outcome) => ({ name: outcome, value: tally[outcome], tone: TONES[outcome] }));
  return (event) => {
    if (event.kind === 'phase') {
      progress.update({
        stage: event.phase,
        ...(event.files === undefined ? {} : { done, total: event.files, unit: 'files', counts: counts() }),
        detail: undefined,
      });
      return;
    }
    tally[event.outcome] += 1;
    done += 1;
    progress.update({ done, counts: counts(), detail: `${event.outcome} ${event.path}` });
  };
}

/** The console on a free port against the demo's runtime; none, with a note, when the page is not built. */
async function serveDemoConsole(
  runtime: LocalRuntime,
  log: (line: string) => void,
): Promise<ServedConsole | undefined> {
  const assetsDir = consoleAssetsDir();
  if (!existsSync(path.join(assetsDir, 'index.html'))) {
    log(`no console: ${assetsDir} has no page (make build builds it)`);
    return undefined;
  }
  const emulator = runtime.emulator;
  return startLocalConsole({
    port: 0,
    hostUrl: runtime.baseUrl,
    sql: emulator ? { url: emulator.url, token: emulator.token } : undefined,
    assetsDir,
  });
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
    .option('--no-progress', 'plain progress lines on stderr, even on a terminal')
    .option('--no-console', 'do not serve the operations console while the demo runs')
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
      // Progress and notes on stderr; stdout keeps the summary alone.
      const progress = startProgress({ task: 'demo', live: flags.progress !== false });
      const log = (line: string): void => progress.log(`demo: ${line}`);
      let summary;
      try {
        summary = await runDemo({
          home,
          ...numbers,
          seed: flags.seed,
          log,
          onProgress: showDemoProgress(progress),
          ...(flags.console === false ? {} : { serveConsole: (runtime) => serveDemoConsole(runtime, log) }),
        });
      } finally {
        progress.end();
      }
      process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : formatDemoSummary(summary));
      if (summary.files.some((f) => f.status === 'failed' || f.status === 'unknown')) process.exitCode = 1;
    });
}
