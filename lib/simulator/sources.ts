/**
 * The source systems the simulator writes, with the exact physical layout of their files. The contracts
 * in contracts/sources/ describe the same layouts; a unit test checks that the two agree.
 */

export const WIDE_PERIOD_COLUMNS = 50;

/** Meter-reading sources of every run, one per layout. */
export const READING_SOURCES = ['headend_utc', 'uk_hh_wide', 'smartfeed'] as const;
export type ReadingSource = (typeof READING_SOURCES)[number];

/**
 * AEMO NEM12 files (contracts/sources/meter_readings.nem12.yaml): written only when a run asks for them
 * (`nem12` option, `--nem12`), so a default run stays byte for byte what it was.
 */
export const NEM12_SOURCE = 'nem12' as const;
/** Any source a meter can deliver through. */
export type MeterSource = ReadingSource | typeof NEM12_SOURCE;

/** The sources meters are dealt to in turn: the three layouts, then NEM12 when asked for. */
export function meterSources(nem12: boolean): readonly MeterSource[] {
  return nem12 ? [...READING_SOURCES, NEM12_SOURCE] : READING_SOURCES;
}

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

/**
 * NEM12: 30-minute interval-ending values per AEST market day (UTC+10, no daylight saving). Suffix E1 is
 * import and B1 export; a day with estimated or substituted intervals is V, with 400 records giving each
 * range's flag (reader: E → estimated, F/S → substituted).
 */
export const NEM12_CHANNEL = {
  import: { suffix: 'E1', register: '001', stream: 'N1' },
  export: { suffix: 'B1', register: '002', stream: 'N2' },
} as const;
export const NEM12_QUALITY = {
  actual: { flag: 'A', reason: '' },
  estimated: { flag: 'E52', reason: '' },
  substituted: { flag: 'S14', reason: '1' },
} as const;
export const NEM12_INTERVAL_MINUTES = 30;
/** NEM market time is AEST all year: UTC+10:00. */
export const NEM12_MARKET_OFFSET_MINUTES = 600;
export const NEM12_PARTICIPANTS = { from: 'LKWMDP', to: 'LAKEWATT' } as const;

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
