import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { LocalLakeStore } from '../../../lib/lake';
import {
  nextDeliveryDay,
  priceInstanceId,
  PULL_GIVE_UP_HOURS,
  PULL_RETRY_MINUTES,
  pullInput,
  pullInputSchema,
  pullOnce,
} from '../../../lib/pipeline/prices';
import { decideEventStart } from '../../../lib/pipeline/start';
import type { FetchDayAheadOptions } from '../../../lib/prices';

/*
 * The pullPricesTimer function's rules (functions/pullPricesTimer.ts looks the instance up and acts on
 * decideEventStart): one instance id per provider, zone and delivery day, so a timer that fires twice, or
 * fires while the day's pull still waits for the provider, starts nothing; and pullOnce's create-only landing.
 */

const NOW = new Date('2025-09-30T13:15:00Z');

describe('priceInstanceId', () => {
  it('when the timer fires twice on one day, then both firings name the same instance', () => {
    const first = priceInstanceId('energy-charts', 'DE-LU', nextDeliveryDay(NOW));
    const second = priceInstanceId(
      'energy-charts',
      'DE-LU',
      nextDeliveryDay(new Date('2025-09-30T23:59:59Z')),
    );
    expect(first).toBe('prices-energy-charts-DE-LU-2025-10-01');
    expect(second).toBe(first);
  });

  it('when the provider, zone or day differ, then the ids differ', () => {
    const ids = [
      priceInstanceId('energy-charts', 'DE-LU', '2025-10-01'),
      priceInstanceId('entsoe', 'DE-LU', '2025-10-01'),
      priceInstanceId('energy-charts', 'NL', '2025-10-01'),
      priceInstanceId('energy-charts', 'DE-LU', '2025-10-02'),
    ];
    expect(new Set(ids).size).toBe(4);
  });
});

describe('nextDeliveryDay', () => {
  it.each([
    ['2025-09-30T00:00:00Z', '2025-10-01'],
    ['2025-12-31T13:15:00Z', '2026-01-01'],
    ['2028-02-28T23:59:59Z', '2028-02-29'],
    ['2025-10-25T13:15:00Z', '2025-10-26'],
  ])('when the timer fires at %s, then it pulls the day %s (UTC date + 1)', (now, day) => {
    expect(nextDeliveryDay(new Date(now))).toBe(day);
  });
});

describe('pullInput', () => {
  it('when no timing is given, then it asks every 15 min and gives up 10 h after the request', () => {
    const input = pullInput({ provider: 'energy-charts', zone: 'NL', deliveryDay: '2025-10-01' }, NOW);
    expect(input).toEqual({
      provider: 'energy-charts',
      zone: 'NL',
      deliveryDay: '2025-10-01',
      requestedAt: '2025-09-30T13:15:00.000Z',
      retryMinutes: PULL_RETRY_MINUTES,
      giveUpAt: '2025-09-30T23:15:00.000Z',
    });
    expect(PULL_GIVE_UP_HOURS).toBe(10);
    expect(pullInputSchema.parse(input)).toEqual(input);
  });

  it('when a short timing is given, then the input carries it (tests shorten the timers this way)', () => {
    const input = pullInput({ provider: 'entsoe', zone: 'NL', deliveryDay: '2025-10-01' }, NOW, {
      retryMinutes: 0.02,
      giveUpHours: 0.001,
    });
    expect([input.retryMinutes, input.giveUpAt]).toEqual([0.02, '2025-09-30T13:15:03.600Z']);
  });
});

describe('decideEventStart for a price pull', () => {
  const input = pullInput({ provider: 'energy-charts', zone: 'DE-LU', deliveryDay: '2025-10-01' }, NOW);

  it('when no pull of the day exists, then the timer starts one', () => {
    expect(decideEventStart(undefined)).toEqual({ action: 'start', generation: 0 });
  });

  it.each(['Pending', 'Running'])(
    'when the day\u2019s pull is %s (waiting for the provider), then a second start starts nothing',
    (runtimeStatus) => {
      expect(decideEventStart({ runtimeStatus, input })).toMatchObject({
        action: 'skip',
        reason: 'ALREADY_ACTIVE',
      });
    },
  );

  it('when the day\u2019s pull completed, then a later firing starts nothing', () => {
    expect(decideEventStart({ runtimeStatus: 'Completed', input })).toMatchObject({
      action: 'skip',
      reason: 'ALREADY_COMPLETED',
    });
  });

  it('when the day\u2019s pull failed (not published in time), then the next firing starts it again', () => {
    expect(decideEventStart({ runtimeStatus: 'Failed', input })).toMatchObject({ action: 'start' });
  });
});

describe('pullOnce', () => {
  let root: string;
  let lake: LocalLakeStore;
  let answers: Array<{ status: number; body: string }>;
  let asked: string[];

  const options = (): FetchDayAheadOptions => ({
    entsoeBaseUrl: 'http://entsoe.invalid/api',
    energyChartsBaseUrl: 'http://energy-charts.invalid',
    fetch: (url) => {
      asked.push(url instanceof Request ? url.url : url.toString());
      const answer = answers.shift()!;
      return Promise.resolve(
        new Response(answer.body, { status: answer.status, headers: { 'content-type': 'application/json' } }),
      );
    },
  });
  const request = { provider: 'energy-charts', zone: 'DE-LU', deliveryDay: '2025-10-01' } as const;
  const published = (price: number): string =>
    JSON.stringify({ unix_seconds: [1759269600, 1759270500], price: [price, price], unit: 'EUR / MWh' });
  const landingPath = 'landing/prices/energy-charts/2025/10/01/DE-LU_2025-10-01.json';

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-pull-once-'));
    lake = new LocalLakeStore({ root });
    answers = [];
    asked = [];
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('when the provider has not published, then nothing is landed', async () => {
    answers.push({ status: 200, body: JSON.stringify({ unix_seconds: [], price: [] }) });
    await lake.ensureContainer('bronze');
    expect(await pullOnce(lake, request, options())).toMatchObject({ kind: 'not-published' });
    expect(await lake.exists('bronze', landingPath)).toBe(false);
  });

  it('when the prices are out, then they are landed at the delivery day\u2019s bronze path', async () => {
    answers.push({ status: 200, body: published(71.5) });
    await lake.ensureContainer('bronze');
    const attempt = await pullOnce(lake, request, options());
    expect(attempt).toMatchObject({ kind: 'landed', path: landingPath, created: true });
    expect((await lake.read('bronze', landingPath)).data.toString('utf8')).toBe(published(71.5));
  });

  it('when the activity runs again after landing, then the first file is kept and its eTag reported', async () => {
    answers.push({ status: 200, body: published(71.5) }, { status: 200, body: published(99) });
    await lake.ensureContainer('bronze');
    const first = await pullOnce(lake, request, options());
    const second = await pullOnce(lake, request, options());
    expect(second).toEqual({
      kind: 'landed',
      path: landingPath,
      etag: first.kind === 'landed' ? first.etag : 'unexpected',
      created: false,
    });
    expect((await lake.read('bronze', landingPath)).data.toString('utf8')).toBe(published(71.5));
    expect(asked).toHaveLength(2);
  });
});
