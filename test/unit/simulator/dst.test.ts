import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { simulate } from '../../../lib/simulator';
import {
  halfHoursInLocalDay,
  listFiles,
  localMidnight,
  localParts,
  physicalLines,
  readText,
  splitCsv,
  tempDir,
} from './support';

const HALF_HOUR = 30 * 60_000;
let root: string;
let remove: () => void;

beforeAll(async () => {
  ({ dir: root, remove } = tempDir('dst'));
  // Clean data around both 2025 changes: 29-31 March and 25-27 October, in one lake root.
  await simulate(root, { meters: 9, days: 3, start: '2025-03-29', seed: 'dst', defects: 0 });
  const autumn = tempDir('dst-autumn');
  await simulate(autumn.dir, { meters: 9, days: 3, start: '2025-10-25', seed: 'dst', defects: 0 });
  for (const rel of listFiles(autumn.dir).filter((f) => f.includes('/meter_readings/'))) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    copyFileSync(join(autumn.dir, rel), join(root, rel));
  }
  autumn.remove();
});
afterAll(() => remove());

const wideRows = (date: string): string[][] => {
  const file = listFiles(root).find((f) => f.endsWith(`/hh_${date}.csv`));
  if (!file) throw new Error(`no wide file for ${date}`);
  return physicalLines(readText(root, file)).slice(1).map(splitCsv);
};
const filled = (row: string[]): number => row.slice(3).filter((cell) => cell !== '').length;

describe('daylight saving in the simulated files', () => {
  it('when counting half-hours with Intl, then the reference days have 46, 48 and 50', () => {
    expect(halfHoursInLocalDay('Europe/London', '2025-03-30')).toBe(46);
    expect(halfHoursInLocalDay('Europe/London', '2025-03-31')).toBe(48);
    expect(halfHoursInLocalDay('Europe/London', '2025-10-26')).toBe(50);
  });

  it('when the wide file of 2025-03-30 is read, then every row has 46 values and SP47..SP50 empty', () => {
    const rows = wideRows('2025-03-30');
    expect(rows.length).toBe(3);
    for (const row of rows) {
      expect(row.length).toBe(53);
      expect(filled(row)).toBe(46);
      expect(row.slice(3 + 46)).toEqual(['', '', '', '']);
    }
  });

  it('when the wide file of 2025-10-26 is read, then every row has 50 values', () => {
    for (const row of wideRows('2025-10-26')) expect(filled(row)).toBe(50);
  });

  it('when the wide file of an ordinary day is read, then every row has 48 values and SP49..SP50 empty', () => {
    for (const row of [...wideRows('2025-03-29'), ...wideRows('2025-10-27')]) {
      expect(filled(row)).toBe(48);
      expect(row.slice(51)).toEqual(['', '']);
    }
  });

  it('when the periods of a local DST day are turned into UTC instants, then they step by 30 minutes from local midnight to the next', () => {
    for (const [date, next] of [
      ['2025-03-30', '2025-03-31'],
      ['2025-10-26', '2025-10-27'],
    ] as const) {
      const start = localMidnight('Europe/London', date);
      const periods = filled(wideRows(date)[0] ?? []);
      const instants = Array.from({ length: periods }, (_, i) => start + i * HALF_HOUR);
      expect(instants.every((t) => localParts('Europe/London', t).date === date)).toBe(true);
      expect(start + periods * HALF_HOUR).toBe(localMidnight('Europe/London', next));
    }
  });

  it('when the long UTC file of a DST day is read, then each meter and channel has 48 contiguous half-hours from 00:00Z', () => {
    for (const date of ['2025-03-30', '2025-10-26']) {
      const file = listFiles(root).find((f) => f.endsWith(`/readings_${date}.csv`)) ?? '';
      const series = new Map<string, number[]>();
      for (const [meter, start, , channel] of physicalLines(readText(root, file)).slice(1).map(splitCsv)) {
        const key = `${meter}/${channel}`;
        series.set(key, [...(series.get(key) ?? []), Date.parse(start ?? '')]);
      }
      expect(series.size).toBeGreaterThanOrEqual(3);
      const midnight = Date.parse(`${date}T00:00:00Z`);
      for (const instants of series.values()) {
        expect(instants).toEqual(Array.from({ length: 48 }, (_, i) => midnight + i * HALF_HOUR));
      }
    }
  });

  it('when the NDJSON feed of a DST day is read, then interval ends carry the zone offset Intl gives and step by 30 minutes', () => {
    for (const date of ['2025-03-30', '2025-10-26']) {
      const file = listFiles(root).find((f) => f.endsWith(`/feed_${date}.ndjson.gz`)) ?? '';
      const series = new Map<string, number[]>();
      for (const line of physicalLines(readText(root, file))) {
        const r = JSON.parse(line) as { meter: { id: string }; end: string; ch: string };
        const instant = Date.parse(r.end);
        // GB meters carry 13-digit MPANs; the others are in CET/CEST zones.
        const zone = r.meter.id.length === 13 ? 'Europe/London' : 'Europe/Berlin';
        const offset = localParts(zone, instant).offsetMinutes;
        const sign = offset < 0 ? '-' : '+';
        const hh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
        expect(r.end.slice(19)).toBe(`${sign}${hh}:${String(Math.abs(offset) % 60).padStart(2, '0')}`);
        const key = `${r.meter.id}/${r.ch}`;
        series.set(key, [...(series.get(key) ?? []), instant]);
      }
      const firstEnd = Date.parse(`${date}T00:30:00Z`);
      for (const instants of series.values()) {
        expect(instants).toEqual(Array.from({ length: 48 }, (_, i) => firstEnd + i * HALF_HOUR));
      }
    }
  });
});
