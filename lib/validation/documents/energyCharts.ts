import { biddingZone } from '../../prices/zones';
import { FileRejection } from '../reasons';
import { isoSeconds } from './entsoe';
import type { DocumentRecord, ParsedDocument } from './types';

/**
 * Energy-Charts (Fraunhofer ISE) `GET /price?bzn=…` answers: parallel arrays `unix_seconds` (interval
 * starts, UTC) and `price` (EUR/MWh, entries may be null). The body does not name the zone, so the landed
 * file name carries it: `{zone}_{YYYY-MM-DD}.json` (the zone's delivery day; `.json.gz` allowed). The
 * resolution is the most common spacing of `unix_seconds` (900 s → 15, 3600 s → 60).
 *
 * Record fields: zone, interval_start (UTC, ISO-8601), resolution_minutes, price (number or null),
 * published_at (always null: the answer does not say).
 */

export const ENERGY_CHARTS_FILE_NAME = /^([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)_(\d{4}-\d{2}-\d{2})\.json(?:\.gz)?$/;

const HOUR = 3_600_000;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new FileRejection('DOCUMENT_MALFORMED', `JSON: ${(error as Error).message.slice(0, 120)}`);
  }
}

/** The most common positive step between consecutive timestamps, in seconds (undefined for < 2). */
function commonStep(seconds: readonly unknown[]): number | undefined {
  const counts = new Map<number, number>();
  for (let i = 1; i < seconds.length; i++) {
    const a: unknown = seconds[i - 1];
    const b: unknown = seconds[i];
    if (typeof a !== 'number' || typeof b !== 'number' || b <= a) continue;
    counts.set(b - a, (counts.get(b - a) ?? 0) + 1);
  }
  let best: number | undefined;
  for (const [step, count] of counts) if (best === undefined || count > counts.get(best)!) best = step;
  return best;
}

export function parseEnergyChartsJson(text: string, fileName: string): ParsedDocument {
  const name = ENERGY_CHARTS_FILE_NAME.exec(fileName);
  if (!name) {
    throw new FileRejection(
      'DOCUMENT_NAME_INVALID',
      `Energy-Charts files are named {zone}_{YYYY-MM-DD}.json (the body has no zone), got ${JSON.stringify(fileName.slice(0, 80))}`,
    );
  }
  const zone = name[1]!;
  const day = name[2]!;
  const known = biddingZone(zone);
  if (!known) throw new FileRejection('UNKNOWN_BIDDING_ZONE', `zone '${zone}' from the file name`);
  const body = parseJson(text);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new FileRejection('DOCUMENT_UNRECOGNISED', 'expected a JSON object');
  }
  const document = body as Record<string, unknown>;
  const seconds: unknown = document.unix_seconds;
  const prices: unknown = document.price;
  const { unit, deprecated } = document;
  if (!Array.isArray(seconds) || !Array.isArray(prices)) {
    if (typeof document.detail === 'string' || typeof document.message === 'string') {
      const detail = String(document.detail ?? document.message);
      throw new FileRejection(
        /no data/i.test(detail) ? 'PRICES_NOT_PUBLISHED' : 'PROVIDER_ERROR_DOCUMENT',
        `Energy-Charts: ${detail.slice(0, 200)}`,
      );
    }
    throw new FileRejection('DOCUMENT_UNRECOGNISED', 'expected the arrays unix_seconds and price');
  }
  if (seconds.length !== prices.length) {
    throw new FileRejection(
      'DOCUMENT_UNRECOGNISED',
      `unix_seconds has ${seconds.length} entries but price has ${prices.length}`,
    );
  }
  if (seconds.length === 0) throw new FileRejection('PRICES_NOT_PUBLISHED', 'Energy-Charts: empty arrays');
  if (unit !== undefined && (typeof unit !== 'string' || unit.replace(/\s+/g, '') !== 'EUR/MWh')) {
    throw new FileRejection('PRICE_UNIT_UNSUPPORTED', `unit ${JSON.stringify(unit)}, expected "EUR / MWh"`);
  }
  const step = commonStep(seconds);
  if (step === undefined) {
    throw new FileRejection('DOCUMENT_UNRECOGNISED', 'one timestamp is too few to infer the resolution');
  }
  const notes: string[] = [];
  if (deprecated === true) notes.push('Energy-Charts marks this endpoint as deprecated');
  const resolution = step / 60;
  const records: DocumentRecord[] = [];
  let outside = 0;
  const dayStart = Date.parse(`${day}T00:00:00Z`);
  for (let i = 0; i < seconds.length; i++) {
    const value: unknown = seconds[i];
    const price: unknown = prices[i];
    const start = typeof value === 'number' && Number.isInteger(value) ? value * 1000 : undefined;
    // A loose window around the named day (any European offset): flags a misnamed file without a zone lookup.
    if (start !== undefined && (start < dayStart - 3 * HOUR || start >= dayStart + 27 * HOUR)) outside++;
    records.push({
      line: i + 1,
      fields: {
        zone,
        interval_start: start === undefined ? JSON.stringify(value ?? null).slice(0, 40) : isoSeconds(start),
        resolution_minutes: resolution,
        price:
          typeof price === 'number' || price === null
            ? price
            : typeof price === 'string'
              ? price.slice(0, 40)
              : JSON.stringify(price ?? null).slice(0, 40),
        published_at: null,
      },
    });
  }
  if (outside > 0) notes.push(`${outside} intervals lie outside the delivery day ${day} named by the file`);
  return { records, notes, gaps: 0 };
}
