/**
 * The source systems the simulator writes, with the exact physical layout of their files. The contracts
 * in contracts/sources/ describe the same layouts; a unit test checks that the two agree.
 */

export const WIDE_PERIOD_COLUMNS = 50;

/** Meter-reading sources, one per layout. */
export const READING_SOURCES = ['headend_utc', 'uk_hh_wide', 'smartfeed'] as const;
export type ReadingSource = (typeof READING_SOURCES)[number];

export const SOURCE_IDS = {
  customers: 'crm',
  contracts: 'billing',
  prices: 'dayahead',
} as const;

/** Long CSV in UTC, one row per reading (interval from --interval). */
export const HEADEND_HEADER = [
  'meter_id',
  'interval_start_utc',
  'interval_minutes',
  'channel',
  'kwh',
  'quality_flag',
] as const;
export const HEADEND_CHANNEL = { import: 'AI', export: 'AE' } as const;
export const HEADEND_QUALITY = { actual: 'A', estimated: 'E' } as const;

/** Wide CSV in Europe/London local time: one row per meter and local day, 50 settlement-period columns. */
export const WIDE_PERIODS = Array.from({ length: WIDE_PERIOD_COLUMNS }, (_, i) => `SP${i + 1}`);
export const WIDE_HEADER = ['MPAN', 'SettlementDate', 'ReadType', ...WIDE_PERIODS] as const;
export const WIDE_QUALITY = { actual: 'A', estimated: 'E' } as const;

/** NDJSON feed: interval END with UTC offset, Wh, own channel and quality codes. Gzip-compressed. */
export const FEED_FIELDS = ['meter.id', 'end', 'dur', 'ch', 'wh', 'q'] as const;
export const FEED_CHANNEL = { import: 'imp', export: 'exp' } as const;
export const FEED_QUALITY = { actual: 'OK', estimated: 'EST', substituted: 'SUB' } as const;

export const CUSTOMERS_HEADER = [
  'CustomerRef',
  'FullName',
  'Email',
  'Phone',
  'AddressLine1',
  'PostCode',
  'Town',
  'Region',
  'Segment',
  'CreatedAt',
  'UpdatedAt',
] as const;

export const CONTRACTS_HEADER = [
  'contract_no',
  'account_no',
  'meter_point',
  'tariff_type',
  'unit_rate_eur_kwh',
  'peak_rate_eur_kwh',
  'offpeak_rate_eur_kwh',
  'peak_start',
  'peak_end',
  'tariff_tz',
  'spot_markup_eur_kwh',
  'standing_charge_eur_day',
  'bidding_zone',
  'valid_from',
  'valid_to',
] as const;

export const PRICES_HEADER = [
  'zone',
  'delivery_start_utc',
  'resolution_min',
  'price_eur_mwh',
  'published_at_utc',
] as const;

/** Per-interval ceiling (kWh) declared in the meter-reading contracts; implausible values exceed it. */
export const MAX_KWH_PER_INTERVAL = 1000;

/** Largest rejected share declared in every simulator contract (used for the expected file verdict). */
export const MAX_REJECTED_SHARE = 0.05;

/** Day-ahead markets moved from 60- to 15-minute products for deliveries from this UTC day on. */
export const PRICE_15_MIN_FROM = '2025-10-01';
