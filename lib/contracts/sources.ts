import { promises as fs } from 'node:fs';
import path from 'node:path';

import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { ContractError, LakewattError } from '../errors';
import { compileIdPattern, IDENTIFIER_COLUMNS } from '../validation/identifiers';
import {
  CHANNELS,
  DATASET_NAMES,
  datasetColumns,
  type DatasetName,
  DATASETS,
  INTERVAL_MINUTES,
  QUALITIES,
} from './datasets';
import { ianaZone, sourceScheduleSchema } from './schedule';

/**
 * A source contract maps one source system's file layout onto a dataset. Onboarding a new source is a new
 * file under contracts/sources/, not code. See docs/sources.md for every field.
 */

export const ENERGY_UNITS = ['Wh', 'kWh', 'MWh'] as const;
export const PRICE_UNITS = ['EUR/MWh', 'EUR/kWh', 'ct/kWh'] as const;

/** Multiplier from a declared unit to the canonical one (kWh for energy, EUR/MWh for prices). */
export const UNIT_TO_CANONICAL: Record<(typeof ENERGY_UNITS)[number] | (typeof PRICE_UNITS)[number], number> =
  {
    Wh: 0.001,
    kWh: 1,
    MWh: 1000,
    'EUR/MWh': 1,
    'EUR/kWh': 1000,
    'ct/kWh': 10,
  };

/**
 * Tokens a timestamp or date pattern may use (longest first); anything else between tokens must be literal
 * punctuation. The one list: lib/validation/timestamps.ts parses with it.
 */
export const TIMESTAMP_PATTERN_TOKENS = /yyyy|yy|MMM|MM|dd|HH|hh|mm|ss|SSS|XXX|a/g;
const timestampFormat = z
  .string()
  .refine(
    (value) =>
      ['iso8601', 'epoch_seconds', 'epoch_millis'].includes(value) ||
      (/yyyy|yy/.test(value) &&
        value.replace(TIMESTAMP_PATTERN_TOKENS, '').replace(/[\s\-/:.,T]/g, '') === ''),
    {
      message:
        "expected 'iso8601', 'epoch_seconds', 'epoch_millis' or a pattern of yyyy, yy, MM, MMM, dd, HH, hh, mm, ss, SSS, XXX, a and punctuation",
    },
  );

const idPattern = z
  .string()
  .min(1)
  .max(200)
  .refine(
    (source) => {
      try {
        compileIdPattern(source);
        return true;
      } catch {
        return false;
      }
    },
    {
      message:
        'expected a regular expression (JavaScript syntax, Unicode mode), matched against the whole id',
    },
  );

const csvFormat = z.strictObject({
  type: z.literal('csv'),
  delimiter: z.string().length(1, 'one character').default(','),
  quote: z.string().length(1, 'one character').default('"'),
  header: z.boolean().default(true),
  decimal: z.enum(['.', ',']).default('.'),
});

const ndjsonFormat = z.strictObject({ type: z.literal('ndjson') });

/**
 * Document formats: a provider's whole answer (XML or JSON), parsed at once and size-limited, that yields
 * records with the fields in DOCUMENT_FIELDS. `layout.columns` maps canonical columns onto those fields,
 * as it maps NDJSON field paths. See docs/sources.md (Document formats).
 */
export const DOCUMENT_FORMATS = ['entsoe_xml', 'energy_charts_json', 'nordpool_json'] as const;
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];

/** Fields each document format gives every record. */
export const DOCUMENT_FIELDS: Record<DocumentFormat, readonly string[]> = {
  entsoe_xml: [
    'zone',
    'eic',
    'interval_start',
    'resolution_minutes',
    'price',
    'published_at',
    'position',
    'curve_type',
    'filled',
  ],
  energy_charts_json: ['zone', 'interval_start', 'resolution_minutes', 'price', 'published_at'],
  nordpool_json: ['zone', 'area', 'interval_start', 'resolution_minutes', 'price', 'published_at'],
};

export const DEFAULT_DOCUMENT_MAX_BYTES = 16 * 1024 * 1024;
const documentMaxBytes = z
  .number()
  .int()
  .positive()
  .max(256 * 1024 * 1024, 'at most 256 MiB: documents are parsed whole in memory')
  .default(DEFAULT_DOCUMENT_MAX_BYTES);
const codeMap = z.record(z.string().min(1), z.string().min(1));

const entsoeXmlFormat = z.strictObject({
  type: z.literal('entsoe_xml'),
  max_bytes: documentMaxBytes,
  /** EIC code → zone, added to the built-in map of lib/prices/zones.ts. */
  zones: codeMap.default({}),
  /** Keep TimeSeries with this classificationSequence position (1: SDAC; DE-LU/AT also publish EXAA as 2). */
  classification_sequence: z.number().int().positive().nullable().default(1),
});

const energyChartsJsonFormat = z.strictObject({
  type: z.literal('energy_charts_json'),
  max_bytes: documentMaxBytes,
});

const nordpoolJsonFormat = z.strictObject({
  type: z.literal('nordpool_json'),
  max_bytes: documentMaxBytes,
  /** Nord Pool area code → zone where they differ (e.g. GER: DE-LU); known zone codes map to themselves. */
  areas: codeMap.default({}),
});

export function isDocumentFormat(type: string): type is DocumentFormat {
  return (DOCUMENT_FORMATS as readonly string[]).includes(type);
}

/**
 * Market record formats: streamed like CSV, line by line (NEM12: lib/formats/nem12.ts), segment by segment
 * (MSCONS, EDIFACT: lib/formats/mscons.ts) or XML event by event (Green Button / ESPI: lib/formats/espi.ts),
 * each read by its format's reader into records with the fields in RECORD_FIELDS, mapped like document fields.
 */
export const RECORD_FORMATS = ['nem12', 'mscons', 'espi_xml'] as const;
export type RecordFormat = (typeof RECORD_FORMATS)[number];

export const RECORD_FIELDS: Record<RecordFormat, readonly string[]> = {
  nem12: [
    'meter_id',
    'channel',
    'nmi_suffix',
    'interval_start',
    'interval_minutes',
    'kwh',
    'quality',
    'source_quality',
    'quality_method',
    'reason_code',
    'reason_description',
  ],
  mscons: [
    'meter_id',
    'channel',
    'obis',
    'product_id',
    'interval_start',
    'interval_minutes',
    'kwh',
    'quality',
    'source_quality',
    'status',
  ],
  espi_xml: [
    'meter_id',
    'channel',
    'interval_start',
    'interval_minutes',
    'kwh',
    'quality',
    'source_quality',
    'reading_type',
  ],
};

const nem12Format = z.strictObject({ type: z.literal('nem12') });
/** Separators and decimal mark come from the interchange's own UNA, so there is nothing to configure. */
const msconsFormat = z.strictObject({ type: z.literal('mscons') });
/** Units, interval lengths and local time come from the feed's own ReadingType and LocalTimeParameters. */
const espiFormat = z.strictObject({ type: z.literal('espi_xml') });

/**
 * What a contract of a format whose records carry named fields (documents, record formats) must respect:
 * the dataset the format is for, the fields its columns may map, and what its timestamps are.
 */
function fieldFormatOf(
  type: string,
): { format: string; dataset: DatasetName; fields: readonly string[]; timestamps: string } | undefined {
  if (isDocumentFormat(type))
    return {
      format: type,
      dataset: 'prices',
      fields: DOCUMENT_FIELDS[type],
      timestamps: 'UTC interval starts',
    };
  if (isRecordFormat(type))
    return {
      format: type,
      dataset: 'meter_readings',
      fields: RECORD_FIELDS[type],
      timestamps: 'interval starts with their UTC offset',
    };
  return undefined;
}

export function isRecordFormat(type: string): type is RecordFormat {
  return (RECORD_FORMATS as readonly string[]).includes(type);
}

/** Canonical column name → source column (CSV header) or field path (NDJSON, dot-separated). */
const columnMapping = z.record(z.string(), z.string().min(1));

const longLayout = z.strictObject({
  kind: z.literal('long'),
  columns: columnMapping,
});

/**
 * Wide layout: one row per meter and day, one column per interval. `addressing: period` numbers the value
 * columns by elapsed intervals from local midnight (a UK settlement-period style day has 46, 48 or 50);
 * `addressing: clock` labels them with local wall-clock times.
 */
const wideLayout = z.strictObject({
  kind: z.literal('wide'),
  columns: columnMapping,
  date_column: z.string().min(1),
  date_format: timestampFormat,
  value_columns: z.array(z.string().min(1)).min(1),
  addressing: z.enum(['period', 'clock']),
});

export const sourceContractSchema = z
  .strictObject({
    source: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, _ and -, at most 63 characters'),
    dataset: z.enum(DATASET_NAMES),
    description: z.string().min(1),
    format: z.discriminatedUnion('type', [
      csvFormat,
      ndjsonFormat,
      entsoeXmlFormat,
      energyChartsJsonFormat,
      nordpoolJsonFormat,
      nem12Format,
      msconsFormat,
      espiFormat,
    ]),
    encoding: z.enum(['auto', 'utf-8', 'utf-16le', 'utf-16be', 'iso-8859-1']).default('auto'),
    compression: z.enum(['auto', 'none', 'gzip']).default('auto'),
    layout: z.discriminatedUnion('kind', [longLayout, wideLayout]),
    timestamp: z.strictObject({
      format: timestampFormat,
      timezone: ianaZone.default('UTC'),
      marks: z.enum(['start', 'end']).default('start'),
    }),
    interval_minutes: z.union(INTERVAL_MINUTES.map((m) => z.literal(m))).optional(),
    unit: z.enum([...ENERGY_UNITS, ...PRICE_UNITS]).optional(),
    constants: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
    quality_map: z.record(z.string(), z.enum(QUALITIES)).optional(),
    channel_map: z.record(z.string(), z.enum(CHANNELS)).optional(),
    max_kwh_per_interval: z.number().positive().optional(),
    max_rejected_share: z.number().min(0).max(1).default(0.05),
    /**
     * Late-data policy (meter readings): a reading whose interval ended more than `max_age_days` before the
     * file landed is rejected (READING_TOO_OLD), so one stray old timestamp cannot reopen settled days.
     */
    late_readings: z.strictObject({ max_age_days: z.number().int().positive().max(3650) }).optional(),
    /** Per identifier column, a regular expression each value must match whole (lib/validation/identifiers.ts). */
    id_patterns: z.partialRecord(z.enum(IDENTIFIER_COLUMNS), idPattern).optional(),
    /** When the source's files are expected, for the freshness check (lib/contracts/schedule.ts). */
    schedule: sourceScheduleSchema.optional(),
  })
  .superRefine((contract, ctx) => {
    const columns = new Map(datasetColumns(contract.dataset).map((c) => [c.name, c]));
    for (const name of Object.keys(contract.id_patterns ?? {})) {
      if (!columns.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['id_patterns', name],
          message: `${contract.dataset} has no column ${name}`,
        });
      }
    }
    const provided = new Set([...Object.keys(contract.layout.columns), ...Object.keys(contract.constants)]);
    for (const name of provided) {
      const column = columns.get(name);
      if (!column) {
        ctx.addIssue({
          code: 'custom',
          path: ['layout', 'columns', name],
          message: `${contract.dataset} has no column '${name}'`,
        });
      } else if (column.lineage) {
        ctx.addIssue({
          code: 'custom',
          path: ['layout', 'columns', name],
          message: `lineage column '${name}' is filled by the pipeline`,
        });
      }
    }
    // Wide layout: the date and value columns give interval_start and kwh.
    const fromValues = contract.layout.kind === 'wide' ? ['interval_start', 'kwh'] : [];
    for (const column of columns.values()) {
      if (column.lineage || column.nullable || provided.has(column.name) || fromValues.includes(column.name))
        continue;
      if (column.name === 'interval_minutes' && contract.interval_minutes !== undefined) continue;
      if (column.name === 'resolution_minutes' && contract.interval_minutes !== undefined) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['layout', 'columns'],
        message: `required column '${column.name}' of ${contract.dataset} is neither mapped nor set in constants`,
      });
    }
    const isEnergy = contract.dataset === 'meter_readings';
    const isPrice = contract.dataset === 'prices';
    if (!isEnergy && contract.late_readings !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['late_readings'],
        message: `late_readings applies to meter_readings only, not ${contract.dataset}`,
      });
    }
    if (isEnergy && !(ENERGY_UNITS as readonly string[]).includes(contract.unit ?? '')) {
      ctx.addIssue({
        code: 'custom',
        path: ['unit'],
        message: `meter_readings needs an energy unit: ${ENERGY_UNITS.join(', ')}`,
      });
    }
    if (isPrice && !(PRICE_UNITS as readonly string[]).includes(contract.unit ?? '')) {
      ctx.addIssue({
        code: 'custom',
        path: ['unit'],
        message: `prices needs a price unit: ${PRICE_UNITS.join(', ')}`,
      });
    }
    if (!isEnergy && !isPrice && contract.unit !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['unit'],
        message: `${contract.dataset} has no measured values; remove unit`,
      });
    }
    if (contract.layout.kind === 'wide') {
      if (!isEnergy) {
        ctx.addIssue({
          code: 'custom',
          path: ['layout', 'kind'],
          message: 'the wide layout is only for meter_readings',
        });
      }
      if (contract.interval_minutes === undefined) {
        ctx.addIssue({ code: 'custom', path: ['interval_minutes'], message: 'required for the wide layout' });
      }
      if (contract.format.type !== 'csv') {
        ctx.addIssue({ code: 'custom', path: ['format', 'type'], message: 'the wide layout needs csv' });
      }
    }
    const fieldFormat = fieldFormatOf(contract.format.type);
    if (fieldFormat) {
      const { format, dataset, fields, timestamps } = fieldFormat;
      if (contract.dataset !== dataset) {
        ctx.addIssue({
          code: 'custom',
          path: ['format', 'type'],
          message: `${format} is for the ${dataset} dataset`,
        });
      }
      if (contract.timestamp.format !== 'iso8601' || contract.timestamp.marks !== 'start') {
        ctx.addIssue({
          code: 'custom',
          path: ['timestamp'],
          message: `${format} records carry ${timestamps}: use format iso8601 and marks start`,
        });
      }
      for (const [name, field] of Object.entries(contract.layout.columns)) {
        if (!fields.includes(field)) {
          ctx.addIssue({
            code: 'custom',
            path: ['layout', 'columns', name],
            message: `${format} records have no field '${field}' (fields: ${fields.join(', ')})`,
          });
        }
      }
    }
    if (contract.format.type === 'csv' && !contract.format.header && contract.layout.kind === 'long') {
      for (const [name, source] of Object.entries(contract.layout.columns)) {
        if (!/^\d+$/.test(source)) {
          ctx.addIssue({
            code: 'custom',
            path: ['layout', 'columns', name],
            message: 'without a header, columns are addressed by 1-based position',
          });
        }
      }
    }
  });

export type SourceContract = z.output<typeof sourceContractSchema>;

export class UnknownSourceError extends LakewattError {
  constructor(dataset: string, source: string, known: readonly string[]) {
    super(
      'UNKNOWN_SOURCE',
      `No source contract for dataset '${dataset}' and source '${source}' (known: ${known.join(', ') || 'none'})`,
    );
  }
}

function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/** Parses one contract document (already read from YAML or JSON). `file` only names it in errors. */
export function parseSourceContract(document: unknown, file: string): SourceContract {
  const result = sourceContractSchema.safeParse(document);
  if (!result.success) throw new ContractError(file, describeIssues(result.error));
  return result.data;
}

export class SourceContractRegistry {
  private readonly byKey = new Map<string, SourceContract>();

  constructor(contracts: Iterable<SourceContract>) {
    for (const contract of contracts) this.byKey.set(`${contract.dataset}/${contract.source}`, contract);
  }

  resolve(dataset: string, source: string): SourceContract {
    const contract = this.byKey.get(`${dataset}/${source}`);
    if (!contract) throw new UnknownSourceError(dataset, source, [...this.byKey.keys()]);
    return contract;
  }

  list(dataset?: DatasetName): SourceContract[] {
    return [...this.byKey.values()].filter((c) => dataset === undefined || c.dataset === dataset);
  }
}

/** Reads and validates every *.yaml, *.yml and *.json file in `dir`. One bad file fails the whole load. */
export async function loadSourceContracts(dir: string): Promise<SourceContractRegistry> {
  let entries: string[];
  try {
    entries = (await fs.readdir(dir)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  } catch (error) {
    throw new ContractError(dir, [`cannot read the source contracts folder (${(error as Error).message})`]);
  }
  const contracts: SourceContract[] = [];
  const seen = new Map<string, string>();
  for (const entry of entries) {
    const file = path.join(dir, entry);
    const text = await fs.readFile(file, 'utf8');
    let document: unknown;
    try {
      document = entry.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (error) {
      throw new ContractError(file, [
        `not valid ${entry.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`,
      ]);
    }
    const contract = parseSourceContract(document, file);
    const key = `${contract.dataset}/${contract.source}`;
    const previous = seen.get(key);
    if (previous) throw new ContractError(file, [`duplicate contract for ${key} (also in ${previous})`]);
    seen.set(key, file);
    contracts.push(contract);
  }
  return new SourceContractRegistry(contracts);
}

/** Columns a contract must produce for its dataset (for documentation and the engine). */
export function requiredCanonicalColumns(dataset: DatasetName): string[] {
  return datasetColumns(dataset)
    .filter((c) => !c.lineage && !c.nullable)
    .map((c) => c.name);
}

export { DATASETS };
