import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ManualClock } from '../../../local/host/clock';
import { LocalHost, type LocalHostOptions } from '../../../local/host/host';
import type { LogRecord } from '../../../local/host/log';

export const FIXTURE_APP = path.resolve(__dirname, '../../fixtures/durable-app/app.ts');
export const START = Date.UTC(2026, 0, 1, 0, 0, 0);

export interface TestHost {
  host: LocalHost;
  clock: ManualClock;
  home: string;
  logs: LogRecord[];
  /** Runs until idle, advancing the clock to each next due timer until `untilMs` of virtual time passed. */
  run(untilMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A host on the fixture app, a fresh state folder, a free port and a manual clock. */
export async function startTestHost(options: Partial<LocalHostOptions> = {}): Promise<TestHost> {
  const home = options.home ?? mkdtempSync(path.join(os.tmpdir(), 'lakewatt-host-'));
  const clock = options.clock instanceof ManualClock ? options.clock : new ManualClock(START);
  const logs: LogRecord[] = [];
  const host = await LocalHost.start({
    home,
    port: 0,
    modules: [FIXTURE_APP],
    clock,
    logSink: (record) => logs.push(record),
    timers: false,
    ...options,
  });
  const run = async (untilMs = 0): Promise<void> => {
    const limit = clock.now() + untilMs;
    await host.whenIdle();
    for (;;) {
      const due = host.store.nextDueAt();
      if (due === undefined || due > limit) break;
      clock.set(Math.max(due, clock.now()));
      await host.whenIdle();
    }
  };
  return {
    host,
    clock,
    home,
    logs,
    run,
    close: async () => {
      await host.stop();
      if (!options.home) rmSync(home, { recursive: true, force: true });
    },
  };
}
