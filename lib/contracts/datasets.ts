import { z } from 'zod';

/**
 * Canonical row schemas of the four datasets: the single source of truth for staging (TypeScript) and
 * the Spark jobs (Python). `exportDatasetContracts()` renders them as JSON into databricks/, and a test on
 * each side fails when the two disagree.
 *
 * Timestamps are UTC instants written as ISO-8601 strings ending in `Z`; dates are `YYYY-MM-DD`.
 */

export type SparkType = 'string' | 'timestamp' | 'date' | 'integer' | 'long' | 'double' | 'boolean';

/** How a PII column is protected before silver: a keyed hash, or not stored at all. */
export type PiiTreatment = 'mask' | 'drop';

export interface ColumnMeta {
  sparkType: SparkType;
  description: string;
  pii?: PiiTreatment;
  lineage?: true;
}

function column<T extends z.ZodType>(schema: T, meta: ColumnMeta): T {
  return schema.meta({ ...meta });
}

const utcInstant = z.iso.datetime({ offset: false });

export const CHANNELS = ['import', 'export'] as const;
export const QUALITIES = ['actual', 'estimated', 'substituted', 'missing'] as const;
export const INTERVAL_MINUTES = [5, 15, 30, 60] as const;
export const PRICE_RESOLUTIONS = [15, 60] as const;
export const TARIFF_TYPES = ['fixed', 'time_of_use', 'dynamic'] as const;
export const SEGMENTS = ['residential', 'sme', 'industrial'] as const;

/** Lineage columns every staged row carries: where it came from and which orchestration staged it. */
export const lineageColumns = {
  source_system: column(z.string().min(1), {
    sparkType: 'string',
    lineage: true,
    description: 'Source system id from the source contract (the {source} path segment).',
  }),
  source_file: column(z.string().min(1), {
    sparkType: 'string',
    lineage: true,
    description: 'Bronze path of the file the row came from (container/path).',
  }),
  source_etag: column(z.string().min(1), {
    sparkType: 'string',
    lineage: true,
    description: 'eTag of the bronze file version that was read.',
  }),
  source_line: column(z.number().int().positive(), {
    sparkType: 'long',
    lineage: true,
    description: '1-based physical line (or record) number in the source file.',
  }),
  ingest_instance_id: column(z.string().min(1), {
    sparkType: 'string',
    lineage: true,
    description: 'Durable orchestration instance id that staged the row.',
  }),
  ingested_at: column(utcInstant, {
    sparkType: 'timestamp',
    lineage: true,
    description: 'When the row was staged (UTC).',
  }),
};

const meterReadings = z.object({
  meter_id: column(z.string().min(1), {
    sparkType: 'string',
    description: 'Meter identifier (MPAN, NMI, ...).',
  }),
  interval_start: column(utcInstant, { sparkType: 'timestamp', description: 'Start of the interval (UTC).' }),
  interval_minutes: column(z.union(INTERVAL_MINUTES.map((m) => z.literal(m))), {
    sparkType: 'integer',
    description: 'Interval length in minutes: 5, 15, 30 or 60.',
  }),
  channel: column(z.enum(CHANNELS), {
    sparkType: 'string',
    description: 'import (consumption) or export (generation).',
  }),
  kwh: column(z.number().finite(), { sparkType: 'double', description: 'Energy in the interval, kWh.' }),
  quality: column(z.enum(QUALITIES), {
    sparkType: 'string',
    description: 'actual, estimated, substituted or missing.',
  }),
  // Market formats carry their own quality vocabulary; `quality` is its canonical reading, these keep what
  // the file said so nothing is lost (NEM12 A/E/F/S/V with method and reason, MSCONS QTY qualifier and STS).
  source_quality: column(z.string().min(1).nullable(), {
    sparkType: 'string',
    description:
      "The source's own quality code as delivered (NEM12 flag with method, e.g. F14; MSCONS QTY qualifier, e.g. 67; ESPI ReadingQuality); null when the source gives only the canonical quality.",
  }),
  source_quality_reason: column(z.string().min(1).nullable(), {
    sparkType: 'string',
    description:
      "The source's reason for that quality (NEM12 reason code; MSCONS STS status codes); null when none is given.",
  }),
  ...lineageColumns,
});

const customers = z.object({
  customer_id: column(z.string().min(1), { sparkType: 'string', description: 'Customer identifier.' }),
  name: column(z.string().min(1), { sparkType: 'string', pii: 'mask', description: 'Full name.' }),
  email: column(z.email().nullable(), { sparkType: 'string', pii: 'mask', description: 'E-mail address.' }),
  phone: column(z.string().min(1).nullable(), {
    sparkType: 'string',
    pii: 'mask',
    description: 'Phone number.',
  }),
  street: column(z.string().min(1).nullable(), {
    sparkType: 'string',
    pii: 'drop',
    description: 'Street address line; never stored beyond staging.',
  }),
  postcode: column(z.string().min(1).nullable(), {
    sparkType: 'string',
    description: 'Postcode (outward code kept in gold only as region).',
  }),
  city: column(z.string().min(1).nullable(), { sparkType: 'string', description: 'City or town.' }),
  region: column(z.string().min(1), { sparkType: 'string', description: 'Region used for load profiles.' }),
  segment: column(z.enum(SEGMENTS), { sparkType: 'string', description: 'residential, sme or industrial.' }),
  created_at: column(utcInstant, {
    sparkType: 'timestamp',
    description: 'When the customer record was created.',
  }),
  updated_at: column(utcInstant, {
    sparkType: 'timestamp',
    description: 'When the source last changed the record; orders SCD2 versions.',
  }),
  ...lineageColumns,
});

const rate = (description: string) =>
  column(z.number().finite().nonnegative().nullable(), { sparkType: 'double', description });

const contracts = z.object({
  contract_id: column(z.string().min(1), { sparkType: 'string', description: 'Contract identifier.' }),
  customer_id: column(z.string().min(1), {
    sparkType: 'string',
    description: 'Customer holding the contract.',
  }),
  meter_id: column(z.string().min(1), {
    sparkType: 'string',
    description: 'Meter supplied under the contract.',
  }),
  tariff_type: column(z.enum(TARIFF_TYPES), {
    sparkType: 'string',
    description: 'fixed, time_of_use or dynamic (spot-indexed).',
  }),
  unit_rate_eur_per_kwh: rate('Fixed tariff: energy rate, EUR/kWh.'),
  peak_rate_eur_per_kwh: rate('Time-of-use tariff: peak rate, EUR/kWh.'),
  offpeak_rate_eur_per_kwh: rate('Time-of-use tariff: off-peak rate, EUR/kWh.'),
  peak_start_local: column(
    z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/)
      .nullable(),
    { sparkType: 'string', description: 'Time-of-use tariff: local clock time peak starts (HH:MM).' },
  ),
  peak_end_local: column(
    z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/)
      .nullable(),
    {
      sparkType: 'string',
      description: 'Time-of-use tariff: local clock time peak ends (HH:MM, exclusive).',
    },
  ),
  tariff_timezone: column(z.string().min(1), {
    sparkType: 'string',
    description: 'IANA time zone the peak window is expressed in.',
  }),
  spot_markup_eur_per_kwh: rate('Dynamic tariff: markup over the day-ahead spot price, EUR/kWh.'),
  standing_charge_eur_per_day: column(z.number().finite().nonnegative(), {
    sparkType: 'double',
    description: 'Standing charge, EUR per day.',
  }),
  bidding_zone: column(z.string().min(1), {
    sparkType: 'string',
    description: 'Bidding zone whose spot price applies (e.g. GB, DE-LU).',
  }),
  valid_from: column(utcInstant, {
    sparkType: 'timestamp',
    description: 'Start of validity (inclusive, UTC).',
  }),
  valid_to: column(utcInstant.nullable(), {
    sparkType: 'timestamp',
    description: 'End of validity (exclusive, UTC); null while open-ended.',
  }),
  ...lineageColumns,
});

const prices = z.object({
  bidding_zone: column(z.string().min(1), {
    sparkType: 'string',
    description: 'Bidding zone (e.g. DE-LU, NL, GB).',
  }),
  interval_start: column(utcInstant, {
    sparkType: 'timestamp',
    description: 'Start of the delivery interval (UTC).',
  }),
  resolution_minutes: column(z.union(PRICE_RESOLUTIONS.map((m) => z.literal(m))), {
    sparkType: 'integer',
    description: 'Delivery interval length: 15 or 60 minutes.',
  }),
  price_eur_per_mwh: column(z.number().finite(), {
    sparkType: 'double',
    description: 'Day-ahead price, EUR/MWh (may be negative).',
  }),
  provider: column(z.string().min(1), {
    sparkType: 'string',
    description: 'Price provider (entsoe, energy-charts, nordpool, simulator).',
  }),
  published_at: column(utcInstant.nullable(), {
    sparkType: 'timestamp',
    description: 'When the provider published the price, if known.',
  }),
  ...lineageColumns,
});

export interface DatasetContract<S extends z.ZodObject = z.ZodObject> {
  name: DatasetName;
  description: string;
  /** Columns that identify one row; duplicates within a file are detected on this key. */
  key: readonly string[];
  schema: S;
}

export const DATASETS = {
  meter_readings: {
    name: 'meter_readings',
    description: 'Interval energy readings per meter and channel.',
    key: ['meter_id', 'channel', 'interval_start'],
    schema: meterReadings,
  },
  customers: {
    name: 'customers',
    description: 'Customer reference data; name, e-mail, phone and street are PII.',
    key: ['customer_id', 'updated_at'],
    schema: customers,
  },
  contracts: {
    name: 'contracts',
    description: 'Supply contracts with their tariff and validity interval.',
    key: ['contract_id', 'valid_from'],
    schema: contracts,
  },
  prices: {
    name: 'prices',
    description: 'Day-ahead energy prices per bidding zone.',
    key: ['bidding_zone', 'interval_start', 'resolution_minutes'],
    schema: prices,
  },
} as const;

export type DatasetName = keyof typeof DATASETS;
export const DATASET_NAMES = Object.keys(DATASETS) as DatasetName[];

export type MeterReadingRow = z.infer<typeof meterReadings>;
export type CustomerRow = z.infer<typeof customers>;
export type ContractRow = z.infer<typeof contracts>;
export type PriceRow = z.infer<typeof prices>;
export type LineageColumns = { [K in keyof typeof lineageColumns]: z.infer<(typeof lineageColumns)[K]> };

export function isDatasetName(value: string): value is DatasetName {
  return Object.hasOwn(DATASETS, value);
}

export interface ExportedColumn {
  name: string;
  type: SparkType;
  nullable: boolean;
  description: string;
  pii?: PiiTreatment;
  lineage?: true;
  allowed?: Array<string | number>;
}

export interface ExportedDatasets {
  version: 1;
  generatedBy: string;
  datasets: Record<DatasetName, { description: string; key: string[]; columns: ExportedColumn[] }>;
}

function allowedValues(field: z.ZodType): Array<string | number> | undefined {
  if (field instanceof z.ZodEnum) return [...field.options] as string[];
  if (field instanceof z.ZodUnion) {
    const values = field.options.map((option) => (option instanceof z.ZodLiteral ? option.value : undefined));
    if (values.every((v) => typeof v === 'number' || typeof v === 'string')) return values;
  }
  return undefined;
}

/** Columns of a dataset in declaration order, with their Spark type and markings. */
export function datasetColumns(name: DatasetName): ExportedColumn[] {
  const shape = DATASETS[name].schema.shape as Record<string, z.ZodType>;
  return Object.entries(shape).map(([columnName, field]) => {
    const meta = field.meta() as ColumnMeta | undefined;
    if (!meta?.sparkType) throw new Error(`Column ${name}.${columnName} has no sparkType metadata`);
    const allowed = allowedValues(field);
    return {
      name: columnName,
      type: meta.sparkType,
      nullable: field.safeParse(null).success,
      description: meta.description,
      ...(meta.pii ? { pii: meta.pii } : {}),
      ...(meta.lineage ? { lineage: true as const } : {}),
      ...(allowed ? { allowed } : {}),
    };
  });
}

/** The JSON document the PySpark jobs load (databricks/src/lakewatt/contracts/datasets.json). */
export function exportDatasetContracts(): ExportedDatasets {
  return {
    version: 1,
    generatedBy: 'lib/contracts/datasets.ts (regenerate with `make contracts`)',
    datasets: Object.fromEntries(
      DATASET_NAMES.map((name) => [
        name,
        {
          description: DATASETS[name].description,
          key: [...DATASETS[name].key],
          columns: datasetColumns(name),
        },
      ]),
    ) as ExportedDatasets['datasets'],
  };
}
