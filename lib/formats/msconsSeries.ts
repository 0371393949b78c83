import { ZoneResolver } from '../validation/timestamps';
import { DAY, MINUTE } from '../validation/values';
import type { Instant, MsconsChannel, RecordError } from './msconsValues';
import type { CanonicalQuality } from './nem12';

/**
 * The series bookkeeping of MSCONS (lib/formats/mscons.ts): the interval checks within one LIN series
 * (irregular lengths, gaps, overlaps) and the totals per meter and channel, with the notes they give the
 * report.
 */

export interface MsconsChannelSummary {
  meterId: string;
  channel: MsconsChannel;
  /** The PIA products (OBIS codes, or product ids that are not OBIS) read into this channel. */
  products: string[];
  /** Intervals handed over without errors of the reader. */
  intervals: number;
  kwh: number;
  quality: Record<CanonicalQuality, number>;
  /** Intervals handed over with errors of the reader (irregular, unknown qualifier, bad value, ...). */
  rejected: number;
  irregular: number;
  /** Intervals starting after the latest end so far (a hole) and the minutes missing. */
  gaps: number;
  gapMinutes: number;
  /** Intervals starting before the latest end so far (a stretch delivered twice). */
  overlaps: number;
}

/** Lengths a series may settle on: the first interval of one of them sets the series' length. */
const REGULAR_MINUTES = new Set([15, 60]);
const MOST_LENGTHS_LISTED = 12;

/** One LIN group: its intervals must follow each other at one regular length. */
export class IntervalSeries {
  private regularMinutes: number | null = null;
  /** The latest interval end seen in the series. */
  private latestEndMs: number | null = null;

  /** Checks one interval: its length and error; a gap or overlap before it (not errors) is counted in `totals`. */
  check(
    start: Instant,
    end: Instant,
    totals: MsconsChannelSummary,
  ): { minutes: number; error: RecordError | null } {
    const minutes = (end.utcMs - start.utcMs) / MINUTE;
    const endShown = end.date === start.date && end.offset === start.offset ? end.clock : end.shown;
    const interval = `interval ${start.shown} to ${endShown}`;
    const column = 'interval_minutes';
    if (minutes <= 0)
      return {
        minutes,
        error: { code: 'INVALID_INTERVAL', message: `${interval} ends before it starts`, column },
      };
    const latest = this.latestEndMs;
    if (latest !== null && start.utcMs > latest) {
      totals.gaps++;
      totals.gapMinutes += (start.utcMs - latest) / MINUTE;
    } else if (latest !== null && start.utcMs < latest) totals.overlaps++;
    this.latestEndMs = Math.max(latest ?? end.utcMs, end.utcMs);
    if (this.regularMinutes === null && REGULAR_MINUTES.has(minutes)) this.regularMinutes = minutes;
    if (minutes === this.regularMinutes) return { minutes, error: null };
    const series =
      this.regularMinutes === null
        ? 'the series has no 15- or 60-minute interval before it'
        : `the series is ${this.regularMinutes}-minute`;
    return {
      minutes,
      error: { code: 'INVALID_INTERVAL', message: `${interval} is ${minutes} minutes; ${series}`, column },
    };
  }
}

/**
 * Totals per meter and channel, the irregular lengths met, and the local days of daylight-saving length
 * (23 or 25 hours in the contract's zone) the series touch, with the minutes each series has on them.
 */
export class MsconsTotals {
  private readonly channels = new Map<string, MsconsChannelSummary>();
  private readonly irregularLengths = new Map<string, number>();
  private readonly zone: ZoneResolver;
  /** Local day (days since the epoch) → its length in minutes. */
  private readonly dayMinutes = new Map<number, number>();
  /** Channel key → daylight-saving day → minutes of accepted intervals starting on it. */
  private readonly dstCoverage = new Map<string, Map<number, number>>();

  constructor(readonly timezone: string) {
    this.zone = new ZoneResolver(timezone);
  }

  of(meterId: string, channel: MsconsChannel, product: string): MsconsChannelSummary {
    const key = `${meterId}\u0000${channel}`;
    let totals = this.channels.get(key);
    if (totals === undefined) {
      const quality = { actual: 0, estimated: 0, substituted: 0, missing: 0 };
      totals = {
        meterId,
        channel,
        products: [],
        intervals: 0,
        kwh: 0,
        quality,
        rejected: 0,
        irregular: 0,
        gaps: 0,
        gapMinutes: 0,
        overlaps: 0,
      };
      this.channels.set(key, totals);
    }
    if (!totals.products.includes(product)) totals.products.push(product);
    return totals;
  }

  /** An interval of `minutes` rejected as irregular (minutes <= 0: one that ends before it starts). */
  irregular(totals: MsconsChannelSummary, minutes: number): void {
    totals.irregular++;
    const length = minutes <= 0 ? 'ending before it starts' : `${minutes} min`;
    const known = this.irregularLengths.has(length) || this.irregularLengths.size < MOST_LENGTHS_LISTED;
    const key = known ? length : 'other lengths';
    this.irregularLengths.set(key, (this.irregularLengths.get(key) ?? 0) + 1);
  }

  accepted(
    totals: MsconsChannelSummary,
    start: Instant,
    minutes: number,
    kwh: number,
    quality: CanonicalQuality,
  ): void {
    totals.intervals++;
    totals.kwh += kwh;
    totals.quality[quality]++;
    const day = Math.floor((start.utcMs + this.zone.offsetAt(start.utcMs) * MINUTE) / DAY);
    if (this.lengthOf(day) === 1440) return;
    const key = `${totals.meterId}\u0000${totals.channel}`;
    const days = this.dstCoverage.get(key) ?? new Map<number, number>();
    days.set(day, (days.get(day) ?? 0) + minutes);
    this.dstCoverage.set(key, days);
  }

  summaries(): MsconsChannelSummary[] {
    return [...this.channels.values()].map((c) => ({
      ...c,
      products: [...c.products],
      quality: { ...c.quality },
    }));
  }

  notes(): string[] {
    const notes: string[] = [];
    const irregular = [...this.channels.values()].reduce((total, c) => total + c.irregular, 0);
    if (irregular > 0) {
      const lengths = [...this.irregularLengths].map(([length, count]) => `${count} × ${length}`).join(', ');
      notes.push(`${irregular} irregular interval(s) rejected as INVALID_INTERVAL: ${lengths}`);
    }
    for (const c of this.channels.values()) {
      if (c.gaps === 0 && c.overlaps === 0) continue;
      notes.push(
        `meter ${c.meterId} ${c.channel}: ${c.gaps} gap(s) (${c.gapMinutes} minutes without data), ${c.overlaps} interval(s) overlapping earlier ones`,
      );
    }
    for (const [key, days] of this.dstCoverage) {
      const [meterId, channel] = key.split('\u0000');
      for (const [day, minutes] of days) {
        const length = this.lengthOf(day);
        const date = new Date(day * DAY).toISOString().slice(0, 10);
        notes.push(
          `${date} is a ${length / 60}-hour day in ${this.timezone} (${length / 15} quarter-hours): meter ${meterId} ${channel} has ${minutes / 15} quarter-hours of it`,
        );
      }
    }
    return notes;
  }

  private lengthOf(day: number): number {
    let minutes = this.dayMinutes.get(day);
    if (minutes === undefined) {
      minutes = (this.zone.toUtc((day + 1) * DAY) - this.zone.toUtc(day * DAY)) / MINUTE;
      this.dayMinutes.set(day, minutes);
    }
    return minutes;
  }
}
