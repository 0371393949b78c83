import type { LocalDays } from './espiTime';
import type { EspiChannel } from './espiValues';
import type { RecordError } from './msconsValues';
import type { CanonicalQuality } from './nem12';

/**
 * The series bookkeeping of ESPI (lib/formats/espi.ts): the interval checks within one MeterReading (its
 * readings' lengths against the ReadingType's, gaps and overlaps between the readings it accepts), the totals
 * per meter and channel, and the interval defects the notes name with their local day, saying when that day
 * is one daylight saving starts or ends (the Green Button sample repeats and drops hours there).
 */

export interface EspiChannelSummary {
  meterId: string;
  channel: EspiChannel;
  /** The ReadingType hrefs read into this channel. */
  readingTypes: string[];
  /** Readings handed over without errors of the reader. */
  intervals: number;
  kwh: number;
  quality: Record<CanonicalQuality, number>;
  /** Readings handed over with errors of the reader (irregular length, bad value, unknown quality, ...). */
  rejected: number;
  irregular: number;
  gaps: number;
  gapMinutes: number;
  /** Readings starting before the previous accepted one ends (a repeated hour among them). */
  overlaps: number;
}

interface Finding {
  meterId: string;
  channel: EspiChannel;
  kind: 'irregular' | 'gap' | 'repeat' | 'overlap';
  startMs: number;
  minutes: number;
  /** The series' length, for an irregular reading. */
  expected: number | null;
}

const MOST_FINDINGS = 50;
const MINUTE = 60_000;

/** `2011-03-13T09:00Z` (with seconds only when they are not zero). */
export const shownTime = (ms: number): string => {
  const iso = new Date(ms).toISOString();
  return `${ms % MINUTE === 0 ? iso.slice(0, 16) : iso.slice(0, 19)}Z`;
};

/** One MeterReading's readings: their regular length, and the accepted readings' latest end. */
export class EspiSeries {
  private latestEndMs: number | null = null;
  private lastStartMs: number | null = null;

  /** `regularMinutes`: the ReadingType's intervalLength; null: the first reading's length sets it. */
  constructor(private regularMinutes: number | null) {}

  /** The error of a reading whose length is not the series'. */
  lengthError(startMs: number, minutes: number): RecordError | null {
    if (this.regularMinutes === null && minutes > 0) this.regularMinutes = minutes;
    if (minutes === this.regularMinutes) return null;
    const message = `the reading at ${shownTime(startMs)} lasts ${minutes} minutes; its ReadingType's interval is ${this.regularMinutes ?? '?'} minutes`;
    return { code: 'INVALID_INTERVAL', message, column: 'interval_minutes' };
  }

  get regular(): number | null {
    return this.regularMinutes;
  }

  /** An accepted reading: the gap or overlap before it, if any. */
  follow(startMs: number, minutes: number): Pick<Finding, 'kind' | 'startMs' | 'minutes'> | null {
    const latest = this.latestEndMs;
    const last = this.lastStartMs;
    const endMs = startMs + minutes * MINUTE;
    this.latestEndMs = Math.max(latest ?? endMs, endMs);
    this.lastStartMs = startMs;
    if (latest === null || startMs === latest) return null;
    if (startMs > latest) return { kind: 'gap', startMs: latest, minutes: (startMs - latest) / MINUTE };
    return { kind: startMs === last ? 'repeat' : 'overlap', startMs, minutes: (latest - startMs) / MINUTE };
  }
}

export class EspiTotals {
  private readonly channels = new Map<string, EspiChannelSummary>();
  private readonly findings: Finding[] = [];
  private unlisted = 0;

  of(meterId: string, channel: EspiChannel, readingType: string): EspiChannelSummary {
    const key = `${meterId}\u0000${channel}`;
    let totals = this.channels.get(key);
    if (totals === undefined) {
      totals = {
        meterId,
        channel,
        readingTypes: [],
        intervals: 0,
        kwh: 0,
        quality: { actual: 0, estimated: 0, substituted: 0, missing: 0 },
        rejected: 0,
        irregular: 0,
        gaps: 0,
        gapMinutes: 0,
        overlaps: 0,
      };
      this.channels.set(key, totals);
    }
    if (!totals.readingTypes.includes(readingType)) totals.readingTypes.push(readingType);
    return totals;
  }

  accepted(totals: EspiChannelSummary, kwh: number, quality: CanonicalQuality): void {
    totals.intervals++;
    totals.kwh += kwh;
    totals.quality[quality]++;
  }

  irregular(totals: EspiChannelSummary, startMs: number, minutes: number, expected: number | null): void {
    totals.irregular++;
    this.note({
      meterId: totals.meterId,
      channel: totals.channel,
      kind: 'irregular',
      startMs,
      minutes,
      expected,
    });
  }

  /** A gap, repeat or overlap before an accepted reading (EspiSeries.follow). */
  between(totals: EspiChannelSummary, found: Pick<Finding, 'kind' | 'startMs' | 'minutes'>): void {
    if (found.kind === 'gap') {
      totals.gaps++;
      totals.gapMinutes += found.minutes;
    } else totals.overlaps++;
    this.note({ meterId: totals.meterId, channel: totals.channel, expected: null, ...found });
  }

  summaries(): EspiChannelSummary[] {
    return [...this.channels.values()].map((c) => ({
      ...c,
      readingTypes: [...c.readingTypes],
      quality: { ...c.quality },
    }));
  }

  notes(days: LocalDays): string[] {
    const notes: string[] = [];
    for (const c of this.channels.values()) {
      if (c.readingTypes.length > 1)
        notes.push(
          `meter ${c.meterId} ${c.channel}: readings of ${c.readingTypes.length} ReadingTypes (${c.readingTypes.join(', ')}) share the channel; where their starts meet, the duplicate check keeps one`,
        );
      if (c.irregular + c.gaps + c.overlaps === 0) continue;
      notes.push(
        `meter ${c.meterId} ${c.channel}: ${c.irregular} reading(s) of irregular length rejected, ${c.gaps} gap(s) (${c.gapMinutes} minutes without data), ${c.overlaps} reading(s) starting before the previous one ends`,
      );
    }
    const byDay = new Map<string, { date: string; finding: Finding; items: string[] }>();
    for (const finding of this.findings) {
      const date = days.dateOf(finding.startMs);
      const key = `${date}\u0000${finding.meterId}\u0000${finding.channel}`;
      const day = byDay.get(key) ?? { date, finding, items: [] };
      day.items.push(describe(finding));
      byDay.set(key, day);
    }
    const changeDays = new Set<string>();
    let onChangeDays = 0;
    for (const { date, finding, items } of byDay.values()) {
      const change = days.changeOn(date);
      if (change !== null) {
        changeDays.add(date);
        onChangeDays += items.length;
      }
      const label = change === null ? '' : ` (daylight saving ${change}, per ${days.source})`;
      notes.push(`${date}${label}: meter ${finding.meterId} ${finding.channel}: ${items.join('; ')}`);
    }
    if (this.unlisted > 0) notes.push(`${this.unlisted} more interval defect(s) not listed`);
    if (onChangeDays > 0) {
      const share = onChangeDays === this.findings.length ? 'all' : `${onChangeDays} of`;
      notes.push(
        `${share} ${this.findings.length} interval defect(s) listed fall on days daylight saving starts or ends (${[...changeDays].join(', ')}): likely daylight-saving defects of the sender`,
      );
    }
    return notes;
  }

  private note(finding: Finding): void {
    if (this.findings.length < MOST_FINDINGS) this.findings.push(finding);
    else this.unlisted++;
  }
}

function describe(finding: Finding): string {
  const at = shownTime(finding.startMs);
  switch (finding.kind) {
    case 'irregular':
      return `${at} lasts ${finding.minutes} minutes, not ${finding.expected ?? '?'} (rejected)`;
    case 'gap':
      return `no reading from ${at} to ${shownTime(finding.startMs + finding.minutes * MINUTE)}`;
    case 'repeat':
      return `${at} is read twice`;
    case 'overlap':
      return `${at} starts ${finding.minutes} minutes before the previous reading ends`;
  }
}
