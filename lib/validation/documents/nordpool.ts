import { biddingZone } from '../../prices/zones';
import { FileRejection } from '../reasons';
import type { DocumentRecord, ParsedDocument } from './types';

/**
 * Nord Pool Data Portal `DayAheadPriceIndices` answers: `multiIndexEntries[]` with `deliveryStart`,
 * `deliveryEnd` (UTC) and `entryPerArea` (area → EUR/MWh), for the areas in `indexNames`. One record per
 * entry and area, with the fields
 *
 *   zone (the area mapped through the contract's `areas`, else the area itself when it is a known zone),
 *   area, interval_start, resolution_minutes (deliveryEnd − deliveryStart), price, published_at (updatedAt)
 *
 * A day not yet published comes back as HTTP 200 with empty `areaStates` and `multiIndexEntries`.
 */

export interface NordpoolOptions {
  /** Nord Pool area code → zone, for areas whose code is not the zone code (e.g. GER → DE-LU). */
  areas: Record<string, string>;
}

const MINUTE = 60_000;

export function parseNordpoolJson(text: string, options: NordpoolOptions): ParsedDocument {
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (error) {
    throw new FileRejection('DOCUMENT_MALFORMED', `JSON: ${(error as Error).message.slice(0, 120)}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new FileRejection('DOCUMENT_UNRECOGNISED', 'expected a JSON object');
  }
  const document = body as Record<string, unknown>;
  const entries = document.multiIndexEntries;
  if (!Array.isArray(entries)) {
    throw new FileRejection(
      'DOCUMENT_UNRECOGNISED',
      'expected a DayAheadPriceIndices answer (multiIndexEntries)',
    );
  }
  if (entries.length === 0) {
    throw new FileRejection(
      'PRICES_NOT_PUBLISHED',
      `Nord Pool: no entries for delivery day ${JSON.stringify(document.deliveryDateCET ?? null)}`,
    );
  }
  if (document.currency !== 'EUR') {
    throw new FileRejection(
      'PRICE_CURRENCY_UNSUPPORTED',
      `currency ${JSON.stringify(document.currency ?? null)}`,
    );
  }
  const notes: string[] = [];
  const states = Array.isArray(document.areaStates) ? (document.areaStates as unknown[]) : [];
  for (const state of states) {
    const { state: name, areas } = (state ?? {}) as { state?: unknown; areas?: unknown };
    if (name !== 'Final')
      notes.push(`areas ${JSON.stringify(areas ?? [])} are in state ${JSON.stringify(name)}`);
  }
  const publishedAt = typeof document.updatedAt === 'string' ? document.updatedAt : null;
  const zoneOf = (area: string): string | undefined =>
    options.areas[area] ?? (biddingZone(area) ? area : undefined);
  const records: DocumentRecord[] = [];
  entries.forEach((raw, index) => {
    const entry = (raw ?? {}) as { deliveryStart?: unknown; deliveryEnd?: unknown; entryPerArea?: unknown };
    const start = typeof entry.deliveryStart === 'string' ? Date.parse(entry.deliveryStart) : NaN;
    const end = typeof entry.deliveryEnd === 'string' ? Date.parse(entry.deliveryEnd) : NaN;
    const resolution = Number.isFinite(start) && Number.isFinite(end) ? (end - start) / MINUTE : null;
    const perArea =
      entry.entryPerArea !== null && typeof entry.entryPerArea === 'object'
        ? (entry.entryPerArea as Record<string, unknown>)
        : {};
    const areas = Object.keys(perArea);
    if (areas.length === 0) {
      records.push({
        line: index + 1,
        fields: { interval_start: typeof entry.deliveryStart === 'string' ? entry.deliveryStart : null },
        rows: 1,
        errors: [{ code: 'REQUIRED_MISSING', message: 'the entry has no entryPerArea prices' }],
      });
      return;
    }
    for (const area of areas) {
      const zone = zoneOf(area);
      const price = perArea[area];
      records.push({
        line: index + 1,
        fields: {
          zone: zone ?? area,
          area,
          interval_start: typeof entry.deliveryStart === 'string' ? entry.deliveryStart.slice(0, 40) : null,
          resolution_minutes: resolution,
          price:
            typeof price === 'number' || price === null || price === undefined
              ? (price ?? null)
              : typeof price === 'string'
                ? price.slice(0, 40)
                : JSON.stringify(price).slice(0, 40),
          published_at: publishedAt,
        },
        ...(zone === undefined
          ? {
              errors: [
                {
                  code: 'UNKNOWN_BIDDING_ZONE' as const,
                  message: `Nord Pool area '${area.slice(0, 20)}' is not in the area map`,
                  column: 'bidding_zone',
                },
              ],
            }
          : {}),
      });
    }
  });
  return { records, notes, gaps: 0 };
}
