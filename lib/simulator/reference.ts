/**
 * Reference-data and price files: CRM customer extracts, billing contract extracts (full on the first day,
 * then daily deltas with SCD type 2 versions) and day-ahead price files per bidding zone and delivery day.
 */
import type { ContractVersion, Customer } from './entities';
import { price, priceDay } from './model';
import type { Prng } from './prng';
import { CONTRACTS_HEADER, CUSTOMERS_HEADER, PRICE_15_MIN_FROM, PRICES_HEADER } from './sources';
import { formatUtc, localDayBounds, localMidnightUtc, MINUTE_MS, parseIsoDate, type TimeZone } from './time';

/** One CSV field, quoted when it contains the delimiter, a quote or a line break; null becomes empty. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const csvLine = (fields: Array<string | number | null>): string => `${fields.map(csvField).join(',')}\n`;

export function* renderCustomers(records: Iterable<Customer>): Generator<string> {
  yield csvLine([...CUSTOMERS_HEADER]);
  for (const c of records) {
    yield csvLine([
      c.customer_id,
      c.name,
      c.email,
      c.phone,
      c.street,
      c.postcode,
      c.city,
      c.region,
      c.segment,
      formatUtc(c.created_at),
      formatUtc(c.updated_at),
    ]);
  }
}

export function* renderContracts(records: Iterable<ContractVersion>): Generator<string> {
  yield csvLine([...CONTRACTS_HEADER]);
  for (const c of records) {
    yield csvLine([
      c.contract_id,
      c.customer_id,
      c.meter_id,
      c.tariff_type,
      c.unit_rate_eur_per_kwh,
      c.peak_rate_eur_per_kwh,
      c.offpeak_rate_eur_per_kwh,
      c.peak_start_local,
      c.peak_end_local,
      c.tariff_timezone,
      c.spot_markup_eur_per_kwh,
      c.standing_charge_eur_per_day,
      c.bidding_zone,
      formatUtc(c.valid_from),
      c.valid_to === null ? null : formatUtc(c.valid_to),
    ]);
  }
}

const FIFTEEN_MINUTE_DAY = parseIsoDate(PRICE_15_MIN_FROM) as number;

/** Price resolution for a delivery day: hourly before 2025-10-01, quarter-hourly from then on. */
export function priceResolution(deliveryDay: number): 15 | 60 {
  return deliveryDay >= FIFTEEN_MINUTE_DAY ? 15 : 60;
}

/**
 * Day-ahead prices of one zone for one delivery day (the zone's local day: 23, 24 or 25 hours), published
 * at 12:45 Berlin time on the day before.
 */
export function* renderPrices(
  zone: string,
  zoneTime: TimeZone,
  deliveryDay: number,
  rng: Prng,
): Generator<string> {
  yield csvLine([...PRICES_HEADER]);
  const resolution = priceResolution(deliveryDay);
  const { start, end } = localDayBounds(zoneTime, deliveryDay);
  const published = formatUtc(
    localMidnightUtc('Europe/Berlin', deliveryDay - 1) + (12 * 60 + 45) * MINUTE_MS,
  );
  const day = priceDay(zone, deliveryDay, rng);
  for (let t = start; t < end; t += resolution * MINUTE_MS) {
    yield csvLine([
      zone,
      formatUtc(t),
      resolution,
      price(day, zoneTime, t, resolution, rng).toFixed(2),
      published,
    ]);
  }
}
