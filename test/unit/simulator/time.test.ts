import {
  formatWithOffset,
  localDayBounds,
  parseIsoDate,
  type TimeZone,
  utcOffsetMinutes,
} from '../../../lib/simulator/time';
import { localMidnight, localParts } from './support';

const ZONES: TimeZone[] = ['Europe/London', 'Europe/Berlin', 'Europe/Amsterdam'];

describe('simulator time-zone rules', () => {
  it('when offsets are computed every 15 minutes through 2024-2026 transition days, then they match Intl', () => {
    const days = [
      '2024-03-31',
      '2024-10-27',
      '2025-03-30',
      '2025-10-26',
      '2026-03-29',
      '2026-10-25',
      '2025-07-01',
    ];
    for (const zone of ZONES) {
      for (const day of days) {
        const base = Date.parse(`${day}T00:00:00Z`) - 12 * 3_600_000;
        for (let t = base; t < base + 48 * 3_600_000; t += 15 * 60_000) {
          expect([zone, new Date(t).toISOString(), utcOffsetMinutes(zone, t)]).toEqual([
            zone,
            new Date(t).toISOString(),
            localParts(zone, t).offsetMinutes,
          ]);
        }
      }
    }
  });

  it('when local day bounds are computed, then they are the local midnights Intl finds', () => {
    for (const zone of ZONES) {
      for (const day of ['2025-03-30', '2025-10-26', '2025-12-31']) {
        const epochDay = parseIsoDate(day) ?? NaN;
        expect(localDayBounds(zone, epochDay).start).toBe(localMidnight(zone, day));
      }
    }
  });

  it('when an instant is written with its offset, then it names the same instant and the local clock time', () => {
    const t = Date.parse('2025-10-26T01:30:00Z');
    expect(formatWithOffset('Europe/London', t)).toBe('2025-10-26T01:30:00+00:00');
    expect(formatWithOffset('Europe/London', t - 3_600_000)).toBe('2025-10-26T01:30:00+01:00');
    expect(Date.parse(formatWithOffset('Europe/Berlin', t))).toBe(t);
  });
});
