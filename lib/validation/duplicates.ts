/**
 * Duplicate-key detection in bounded memory.
 *
 * Meter readings: one slot per (meter, channel) and interval, holding a 32-bit fingerprint of the row's
 * values (0 = empty). Slots live in a typed array per series that grows to the series' time span, so
 * 30 million half-hourly readings cost about 120 MB rather than a key string each. A fingerprint
 * collision can make a conflicting duplicate look identical with probability 2^-32 per pair.
 *
 * Other datasets are small reference files and use a map of key → fingerprint.
 */

export type DuplicateOutcome = 'new' | 'identical' | 'conflict';

/** FNV-1a over the parts; never 0, so 0 can mean "empty slot". */
export function fingerprint(parts: ReadonlyArray<string | number>): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    const text = typeof part === 'number' ? String(part) : part;
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    hash ^= 0x1f;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0 || 1;
}

class SeriesSlots {
  private slots: Uint32Array;
  private base: number;
  /** Rows whose time is not a whole number of steps from the series' first row. */
  private readonly offGrid = new Map<number, number>();

  constructor(
    first: number,
    private readonly step: number,
  ) {
    this.base = Math.floor(first / step) - 8;
    this.slots = new Uint32Array(64);
  }

  check(time: number, print: number): DuplicateOutcome {
    if (time % this.step !== 0) {
      const existing = this.offGrid.get(time);
      if (existing === undefined) {
        this.offGrid.set(time, print);
        return 'new';
      }
      return existing === print ? 'identical' : 'conflict';
    }
    let index = time / this.step - this.base;
    if (index < 0) {
      const grow = Math.max(this.slots.length, -index + 8);
      const next = new Uint32Array(this.slots.length + grow);
      next.set(this.slots, grow);
      this.slots = next;
      this.base -= grow;
      index += grow;
    } else if (index >= this.slots.length) {
      let size = this.slots.length * 2;
      while (size <= index) size *= 2;
      const next = new Uint32Array(size);
      next.set(this.slots);
      this.slots = next;
    }
    const existing = this.slots[index]!;
    if (existing === 0) {
      this.slots[index] = print;
      return 'new';
    }
    return existing === print ? 'identical' : 'conflict';
  }
}

/** Tracks keys seen in one file. `series` is e.g. meter|channel, `time` the interval start in ms. */
export class TimeSeriesDuplicates {
  private readonly series = new Map<string, SeriesSlots>();

  constructor(private readonly stepMs: number) {}

  check(series: string, time: number, print: number): DuplicateOutcome {
    let slots = this.series.get(series);
    if (!slots) {
      slots = new SeriesSlots(time, this.stepMs);
      this.series.set(series, slots);
    }
    return slots.check(time, print);
  }

  get seriesCount(): number {
    return this.series.size;
  }
}

export class KeyDuplicates {
  private readonly seen = new Map<string, number>();

  check(key: string, print: number): DuplicateOutcome {
    const existing = this.seen.get(key);
    if (existing === undefined) {
      this.seen.set(key, print);
      return 'new';
    }
    return existing === print ? 'identical' : 'conflict';
  }
}
