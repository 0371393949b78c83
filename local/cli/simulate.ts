import path from 'node:path';

import type { Command } from 'commander';

import { UsageError } from '../../lib/errors';
import {
  checkOptions,
  DEFAULT_OPTIONS,
  formatSummary,
  resolveOptions,
  simulate,
  type SimulationOptions,
} from '../../lib/simulator';
import { startProgress } from './progress';

interface RawOptions {
  out: string;
  meters: string;
  days: string;
  start: string;
  interval: string;
  seed: string;
  defects: string;
  seriesDefects?: string;
  nem12?: boolean;
  mscons?: boolean;
  espi?: boolean;
  json?: boolean;
  progress?: boolean;
}

function number(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new UsageError(`--${name} expects a number, got '${text}'`);
  return value;
}

/** Turns the command-line strings into checked simulation options (UsageError naming every problem). */
export function parseSimulateOptions(raw: RawOptions): SimulationOptions {
  const options = resolveOptions({
    meters: number('meters', raw.meters),
    days: number('days', raw.days),
    start: raw.start,
    interval: number('interval', raw.interval) as SimulationOptions['interval'],
    seed: raw.seed,
    defects: number('defects', raw.defects),
    ...(raw.seriesDefects === undefined
      ? {}
      : { seriesDefects: number('series-defects', raw.seriesDefects) }),
    ...(raw.nem12 === true ? { nem12: true } : {}),
    ...(raw.mscons === true ? { mscons: true } : {}),
    ...(raw.espi === true ? { espi: true } : {}),
  });
  const problems = checkOptions(options);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return options;
}

export function registerSimulate(program: Command): void {
  const d = DEFAULT_OPTIONS;
  program
    .command('simulate')
    .description(
      'write a deterministic synthetic data set (customers, contracts, prices, meter readings from three ' +
        'source layouts, injected defects) into a lake root, with simulation-manifest.json and the true ' +
        'values of the readings the defects hide in simulation-truth.csv.gz. Market formats are opt-in ' +
        '(--nem12, --mscons, --espi, in any combination): meters are dealt in turn to the three layouts, ' +
        'then to each format asked for, so one format alone takes every fourth meter, two every fifth, ' +
        'three every sixth',
    )
    .requiredOption('--out <dir>', 'lake root: files land under <dir>/bronze/landing/...')
    .option('--meters <n>', 'number of meters (one customer and contract each)', String(d.meters))
    .option('--days <d>', 'number of data days', String(d.days))
    .option('--start <date>', 'first data day, YYYY-MM-DD', d.start)
    .option(
      '--interval <minutes>',
      'interval of the long UTC and NDJSON sources: 15, 30 or 60',
      String(d.interval),
    )
    .option('--seed <s>', 'seed: the same arguments give byte-identical files', d.seed)
    .option('--defects <rate>', 'defect rate per row, 0 for a clean data set', String(d.defects))
    .option(
      '--series-defects <rate>',
      'rate per meter-day of each series defect (zero run, frozen value, late fill, high or low day); ' +
        `default ${d.seriesDefects}, or 0 with --defects 0`,
    )
    .option(
      '--nem12',
      'also deal meters to a source delivering AEMO NEM12 files (one per AEST market day, 30-minute, ' +
        'no injected defects); off by default, so a run without it is unchanged',
    )
    .option(
      '--mscons',
      'also deal meters (German MaLos) to a source delivering MSCONS interchanges (one per German market ' +
        'day, times in UTC, 15-minute, or 60 with --interval 60; no injected defects); off by default',
    )
    .option(
      '--espi',
      'also deal meters to a source delivering Green Button (ESPI) Atom feeds (one per UTC day, at ' +
        '--interval; no injected defects); off by default',
    )
    .option('--json', 'print a machine-readable summary')
    .option('--no-progress', 'plain progress lines on stderr, even on a terminal')
    .action(async (raw: RawOptions) => {
      const options = parseSimulateOptions(raw);
      const began = process.hrtime.bigint();
      // Files written on stderr: a plain line per tenth off a terminal, so a CI log stays short.
      const progress = startProgress({ task: 'simulate', live: raw.progress !== false, plainSteps: 10 });
      let manifest;
      try {
        manifest = await simulate(raw.out, options, (written, total) =>
          progress.update({ stage: 'writing', done: written, total, unit: 'files' }),
        );
      } finally {
        progress.end();
      }
      const seconds = Number(process.hrtime.bigint() - began) / 1e9;
      if (raw.json) {
        const { summary, date_range, generated_at } = manifest;
        const out = { out: path.resolve(raw.out), options, generated_at, date_range, summary };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else {
        process.stdout.write(formatSummary(manifest, raw.out, seconds));
      }
    });
}
