import { isMultipleOf } from './values';

/**
 * Duplicate-key detection in bounded memory.
 *
 * Meter readings: per (meter, channel) series, one 16-bit fingerprint of the row's values per interval
 * (0 = empty), in pages of 1,024 intervals allocated as the series reaches them; a page starts with 128
 * slots (a day of 15-minute readings) and doubles as the series grows, so a daily file costs ~256 bytes of
 * slots per series, not 2 KiB. The step is the series' own interval length, so memory is about 2 bytes per
 * reading: 36 million readings cost ~75 MB instead of a key string each (the 2 GB memory target of
 * bench/validation rules out 4 bytes). A row off its series' grid goes to a small map. The number of
 * series is what grows with the file's breadth; the engine bounds it (VALIDATION_MAX_SERIES). A fingerprint collision can make a conflicting duplicate look
 * identical, with probability 2^-16 per conflicting pair; it is then dropped as a duplicate instead of
 * rejected, and silver's precedence still decides between the two values (decision 0005).
 *
 * Other datasets are small reference files and use a map of key → fingerprint.
 */

export type DuplicateOutcome = 'new' | 'identical' | 'conflict';

const PAGE_BITS = 10;
const PAGE_SIZE = 1 << PAGE_BITS;
const MINUTE = 60_000;

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);

function mix(hash: number, value: number): number {
  return Math.imul(hash ^ value, 0x01000193) >>> 0;
}

/** 16-bit fingerprint of a reading's values (kWh, quality, interval); never 0, so 0 means "empty". */
export function readingFingerprint(kwh: number, quality: string, minutes: number): number {
  scratch[0] = kwh;
  let hash = mix(0x811c9dc5, scratchWords[0]!);
  hash = mix(hash, scratchWords[1]!);
  for (let i = 0; i < quality.length; i++) hash = mix(hash, quality.charCodeAt(i));
  hash = mix(hash, minutes);
  return (hash >>> 16) ^ (hash & 0xffff) || 1;
}

/** Fingerprint of any list of values (reference data rows). */
export function fingerprint(parts: ReadonlyArray<string | number | null | undefined>): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    const text = part === null || part === undefined ? '\u0000' : String(part);
    for (let i = 0; i < text.length; i++) hash = mix(hash, text.charCodeAt(i));
    hash = mix(hash, 0x1f);
  }
  return hash || 1;
}

/** Slots of a series' first page: a day of 15-minute readings (96) fits; pages double up to `PAGE_SIZE`. */
const FIRST_PAGE_SLOTS = 128;

/** Part of a 1,024-slot page: slots `lo` to `lo + slots.length - 1`, grown as the series reaches past it. */
interface Page {
  lo: number;
  slots: Uint16Array;
}

function grown(page: Page, offset: number): Page {
  const lo = Math.min(page.lo, offset);
  const hi = Math.max(page.lo + page.slots.length, offset + 1);
  let size = page.slots.length * 2;
  while (size < hi - lo) size *= 2;
  size = Math.min(size, PAGE_SIZE);
  // Room on the side the series is moving to (forward in time unless it reached back).
  const start = Math.max(0, Math.min(offset < page.lo ? hi - size : lo, PAGE_SIZE - size));
  const slots = new Uint16Array(size);
  slots.set(page.slots, page.lo - start);
  return { lo: start, slots };
}

class Series {
  private firstIndex = 0;
  private first: Page | undefined;
  /** Pages other than the first, allocated only when a series spans more than one. */
  private more: Map<number, Page> | undefined;
  private offGrid: Map<number, number> | undefined;

  constructor(private readonly stepMs: number) {}

  check(time: number, print: number): DuplicateOutcome {
    if (!isMultipleOf(time, this.stepMs))
      return checkMap((this.offGrid ??= new Map<number, number>()), time, print);
    const slot = time / this.stepMs;
    const pageIndex = Math.floor(slot / PAGE_SIZE);
    const offset = slot - pageIndex * PAGE_SIZE;
    let page = this.pageAt(pageIndex);
    if (!page) {
      const size = FIRST_PAGE_SLOTS;
      page = { lo: Math.min(offset, PAGE_SIZE - size), slots: new Uint16Array(size) };
      this.setPage(pageIndex, page);
    } else if (offset < page.lo || offset >= page.lo + page.slots.length) {
      page = grown(page, offset);
      this.setPage(pageIndex, page);
    }
    const at = offset - page.lo;
    const existing = page.slots[at]!;
    if (existing === 0) {
      page.slots[at] = print;
      return 'new';
    }
    return existing === print ? 'identical' : 'conflict';
  }

  private pageAt(index: number): Page | undefined {
    return this.first && this.firstIndex === index ? this.first : this.more?.get(index);
  }

  private setPage(index: number, page: Page): void {
    if (!this.first || this.firstIndex === index) {
      this.firstIndex = index;
      this.first = page;
    } else (this.more ??= new Map()).set(index, page);
  }
}

function checkMap(map: Map<number, number>, key: number, print: number): DuplicateOutcome {
  const existing = map.get(key);
  if (existing === undefined) {
    map.set(key, print);
    return 'new';
  }
  return existing === print ? 'identical' : 'conflict';
}

/**
 * A meter's series: the first channel's inline (most meters have one or two), others in a map. `id` is the
 * index's own flat copy of the meter id: an id read from the file is a slice of its line, and keeping it
 * would keep the whole chunk of text it was cut from (measured: the entire file, ~16 KB per series).
 */
interface MeterEntry {
  readonly id: string;
  readonly channel: string;
  readonly series: Series;
  more: Map<string, Series> | undefined;
}

/** A copy of the string that shares no memory with the text it was cut from. */
function flatCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/**
 * Keys seen in one file of meter readings: (meter, channel, interval start). `beforeNewSeries` is called
 * with the number of series held before each new one is added, and may throw to refuse it.
 */
export class ReadingDuplicates {
  private readonly byMeter = new Map<string, MeterEntry>();
  private seriesCount = 0;
  /** The meter id last checked and its entry: a file holds a meter's readings in runs (entries stay). */
  private lastMeter: string | undefined;
  private lastEntry: MeterEntry | undefined;

  constructor(private readonly beforeNewSeries: (held: number) => void = () => undefined) {}

  /** (meter, channel) series held. */
  get series(): number {
    return this.seriesCount;
  }

  /** Meters held (each has at least one series). */
  get meters(): number {
    return this.byMeter.size;
  }

  /** The index's own copy of a meter id it holds, else undefined. */
  knownId(meter: string): string | undefined {
    return this.byMeter.get(meter)?.id;
  }

  check(
    meter: string,
    channel: string,
    startMs: number,
    intervalMinutes: number,
    print: number,
  ): DuplicateOutcome {
    let entry: MeterEntry | undefined;
    if (meter === this.lastMeter) entry = this.lastEntry;
    else {
      entry = this.byMeter.get(meter);
      if (entry) {
        this.lastMeter = meter;
        this.lastEntry = entry;
      }
    }
    let series: Series | undefined;
    if (!entry) {
      series = this.newSeries(intervalMinutes);
      const id = flatCopy(meter);
      this.byMeter.set(id, { id, channel, series, more: undefined });
    } else if (entry.channel === channel) series = entry.series;
    else {
      series = entry.more?.get(channel);
      if (!series) {
        series = this.newSeries(intervalMinutes);
        (entry.more ??= new Map()).set(channel, series);
      }
    }
    return series.check(startMs, print);
  }

  private newSeries(intervalMinutes: number): Series {
    this.beforeNewSeries(this.seriesCount);
    this.seriesCount++;
    return new Series(intervalMinutes * MINUTE);
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
