import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ManualClock } from '../../local/host/clock';
import type { Durability } from '../../local/host/durable/store';
import { LocalHost } from '../../local/host/host';

/**
 * Durable host benchmark (issue 6): orchestrations of five activities and one timer, every state change
 * committed to SQLite. The timer runs on a manual clock (advanced when the host is idle), so the figures
 * measure the host, not the wait.
 *
 *   npx tsc -p bench/durable/tsconfig.json && node bench/out/build/bench/durable/run.js \
 *     [--instances 300] [--concurrency 10] [--durability process|power]
 *
 * Reports activity steps per second (wall clock, start to last completion) and the median host time per
 * step: one episode (payload, replay through the real SDK, history and commit) plus one activity
 * bookkeeping (dispatch and result commit), excluding the activity's own work.
 */
function arg(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
const p95 = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * 0.95)] ?? 0;
};

async function main(): Promise<void> {
  const instances = Number(arg('instances', '300'));
  const concurrency = Number(arg('concurrency', '10'));
  const durability = arg('durability', 'process') as Durability;
  const home = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-bench-durable-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const host = await LocalHost.start({
    home,
    port: 0,
    modules: [path.join(__dirname, 'app.js')],
    clock,
    durability,
    maxConcurrentActivities: concurrency,
    timers: false,
    logSink: () => {},
  });
  try {
    const began = performance.now();
    for (let i = 0; i < instances; i++)
      host.engine.startNew('benchFiveAndTimer', { instanceId: `b${i}`, input: i });
    for (;;) {
      await host.whenIdle();
      const due = host.store.nextDueAt();
      if (due === undefined) break;
      clock.set(Math.max(due, clock.now()));
    }
    const seconds = (performance.now() - began) / 1000;
    const completed = host.engine.query({ statuses: ['Completed'] }).length;
    const { episodeSamples, activitySamples, episodes, activities } = host.engine.stats;
    const perStep = median(episodeSamples) + median(activitySamples);
    const result = {
      instances,
      completed,
      durability,
      concurrency,
      activitySteps: activities,
      episodes,
      seconds: Number(seconds.toFixed(2)),
      activityStepsPerSecond: Math.round(activities / seconds),
      medianEpisodeMs: Number(median(episodeSamples).toFixed(3)),
      p95EpisodeMs: Number(p95(episodeSamples).toFixed(3)),
      medianActivityBookkeepingMs: Number(median(activitySamples).toFixed(3)),
      medianPerStepOverheadMs: Number(perStep.toFixed(3)),
      node: process.version,
      cpus: os.cpus().length,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (completed !== instances) process.exitCode = 1;
  } finally {
    await host.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

void main();
