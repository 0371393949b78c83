import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { priceInstanceId, PULL_ORCHESTRATION, type PullInput, pullInput } from '../../lib/pipeline/prices';
import type { PullResult } from '../../orchestrations/pullPrices';
import { deltaRows, type Pipeline, startPipeline } from './support';

/*
 * The day-ahead price pull end to end: `pullPrices` on the durable host asks a fake Energy-Charts server
 * (the real provider cannot be reached here) until the day is published, lands the answer in bronze, and the
 * landing watcher's BlobCreated event starts its `ingestFile`, which runs the silver and gold jobs on the Jobs
 * emulator. Timers are shortened through the pull's input (retryMinutes), as the orchestration reads them
 * from there.
 */

jest.setTimeout(900_000);

/** A delivery day with 96 quarter-hours in DE-LU (no DST change; after the 2025-10-01 switch to 15 min). */
const DAY = '2025-10-01';
/** Local midnight of DAY in Europe/Berlin (CEST, UTC+2), in UTC seconds. */
const DAY_START = Date.parse('2025-09-30T22:00:00Z') / 1000;
const QUARTER_HOURS = 96;
/** Prices we publish: two decimals, a daily shape, one negative hour. */
const PUBLISHED = Array.from({ length: QUARTER_HOURS }, (_, i) => ({
  t: DAY_START + i * 900,
  price:
    i >= 52 && i < 56
      ? -3.5
      : Math.round((60 + 40 * Math.sin((i / QUARTER_HOURS) * 2 * Math.PI)) * 100) / 100,
}));
const LICENSE = 'CC BY 4.0 (creativecommons.org/licenses/by/4.0) from Bundesnetzagentur | SMARD.de';

interface PriceRequest {
  bzn: string | null;
  start: string | null;
  end: string | null;
}

/**
 * A fake Energy-Charts API speaking `GET /price?bzn=&start=&end=` with the real answer shape. For DE-LU on
 * DAY it answers "not published" `notPublishedFor` times (first empty arrays, then the 404 "no data"
 * body), then the prices; any other zone or day is never published.
 */
class FakeEnergyCharts {
  readonly requests: PriceRequest[] = [];
  private server: Server | undefined;
  body = '';

  constructor(private readonly notPublishedFor: number) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  asks(bzn: string): PriceRequest[] {
    return this.requests.filter((request) => request.bzn === bzn);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (req.method !== 'GET' || url.pathname !== '/price') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
        return;
      }
      const request = {
        bzn: url.searchParams.get('bzn'),
        start: url.searchParams.get('start'),
        end: url.searchParams.get('end'),
      };
      this.requests.push(request);
      const ours = request.bzn === 'DE-LU' && request.start === DAY && request.end === DAY;
      const earlier = this.asks(request.bzn ?? '').length - 1;
      if (!ours || earlier < this.notPublishedFor) {
        if (ours && earlier % 2 === 1) {
          res
            .writeHead(404, { 'content-type': 'application/json' })
            .end('{"detail":"No data for this period"}');
          return;
        }
        const empty = {
          license_info: LICENSE,
          unix_seconds: [],
          price: [],
          unit: 'EUR / MWh',
          deprecated: false,
        };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(empty));
        return;
      }
      this.body = JSON.stringify({
        license_info: LICENSE,
        unix_seconds: PUBLISHED.map((p) => p.t),
        price: PUBLISHED.map((p) => p.price),
        unit: 'EUR / MWh',
        deprecated: false,
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(this.body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

let fake: FakeEnergyCharts;
let pipeline: Pipeline;

/** Starts `pullPrices` through the durable HTTP management API, as `lakewatt pull-prices` does. */
async function startPull(input: PullInput): Promise<string> {
  const instanceId = priceInstanceId(input.provider, input.zone, input.deliveryDay);
  const response = await fetch(
    `${pipeline.runtime.baseUrl}/runtime/webhooks/durabletask/orchestrators/${PULL_ORCHESTRATION}/${instanceId}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-functions-key': pipeline.runtime.key },
      body: JSON.stringify(input),
    },
  );
  expect(response.status).toBe(202);
  return instanceId;
}

beforeAll(async () => {
  fake = new FakeEnergyCharts(2);
  await fake.start();
  pipeline = await startPipeline({
    watch: true,
    env: { ENERGY_CHARTS_BASE_URL: fake.url, PRICES_PROVIDERS: 'energy-charts', PRICES_ZONES: 'DE-LU,NL' },
  });
}, 600_000);

afterAll(async () => {
  await pipeline?.close();
  await fake?.stop();
});

describe('pullPrices end to end', () => {
  describe('when the day is "not yet published" twice and then published', () => {
    let pull: { runtimeStatus: string; output: unknown };
    let result: PullResult;

    beforeAll(async () => {
      const id = await startPull(
        pullInput({ provider: 'energy-charts', zone: 'DE-LU', deliveryDay: DAY }, new Date(), {
          retryMinutes: 0.02,
        }),
      );
      pull = await pipeline.wait(id, 120_000);
      result = pull.output as PullResult;
    }, 200_000);

    it('then the pull completes after three asks of /price for the zone and day', () => {
      expect(pull.runtimeStatus).toBe('Completed');
      expect(result.asks).toBe(3);
      expect(fake.asks('DE-LU')).toEqual([
        { bzn: 'DE-LU', start: DAY, end: DAY },
        { bzn: 'DE-LU', start: DAY, end: DAY },
        { bzn: 'DE-LU', start: DAY, end: DAY },
      ]);
    });

    it('then the answer is landed unchanged at its bronze path, the version the output names', async () => {
      expect(result.path).toBe(`bronze/landing/prices/energy-charts/2025/10/01/DE-LU_${DAY}.json`);
      const landed = await pipeline.lake.read('bronze', result.path.replace(/^bronze\//, ''));
      expect(landed.data.toString('utf8')).toBe(fake.body);
      expect((await pipeline.lake.properties('bronze', result.path.replace(/^bronze\//, ''))).etag).toBe(
        result.etag,
      );
    });

    it('then its BlobCreated event starts the ingestion the output names, which completes', async () => {
      const ingestion = await pipeline.wait(result.ingestInstanceId, 600_000);
      expect(ingestion).toMatchObject({ runtimeStatus: 'Completed', output: { status: 'completed' } });
    });

    it('then silver.prices holds exactly the published intervals and prices', async () => {
      await pipeline.wait(result.ingestInstanceId, 600_000);
      const rows = await deltaRows(
        path.join(pipeline.lakeRoot, 'silver', 'prices'),
        'bidding_zone AS zone, CAST(epoch(interval_start) AS INTEGER) AS t, resolution_minutes AS minutes, price_eur_per_mwh AS price, provider',
        'interval_start',
      );
      expect(rows).toEqual(
        PUBLISHED.map((p) => ({
          zone: 'DE-LU',
          t: p.t,
          minutes: 15,
          price: p.price,
          provider: 'energy-charts',
        })),
      );
    });
  });

  it('when a day is never published before giveUpAt, then the pull fails with PRICES_NOT_PUBLISHED and lands nothing', async () => {
    const id = await startPull(
      pullInput({ provider: 'energy-charts', zone: 'NL', deliveryDay: DAY }, new Date(), {
        retryMinutes: 0.02,
        giveUpHours: 0.001, // 3.6 s
      }),
    );
    const status = await pipeline.wait(id, 120_000);
    expect(status.runtimeStatus).toBe('Failed');
    expect(JSON.stringify(status.output)).toContain('[PRICES_NOT_PUBLISHED] energy-charts NL 2025-10-01');
    expect(fake.asks('NL').length).toBeGreaterThanOrEqual(2);
    expect(
      await pipeline.lake.exists('bronze', `landing/prices/energy-charts/2025/10/01/NL_${DAY}.json`),
    ).toBe(false);
  });
});
