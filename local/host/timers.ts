import { type SettingKey, SETTINGS } from '../../lib/config';
import { ensureError } from '../../lib/errors';
import type { Clock } from './clock';
import type { DurableStore } from './durable/store';
import type { CapturedFunction, RpcTypedData } from './functionsCore';
import { triggerBinding } from './invoke';
import type { HostLogger } from './log';
import { parseSchedule, type Schedule } from './ncrontab';

/**
 * Resolves `%NAME%` binding expressions from the environment, as the Functions host resolves them from app
 * settings; a Lakewatt setting left unset resolves to its documented default.
 */
export function resolveAppSettings(expression: string): string {
  return expression.replace(/%([A-Za-z0-9_]+)%/g, (whole, name: string) => {
    const value = process.env[name];
    if (value !== undefined && value !== '') return value;
    if (name in SETTINGS) {
      const fallback: unknown = SETTINGS[name as SettingKey].schema.safeParse(undefined).data;
      if (typeof fallback === 'string') return fallback;
    }
    throw new Error(`binding expression ${whole}: app setting ${name} is not set`);
  });
}

interface TimerState {
  fn: CapturedFunction;
  schedule: Schedule;
  next: number;
  last: number | null;
  running: Promise<void>;
}

export interface TimerContext {
  clock: Clock;
  store: DurableStore;
  logger: HostLogger;
  invokeTrigger(fn: CapturedFunction, trigger: RpcTypedData): Promise<unknown>;
}

/**
 * Timer triggers: fires each `app.timer` function on its NCRONTAB schedule, honours `runOnStartup`, and
 * reports missed occurrences as past due (`isPastDue`), as the Functions timer monitor does: the last and
 * next occurrence of each function survive restarts in SQLite, and a start-up after a missed occurrence
 * fires once with `isPastDue: true`. One invocation of a function at a time.
 */
export class TimerTriggers {
  private readonly timers = new Map<string, TimerState>();
  private handle: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly ctx: TimerContext) {}

  start(functions: Iterable<CapturedFunction>): void {
    const now = this.ctx.clock.now();
    for (const fn of functions) {
      const trigger = triggerBinding(fn);
      if (trigger.type.toLowerCase() !== 'timertrigger') continue;
      const binding = fn.metadata.bindings[trigger.name] ?? {};
      const schedule = parseSchedule(
        resolveAppSettings(typeof binding.schedule === 'string' ? binding.schedule : ''),
      );
      const stored = this.ctx.store.timerTrigger(fn.metadata.name);
      const state: TimerState = {
        fn,
        schedule,
        next: schedule.next(now),
        last: stored?.last ?? null,
        running: Promise.resolve(),
      };
      this.timers.set(fn.metadata.name, state);
      const pastDue = stored?.next !== null && stored?.next !== undefined && stored.next <= now;
      if (pastDue) this.fire(state, true, stored.next!);
      else if (binding.runOnStartup === true) this.fire(state, false, now);
      this.ctx.store.putTimerTrigger(fn.metadata.name, state.last, state.next, now);
    }
    this.unsubscribe = this.ctx.clock.onAdvance(() => this.check());
    this.arm();
  }

  /** Resolves when every timer invocation started so far has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.timers.values()].map((t) => t.running));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.handle);
    this.unsubscribe?.();
    await this.settled();
  }

  private arm(): void {
    clearTimeout(this.handle);
    if (this.stopped || !this.ctx.clock.realTime || this.timers.size === 0) return;
    const due = Math.min(...[...this.timers.values()].map((t) => t.next));
    this.handle = setTimeout(
      () => this.check(),
      Math.max(0, Math.min(due - this.ctx.clock.now(), 2 ** 31 - 1)),
    );
  }

  private check(): void {
    if (this.stopped) return;
    const now = this.ctx.clock.now();
    for (const state of this.timers.values()) {
      if (state.next > now) continue;
      const due = state.next;
      // More than one occurrence went by (the process was busy or the clock jumped): one past-due run.
      const missed = state.schedule.next(due) <= now;
      state.next = state.schedule.next(now);
      this.fire(state, missed, due);
      this.ctx.store.putTimerTrigger(state.fn.metadata.name, state.last, state.next, now);
    }
    this.arm();
  }

  private fire(state: TimerState, isPastDue: boolean, occurrence: number): void {
    const name = state.fn.metadata.name;
    const now = this.ctx.clock.now();
    const payload = {
      Schedule: { AdjustForDST: true },
      ScheduleStatus: {
        Last: new Date(state.last ?? occurrence).toISOString(),
        Next: new Date(state.next).toISOString(),
        LastUpdated: new Date(now).toISOString(),
      },
      IsPastDue: isPastDue,
    };
    state.last = occurrence;
    state.running = state.running.then(async () => {
      if (isPastDue) this.ctx.logger.warn('timer is past due', { functionName: name });
      try {
        await this.ctx.invokeTrigger(state.fn, { json: JSON.stringify(payload) });
      } catch (thrown) {
        this.ctx.logger.error(`timer function failed: ${ensureError(thrown).message}`, {
          functionName: name,
        });
      }
    });
  }
}
