import path from 'node:path';
import { Readable } from 'node:stream';

import { loadSourceContracts } from '../../lib/contracts/sources';
import { validateStream } from '../../lib/validation/engine';
import {
  describeMachine,
  machineInfo,
  MIB,
  parseArgs,
  reportToParent,
  runChild,
  table,
  thousands,
} from './common';

/**
 * Memory of the validation engine per (meter, channel) series (issue 18 item 11): a daily file of many
 * meters, one day of readings each, through `validateStream` with the batches discarded (their memory is
 * one row group whatever the file). A child process (`--expose-gc`) samples the heap (`heapUsed + external`,
 * the duplicate index's pages are array buffers) after a full GC at checkpoints along the file; the
 * least-squares slope over the samples is the bytes per series, its intercept the fixed cost.
 *
 *   npx tsc -p bench/validation/tsconfig.json
 *   node .lakewatt/bench-build/bench/validation/series.js [--meters 300000] [--minutes 15] [--samples 6]
 */

const ROOT = path.resolve(__dirname, '../../../..');
const START = Date.UTC(2025, 0, 1);
const PROJECT_SERIES = 600_000;

interface SeriesResult {
  meters: number;
  rowsPerSeries: number;
  rowsValid: number;
  verdict: string;
  samples: Array<{ series: number; bytes: number }>;
  bytesPerSeries: number;
  interceptBytes: number;
  durationMs: number;
}

/** An 18-digit EAN-like meter id: realistic length, and long enough to be a sliced string in V8. */
function meterId(index: number): string {
  return `8716874${String(index).padStart(11, '0')}`;
}

/** The canonical CSV of `meters` meters, one day of `minutes`-minute import readings each, in ~1 MB strings. */
function* dailyFile(meters: number, minutes: number): Generator<string> {
  const perDay = (24 * 60) / minutes;
  const stamps = Array.from({ length: perDay }, (_, k) =>
    new Date(START + k * minutes * 60_000).toISOString(),
  );
  let chunk = 'meter_id,interval_start,interval_minutes,channel,kwh,quality\n';
  for (let m = 0; m < meters; m++) {
    const id = meterId(m);
    for (let k = 0; k < perDay; k++) {
      chunk += `${id},${stamps[k]},${minutes},import,${((m + k) % 997) / 1000},actual\n`;
    }
    if (chunk.length >= 1 << 20) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

function leastSquares(points: Array<{ series: number; bytes: number }>): {
  slope: number;
  intercept: number;
} {
  const n = points.length;
  const mx = points.reduce((sum, p) => sum + p.series, 0) / n;
  const my = points.reduce((sum, p) => sum + p.bytes, 0) / n;
  const sxy = points.reduce((sum, p) => sum + (p.series - mx) * (p.bytes - my), 0);
  const sxx = points.reduce((sum, p) => sum + (p.series - mx) ** 2, 0);
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

async function child(args: Map<string, string>): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the child with --expose-gc');
  const meters = Number(args.get('meters'));
  const minutes = Number(args.get('minutes'));
  const sampleCount = Number(args.get('samples'));
  const perDay = (24 * 60) / minutes;
  const registry = await loadSourceContracts(path.join(ROOT, 'contracts/sources'));
  const contract = registry.resolve('meter_readings', 'canonical');
  const every = Math.floor(meters / sampleCount);
  let nextSample = every;
  let rowsSeen = 0;
  const samples: Array<{ series: number; bytes: number }> = [];
  // No series limit: what the engine would hold without one (a variable, so this compiles before the limit too).
  const limits = {
    maxFileBytes: Number.MAX_SAFE_INTEGER,
    maxDecompressedBytes: Number.MAX_SAFE_INTEGER,
    maxCompressionRatio: 1000,
    maxLineBytes: 64 * 1024,
    maxSeries: Number.MAX_SAFE_INTEGER,
  };
  const started = Date.now();
  const report = await validateStream(
    {
      source: Readable.from(dailyFile(meters, minutes), { objectMode: true }),
      contract,
      file: { path: 'bench/series.csv', etag: 'bench' },
      instanceId: 'bench-series',
      now: new Date(START + 30 * 86_400_000),
      limits,
    },
    {
      writeBatch: (batch) => {
        rowsSeen += batch.length;
        return Promise.resolve();
      },
      writeRejected: () => undefined,
      flush: () => {
        // Whole series only: the batch ends on a series boundary when rows seen is a multiple of a day.
        const series = Math.floor(rowsSeen / perDay);
        if (series >= nextSample) {
          gc();
          const usage = process.memoryUsage();
          samples.push({ series, bytes: usage.heapUsed + usage.external });
          nextSample = series + every;
        }
        return Promise.resolve();
      },
    },
  );
  const fit = leastSquares(samples);
  const result: SeriesResult = {
    meters,
    rowsPerSeries: perDay,
    rowsValid: report.counts.rowsValid,
    verdict: report.verdict,
    samples,
    bytesPerSeries: Math.round(fit.slope),
    interceptBytes: Math.round(fit.intercept),
    durationMs: Date.now() - started,
  };
  reportToParent(result);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.get('child') === 'true') return child(args);
  const meters = args.get('meters') ?? '300000';
  const minutes = args.get('minutes') ?? '15';
  const samples = args.get('samples') ?? '6';
  const machine = machineInfo();
  process.stdout.write(`${describeMachine(machine)}\n`);
  const result = await runChild<SeriesResult & { peakRssBytes: number }>(
    __filename,
    ['--child', '--meters', meters, '--minutes', minutes, '--samples', samples],
    ['--expose-gc'],
  );
  const projected = result.interceptBytes + PROJECT_SERIES * result.bytesPerSeries;
  process.stdout.write(
    `${table(
      ['series', 'heap+external MiB'],
      result.samples.map((s) => [thousands(s.series), (s.bytes / MIB).toFixed(1)]),
    )}\n\n` +
      `${thousands(result.meters)} series x ${result.rowsPerSeries} readings, ${result.verdict}, ` +
      `${thousands(result.rowsValid)} rows in ${(result.durationMs / 1000).toFixed(1)} s, ` +
      `peak RSS ${(result.peakRssBytes / MIB).toFixed(0)} MiB\n` +
      `bytes per series: ${thousands(result.bytesPerSeries)} (fixed: ${(result.interceptBytes / MIB).toFixed(1)} MiB)\n` +
      `projection for ${thousands(PROJECT_SERIES)} series: ${(projected / MIB).toFixed(0)} MiB\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
