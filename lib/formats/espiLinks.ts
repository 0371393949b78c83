import { FileRejection } from '../validation/reasons';

/**
 * The links between the entries of an ESPI feed (lib/formats/espi.ts), resolved the way ESPI relates
 * resources through Atom links, which both real files follow: an IntervalBlock entry's `up` href is its
 * MeterReading's IntervalBlock collection (a `related` href of the MeterReading entry, or its `self` +
 * `/IntervalBlock`); the MeterReading's `related` hrefs name its ReadingType entry's `self`, and its `up` href
 * is its UsagePoint's MeterReading collection (a `related` href of the UsagePoint, or its `self` +
 * `/MeterReading`). Hrefs are compared as written. When a MeterReading names no ReadingType (or UsagePoint)
 * the feed has and the feed has exactly one, that one is used and noted: PG&E's redacted file names
 * `ReadingType/REDACTED` for its only ReadingType `ReadingType/MTY5…`.
 */

export interface EspiEntry {
  line: number;
  id: string;
  links: { self: string; up: string; related: string[] };
  /** The local name of the first element in `content`. */
  resource: string | null;
  fields: Map<string, string>;
}

/** A UsagePoint, MeterReading or ReadingType entry. */
export interface Described {
  self: string;
  up: string;
  related: string[];
  line: number;
  fields: ReadonlyMap<string, string>;
  /** For a UsagePoint, the meter id: its self href, else its entry id. */
  meterId: string;
}

export type Linked = { meterReading: Described; readingType: Described; usagePoint: Described };

/** Distinct describing entries kept: beyond them a feed is refused, as a file of too many series is. */
export const MOST_RESOURCES = 100_000;

export const clipHref = (href: string): string => (href.length > 120 ? `${href.slice(0, 120)}…` : href);

export class EspiLinks {
  /** Links resolved by the only-one rule, for the report. */
  readonly notes = new Set<string>();
  private readonly usagePoints = new Map<string, Described>();
  private readonly meterReadings = new Map<string, Described>();
  private readonly readingTypes = new Map<string, Described>();
  /** Entries by resource and self href (or id): a feed that repeats its describing entries, as joined daily
   * feeds do, keeps one of each. */
  private readonly distinct = new Set<string>();

  constructor(private readonly mostResources = MOST_RESOURCES) {}

  /** Keeps a UsagePoint, MeterReading or ReadingType entry under the hrefs that link to it. */
  register(entry: EspiEntry, resource: 'UsagePoint' | 'MeterReading' | 'ReadingType'): void {
    this.distinct.add(`${resource} ${entry.links.self || entry.id}`);
    if (this.distinct.size > this.mostResources)
      throw new FileRejection(
        'TOO_MANY_SERIES',
        `more than ${this.mostResources} distinct ESPI resources describing readings`,
      );
    const { links, line, fields } = entry;
    const described: Described = { ...links, line, fields, meterId: links.self || entry.id };
    if (resource === 'ReadingType') {
      this.readingTypes.set(links.self || entry.id, described);
      return;
    }
    const [index, collection] =
      resource === 'UsagePoint'
        ? [this.usagePoints, '/MeterReading']
        : [this.meterReadings, '/IntervalBlock'];
    for (const href of [...links.related, ...(links.self ? [links.self + collection] : [])])
      if (!index.has(href)) index.set(href, described);
  }

  /** The entries an IntervalBlock entry links to, or why it links to none. */
  resolve(entry: EspiEntry): Linked | string {
    const { up } = entry.links;
    if (up === '') return 'its entry has no link rel="up" before its content';
    const meterReading = this.meterReadings.get(up);
    if (meterReading === undefined)
      return `its up link '${clipHref(up)}' names no MeterReading entry read before it`;
    const readingType = this.linked(meterReading, this.readingTypes, 'ReadingType', meterReading.related);
    const usagePoint = this.linked(meterReading, this.usagePoints, 'UsagePoint', [meterReading.up]);
    const missing =
      readingType === undefined ? 'ReadingType' : usagePoint === undefined ? 'UsagePoint' : null;
    if (missing !== null || readingType === undefined || usagePoint === undefined)
      return `its MeterReading (line ${meterReading.line}) links no ${missing ?? ''} entry read before it`;
    return { meterReading, readingType, usagePoint };
  }

  private linked(
    meterReading: Described,
    index: Map<string, Described>,
    kind: 'ReadingType' | 'UsagePoint',
    hrefs: string[],
  ): Described | undefined {
    for (const href of hrefs) {
      const found = index.get(href);
      if (found !== undefined) return found;
    }
    const [only, other] = new Set(index.values());
    if (only === undefined || other !== undefined) return undefined;
    const named = hrefs.filter((href) => href !== '' && (kind === 'UsagePoint' || href.includes(`${kind}/`)));
    const says = named.length > 0 ? `links ${kind} '${clipHref(named[0]!)}'` : `links no ${kind}`;
    const shown = (d: Described): string => d.self || `at line ${d.line}`;
    this.notes.add(
      `MeterReading ${shown(meterReading)} ${says}, which no entry of the feed is; the feed's only ${kind} ${shown(only)} was used`,
    );
    return only;
  }
}
