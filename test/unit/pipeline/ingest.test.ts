import { goldDateRange, idempotencyToken, pollDelaySeconds, runDeadline } from '../../../lib/pipeline/ingest';
import { decideEventStart, decideReplay } from '../../../lib/pipeline/start';

const input = (generation: number): unknown => ({
  file: {
    container: 'bronze',
    path: 'landing/meter_readings/headend_utc/2025/10/26/r.csv',
    etag: '0x1',
    dataset: 'meter_readings',
    source: 'headend_utc',
    fileName: 'r.csv',
    size: 10,
    sequencer: null,
    eventId: null,
    eventTime: null,
  },
  generation,
  requestedAt: '2025-10-26T10:00:00.000Z',
  trigger: 'event',
  policy: { pollMinSeconds: 5, pollMaxSeconds: 60, deadlineMinutes: 120, silverJob: 's', goldJob: 'g' },
});

describe('idempotency tokens', () => {
  it('when the instance id is short, then the token reads instance:generation:step', () => {
    expect(idempotencyToken('ingest-prices-abc', 2, 'gold')).toBe('ingest-prices-abc:2:gold');
  });

  it('when the instance id is long, then the token is at most 64 characters and still unique per generation and step', () => {
    const id = `ingest-meter_readings-${'f'.repeat(32)}`;
    const tokens = [
      idempotencyToken(id, 0, 'silver'),
      idempotencyToken(id, 1, 'silver'),
      idempotencyToken(id, 0, 'gold'),
    ];
    for (const token of tokens) expect(token.length).toBeLessThanOrEqual(64);
    expect(new Set(tokens).size).toBe(3);
    expect(idempotencyToken(id, 0, 'silver')).toBe(tokens[0]);
  });

  it('when a lost run is resubmitted, then attempt 0 keeps the original token and later attempts get their own', () => {
    const id = 'ingest-prices-abc';
    expect(idempotencyToken(id, 0, 'silver', 0)).toBe(idempotencyToken(id, 0, 'silver'));
    expect(idempotencyToken(id, 0, 'silver', 1)).toBe('ingest-prices-abc:0:silver:1');
    const long = `ingest-meter_readings-${'e'.repeat(32)}`;
    expect(idempotencyToken(long, 0, 'gold', 2)).not.toBe(idempotencyToken(long, 0, 'gold', 1));
    expect(idempotencyToken(long, 0, 'gold', 2).length).toBeLessThanOrEqual(64);
  });
});

describe('poll backoff', () => {
  it('when polls repeat, then the wait doubles from the minimum up to the cap', () => {
    const policy = { pollMinSeconds: 5, pollMaxSeconds: 60 };
    expect([0, 1, 2, 3, 4, 50].map((n) => pollDelaySeconds(n, policy))).toEqual([5, 10, 20, 40, 60, 60]);
  });
});

describe('run deadline', () => {
  const policy = { deadlineMinutes: 10, batch: { waitMinutes: 60 } } as Parameters<typeof runDeadline>[1];
  const submittedMs = Date.UTC(2026, 0, 1);

  it('when the run has not left the Jobs queue, then it is bounded by the batch wait from its submit', () => {
    expect(runDeadline({ submittedMs, runningSinceMs: null }, policy)).toEqual({
      atMs: submittedMs + 60 * 60_000,
      code: 'JOB_QUEUED_TOO_LONG',
      minutes: 60,
    });
  });

  it('when the run left the queue 30 min after its submit, then its deadline counts from then', () => {
    const runningSinceMs = submittedMs + 30 * 60_000;
    expect(runDeadline({ submittedMs, runningSinceMs }, policy)).toEqual({
      atMs: runningSinceMs + 10 * 60_000,
      code: 'JOB_DEADLINE_EXCEEDED',
      minutes: 10,
    });
  });
});

describe('gold date range', () => {
  it('when a report lists affected dates in any order, then gold covers their span', () => {
    expect(goldDateRange(['2025-10-27', '2025-10-25', '2025-10-26'])).toEqual({
      from: '2025-10-25',
      to: '2025-10-27',
    });
  });

  it('when a report has no affected dates, then there is no gold run', () => {
    expect(goldDateRange([])).toBeUndefined();
  });
});

describe('starting on an event', () => {
  it('when no instance has the id, then generation 0 starts', () => {
    expect(decideEventStart(undefined)).toEqual({ action: 'start', generation: 0 });
  });

  it.each(['Pending', 'Running', 'ContinuedAsNew', 'Suspended'])(
    'when the instance is %s, then a duplicate delivery starts nothing',
    (runtimeStatus) => {
      expect(decideEventStart({ runtimeStatus, input: input(0) })).toMatchObject({
        action: 'skip',
        reason: 'ALREADY_ACTIVE',
      });
    },
  );

  it('when the instance completed, then a duplicate delivery starts nothing', () => {
    expect(decideEventStart({ runtimeStatus: 'Completed', input: input(0) })).toMatchObject({
      action: 'skip',
      reason: 'ALREADY_COMPLETED',
    });
  });

  it('when the instance failed, then a redelivered event starts the next generation', () => {
    expect(decideEventStart({ runtimeStatus: 'Failed', input: input(3) })).toEqual({
      action: 'start',
      generation: 4,
    });
  });
});

describe('replaying', () => {
  it('when the run is still running, then the replay is refused with RUN_ACTIVE', () => {
    expect(decideReplay('x', { runtimeStatus: 'Running', input: input(0) })).toMatchObject({
      action: 'refuse',
      code: 'RUN_ACTIVE',
    });
  });

  it('when the run does not exist, then the replay is refused with RUN_NOT_FOUND', () => {
    expect(decideReplay('x', undefined)).toMatchObject({ action: 'refuse', code: 'RUN_NOT_FOUND' });
  });

  it('when a run failed or completed, then the replay is the next generation', () => {
    expect(decideReplay('x', { runtimeStatus: 'Failed', input: input(0) })).toEqual({
      action: 'start',
      generation: 1,
    });
    expect(decideReplay('x', { runtimeStatus: 'Completed', input: input(1) })).toEqual({
      action: 'start',
      generation: 2,
    });
  });

  it('when the run has no readable input, then the replay is refused', () => {
    expect(decideReplay('x', { runtimeStatus: 'Failed', input: 'garbage' })).toMatchObject({
      action: 'refuse',
      code: 'RUN_INPUT_UNREADABLE',
    });
  });
});
