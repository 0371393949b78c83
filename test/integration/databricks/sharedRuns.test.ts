import { startJobRun } from '../../../lib/pipeline/steps';
import { type Harness, startHarness, stopHarness, waitForRun } from './support';

/*
 * Gold runs that have not started yet are shared: a file whose days a queued run already covers joins that
 * run instead of queueing another. The fixture job `fixture-days` (one run at a time, queueing on) takes the
 * gold job's parameters and only sleeps, so no Spark is involved.
 */

jest.setTimeout(120_000);

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await stopHarness(h);
});

const params = (
  orchestrationId: string,
  from: string,
  to: string,
  seconds = '1',
): Record<string, string> => ({
  orchestration_id: orchestrationId,
  generation: '2',
  date_from: from,
  date_to: to,
  seconds,
});

describe('sharing a queued gold run', () => {
  it('when a queued run covers the days, then a second request joins it; when it does not, then a new run starts', async () => {
    const busy = await startJobRun(h.client, {
      job: 'fixture-days',
      parameters: params('busy', '2025-01-01', '2025-01-01', '6'),
      idempotencyToken: 'shared-busy',
    });
    const queued = await startJobRun(h.client, {
      job: 'fixture-days',
      parameters: params('owner', '2025-01-01', '2025-01-03'),
      idempotencyToken: 'shared-owner',
      shareQueuedRunFor: { dateFrom: '2025-01-01', dateTo: '2025-01-03' },
    });
    // The busy run is running, not queued: nothing to join, so the owner got its own run.
    expect(queued.sharedWith).toBeNull();
    expect(queued.runId).not.toBe(busy.runId);

    const joined = await startJobRun(h.client, {
      job: 'fixture-days',
      parameters: params('joiner', '2025-01-02', '2025-01-02'),
      idempotencyToken: 'shared-joiner',
      shareQueuedRunFor: { dateFrom: '2025-01-02', dateTo: '2025-01-02' },
    });
    expect(joined).toEqual({ runId: queued.runId, sharedWith: { orchestrationId: 'owner', generation: 2 } });

    const wider = await startJobRun(h.client, {
      job: 'fixture-days',
      parameters: params('wider', '2025-01-02', '2025-01-04'),
      idempotencyToken: 'shared-wider',
      shareQueuedRunFor: { dateFrom: '2025-01-02', dateTo: '2025-01-04' },
    });
    expect(wider.sharedWith).toBeNull();
    expect([busy.runId, queued.runId]).not.toContain(wider.runId);

    for (const run of [busy, queued, wider]) {
      expect((await waitForRun(h.client, run.runId)).outcome.kind).toBe('Succeeded');
    }
  });
});
