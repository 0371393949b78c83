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

  it('when values differ only in the last bit, then the fingerprints differ', () => {
    expect(readingFingerprint(0.1 + 0.2, 'actual', 30)).not.toBe(readingFingerprint(0.3, 'actual', 30));
  });
});
