import { planSimulation } from '../../../lib/simulator';
import { DEFAULT_OPTIONS } from '../../../lib/simulator/options';
import { localMidnight, splitCsv } from './support';

/** Renders the price files of a plan in memory (pure generators, no disk). */
function priceFiles(start: string, days: number): Map<string, string[][]> {
  const plan = planSimulation({ ...DEFAULT_OPTIONS, meters: 3, start, days, seed: 'prices', defects: 0 });
  const files = new Map<string, string[][]>();
  for (const job of plan.jobs.filter((j) => j.dataset === 'prices')) {
    if (job.content.kind !== 'lines') continue;
    const lines = [...job.content.render({ defect: () => undefined, truth: () => undefined })]
      .join('')
      .trim()
      .split('\n');
    files.set(job.path, lines.slice(1).map(splitCsv));
  }
  return files;
}

const ZONE_TIME: Record<string, string> = {
  GB: 'Europe/London',
  'DE-LU': 'Europe/Berlin',
  NL: 'Europe/Amsterdam',
};

describe('day-ahead prices', () => {
  const files = priceFiles('2025-09-29', 4);
  const byDay = (date: string) => [...files.entries()].filter(([path]) => path.endsWith(`_${date}.csv`));

  it('when delivery is before 2025-10-01, then every zone has 24 hourly prices', () => {
    for (const date of ['2025-09-29', '2025-09-30']) {
      const day = byDay(date);
      expect(day.map(([path]) => path.split('_')[1]).sort()).toEqual(['DE-LU', 'GB', 'NL']);
      for (const [, rows] of day) {
        expect(rows.length).toBe(24);
        expect(new Set(rows.map((r) => r[2]))).toEqual(new Set(['60']));
      }
    }
  });

  it('when delivery is on or after 2025-10-01, then every zone has 96 quarter-hour prices', () => {
    for (const date of ['2025-10-01', '2025-10-02']) {
      for (const [, rows] of byDay(date)) {
        expect(rows.length).toBe(96);
        expect(new Set(rows.map((r) => r[2]))).toEqual(new Set(['15']));
      }
    }
  });

  it("when a zone's delivery day is read, then intervals start at its local midnight and step by the resolution", () => {
    for (const [path, rows] of byDay('2025-10-01')) {
      const zone = path.split('_')[1] ?? '';
      const midnight = localMidnight(ZONE_TIME[zone] ?? 'UTC', '2025-10-01');
      expect(rows.map((r) => Date.parse(r[1] ?? ''))).toEqual(rows.map((_, i) => midnight + i * 15 * 60_000));
    }
  });

  it('when a file is delivered, then it lands the day before delivery and was published before the first interval', () => {
    for (const [path, rows] of byDay('2025-10-01')) {
      expect(path).toContain('/prices/dayahead/2025/09/30/');
      expect(Date.parse(rows[0]?.[4] ?? '')).toBeLessThan(Date.parse(rows[0]?.[1] ?? ''));
    }
  });

  it('when the clocks change, then the quarter-hour days have 92 and 100 prices and the hourly ones 23 and 25', () => {
    const spring = priceFiles('2025-03-30', 1);
    const autumn = priceFiles('2025-10-26', 1);
    for (const rows of spring.values()) expect(rows.length).toBe(23);
    for (const rows of autumn.values()) expect(rows.length).toBe(100);
    const quarterSpring = priceFiles('2026-03-29', 1);
    for (const rows of quarterSpring.values()) expect(rows.length).toBe(92);
  });

  it('when a year of prices is generated, then some are negative and all stay in a realistic band', () => {
    const year = priceFiles('2025-01-01', 365);
    const prices = [...year.values()].flatMap((rows) => rows.map((r) => Number(r[3])));
    expect(prices.some((p) => p < 0)).toBe(true);
    expect(prices.filter((p) => p < 0).length / prices.length).toBeLessThan(0.1);
    expect(Math.min(...prices)).toBeGreaterThan(-500);
    expect(Math.max(...prices)).toBeLessThan(1000);
  });
});
