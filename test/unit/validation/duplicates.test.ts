import { ReadingDuplicates, readingFingerprint } from '../../../lib/validation/duplicates';

const HALF_HOUR = 30 * 60_000;
const T0 = Date.UTC(2025, 0, 1);

describe('ReadingDuplicates', () => {
  it('when readings are new, repeated identically or repeated with other values, then each is told apart', () => {
    const index = new ReadingDuplicates();
    const print = readingFingerprint(0.5, 'actual', 30);
    expect(index.check('M1', 'import', T0, 30, print)).toBe('new');
    expect(index.check('M1', 'import', T0, 30, print)).toBe('identical');
    expect(index.check('M1', 'import', T0, 30, readingFingerprint(0.6, 'actual', 30))).toBe('conflict');
    expect(index.check('M1', 'import', T0, 30, readingFingerprint(0.5, 'estimated', 30))).toBe('conflict');
  });

  it('when the same instant belongs to another meter or channel, then it is new', () => {
    const index = new ReadingDuplicates();
    const print = readingFingerprint(1, 'actual', 30);
    index.check('M1', 'import', T0, 30, print);
    expect(index.check('M1', 'export', T0, 30, print)).toBe('new');
    expect(index.check('M2', 'import', T0, 30, print)).toBe('new');
  });

  it('when readings span years and pages, then far-apart intervals never collide', () => {
    const index = new ReadingDuplicates();
    const print = readingFingerprint(1, 'actual', 30);
    const times = [
      T0,
      T0 + HALF_HOUR,
      T0 + 1024 * HALF_HOUR,
      T0 + 365 * 48 * HALF_HOUR,
      T0 - 700 * 48 * HALF_HOUR,
    ];
    expect(times.map((t) => index.check('M1', 'import', t, 30, print))).toEqual(times.map(() => 'new'));
    expect(times.map((t) => index.check('M1', 'import', t, 30, print))).toEqual(times.map(() => 'identical'));
  });

  it('when a reading is off the series grid (a 15-minute row in a 30-minute series), then it is still tracked', () => {
    const index = new ReadingDuplicates();
    const print = readingFingerprint(1, 'actual', 15);
    index.check('M1', 'import', T0, 30, readingFingerprint(1, 'actual', 30));
    expect(index.check('M1', 'import', T0 + 15 * 60_000, 15, print)).toBe('new');
    expect(index.check('M1', 'import', T0 + 15 * 60_000, 15, print)).toBe('identical');
  });

  it('when a series is read backwards and forwards across page edges, then every interval is new once and identical after', () => {
    const index = new ReadingDuplicates();
    const print = readingFingerprint(1, 'actual', 30);
    // Slots 2,000 down to 0 (crossing two 1,024-slot page edges), then 3,000 to 2,001: each once.
    const backwards = Array.from({ length: 2001 }, (_, k) => T0 + (2000 - k) * HALF_HOUR);
    const forwards = Array.from({ length: 1000 }, (_, k) => T0 + (2001 + k) * HALF_HOUR);
    const times = [...backwards, ...forwards];
    expect(times.filter((t) => index.check('M1', 'import', t, 30, print) !== 'new')).toEqual([]);
    expect(times.filter((t) => index.check('M1', 'import', t, 30, print) !== 'identical')).toEqual([]);
    expect(index.check('M1', 'import', T0 + 3001 * HALF_HOUR, 30, print)).toBe('new');
  });

  it('when series start, then they are counted per (meter, channel) and the hook sees the count held before each', () => {
    const held: number[] = [];
    const index = new ReadingDuplicates((count) => void held.push(count));
    const print = readingFingerprint(1, 'actual', 30);
    for (const [meter, channel] of [
      ['M1', 'import'],
      ['M1', 'import'],
      ['M1', 'export'],
      ['M2', 'import'],
      ['M1', 'export'],
    ] as const) {
      index.check(meter, channel, T0, 30, print);
    }
    expect([index.series, index.meters, held]).toEqual([3, 2, [0, 1, 2]]);
  });

  it('when values differ only in the last bit, then the fingerprints differ', () => {
    expect(readingFingerprint(0.1 + 0.2, 'actual', 30)).not.toBe(readingFingerprint(0.3, 'actual', 30));
  });
});
