import { LakewattError } from '../errors';
import { parseXml } from '../validation/documents/xml';
import { ZoneResolver } from '../validation/timestamps';
import { biddingZone, type PullProvider, SUPPORTED_ZONES } from './zones';

/**
 * The pull side of day-ahead prices: asks one provider for one zone's delivery day and says whether the
 * prices are published. A published answer is returned as received (bytes and content type) for the
 * caller to land in bronze, where validation judges it; this module only classifies what decides what
 * the caller does next: published, not published yet, retry (transient error), or fail.
 */

export type { PullProvider } from './zones';

export interface DayAheadRequest {
  provider: PullProvider;
  zone: string;
  /** YYYY-MM-DD, the zone's local market day. */
  deliveryDay: string;
}

export type DayAheadResult =
  | {
      kind: 'published';
      body: Buffer;
      contentType: string;
      /** `{zone}_{deliveryDay}.xml` (ENTSO-E) or `.json` (Energy-Charts). */
      fileName: string;
      /** Source contract id (`prices/{source}`). */
      source: string;
    }
  | { kind: 'not-published'; detail: string };

export interface FetchDayAheadOptions {
  entsoeBaseUrl: string;
  entsoeToken?: string;
  energyChartsBaseUrl: string;
  fetch?: typeof fetch;
  /** Whole request including the body; default 30 s. */
  timeoutMs?: number;
  /** Largest answer read; default 16 MiB (a day is tens of kB). */
  maxBytes?: number;
}

export const PRICE_PROVIDER_ERROR_CODES = {
  /** 401/403: the token is missing, wrong or not enabled. Not retried. */
  PROVIDER_AUTH: false,
  /** The request cannot be made as configured (no token, unsupported zone, bad day). Not retried. */
  PROVIDER_CONFIG: false,
  /** Another 4xx, or an error document: the provider refused the request. Not retried. */
  PROVIDER_REJECTED: false,
  /** The answer is over the byte limit. Not retried. */
  PROVIDER_RESPONSE_TOO_LARGE: false,
  /** 429. Retried. */
  PROVIDER_THROTTLED: true,
  /** 5xx, an HTML maintenance page, or the network failed. Retried. */
  PROVIDER_UNAVAILABLE: true,
  /** No complete answer within the timeout. Retried. */
  PROVIDER_TIMEOUT: true,
} as const;

export type PriceProviderErrorCode = keyof typeof PRICE_PROVIDER_ERROR_CODES;

/**
 * A failed pull. The message starts with the code (`PROVIDER_AUTH: ...`) because only the message
 * reliably crosses a durable activity boundary; `transient` says whether a retry can help. Messages never
 * contain the security token or the request URL's query.
 */
export class PriceProviderError extends LakewattError {
  readonly transient: boolean;

  constructor(
    code: PriceProviderErrorCode,
    readonly provider: PullProvider,
    detail: string,
    readonly status?: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(code, `${code}: ${detail}`);
    this.transient = PRICE_PROVIDER_ERROR_CODES[code];
  }
}

export function isTransientPriceError(error: unknown): boolean {
  if (error instanceof PriceProviderError) return error.transient;
  const code = error instanceof Error ? /^([A-Z_]+):/.exec(error.message)?.[1] : undefined;
  return code !== undefined && Object.hasOwn(PRICE_PROVIDER_ERROR_CODES, code)
    ? PRICE_PROVIDER_ERROR_CODES[code as PriceProviderErrorCode]
    : false;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const NAMES: Record<PullProvider, string> = { entsoe: 'ENTSO-E', 'energy-charts': 'Energy-Charts' };

/** Whether `day` is a real calendar date written YYYY-MM-DD. */
export function isCalendarDay(day: string): boolean {
  const match = DAY.exec(day);
  if (!match) return false;
  const wall = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return new Date(wall).toISOString().slice(0, 10) === day;
}

/** UTC instant of local midnight starting `day` (YYYY-MM-DD) in `timezone`, and of the next one. */
export function deliveryDayBounds(day: string, timezone: string): { start: Date; end: Date } {
  if (!isCalendarDay(day)) throw new Error(`'${day}' is not a YYYY-MM-DD date`);
  const wall = Date.parse(`${day}T00:00:00Z`);
  const zone = new ZoneResolver(timezone);
  return { start: new Date(zone.toUtc(wall)), end: new Date(zone.toUtc(wall + 86_400_000)) };
}

/** yyyyMMddHHmm in UTC, ENTSO-E's period format. */
function entsoePeriod(instant: Date): string {
  return instant.toISOString().slice(0, 16).replace(/[-T:]/g, '');
}

function joinUrl(base: string, path: string): URL {
  const url = new URL(base);
  if (path) url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
  return url;
}

interface Answer {
  status: number;
  body: Buffer;
  contentType: string;
  retryAfter?: number;
}

function scrubber(secret: string | undefined): (text: string) => string {
  if (!secret) return (text) => text;
  const forms = [...new Set([secret, encodeURIComponent(secret)])];
  return (text) => forms.reduce((out, form) => out.split(form).join('***'), text);
}

async function readCapped(
  response: Response,
  maxBytes: number,
  fail: (detail: string) => never,
): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      fail(`the answer is over ${maxBytes} bytes`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

async function get(
  provider: PullProvider,
  url: URL,
  what: string,
  options: FetchDayAheadOptions,
  scrub: (text: string) => string,
): Promise<Answer> {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  const failed = (error: unknown): never => {
    if (error instanceof PriceProviderError) throw error;
    const name = error instanceof Error ? error.name : '';
    if (name === 'TimeoutError' || name === 'AbortError' || signal.aborted) {
      throw new PriceProviderError(
        'PROVIDER_TIMEOUT',
        provider,
        `${what}: no complete answer within ${timeoutMs} ms`,
      );
    }
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
    const message = error instanceof Error ? error.message : String(error);
    throw new PriceProviderError(
      'PROVIDER_UNAVAILABLE',
      provider,
      scrub(`${what}: request to ${url.origin} failed: ${message}${cause}`),
    );
  };
  try {
    const response = await doFetch(url, {
      signal,
      headers: { accept: provider === 'entsoe' ? 'application/xml' : 'application/json' },
      redirect: 'follow',
    });
    const body = await readCapped(response, options.maxBytes ?? DEFAULT_MAX_BYTES, (detail) => {
      throw new PriceProviderError(
        'PROVIDER_RESPONSE_TOO_LARGE',
        provider,
        `${what}: ${detail}`,
        response.status,
      );
    });
    const retryAfter = Number(response.headers.get('retry-after'));
    return {
      status: response.status,
      body,
      contentType: response.headers.get('content-type') ?? '',
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}),
    };
  } catch (error) {
    return failed(error);
  }
}

/** Errors every provider shares: authentication, throttling, server trouble, HTML pages. */
function commonFailure(
  provider: PullProvider,
  answer: Answer,
  what: string,
  message: string,
): PriceProviderError | undefined {
  const { status } = answer;
  if (status === 401 || status === 403) {
    return new PriceProviderError('PROVIDER_AUTH', provider, `${what}: HTTP ${status}${message}`, status);
  }
  if (status === 429) {
    return new PriceProviderError(
      'PROVIDER_THROTTLED',
      provider,
      `${what}: HTTP 429${answer.retryAfter ? `, retry after ${answer.retryAfter} s` : ''}`,
      status,
      answer.retryAfter,
    );
  }
  if (status >= 500) {
    return new PriceProviderError(
      'PROVIDER_UNAVAILABLE',
      provider,
      `${what}: HTTP ${status}${message}`,
      status,
    );
  }
  if (
    status >= 200 &&
    status < 300 &&
    /^\s*<(?:!doctype\s+html|html)\b/i.test(answer.body.toString('utf8', 0, 512))
  ) {
    return new PriceProviderError(
      'PROVIDER_UNAVAILABLE',
      provider,
      `${what}: HTTP ${status} with an HTML page`,
      status,
    );
  }
  return undefined;
}

/** Text of an ENTSO-E Acknowledgement_MarketDocument's Reason, or undefined for any other document. */
function entsoeAcknowledgement(body: Buffer): { code: string; text: string } | undefined {
  try {
    const root = parseXml(body.toString('utf8'));
    if (root.name !== 'Acknowledgement_MarketDocument') return undefined;
    const reason = root.children.find((child) => child.name === 'Reason');
    const field = (name: string): string =>
      reason?.children.find((child) => child.name === name)?.text.trim() ?? '';
    return { code: field('code'), text: field('text') };
  } catch {
    return undefined;
  }
}

function shortText(body: Buffer): string {
  const text = body.toString('utf8', 0, 400).replace(/\s+/g, ' ').trim();
  return text ? `: ${text.slice(0, 200)}` : '';
}

async function fetchEntsoe(
  request: DayAheadRequest,
  eic: string,
  timezone: string,
  options: FetchDayAheadOptions,
): Promise<DayAheadResult> {
  const what = `ENTSO-E A44 ${request.zone} ${request.deliveryDay}`;
  const token = options.entsoeToken;
  if (!token)
    throw new PriceProviderError('PROVIDER_CONFIG', 'entsoe', `${what}: no security token configured`);
  const scrub = scrubber(token);
  const { start, end } = deliveryDayBounds(request.deliveryDay, timezone);
  const url = joinUrl(options.entsoeBaseUrl, '');
  url.searchParams.set('documentType', 'A44');
  url.searchParams.set('in_Domain', eic);
  url.searchParams.set('out_Domain', eic);
  url.searchParams.set('periodStart', entsoePeriod(start));
  url.searchParams.set('periodEnd', entsoePeriod(end));
  url.searchParams.set('securityToken', token);
  const answer = await get('entsoe', url, what, options, scrub);
  const acknowledgement = entsoeAcknowledgement(answer.body);
  const message = scrub(
    acknowledgement
      ? `: reason ${acknowledgement.code} ${acknowledgement.text.slice(0, 200)}`
      : shortText(answer.body),
  );
  const common = commonFailure('entsoe', answer, what, message);
  if (common) throw common;
  if (acknowledgement && acknowledgement.code === '999' && /no matching data/i.test(acknowledgement.text)) {
    return { kind: 'not-published', detail: scrub(`${what}: ${acknowledgement.text.slice(0, 200)}`) };
  }
  if (acknowledgement || answer.status < 200 || answer.status >= 300) {
    throw new PriceProviderError(
      'PROVIDER_REJECTED',
      'entsoe',
      `${what}: HTTP ${answer.status}${message}`,
      answer.status,
    );
  }
  return {
    kind: 'published',
    body: answer.body,
    contentType: answer.contentType || 'application/xml',
    fileName: `${request.zone}_${request.deliveryDay}.xml`,
    source: 'entsoe',
  };
}

async function fetchEnergyCharts(
  request: DayAheadRequest,
  options: FetchDayAheadOptions,
): Promise<DayAheadResult> {
  const what = `Energy-Charts price ${request.zone} ${request.deliveryDay}`;
  const url = joinUrl(options.energyChartsBaseUrl, 'price');
  url.searchParams.set('bzn', request.zone);
  url.searchParams.set('start', request.deliveryDay);
  url.searchParams.set('end', request.deliveryDay);
  const scrub = scrubber(undefined);
  const answer = await get('energy-charts', url, what, options, scrub);
  const message = shortText(answer.body);
  const common = commonFailure('energy-charts', answer, what, message);
  if (common) throw common;
  if (answer.status === 404 && /no data/i.test(answer.body.toString('utf8', 0, 2000))) {
    return { kind: 'not-published', detail: `${what}: HTTP 404${message}` };
  }
  if (answer.status < 200 || answer.status >= 300) {
    throw new PriceProviderError(
      'PROVIDER_REJECTED',
      'energy-charts',
      `${what}: HTTP ${answer.status}${message}`,
      answer.status,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body.toString('utf8'));
  } catch {
    parsed = undefined; // landed as received: validation quarantines it with its reason
  }
  const seconds = (parsed as { unix_seconds?: unknown } | undefined)?.unix_seconds;
  if (Array.isArray(seconds) && seconds.length === 0) {
    return { kind: 'not-published', detail: `${what}: empty unix_seconds and price arrays` };
  }
  return {
    kind: 'published',
    body: answer.body,
    contentType: answer.contentType || 'application/json',
    fileName: `${request.zone}_${request.deliveryDay}.json`,
    source: 'energy-charts',
  };
}

/**
 * Fetches one zone's day-ahead prices for one delivery day. Resolves `published` (with the bytes to land)
 * or `not-published`; throws PriceProviderError otherwise, `transient` telling whether to retry.
 */
export async function fetchDayAhead(
  request: DayAheadRequest,
  options: FetchDayAheadOptions,
): Promise<DayAheadResult> {
  const { provider, zone, deliveryDay } = request;
  const known = biddingZone(zone);
  const supported: readonly string[] = SUPPORTED_ZONES[provider] ?? [];
  if (!known || !supported.includes(zone)) {
    throw new PriceProviderError(
      'PROVIDER_CONFIG',
      provider,
      `${NAMES[provider] ?? provider} has no day-ahead prices for zone '${zone}' (supported: ${supported.join(', ')})`,
    );
  }
  if (!isCalendarDay(deliveryDay)) {
    throw new PriceProviderError(
      'PROVIDER_CONFIG',
      provider,
      `deliveryDay '${deliveryDay}' is not YYYY-MM-DD`,
    );
  }
  return provider === 'entsoe'
    ? fetchEntsoe(request, known.eic, known.timezone, options)
    : fetchEnergyCharts(request, options);
}
