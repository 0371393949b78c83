import { Writable } from 'node:stream';

import { showDemoProgress } from '../../../local/cli/demo';
import { elapsedText, liveLine, type ProgressOptions, startProgress } from '../../../local/cli/progress';
import type { IngestOutcome } from '../../../local/drops';

/** A Node stream standing in for stderr: a terminal of `columns` when `isTTY`, else a pipe. */
class FakeStderr extends Writable {
  readonly chunks: string[] = [];
  constructor(
    readonly isTTY: boolean,
    readonly columns = 80,
  ) {
    super({ decodeStrings: false });
  }
  override _write(chunk: unknown, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(String(chunk));
    done();
  }
  get text(): string {
    return this.chunks.join('');
  }
}

const ESC = '\u001b';
// Built from ESC: a control character may not sit in a regular expression literal.
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');
const CONTROL_SEQUENCE = new RegExp(`^${ESC}\\[([0-9;]*)([A-Za-z])`);
const stripSgr = (text: string): string => text.replace(SGR, '');

/**
 * What a terminal shows after `output`: `\r` returns to column 0, ESC[K erases to the end of the line,
 * colour codes take no room, `\n` starts a new line. The last element is the line the cursor is on.
 */
function screen(output: string): string[] {
  const lines: string[] = [''];
  let column = 0;
  for (let i = 0; i < output.length; i++) {
    const char = output[i]!;
    const row = lines.length - 1;
    if (char === '\r') column = 0;
    else if (char === '\n') {
      lines.push('');
      column = 0;
    } else if (char === ESC) {
      const match = CONTROL_SEQUENCE.exec(output.slice(i))!;
      if (match[2] === 'K') lines[row] = lines[row]!.slice(0, column);
      i += match[0].length - 1;
    } else {
      const line = lines[row]!.padEnd(column);
      lines[row] = line.slice(0, column) + char + line.slice(column + 1);
      column++;
    }
  }
  return lines;
}

function progressOn(stream: FakeStderr, options: Partial<ProgressOptions> = {}) {
  const clock = { ms: 0 };
  const progress = startProgress({
    task: 'demo',
    stream,
    env: {},
    now: () => clock.ms,
    tickMs: 0,
    ...options,
  });
  return { progress, clock };
}

describe('progress when stderr is not a terminal', () => {
  it('when counted work advances, then each step is one plain line, with no carriage return or escape code', () => {
    const stream = new FakeStderr(false);
    const { progress, clock } = progressOn(stream);

    for (let done = 1; done <= 3; done++) {
      clock.ms += 1500;
      progress.update({ done, total: 3, unit: 'files' });
    }
    progress.end();

    expect([stream.text.includes('\r'), stream.text.includes(ESC)]).toEqual([false, false]);
    expect(stream.text.split('\n')).toEqual([
      'demo: 1/3 files (1 s)',
      'demo: 2/3 files (3 s)',
      'demo: 3/3 files (4 s)',
      '',
    ]);
  });

  it('when the same stage is polled again and again, then it is written once', () => {
    const stream = new FakeStderr(false);
    const { progress, clock } = progressOn(stream, { task: 'drop' });

    for (const stage of ['validate', 'validate', 'silver', 'silver', 'silver', 'gold']) {
      clock.ms += 250;
      progress.update({ stage });
    }
    progress.end();

    expect(stream.text.trimEnd().split('\n')).toEqual([
      'drop: validate (0 s)',
      'drop: silver (0 s)',
      'drop: gold (1 s)',
    ]);
  });

  it('when plain lines are limited to tenths, then 100 files give one line per tenth', () => {
    const stream = new FakeStderr(false);
    const { progress } = progressOn(stream, { task: 'simulate', plainSteps: 10 });

    for (let done = 1; done <= 100; done++) progress.update({ done, total: 100, unit: 'files' });
    progress.end();

    const lines = stream.text.trimEnd().split('\n');
    // Files 1-9 are the tenth 0; 10, 20, ... 100 open the tenths 1 to 10.
    const expected = [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map(
      (done) => `simulate: ${done}/100 files (0 s)`,
    );
    expect(lines).toEqual(expected);
  });

  it('when the terminal says TERM=dumb, then it gets plain lines', () => {
    const stream = new FakeStderr(true);
    const { progress } = progressOn(stream, { env: { TERM: 'dumb' } });

    progress.update({ stage: 'simulating' });
    progress.end();

    expect(progress.mode).toBe('plain');
    expect(stream.text).toBe('demo: simulating (0 s)\n');
  });

  it('when --no-progress is given on a terminal, then it gets plain lines', () => {
    const stream = new FakeStderr(true);
    const { progress } = progressOn(stream, { live: false });

    progress.update({ stage: 'simulating' });
    progress.log('demo: simulated 4 files');
    progress.end();

    expect(stream.text).toBe('demo: simulating (0 s)\ndemo: simulated 4 files\n');
  });
});

describe('progress on a terminal', () => {
  it('when the state changes, then the one line is redrawn in place and cleared at the end', () => {
    const stream = new FakeStderr(true, 100);
    const { progress, clock } = progressOn(stream);

    for (let done = 0; done <= 4; done++) {
      clock.ms = done * 1000;
      progress.update({ done, total: 4, unit: 'files' });
      expect(screen(stream.text)).toHaveLength(1);
    }
    expect(screen(stream.text)[0]).toMatch(/^demo \[#{20}\] 4\/4 files · 4 s$/);
    progress.end();

    expect(stream.text).not.toContain('\n');
    expect(screen(stream.text)).toEqual(['']);
  });

  it('when a final line is given, then it replaces the live line and ends with a newline', () => {
    const stream = new FakeStderr(true);
    const { progress } = progressOn(stream);

    progress.update({ done: 1, total: 2, unit: 'files' });
    progress.end('demo: done');

    expect(screen(stream.text)).toEqual(['demo: done', '']);
  });

  it('when a message is logged, then it stays above the live line, which is drawn again', () => {
    const stream = new FakeStderr(true);
    const { progress } = progressOn(stream);

    progress.update({ stage: 'simulating' });
    progress.log('demo: simulated 48 files from 9 sources');

    expect(screen(stream.text)).toEqual([
      'demo: simulated 48 files from 9 sources',
      'demo · 0 s · simulating',
    ]);
    progress.end();
    expect(screen(stream.text)).toEqual(['demo: simulated 48 files from 9 sources', '']);
  });

  it('when the state is wider than the terminal, then the line stays narrower than its columns', () => {
    const stream = new FakeStderr(true, 40);
    const { progress } = progressOn(stream);

    progress.update({
      done: 7,
      total: 48,
      unit: 'files',
      stage: 'ingesting prices and readings',
      detail: 'bronze/landing/meter_readings/headend_utc/2025/09/28/readings.csv',
    });

    const shown = screen(stream.text);
    expect(shown).toHaveLength(1);
    expect(shown[0]!.length).toBeLessThanOrEqual(39);
    // The bar and the detail make room; the time stays in sight.
    expect(shown[0]).toMatch(/^demo 7\/48 files · 0 s · ingesting/);
  });

  it('when all but the detail fits, then the detail is left out and the bar stays', () => {
    const state = { done: 7, total: 48, unit: 'files', stage: 'silver', detail: 'batch batch-silver-000001' };
    const wide = new FakeStderr(true, 120);
    const narrow = new FakeStderr(true, 60);

    progressOn(wide).progress.update(state);
    progressOn(narrow).progress.update(state);

    expect(screen(wide.text)[0]).toMatch(
      /^demo \[#+-+\] 7\/48 files · 0 s · silver · batch batch-silver-000001$/,
    );
    expect(screen(narrow.text)[0]).toMatch(/^demo \[#+-+\] 7\/48 files · 0 s · silver$/);
  });

  it('when NO_COLOR is set, then no colour code is written but the line is still redrawn', () => {
    const stream = new FakeStderr(true);
    const { progress } = progressOn(stream, { env: { NO_COLOR: '1' } });

    progress.update({ counts: [{ name: 'failed', value: 2, tone: 'bad' }] });
    progress.update({ counts: [{ name: 'failed', value: 3, tone: 'bad' }] });

    expect(stripSgr(stream.text)).toBe(stream.text);
    expect(stream.text).toContain('\r');
    expect(screen(stream.text)).toEqual(['demo · 0 s · 3 failed']);
  });

  it('when colour is allowed, then a count above zero takes its tone', () => {
    const line = liveLine(
      { task: 'demo', counts: [{ name: 'failed', value: 1, tone: 'bad' }], elapsedMs: 0 },
      { columns: 80, color: true },
    );

    expect(line).toContain(`${ESC}[31m1 failed${ESC}[0m`);
    expect(stripSgr(line)).toBe('demo · 0 s · 1 failed');
  });
});

describe('demo progress', () => {
  it('when the demo reports its files, then the counts shown are those of the outcomes fed in', () => {
    const stream = new FakeStderr(false);
    const { progress } = progressOn(stream);
    const show = showDemoProgress(progress);
    const outcomes: IngestOutcome[] = ['completed', 'rejected', 'completed', 'failed', 'completed'];

    show({ kind: 'phase', phase: 'simulating' });
    show({ kind: 'phase', phase: 'ingesting', files: outcomes.length });
    outcomes.forEach((outcome, i) => show({ kind: 'file', path: `f${i}.csv`, outcome }));
    progress.end();

    const lines = stream.text.trimEnd().split('\n');
    const count = (outcome: IngestOutcome): number => outcomes.filter((o) => o === outcome).length;
    expect(lines).toHaveLength(2 + outcomes.length);
    expect(lines.at(-1)).toBe(
      `demo: ingesting; ${outcomes.length}/${outcomes.length} files; ` +
        `${count('completed')} completed, ${count('rejected')} rejected, ${count('failed')} failed; ` +
        `completed f4.csv (0 s)`,
    );
  });

  it('when a run was still going as the wait gave up, then it is counted as unfinished', () => {
    const stream = new FakeStderr(false);
    const { progress } = progressOn(stream);
    const show = showDemoProgress(progress);

    show({ kind: 'phase', phase: 'ingesting', files: 1 });
    show({ kind: 'file', path: 'slow.csv', outcome: 'unfinished' });

    expect(stream.text.trimEnd().split('\n').at(-1)).toContain('0 failed, 1 unfinished');
  });
});

describe('elapsed time', () => {
  it.each([
    [0, '0 s'],
    [59_999, '59 s'],
    [65_000, '1m 05s'],
    [3_600_000 + 180_000, '1h 03m'],
  ])('when %i ms have passed, then it reads %s', (ms, text) => {
    expect(elapsedText(ms)).toBe(text);
  });
});
