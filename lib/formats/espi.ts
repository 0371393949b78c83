import type { DocumentRecord } from '../validation/documents/types';
import { FileRejection } from '../validation/reasons';
import { clipHref, type EspiEntry, EspiLinks } from './espiLinks';
import { type EspiChannelSummary, EspiSeries, EspiTotals } from './espiSeries';
import { type LocalDays, localTimeParameters, ZoneDays } from './espiTime';
import { epochMs, ingestibility, type Ingestible, isoOf, kwhOf, qualityOf } from './espiValues';
import { flatCopy, type RecordError } from './msconsValues';
import { decodeXmlUnit } from './xmlStream';

export type { EspiChannelSummary } from './espiSeries';

/**
 * Green Button / NAESB ESPI (REQ.21) interval data: an Atom `feed` whose `entry` elements each hold one kind
 * of resource in `content` (UsagePoint, MeterReading, ReadingType, IntervalBlock, LocalTimeParameters, ...),
 * fed one XML event at a time by the streamed tokenizer (lib/formats/xmlStream.ts), so a feed of any size
 * is read with bounded memory: the reader keeps the describing resources (a few per meter), the entry and
 * the IntervalReading being read.
 *
 * An IntervalBlock's readings belong to the MeterReading, ReadingType and UsagePoint its entry links to
 * (lib/formats/espiLinks.ts). The feed is read in one pass, so an IntervalBlock's entry must come after the
 * entries it links to, with its links before its content, as in both real files; the readings of a block
 * that cannot be linked are rejected together, as one record standing for all of them.
 *
 * Each IntervalReading of electricity energy becomes one record (`line`: its start tag's line) with the
 * fields meter_id (the UsagePoint entry's self href), channel, interval_start (UTC), interval_minutes, kwh,
 * quality, source_quality and reading_type (the ReadingType's self href). Readings of other ReadingTypes
 * (gas, power, registers, ...) are reported in the notes, not ingested; a feed with nothing else is rejected
 * as NO_INGESTIBLE_READINGS.
 */

export interface EspiNotIngested {
  meterId: string;
  readingType: string;
  reason: string;
  intervals: number;
}

export interface EspiSummary {
  entries: number;
  /** IntervalReadings read, of every ReadingType. */
  intervalsRead: number;
  /** Readings handed over with errors, including those of blocks that could not be linked. */
  rejectedIntervals: number;
  channels: EspiChannelSummary[];
  notIngested: EspiNotIngested[];
  notes: string[];
}

interface Block {
  line: number;
  readings: number;
  /** Set when the block cannot be linked: its readings are rejected together at its end. */
  problem: RecordError | null;
  meterId: string;
  readingType: string;
  ingest: Ingestible | null;
  notIngested: EspiNotIngested | null;
  series: EspiSeries | null;
  totals: EspiChannelSummary | null;
}

interface Reading {
  line: number;
  fields: Map<string, string>;
  qualities: string[];
}

const DESCRIBED = new Set(['UsagePoint', 'MeterReading', 'ReadingType']);
/** Resources whose leaf elements are kept (by path below the resource: `ServiceCategory/kind`, `uom`). */
const WITH_FIELDS = new Set([...DESCRIBED, 'LocalTimeParameters']);
const READING_FIELDS = new Set(['timePeriod/start', 'timePeriod/duration', 'value']);
const MOST_FIELDS = 64;
const MOST_LINKS = 64;
const MOST_TEXT = 4096;

const unrecognised = (detail: string): FileRejection => new FileRejection('DOCUMENT_UNRECOGNISED', detail);

export class EspiReader {
  private readonly names: string[] = [];
  private text = '';
  private entry: EspiEntry | null = null;
  private block: Block | null = null;
  private reading: Reading | null = null;
  private entries = 0;
  private intervalsRead = 0;
  private rejectedIntervals = 0;
  private recordsOut = 0;
  private withoutQuality = 0;
  private unlinked = { blocks: 0, readings: 0 };
  private readonly links = new EspiLinks();
  private localDays: LocalDays | null = null;
  private readonly series = new Map<string, EspiSeries>();
  private readonly totals = new EspiTotals();
  private readonly notIngested = new Map<string, EspiNotIngested>();
  private readonly assumed = new Set<string>();
  private readonly ignored = new Map<string, number>();

  /** `timezone`: names local days when the feed has no LocalTimeParameters (the contract's zone). */
  constructor(private readonly options: { timezone?: string } = {}) {}

  push(unit: string, line: number): DocumentRecord[] {
    const token = decodeXmlUnit(unit);
    if (token.kind === 'text') {
      if (this.text.length < MOST_TEXT) this.text += token.text;
      return [];
    }
    if (token.kind === 'start') {
      this.start(token.name, token.attributes, line);
      return [];
    }
    return this.close(token.name);
  }

  end(): DocumentRecord[] {
    if (this.recordsOut === 0 && this.notIngested.size > 0) {
      const all = [...this.notIngested.values()];
      const readings = all.reduce((total, n) => total + n.intervals, 0);
      const series = all
        .slice(0, 3)
        .map((n) => `meter ${clipHref(n.meterId)}: ${n.reason}`)
        .join(' | ');
      throw new FileRejection(
        'NO_INGESTIBLE_READINGS',
        `${readings} reading(s) of ${all.length} ReadingType(s), none electricity energy: ${series}`,
      );
    }
    return [];
  }

  get summary(): EspiSummary {
    const notes = [...this.links.notes, ...this.assumed];
    if (this.unlinked.blocks > 0)
      notes.push(
        `${this.unlinked.blocks} IntervalBlock(s) with ${this.unlinked.readings} reading(s) could not be linked to a MeterReading, ReadingType and UsagePoint: rejected`,
      );
    if (this.withoutQuality > 0)
      notes.push(
        `${this.withoutQuality} reading(s) carry no ReadingQuality and their ReadingType no defaultQuality: read as actual`,
      );
    notes.push(...this.totals.notes(this.localDays ?? new ZoneDays(this.options.timezone ?? 'UTC')));
    for (const n of this.notIngested.values())
      notes.push(
        `meter ${n.meterId} ReadingType ${n.readingType}: ${n.intervals} reading(s) reported, not ingested: ${n.reason}`,
      );
    if (this.ignored.size > 0) {
      const kinds = [...this.ignored].map(([kind, count]) => `${kind} (${count})`).join(', ');
      notes.push(`entries read and ignored: ${kinds}`);
    }
    return {
      entries: this.entries,
      intervalsRead: this.intervalsRead,
      rejectedIntervals: this.rejectedIntervals,
      channels: this.totals.summaries(),
      notIngested: [...this.notIngested.values()].map((n) => ({ ...n })),
      notes,
    };
  }

  private start(name: string, attributes: ReadonlyMap<string, string>, line: number): void {
    const depth = this.names.length;
    this.names.push(name);
    this.text = '';
    if (depth === 0) {
      if (name !== 'feed') throw unrecognised(`the root element is <${name}>, not an Atom <feed>`);
      return;
    }
    if (depth === 1) {
      if (name === 'entry') {
        this.entries++;
        this.entry = {
          line,
          id: '',
          links: { self: '', up: '', related: [] },
          resource: null,
          fields: new Map(),
        };
      }
      return;
    }
    const entry = this.entry;
    if (entry === null || this.names[1] !== 'entry') return;
    if (depth === 2 && name === 'link') this.link(entry, attributes);
    if (depth < 3 || this.names[2] !== 'content') return;
    if (depth === 3) {
      entry.resource ??= name;
      if (name === 'IntervalBlock') this.block = this.openBlock(entry, line);
    } else if (depth === 4 && name === 'IntervalReading' && this.names[3] === 'IntervalBlock')
      this.reading = { line, fields: new Map(), qualities: [] };
  }

  private close(name: string): DocumentRecord[] {
    const path = this.names;
    const depth = path.length - 1;
    const text = this.text.trim();
    this.text = '';
    let records: DocumentRecord[] = [];
    const entry = this.entry;
    if (entry !== null && depth >= 2 && path[1] === 'entry') {
      if (depth === 2 && name === 'id') entry.id = flatCopy(text);
      else if (depth === 3 && path[2] === 'content' && name === 'IntervalBlock') records = this.closeBlock();
      else if (depth >= 4 && path[2] === 'content') {
        const resource = path[3]!;
        const field = path.slice(4, depth + 1).join('/');
        if (resource === 'IntervalBlock') {
          if (depth === 4 && name === 'IntervalReading') records = this.closeReading();
          else if (depth >= 5 && path[4] === 'IntervalReading') this.readingField(field.slice(16), text);
        } else if (resource === entry.resource && WITH_FIELDS.has(resource) && text !== '') {
          if (entry.fields.size < MOST_FIELDS) entry.fields.set(field, flatCopy(text.slice(0, 256)));
        }
      }
    }
    if (depth === 1 && name === 'entry') this.closeEntry();
    path.pop();
    return records;
  }

  private link(entry: EspiEntry, attributes: ReadonlyMap<string, string>): void {
    const href = flatCopy((attributes.get('href') ?? '').trim());
    const rel = attributes.get('rel') ?? 'alternate';
    if (href === '') return;
    if (rel === 'self') entry.links.self = href;
    else if (rel === 'up') entry.links.up = href;
    else if (rel === 'related' && entry.links.related.length < MOST_LINKS) entry.links.related.push(href);
  }

  private readingField(field: string, text: string): void {
    const reading = this.reading;
    if (reading === null) return;
    if (field === 'ReadingQuality/quality') reading.qualities.push(text);
    else if (READING_FIELDS.has(field)) reading.fields.set(field, text);
  }

  private closeEntry(): void {
    const entry = this.entry;
    this.entry = null;
    if (entry === null) return;
    const { resource, fields, line } = entry;
    if (resource === 'IntervalBlock') return;
    if (resource === 'LocalTimeParameters') {
      if (this.localDays !== null) return;
      const days = localTimeParameters(fields);
      if (typeof days === 'string') this.assumed.add(`LocalTimeParameters (line ${line}): ${days}; not used`);
      else this.localDays = days;
      return;
    }
    if (resource === null || !DESCRIBED.has(resource)) {
      const kind = resource ?? 'no content';
      this.ignored.set(kind, (this.ignored.get(kind) ?? 0) + 1);
      return;
    }
    this.links.register(entry, resource as 'UsagePoint' | 'MeterReading' | 'ReadingType');
  }

  private openBlock(entry: EspiEntry, line: number): Block {
    const block: Block = {
      line,
      readings: 0,
      problem: null,
      meterId: '',
      readingType: '',
      ingest: null,
      notIngested: null,
      series: null,
      totals: null,
    };
    const linked = this.links.resolve(entry);
    if (typeof linked === 'string') {
      block.problem = { code: 'MALFORMED_ROW', message: `the IntervalBlock at line ${line}: ${linked}` };
      return block;
    }
    const { meterReading, readingType, usagePoint } = linked;
    block.meterId = usagePoint.meterId;
    block.readingType = readingType.self || `ReadingType at line ${readingType.line}`;
    const verdict = ingestibility(readingType.fields, usagePoint.fields.get('ServiceCategory/kind'));
    if ('reason' in verdict) {
      const key = `${block.meterId}\u0000${block.readingType}`;
      const entry = this.notIngested.get(key) ?? {
        meterId: block.meterId,
        readingType: block.readingType,
        reason: verdict.reason,
        intervals: 0,
      };
      this.notIngested.set(key, entry);
      block.notIngested = entry;
      return block;
    }
    for (const assumed of verdict.assumed) this.assumed.add(`ReadingType ${block.readingType}: ${assumed}`);
    const seriesKey = `${meterReading.self || meterReading.line}\u0000${block.readingType}`;
    const minutes = verdict.intervalSeconds === null ? null : verdict.intervalSeconds / 60;
    const series = this.series.get(seriesKey) ?? new EspiSeries(minutes);
    this.series.set(seriesKey, series);
    block.ingest = verdict;
    block.series = series;
    block.totals = this.totals.of(block.meterId, verdict.channel, block.readingType);
    return block;
  }

  private closeBlock(): DocumentRecord[] {
    const block = this.block;
    this.block = null;
    if (block === null || block.problem === null || block.readings === 0) return [];
    this.unlinked.blocks++;
    this.unlinked.readings += block.readings;
    this.rejectedIntervals += block.readings;
    this.recordsOut++;
    return [{ line: block.line, fields: {}, rows: block.readings, errors: [block.problem] }];
  }

  private closeReading(): DocumentRecord[] {
    const reading = this.reading;
    const block = this.block;
    this.reading = null;
    if (reading === null || block === null) return [];
    this.intervalsRead++;
    block.readings++;
    if (block.notIngested !== null) block.notIngested.intervals++;
    if (block.ingest === null || block.series === null || block.totals === null) return [];
    this.recordsOut++;
    return [this.record(reading, block, block.ingest, block.series, block.totals)];
  }

  private record(
    reading: Reading,
    block: Block,
    ingest: Ingestible,
    series: EspiSeries,
    totals: EspiChannelSummary,
  ): DocumentRecord {
    const errors: RecordError[] = [];
    const startText = reading.fields.get('timePeriod/start');
    const startMs = epochMs(startText);
    if (startMs === null)
      errors.push(
        startText === undefined
          ? {
              code: 'REQUIRED_MISSING',
              message: 'the IntervalReading has no timePeriod start',
              column: 'interval_start',
            }
          : {
              code: 'INVALID_TIMESTAMP',
              message: `timePeriod start '${startText.slice(0, 40)}' is not epoch seconds from 1970 to 2200`,
              column: 'interval_start',
            },
      );
    const duration = reading.fields.get('timePeriod/duration') ?? ingest.intervalSeconds?.toString();
    let minutes: number | null = null;
    if (duration === undefined || !/^-?\d{1,9}$/.test(duration)) {
      const message =
        duration === undefined
          ? 'the IntervalReading has no timePeriod duration and its ReadingType no intervalLength'
          : `timePeriod duration '${duration.slice(0, 40)}' is not whole seconds`;
      errors.push({
        code: duration === undefined ? 'REQUIRED_MISSING' : 'INVALID_INTERVAL',
        message,
        column: 'interval_minutes',
      });
    } else minutes = Number(duration) / 60;
    if (startMs !== null && minutes !== null) {
      const irregular = series.lengthError(startMs, minutes);
      if (irregular !== null) {
        errors.push(irregular);
        this.totals.irregular(totals, startMs, minutes, series.regular);
      }
    }
    const value = reading.fields.get('value');
    const kwh = kwhOf(value, ingest.multiplier);
    if (typeof kwh !== 'number') errors.push(kwh);
    const quality = qualityOf(reading.qualities, ingest.defaultQuality);
    if (quality.error !== null) errors.push(quality.error);
    if (errors.length > 0) {
      totals.rejected++;
      this.rejectedIntervals++;
    } else if (typeof kwh === 'number') {
      const found = series.follow(startMs!, minutes!);
      if (found !== null) this.totals.between(totals, found);
      this.totals.accepted(totals, kwh, quality.quality);
      if (quality.source === null) this.withoutQuality++;
    }
    const fields = {
      meter_id: block.meterId,
      channel: ingest.channel,
      interval_start: startMs !== null ? isoOf(startMs) : (startText?.slice(0, 40) ?? null),
      interval_minutes: minutes,
      kwh: typeof kwh === 'number' ? kwh : (value?.slice(0, 40) ?? null),
      quality: quality.error === null ? quality.quality : quality.source,
      source_quality: quality.source === null ? null : flatCopy(quality.source),
      reading_type: block.readingType,
    };
    return { line: reading.line, fields, ...(errors.length > 0 ? { errors } : {}) };
  }
}
