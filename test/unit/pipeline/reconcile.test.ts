import { ingestInstanceId } from '../../../lib/events/blobCreated';
import { checkLandingBlob, type ListedBlob, misplacedEntries } from '../../../lib/pipeline/reconcile';

const NOW = new Date('2026-03-01T12:00:00Z');
const WINDOW = { now: NOW, graceMinutes: 30, lookbackHours: 48 };
const minutesAgo = (minutes: number): Date => new Date(NOW.getTime() - minutes * 60_000);

function blob(path: string, landedMinutesAgo = 60): ListedBlob {
  return { path, etag: '0x8DC0FFEE', size: 1234, lastModified: minutesAgo(landedMinutesAgo) };
}

const GOOD = 'landing/meter_readings/headend_utc/2026/02/28/readings.csv';

describe('checkLandingBlob', () => {
  it('when a landing file is past its grace and within the window, then it is a candidate with the id its event would give', () => {
    const check = checkLandingBlob(blob(GOOD), WINDOW);

    expect(check).toMatchObject({
      kind: 'candidate',
      file: { path: GOOD, etag: '0x8DC0FFEE', dataset: 'meter_readings', source: 'headend_utc', size: 1234 },
    });
    const expectedId = ingestInstanceId({
      container: 'bronze',
      path: GOOD,
      etag: '0x8DC0FFEE',
      dataset: 'meter_readings',
    });
    expect(check.kind === 'candidate' && check.instanceId).toBe(expectedId);
  });

  it('when a file landed within the grace period, then it is left to its event', () => {
    expect(checkLandingBlob(blob(GOOD, 29), WINDOW)).toEqual({ kind: 'skip', why: 'in-grace' });
  });

  it('when a file landed before the look-back window, then it is left alone', () => {
    expect(checkLandingBlob(blob(GOOD, 48 * 60 + 1), WINDOW)).toEqual({ kind: 'skip', why: 'before-window' });
  });

  it.each([
    ['landing/meterreadings/headend_utc/2026/02/28/r.csv', 'UNKNOWN_DATASET'],
    ['landing/meter_readings/headend_utc/2026/02/28/extra/r.csv', 'BAD_LANDING_PATH'],
    ['landing/meter_readings/headend_utc/2026/02/30/r.csv', 'BAD_LANDING_PATH'],
    ['landing/meter_readings/Head End/2026/02/28/r.csv', 'BAD_LANDING_PATH'],
  ])('when a file sits at %s, then it is misplaced with %s', (path, reason) => {
    expect(checkLandingBlob(blob(path), WINDOW)).toMatchObject({ kind: 'misplaced', reason });
  });
});

describe('misplacedEntries', () => {
  const file = {
    container: 'bronze',
    path: 'landing/meterreadings/x/2026/02/28/r.csv',
    etag: '0x1',
    size: 10,
    reason: 'UNKNOWN_DATASET' as const,
    detail: 'meterreadings',
    seenBy: 'reconcile' as const,
    seenAt: NOW,
  };

  it('when the same file version is seen twice on different days (event, then reconciliation), then both sightings name the same entries', () => {
    const byEvent = misplacedEntries({ ...file, seenBy: 'event', seenAt: minutesAgo(26 * 60) });
    const byTimer = misplacedEntries({ ...file, seenAt: minutesAgo(60) });

    expect(byTimer.auditPath).toBe(byEvent.auditPath);
    expect(byTimer.quarantinePath).toBe(byEvent.quarantinePath);
  });

  it('when the file is replaced by a new version, then the new version gets entries of its own', () => {
    expect(misplacedEntries({ ...file, etag: '0x2' }).id).not.toBe(misplacedEntries(file).id);
  });

  it('when a file name has characters unfit for a path, then its quarantine name keeps only safe ones', () => {
    const entries = misplacedEntries({ ...file, path: 'landing/x/y/2026/02/28/a b%c.csv' });

    expect(entries.quarantinePath.split('/').pop()).toBe('a_b_c.csv');
  });
});
