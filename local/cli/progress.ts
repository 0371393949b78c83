/**
 * Progress of long CLI work (`drop --wait`, `demo`, `runs replay --all-failed`, `simulate`) on stderr.
 * On a terminal one live line, redrawn in place and cleared at the end; elsewhere (CI logs, pipes,
 * `--no-progress`) plain lines, one per step, with no carriage return or escape code. stdout is never
 * touched: what scripts parse stays as it was.
 *
 * The core (state → line) is pure; `startProgress` only decides the mode and writes.
 */

export type Tone = 'good' | 'warn' | 'bad';

export interface ProgressState {
  /** The work, as the line begins: `demo`, `drop`, `replay`, `simulate`. */
  task: string;
  /** Units done of the total: a bar on a terminal. */
  done?: number;
  total?: number;
  /** What is counted: `files`, `runs`, `stages`. */
  unit?: string;
  /** Outcomes so far, in the order given (completed, rejected, failed). */
  counts?: ReadonlyArray<{ name: string; value: number; tone?: Tone }>;
  /** The current stage or phase: `silver`, `starting the embedded runtime`. */
  stage?: string;
  /** What the stage works on: a batch, a file. */
  detail?: string;
  elapsedMs: number;
}

/** `4 s`, `1m 05s`, `2h 03m`: whole seconds, as a live line ticks once a second. */
export function elapsedText(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

function amount(state: ProgressState): string | undefined {
  if (state.done === undefined) return undefined;
  const of = state.total === undefined ? '' : `/${state.total}`;
  return `${state.done}${of}${state.unit ? ` ${state.unit}` : ''}`;
}

const countsText = (state: ProgressState): string | undefined =>
  state.counts && state.counts.length > 0
    ? state.counts.map((c) => `${c.value} ${c.name}`).join(', ')
    : undefined;

/** The state as a plain log line without the time: a new plain line is due when this changes. */
function plainBody(state: ProgressState): string {
  const parts = [state.stage, amount(state), countsText(state), state.detail].filter(
    (part): part is string => part !== undefined && part !== '',
  );
  return `${state.task}: ${parts.join('; ')}`;
}

/** One plain line: `demo: 12/48 files; 10 completed, 2 rejected, 0 failed (1m 05s)`. */
export function plainLine(state: ProgressState): string {
  return `${plainBody(state)} (${elapsedText(state.elapsedMs)})`;
}

/**
 * What makes a plain line a new step. Counted work with `steps` set reports only when it crosses a
 * step (tenths for `steps` 10) or ends; otherwise every change of stage, amount, counts or detail is one.
 */
export function plainStepKey(state: ProgressState, steps?: number): string {
  if (steps !== undefined && state.done !== undefined && state.total !== undefined && state.total > 0) {
    const step = Math.floor((Math.min(state.done, state.total) * steps) / state.total);
    return `${state.task}|${state.stage ?? ''}|${step}`;
  }
  return plainBody(state);
}

const ANSI: Record<Tone | 'dim', string> = { good: '32', warn: '33', bad: '31', dim: '2' };

interface Segment {
  text: string;
  tone?: Tone | 'dim';
}

/** A bar of `width` cells, filled by done/total. */
export function bar(done: number, total: number, width: number): string {
  const share = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

const BAR_CELLS = 20;

/**
 * Segments of the live line: task, bar, amount, time, counts, stage, detail. Short of room, the detail goes
 * first, then the bar; what is still too long is cut at the end, so the time stays in sight.
 */
function liveSegments(state: ProgressState, width: number): Segment[] {
  const task: Segment = { text: state.task };
  const barred =
    state.done !== undefined && state.total !== undefined
      ? { text: ` ${bar(state.done, state.total, BAR_CELLS)}` }
      : undefined;
  const count = amount(state);
  const head: Segment[] = [
    ...(count ? [{ text: ` ${count}` }] : []),
    { text: ` · ${elapsedText(state.elapsedMs)}`, tone: 'dim' },
  ];
  for (const [i, c] of (state.counts ?? []).entries()) {
    head.push(
      { text: i === 0 ? ' · ' : ', ' },
      { text: `${c.value} ${c.name}`, tone: c.value > 0 ? c.tone : undefined },
    );
  }
  if (state.stage) head.push({ text: ` · ${state.stage}` });
  const detail: Segment[] = state.detail ? [{ text: ` · ${state.detail}` }] : [];
  const withBar = barred ? [task, barred] : [task];
  const length = (segments: Segment[]): number => segments.reduce((n, s) => n + s.text.length, 0);
  const choices = [
    [...withBar, ...head, ...detail],
    [...withBar, ...head],
    [task, ...head],
  ];
  return choices.find((segments) => length(segments) <= width) ?? choices[2]!;
}

/**
 * The live line for a terminal `columns` wide: never wider than `columns - 1` (a line that wraps cannot
 * be redrawn in place), coloured by tone unless `color` is false. Escape codes do not count as width.
 */
export function liveLine(state: ProgressState, options: { columns: number; color: boolean }): string {
  const width = Math.max(10, options.columns - 1);
  let room = width;
  let line = '';
  for (const segment of liveSegments(state, width)) {
    if (room <= 0) break;
    let text = segment.text;
    if (text.length > room) text = `${text.slice(0, Math.max(0, room - 1))}…`;
    room -= text.length;
    line += options.color && segment.tone ? `\u001b[${ANSI[segment.tone]}m${text}\u001b[0m` : text;
  }
  return line;
}

// ---- the writer ----------------------------------------------------------------------------------------

/** The part of a Node stream the progress needs (process.stderr; a fake one in tests). */
export interface ProgressStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export type ProgressMode = 'live' | 'plain';

/** Live only on a terminal that can redraw, and not when the user asked for plain lines. */
export function progressMode(
  stream: Pick<ProgressStream, 'isTTY'>,
  env: NodeJS.ProcessEnv,
  wanted = true,
): ProgressMode {
  return wanted && stream.isTTY === true && env.TERM !== 'dumb' ? 'live' : 'plain';
}

/** NO_COLOR (https://no-color.org): present and not empty turns colour off. */
export const colorWanted = (env: NodeJS.ProcessEnv): boolean => !env.NO_COLOR;

export interface ProgressOptions {
  task: string;
  stream?: ProgressStream;
  env?: NodeJS.ProcessEnv;
  /** False for `--no-progress`: plain lines even on a terminal. */
  live?: boolean;
  /** For counted work: at most this many plain lines (10: one per tenth); unset, one per change. */
  plainSteps?: number;
  now?: () => number;
  /** How often a live line is redrawn to move its clock; 0 for never. */
  tickMs?: number;
}

export type ProgressUpdate = Partial<Omit<ProgressState, 'task' | 'elapsedMs'>>;

export interface Progress {
  readonly mode: ProgressMode;
  /** Merges `update` into the state and shows it (live: redrawn; plain: a line when it is a new step). */
  update(update: ProgressUpdate): void;
  /** A message of its own: printed above the live line, or as a plain line. */
  log(line: string): void;
  /** Ends the progress (idempotent): live clears its line; both then print `finalLine` if given. */
  end(finalLine?: string): void;
}

const CLEAR_LINE = '\r\u001b[K';

export function startProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const mode = progressMode(stream, env, options.live ?? true);
  const color = colorWanted(env);
  const began = now();
  let fields: ProgressUpdate = {};
  let lastKey: string | undefined;
  let drawn = false;
  let ended = false;

  const state = (): ProgressState => ({ ...fields, task: options.task, elapsedMs: now() - began });
  const draw = (): void => {
    const line = liveLine(state(), { columns: stream.columns || 80, color });
    stream.write(`${drawn ? CLEAR_LINE : '\r'}${line}`);
    drawn = true;
  };
  const clear = (): void => {
    if (drawn) stream.write(CLEAR_LINE);
    drawn = false;
  };
  const tickMs = options.tickMs ?? 1000;
  const ticker = mode === 'live' && tickMs > 0 ? setInterval(draw, tickMs) : undefined;
  ticker?.unref();

  return {
    mode,
    update(update) {
      if (ended) return;
      fields = { ...fields, ...update };
      if (mode === 'live') {
        draw();
        return;
      }
      const current = state();
      const key = plainStepKey(current, options.plainSteps);
      if (key !== lastKey) {
        lastKey = key;
        stream.write(`${plainLine(current)}\n`);
      }
    },
    log(line) {
      if (ended) {
        stream.write(`${line}\n`);
        return;
      }
      if (mode === 'live') {
        clear();
        stream.write(`${line}\n`);
        draw();
      } else {
        stream.write(`${line}\n`);
      }
    },
    end(finalLine) {
      if (ended) return;
      ended = true;
      if (ticker) clearInterval(ticker);
      if (mode === 'live') clear();
      if (finalLine !== undefined) stream.write(`${finalLine}\n`);
    },
  };
}
