import { type DuplicateOutcome, ReadingDuplicates } from './duplicates';

const MAX_INTERNED_METERS = 200_000;

/**
 * What the engine remembers per meter and (meter, channel) series of a meter-readings file: one string per
 * meter id, the duplicate index, the wall-clock times read twice in a fall-back hour, the meters seen.
 */
export class MeterSeries {
  private readonly meterIds = new Map<string, string>();
  private readonly duplicates = new ReadingDuplicates();
  private readonly ambiguousSeen = new Set<string>();
  private readonly meters = new Set<string>();

  /** One string per meter id, for the same reason as canonical enum values (bounded: ids beyond the cap are kept as read). */
  internMeter(id: string): string {
    const known = this.meterIds.get(id);
    if (known !== undefined) return known;
    if (this.meterIds.size < MAX_INTERNED_METERS) this.meterIds.set(id, id);
    return id;
  }

  /**
   * Whether this wall-clock time of an ambiguous (fall-back) hour was already read for the series; records
   * it otherwise.
   */
  seenAmbiguous(
    meter: string | null | undefined,
    channel: string | null | undefined,
    wallMs: number,
  ): boolean {
    const key = `${meter}|${channel}|${wallMs}`;
    if (this.ambiguousSeen.has(key)) return true;
    this.ambiguousSeen.add(key);
    return false;
  }

  /** Whether the reading's key is new, an identical repeat or a conflicting repeat. */
  check(meter: string, channel: string, startMs: number, minutes: number, print: number): DuplicateOutcome {
    return this.duplicates.check(meter, channel, startMs, minutes, print);
  }

  /** Counts a staged reading's meter. */
  staged(meter: string): void {
    this.meters.add(meter);
  }

  /** Meters with at least one staged reading. */
  get meterCount(): number {
    return this.meters.size;
  }
}
