/**
 * The host's notion of time. Durable timers, `currentUtcDateTime` (via OrchestratorStarted) and timer
 * triggers all read it, so tests can move time forward instead of sleeping.
 */
export interface Clock {
  now(): number;
  /** Calls `listener` whenever time jumps (manual clocks); returns an unsubscribe function. */
  onAdvance(listener: () => void): () => void;
  /** Whether the host should arm real timeouts to wake at due times (system clock) or wait for `advance`. */
  readonly realTime: boolean;
}

export class SystemClock implements Clock {
  readonly realTime = true;
  now(): number {
    return Date.now();
  }
  onAdvance(): () => void {
    return () => {};
  }
}

export class ManualClock implements Clock {
  readonly realTime = false;
  private current: number;
  private readonly listeners = new Set<() => void>();

  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    if (ms < 0) throw new RangeError('A clock cannot go back.');
    this.current += ms;
    for (const listener of this.listeners) listener();
  }

  set(to: Date | number): void {
    const target = typeof to === 'number' ? to : to.getTime();
    this.advance(Math.max(0, target - this.current));
  }

  onAdvance(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
