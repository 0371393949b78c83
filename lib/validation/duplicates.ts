/**
 * Duplicate-key detection in bounded memory.
 *
 * Meter readings: per (meter, channel) series, one 16-bit fingerprint of the row's values per interval
 * (0 = empty), in pages of 1,024 intervals allocated as the series reaches them. The step is the series'
 * own interval length, so memory is about 2 bytes per reading: 36 million readings cost ~75 MB instead of
 * a key string each (the 2 GB memory target of bench/validation rules out 4 bytes). A row off its
 * series' grid goes to a small map. A fingerprint collision can make a conflicting duplicate look
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

class Series {
  private readonly pages = new Map<number, Uint16Array>();
  private readonly offGrid = new Map<number, number>();

  constructor(private readonly stepMs: number) {}

  check(time: number, print: number): DuplicateOutcome {
    if (time % this.stepMs !== 0) return this.checkMap(this.offGrid, time, print);
    const slot = time / this.stepMs;
    const pageIndex = Math.floor(slot / PAGE_SIZE);
    let page = this.pages.get(pageIndex);
    if (!page) {
      page = new Uint16Array(PAGE_SIZE);
      this.pages.set(pageIndex, page);
    }
    const offset = slot - pageIndex * PAGE_SIZE;
    const existing = page[offset]!;
    if (existing === 0) {
      page[offset] = print;
      return 'new';
    }
    return existing === print ? 'identical' : 'conflict';
  }

  private checkMap(map: Map<number, number>, key: number, print: number): DuplicateOutcome {
    const existing = map.get(key);
    if (existing === undefined) {
      map.set(key, print);
      return 'new';
    }
    return existing === print ? 'identical' : 'conflict';
  }
}

/** Keys seen in one file of meter readings: (meter, channel, interval start). */
export class ReadingDuplicates {
  private readonly byMeter = new Map<string, Map<string, Series>>();

  check(
    meter: string,
    channel: string,
    startMs: number,
    intervalMinutes: number,
    print: number,
  ): DuplicateOutcome {
    let channels = this.byMeter.get(meter);
    if (!channels) {
      channels = new Map();
      this.byMeter.set(meter, channels);
    }
    let series = channels.get(channel);
    if (!series) {
      series = new Series(intervalMinutes * MINUTE);
      channels.set(channel, series);
    }
    return series.check(startMs, print);
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
