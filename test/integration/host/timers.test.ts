import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ManualClock } from '../../../local/host/clock';
import { behaviour } from '../../fixtures/durable-app/app';
import { START, startTestHost } from './harness';

let home: string;

beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-timers-'));
  behaviour.timerRuns.length = 0;
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
});

describe('timer triggers', () => {
  it('when the host starts, then a runOnStartup timer fires once, not past due', async () => {
    const t = await startTestHost({ home, timers: true, clock: new ManualClock(START + 60_000) });
    await t.host.timers.settled();
    await t.close();
    expect(behaviour.timerRuns).toEqual([{ isPastDue: false }]);
  });

  it('when the clock reaches the next occurrence, then the timer fires on schedule', async () => {
    const t = await startTestHost({ home, timers: true, clock: new ManualClock(START + 60_000) });
    await t.host.timers.settled();
    t.clock.set(START + 5 * 60_000);
    await t.host.timers.settled();
    await t.close();
    expect(behaviour.timerRuns).toEqual([{ isPastDue: false }, { isPastDue: false }]);
  });

  it('when the host was down over an occurrence, then the restart reports one past-due run', async () => {
    const first = await startTestHost({ home, timers: true, clock: new ManualClock(START + 60_000) });
    await first.close();
    behaviour.timerRuns.length = 0;
    const second = await startTestHost({ home, timers: true, clock: new ManualClock(START + 20 * 60_000) });
    await second.host.timers.settled();
    await second.close();
    expect(behaviour.timerRuns).toEqual([{ isPastDue: true }]);
  });
});
