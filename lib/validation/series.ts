import { type DuplicateOutcome, ReadingDuplicates } from './duplicates';
import { FileRejection } from './reasons';

/**
 * What the engine remembers per meter and (meter, channel) series of a meter-readings file: the duplicate
 * index (which holds one copy of each meter id, shared by the file's rows) and the wall-clock times read
 * twice in a fall-back hour. This is the memory that grows with the breadth of a file, so the number of
 * series is bounded: the series after the first `maxSeries` rejects the whole file as TOO_MANY_SERIES
 * (docs/decisions/0017-validation-memory.md).
 */
export class MeterSeries {
  private readonly duplicates: ReadingDuplicates;
  private readonly ambiguousSeen = new Set<string>();

  constructor(readonly maxSeries: number) {
    this.duplicates = new ReadingDuplicates((held) => {
      if (held >= maxSeries) {
        throw new FileRejection(
          'TOO_MANY_SERIES',
          `more than ${maxSeries} (meter, channel) series; raise VALIDATION_MAX_SERIES or split the file`,
        );
      }
    });
  }

  /** The index's copy of a known meter id (one string per meter for the whole file), else the id as read. */
  internMeter(id: string): string {
    return this.duplicates.knownId(id) ?? id;
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

  /**
   * Whether the reading's key is new, an identical repeat or a conflicting repeat. Throws a FileRejection
   * (TOO_MANY_SERIES) when the reading would start one series more than the limit.
   */
  check(meter: string, channel: string, startMs: number, minutes: number, print: number): DuplicateOutcome {
    return this.duplicates.check(meter, channel, startMs, minutes, print);
  }

  /** Meters with at least one staged reading (a series starts with a staged reading). */
  get meterCount(): number {
    return this.duplicates.meters;
  }

  /** (meter, channel) series held. */
  get seriesCount(): number {
    return this.duplicates.series;
  }
}
