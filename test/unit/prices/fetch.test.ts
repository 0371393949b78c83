import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  type DayAheadResult,
  fetchDayAhead,
  isTransientPriceError,
  PriceProviderError,
  SUPPORTED_ZONES,
} from '../../../lib/prices';

/**
 * A real HTTP server on 127.0.0.1 answers with recorded-shape bodies; each test sets the handler and
 * inspects the requests it received.
 */
type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const TOKEN = 'tok-3f9a/secret+value';
const PUBLICATION = [
  '<?xml version="1.0" encoding="utf-8"?>',
  '<Publication_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3">',
  '  <type>A44</type>',
  '  <TimeSeries><curveType>A03</curveType><Period><resolution>PT15M</resolution>',
  '    <Point><position>1</position><price.amount>80.1</price.amount></Point></Period></TimeSeries>',
  '</Publication_MarketDocument>',
].join('\n');
const acknowledgement = (text: string): string =>
  [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<Acknowledgement_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:7:0">',
    `  <Reason><code>999</code><text>${text}</text></Reason>`,
    '</Acknowledgement_MarketDocument>',
  ].join('\n');
const ENERGY_CHARTS = JSON.stringify({
  license_info: 'CC BY 4.0 (creativecommons.org/licenses/by/4.0) from Bundesnetzagentur | SMARD.de',
  unix_seconds: [1759269600, 1759270500],
  price: [67.22, 66.1],
  unit: 'EUR / MWh',
  deprecated: false,
});

let server: Server;
let base: string;
let handler: Handler;
let requests: URL[];

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(new URL(request.url ?? '/', base));
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  requests = [];
  handler = (_request, response) => response.writeHead(500).end();
});

function answer(status: number, body: string, contentType = 'application/xml', headers = {}): Handler {
  return (_request, response) =>
    response.writeHead(status, { 'content-type': contentType, ...headers }).end(body);
}

const options = () => ({
  entsoeBaseUrl: `${base}/entsoe/api`,
  entsoeToken: TOKEN,
  energyChartsBaseUrl: `${base}/ec`,
  timeoutMs: 2000,
});

async function failureOf(promise: Promise<DayAheadResult>): Promise<PriceProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PriceProviderError) return error;
    throw error;
  }
  throw new Error('expected fetchDayAhead to fail');
}

describe('fetchDayAhead: ENTSO-E', () => {
  it('when prices are asked for DE-LU on a normal day, then A44 covers local midnight to midnight in UTC', async () => {
    handler = answer(200, PUBLICATION);
    await fetchDayAhead({ provider: 'entsoe', zone: 'DE-LU', deliveryDay: '2025-10-01' }, options());
    expect(requests.map((url) => [url.pathname, Object.fromEntries(url.searchParams)])).toEqual([
      [
        '/entsoe/api',
        {
          documentType: 'A44',
          in_Domain: '10Y1001A1001A82H',
          out_Domain: '10Y1001A1001A82H',
          periodStart: '202509302200',
          periodEnd: '202510012200',
          securityToken: TOKEN,
        },
      ],
    ]);
  });

  it('when the delivery day is the autumn DST change, then the period spans 25 hours', async () => {
    handler = answer(200, PUBLICATION);
    await fetchDayAhead({ provider: 'entsoe', zone: 'NL', deliveryDay: '2025-10-26' }, options());
    expect([
      requests[0]!.searchParams.get('periodStart'),
      requests[0]!.searchParams.get('periodEnd'),
    ]).toEqual(['202510252200', '202510262300']);
  });

  it('when ENTSO-E answers a publication document, then it is returned as received with its landing name', async () => {
    handler = answer(200, PUBLICATION, 'text/xml');
    const result = await fetchDayAhead(
      { provider: 'entsoe', zone: 'DE-LU', deliveryDay: '2025-10-01' },
      options(),
    );
    expect(result).toEqual({
      kind: 'published',
      body: Buffer.from(PUBLICATION),
      contentType: 'text/xml',
      fileName: 'DE-LU_2025-10-01.xml',
      source: 'entsoe',
    });
  });

  it.each([200, 400])(
    'when ENTSO-E answers HTTP %i with acknowledgement 999 "No matching data found", then the prices are not published',
    async (status) => {
      handler = answer(
        status,
        acknowledgement('No matching data found for Data item Day-ahead Prices [12.1.D]'),
      );
      const result = await fetchDayAhead(
        { provider: 'entsoe', zone: 'BE', deliveryDay: '2025-10-01' },
        options(),
      );
      expect(result).toEqual({
        kind: 'not-published',
        detail: 'ENTSO-E A44 BE 2025-10-01: No matching data found for Data item Day-ahead Prices [12.1.D]',
      });
    },
  );

  it('when ENTSO-E refuses the token (401), then a non-transient PROVIDER_AUTH error never shows the token', async () => {
    handler = answer(401, `<html><body>Unauthorized token ${TOKEN}</body></html>`, 'text/html');
    const error = await failureOf(
      fetchDayAhead({ provider: 'entsoe', zone: 'FR', deliveryDay: '2025-10-01' }, options()),
    );
    expect([error.code, error.transient, error.status]).toEqual(['PROVIDER_AUTH', false, 401]);
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).not.toContain(encodeURIComponent(TOKEN));
    expect(error.message).toMatch(/^PROVIDER_AUTH: /);
  });

  it('when ENTSO-E rejects the request with another acknowledgement, then PROVIDER_REJECTED carries its text', async () => {
    handler = answer(400, acknowledgement('The amount of requested data exceeds allowed limit'));
    const error = await failureOf(
      fetchDayAhead({ provider: 'entsoe', zone: 'AT', deliveryDay: '2025-10-01' }, options()),
    );
    expect([error.code, error.transient]).toEqual(['PROVIDER_REJECTED', false]);
    expect(error.message).toContain('The amount of requested data exceeds allowed limit');
  });

  it('when no token is configured, then PROVIDER_CONFIG is thrown before any request', async () => {
    const error = await failureOf(
      fetchDayAhead(
        { provider: 'entsoe', zone: 'DE-LU', deliveryDay: '2025-10-01' },
        { ...options(), entsoeToken: undefined },
      ),
    );
    expect([error.code, requests.length]).toEqual(['PROVIDER_CONFIG', 0]);
  });

  it('when the connection is refused, then a transient PROVIDER_UNAVAILABLE error never shows the token', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await failureOf(
      fetchDayAhead(
        { provider: 'entsoe', zone: 'DE-LU', deliveryDay: '2025-10-01' },
        { ...options(), entsoeBaseUrl: `http://127.0.0.1:${port}/api` },
      ),
    );
    expect([error.code, error.transient, isTransientPriceError(error)]).toEqual([
      'PROVIDER_UNAVAILABLE',
      true,
      true,
    ]);
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).not.toContain(encodeURIComponent(TOKEN));
  });

  it('when the provider does not answer in time, then a transient PROVIDER_TIMEOUT error is thrown', async () => {
    handler = () => undefined; // never answers
    const error = await failureOf(
      fetchDayAhead(
        { provider: 'entsoe', zone: 'DE-LU', deliveryDay: '2025-10-01' },
        { ...options(), timeoutMs: 150 },
      ),
    );
    expect([error.code, error.transient]).toEqual(['PROVIDER_TIMEOUT', true]);
  });
});

describe('fetchDayAhead: Energy-Charts', () => {
  it('when prices are asked for, then /price gets bzn, start and end of the delivery day', async () => {
    handler = answer(200, ENERGY_CHARTS, 'application/json');
    const result = await fetchDayAhead(
      { provider: 'energy-charts', zone: 'DE-LU', deliveryDay: '2025-10-01' },
      options(),
    );
    expect(requests.map((url) => [url.pathname, Object.fromEntries(url.searchParams)])).toEqual([
      ['/ec/price', { bzn: 'DE-LU', start: '2025-10-01', end: '2025-10-01' }],
    ]);
    expect(result).toEqual({
      kind: 'published',
      body: Buffer.from(ENERGY_CHARTS),
      contentType: 'application/json',
      fileName: 'DE-LU_2025-10-01.json',
      source: 'energy-charts',
    });
  });

  it('when the arrays are empty, then the prices are not published', async () => {
    handler = answer(
      200,
      JSON.stringify({ unix_seconds: [], price: [], unit: 'EUR / MWh' }),
      'application/json',
    );
    const result = await fetchDayAhead(
      { provider: 'energy-charts', zone: 'NL', deliveryDay: '2025-10-02' },
      options(),
    );
    expect(result.kind).toBe('not-published');
  });

  it('when Energy-Charts answers 404 "no data", then the prices are not published', async () => {
    handler = answer(404, JSON.stringify({ detail: 'No data for this request' }), 'application/json');
    const result = await fetchDayAhead(
      { provider: 'energy-charts', zone: 'NL', deliveryDay: '2025-10-02' },
      options(),
    );
    expect(result.kind).toBe('not-published');
  });

  it('when Energy-Charts answers another 404, then PROVIDER_REJECTED is not retried', async () => {
    handler = answer(404, JSON.stringify({ detail: 'Not Found' }), 'application/json');
    const error = await failureOf(
      fetchDayAhead({ provider: 'energy-charts', zone: 'NL', deliveryDay: '2025-10-02' }, options()),
    );
    expect([error.code, error.transient, error.message]).toEqual([
      'PROVIDER_REJECTED',
      false,
      'PROVIDER_REJECTED: Energy-Charts price NL 2025-10-02: HTTP 404: {"detail":"Not Found"}',
    ]);
  });

  it.each([
    [429, 'PROVIDER_THROTTLED'],
    [500, 'PROVIDER_UNAVAILABLE'],
    [503, 'PROVIDER_UNAVAILABLE'],
  ])('when Energy-Charts answers HTTP %i, then a transient %s error is thrown', async (status, code) => {
    handler = answer(status, 'busy', 'text/plain', { 'retry-after': '30' });
    const error = await failureOf(
      fetchDayAhead({ provider: 'energy-charts', zone: 'AT', deliveryDay: '2025-10-01' }, options()),
    );
    expect([error.code, error.transient, error.status]).toEqual([code, true, status]);
  });

  it('when a 200 answer is an HTML maintenance page, then it is a transient PROVIDER_UNAVAILABLE error', async () => {
    handler = answer(200, '<!DOCTYPE html><html><body>Wartung</body></html>', 'text/html');
    const error = await failureOf(
      fetchDayAhead({ provider: 'energy-charts', zone: 'AT', deliveryDay: '2025-10-01' }, options()),
    );
    expect([error.code, error.transient]).toEqual(['PROVIDER_UNAVAILABLE', true]);
  });

  it('when the answer is larger than maxBytes, then PROVIDER_RESPONSE_TOO_LARGE is thrown', async () => {
    handler = answer(200, ENERGY_CHARTS, 'application/json');
    const error = await failureOf(
      fetchDayAhead(
        { provider: 'energy-charts', zone: 'AT', deliveryDay: '2025-10-01' },
        { ...options(), maxBytes: 64 },
      ),
    );
    expect([error.code, error.transient]).toEqual(['PROVIDER_RESPONSE_TOO_LARGE', false]);
  });

  it('when a zone is asked for that Energy-Charts does not serve (GB), then PROVIDER_CONFIG names the supported zones', async () => {
    const error = await failureOf(
      fetchDayAhead({ provider: 'energy-charts', zone: 'GB', deliveryDay: '2025-10-01' }, options()),
    );
    expect([error.code, error.transient, requests.length]).toEqual(['PROVIDER_CONFIG', false, 0]);
    expect(error.message).toContain(SUPPORTED_ZONES['energy-charts'].join(', '));
  });

  it('when the delivery day is not a calendar date, then PROVIDER_CONFIG is thrown', async () => {
    const error = await failureOf(
      fetchDayAhead({ provider: 'energy-charts', zone: 'AT', deliveryDay: '2025-02-30' }, options()),
    );
    expect(error.code).toBe('PROVIDER_CONFIG');
  });
});

describe('isTransientPriceError', () => {
  it('when only the message crossed an activity boundary, then the code prefix still decides', () => {
    expect([
      isTransientPriceError(new Error('PROVIDER_THROTTLED: Energy-Charts price AT 2025-10-01: HTTP 429')),
      isTransientPriceError(new Error('PROVIDER_AUTH: ENTSO-E A44 FR 2025-10-01: HTTP 401')),
      isTransientPriceError(new Error('something else')),
    ]).toEqual([true, false, false]);
  });
});
