/**
 * The source systems the simulator writes, with the exact physical layout of their files. The contracts
 * in contracts/sources/ describe the same layouts; a unit test checks that the two agree.
 */

export const WIDE_PERIOD_COLUMNS = 50;

/** Meter-reading sources of every run, one per layout. */
export const READING_SOURCES = ['headend_utc', 'uk_hh_wide', 'smartfeed'] as const;
export type ReadingSource = (typeof READING_SOURCES)[number];

/**
 * Market formats, each written only when a run asks for it (options `nem12`, `mscons`, `espi`; flags
 * `--nem12`, `--mscons`, `--espi`), so a default run stays byte for byte what it was: AEMO NEM12
 * (contracts/sources/meter_readings.nem12.yaml), German MSCONS (meter_readings.mscons.yaml) and Green Button
 * / NAESB ESPI (meter_readings.espi.yaml, whose source is `greenbutton`).
 */
export const NEM12_SOURCE = 'nem12' as const;
export const MSCONS_SOURCE = 'mscons' as const;
export const ESPI_SOURCE = 'greenbutton' as const;
export type MarketSource = typeof NEM12_SOURCE | typeof MSCONS_SOURCE | typeof ESPI_SOURCE;
/** Any source a meter can deliver through. */
export type MeterSource = ReadingSource | MarketSource;

/** The market formats a run asks for (the options of the same names). */
export interface MarketFormats {
  nem12?: boolean;
  mscons?: boolean;
  espi?: boolean;
}

/**
 * The sources meters are dealt to in turn (meter i gets source i mod n): the three layouts, then each market
 * format the run asks for, in the order NEM12, MSCONS, ESPI. Each format thus has a share no other source
 * takes: alone it is every fourth meter (indexes 3, 7, 11, ...), as NEM12 has always been; two formats take
 * indexes 3 and 4 mod 5, all three 3, 4 and 5 mod 6. (A fixed 4-cycle with MSCONS and ESPI at offsets 1 and 2
 * would take the uk_hh_wide and smartfeed meters of the NEM12 deal, leaving those layouts without any.) A run
 * without market formats gets READING_SOURCES itself.
 */
export function meterSources(formats: MarketFormats): readonly MeterSource[] {
  const market: MarketSource[] = [
    ...(formats.nem12 === true ? [NEM12_SOURCE] : []),
    ...(formats.mscons === true ? [MSCONS_SOURCE] : []),
    ...(formats.espi === true ? [ESPI_SOURCE] : []),
  ];
  return market.length === 0 ? READING_SOURCES : [...READING_SOURCES, ...market];
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

/**
 * MSCONS: one interchange per German market day (local midnight to midnight in Europe/Berlin: 23, 24 or 25
 * hours), times in UTC (`?+00`, format 303), values in kWh as true values (QTY+220). The parties are BDEW
 * codes (code list 500 in UNB, 293 in NAD); PIA+5 names the OBIS code of each channel's load profile.
 */
export const MSCONS_MARKET_ZONE = 'Europe/Berlin' as const;
export const MSCONS_PARTIES = { sender: '9900000000017', receiver: '9900000000024' } as const;
export const MSCONS_OBIS = { import: '1-1:1.29.0', export: '1-1:2.29.0' } as const;
/**
 * An MSCONS series is 15- or 60-minute (the reader rejects other lengths as INVALID_INTERVAL): the run's
 * interval when it is one of them, else (30) the German quarter-hour.
 */
export const msconsMinutes = (interval: 15 | 30 | 60): 15 | 60 => (interval === 60 ? 60 : 15);

/**
 * Green Button / ESPI: one Atom feed per UTC day, intervals of the run's length. Every reading is electricity
 * energy per interval in whole Wh (ReadingType uom 72, powerOfTenMultiplier 0, accumulationBehaviour 4
 * deltaData, commodity 1, kind 12 energy), flowDirection 1 (forward) for import and 19 (reverse) for export;
 * defaultQuality 0 (valid) stands for every reading, which carries no ReadingQuality of its own.
 */
export const ESPI_READING_TYPE = {
  accumulationBehaviour: '4',
  commodity: '1',
  defaultQuality: '0',
  kind: '12',
  powerOfTenMultiplier: '0',
  uom: '72',
} as const;
export const ESPI_FLOW_DIRECTION = { import: '1', export: '19' } as const;

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
