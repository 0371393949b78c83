import type { RecordError } from './msconsValues';
import type { CanonicalQuality } from './nem12';

/**
 * The codes of ESPI (NAESB REQ.21, Green Button) resources that decide whether and how a reading is
 * ingested (lib/formats/espi.ts): what a ReadingType and its UsagePoint measure, the kWh of a value, and the
 * canonical quality of a ReadingQuality code. Code names are those of the ESPI schema's enumerations as
 * OpenESPI's generated classes and eemeter's parser (openeemeter/eemeter) list them.
 */

export type EspiChannel = 'import' | 'export';

/** ServiceCategory kind (ServiceKind). */
const SERVICE_KIND: Readonly<Record<string, string>> = {
  '0': 'electricity',
  '1': 'gas',
  '2': 'water',
  '3': 'time',
  '4': 'heat',
  '5': 'refuse',
  '6': 'sewerage',
  '7': 'rates',
  '8': 'tvLicense',
  '9': 'internet',
};

/** ReadingType uom (UnitSymbolKind), the codes a meter-data feed is likely to carry. */
const UOM: Readonly<Record<string, string>> = {
  '38': 'W',
  '42': 'm3',
  '61': 'VA',
  '63': 'VAr',
  '71': 'VAh',
  '72': 'Wh',
  '73': 'VArh',
  '119': 'ft3',
  '132': 'btu',
  '169': 'therm',
};

/** ReadingType commodity (CommodityKind): 1 and 2 are electricity, secondary and primary metered. */
const COMMODITY: Readonly<Record<string, string>> = {
  '0': 'none',
  '1': 'electricity SecondaryMetered',
  '2': 'electricity PrimaryMetered',
  '3': 'communication',
  '4': 'air',
  '5': 'insulativeGas',
  '6': 'insulativeOil',
  '7': 'naturalGas',
  '8': 'propane',
  '9': 'potableWater',
  '10': 'steam',
  '11': 'wasteWater',
  '12': 'heatingFluid',
  '13': 'coolingFluid',
};

/** ReadingType accumulationBehaviour (AccumulationKind): 4 deltaData is the consumption of each interval. */
const ACCUMULATION: Readonly<Record<string, string>> = {
  '0': 'none',
  '1': 'bulkQuantity',
  '2': 'continuousCumulative',
  '3': 'cumulative',
  '4': 'deltaData',
  '6': 'indicating',
  '9': 'summation',
  '10': 'timeDelta',
  '12': 'instantaneous',
  '13': 'latchingQuantity',
  '14': 'boundedQuantity',
};

/** ReadingType flowDirection (FlowDirectionKind): 1 forward (delivered to the customer), 19 reverse. */
const FLOW: Readonly<Record<string, string>> = {
  '0': 'none',
  '1': 'forward',
  '4': 'net',
  '19': 'reverse',
  '20': 'total',
};

/**
 * ReadingQuality `quality` (QualityOfReading) → canonical quality; null: the reading is rejected. Meanings
 * from the ESPI schema's documentation of QualityOfReading: 0 valid (passed all required validation checks
 * or verified), 7 manually edited (replaced or approved by a human), 8 estimated using reference day,
 * 9 estimated using linear interpolation, 10 questionable (failed one or more checks), 11 derived
 * (calculated, not necessarily measured directly), 12 projected (forecast), 13 mixed, 14 raw (not through
 * validation, editing and estimation), 15 normalized for weather, 16 other, 17 validated (validated and
 * possibly edited and/or estimated under approved procedures), 18 verified (failed a check but determined
 * to represent actual usage); 19 revenue-quality is in eemeter's table only.
 */
export const QUALITY_OF_READING: Readonly<
  Record<string, { name: string; canonical: CanonicalQuality | null }>
> = {
  '0': { name: 'valid', canonical: 'actual' },
  '7': { name: 'manually edited', canonical: 'substituted' },
  '8': { name: 'estimated using reference day', canonical: 'estimated' },
  '9': { name: 'estimated using linear interpolation', canonical: 'estimated' },
  '10': { name: 'questionable', canonical: null },
  '11': { name: 'derived', canonical: 'estimated' },
  '12': { name: 'projected (forecast)', canonical: 'estimated' },
  '13': { name: 'mixed', canonical: 'estimated' },
  '14': { name: 'raw', canonical: 'actual' },
  '15': { name: 'normalized for weather', canonical: null },
  '16': { name: 'other', canonical: null },
  '17': { name: 'validated', canonical: 'actual' },
  '18': { name: 'verified', canonical: 'actual' },
  '19': { name: 'revenue-quality', canonical: 'actual' },
};

/** When a reading carries several codes, the least certain one names its quality. */
const QUALITY_RANK: Readonly<Record<CanonicalQuality, number>> = {
  actual: 0,
  estimated: 1,
  substituted: 2,
  missing: 3,
};

export const clipText = (text: string): string => (text.length > 60 ? `${text.slice(0, 60)}…` : text);
const named = (code: string, names: Readonly<Record<string, string>>): string =>
  names[code] === undefined ? `'${clipText(code)}'` : `${code} (${names[code]})`;

/** What a reading of an ingestible ReadingType needs: its channel, unit scale and interval length. */
export interface Ingestible {
  channel: EspiChannel;
  /** powerOfTenMultiplier: value × 10^multiplier Wh. */
  multiplier: number;
  /** intervalLength in seconds, or null when the ReadingType gives none. */
  intervalSeconds: number | null;
  defaultQuality: string | null;
  /** Assumptions made for fields the ReadingType leaves out, for the report. */
  assumed: string[];
}

/**
 * Whether readings of a ReadingType (its fields by element name) of a UsagePoint (its ServiceCategory
 * kind, when known) are electricity energy per interval, import or export; otherwise every reason they are
 * not, joined into one sentence.
 */
export function ingestibility(
  fields: ReadonlyMap<string, string>,
  serviceKind: string | undefined,
): Ingestible | { reason: string } {
  const reasons: string[] = [];
  const field = (name: string): string | undefined => fields.get(name);
  if (serviceKind !== undefined && serviceKind !== '0')
    reasons.push(
      `UsagePoint ServiceCategory kind ${named(serviceKind, SERVICE_KIND)} is not electricity (0)`,
    );
  const uom = field('uom');
  if (uom !== '72') reasons.push(uom === undefined ? 'no uom' : `uom ${named(uom, UOM)} is not Wh (72)`);
  const commodity = field('commodity');
  if (commodity !== undefined && !['0', '1', '2'].includes(commodity))
    reasons.push(`commodity ${named(commodity, COMMODITY)} is not electricity`);
  const accumulation = field('accumulationBehaviour');
  if (accumulation !== undefined && accumulation !== '4')
    reasons.push(
      `accumulationBehaviour ${named(accumulation, ACCUMULATION)} is not deltaData (4), consumption per interval`,
    );
  const flow = field('flowDirection');
  if (flow !== undefined && flow !== '1' && flow !== '19')
    reasons.push(`flowDirection ${named(flow, FLOW)} is neither forward (1) nor reverse (19)`);
  const power = field('powerOfTenMultiplier') ?? '0';
  if (!/^-?\d{1,2}$/.test(power))
    reasons.push(`powerOfTenMultiplier '${clipText(power)}' is not a whole number from -99 to 99`);
  const length = field('intervalLength');
  if (length !== undefined && !/^[1-9]\d{0,8}$/.test(length))
    reasons.push(`intervalLength '${clipText(length)}' is not a positive whole number of seconds`);
  if (reasons.length > 0) return { reason: reasons.join('; ') };
  const assumed: string[] = [];
  if (flow === undefined) assumed.push('no flowDirection: read as forward (import)');
  if (accumulation === undefined) assumed.push('no accumulationBehaviour: read as deltaData');
  return {
    channel: flow === '19' ? 'export' : 'import',
    multiplier: Number(power),
    intervalSeconds: length === undefined ? null : Number(length),
    defaultQuality: field('defaultQuality') ?? null,
    assumed,
  };
}

/** An IntervalReading value (a whole number) × 10^multiplier Wh in kWh, exact to the digit; the error otherwise. */
export function kwhOf(value: string | undefined, multiplier: number): number | RecordError {
  if (value === undefined)
    return { code: 'REQUIRED_MISSING', message: 'the IntervalReading has no value', column: 'kwh' };
  if (!/^-?\d{1,18}$/.test(value))
    return {
      code: 'INVALID_NUMBER',
      message: `value '${clipText(value)}' is not a whole number`,
      column: 'kwh',
    };
  return Number(`${value}e${multiplier - 3}`);
}

/**
 * The canonical quality of a reading's ReadingQuality codes (the ReadingType's defaultQuality when it has
 * none; `actual` when neither is given), the raw code(s) as `source_quality`, and the error of a code that has
 * no canonical quality.
 */
export function qualityOf(
  codes: readonly string[],
  defaultQuality: string | null,
): { quality: CanonicalQuality; source: string | null; error: RecordError | null } {
  const given = codes.length > 0 ? codes : defaultQuality === null ? [] : [defaultQuality];
  const source = given.length > 0 ? clipText(given.join(' ')) : null;
  let quality: CanonicalQuality = 'actual';
  for (const code of given) {
    const known = QUALITY_OF_READING[code];
    if (known === undefined || known.canonical === null) {
      const what =
        known === undefined ? 'is not an ESPI QualityOfReading code' : `(${known.name}) is not ingested`;
      const message = `ReadingQuality '${clipText(code)}' ${what}`;
      return { quality, source, error: { code: 'INVALID_VALUE', message, column: 'quality' } };
    }
    if (QUALITY_RANK[known.canonical] > QUALITY_RANK[quality]) quality = known.canonical;
  }
  return { quality, source, error: null };
}

/** Epoch seconds (ESPI `start`) in milliseconds; null unless a whole number from 1970 to 2200 (the engine checks 2000..2100). */
export function epochMs(text: string | undefined): number | null {
  if (text === undefined || !/^-?\d{1,12}$/.test(text)) return null;
  const ms = Number(text) * 1000;
  return ms >= Date.UTC(1970, 0, 1) && ms < Date.UTC(2200, 0, 1) ? ms : null;
}

/** `2011-03-13T09:00:00Z` (whole seconds, as ESPI gives them). */
export const isoOf = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
