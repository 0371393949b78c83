import type { DocumentRecord } from '../validation/documents/types';
import { FileRejection } from '../validation/reasons';
import { DEFAULT_SYNTAX, type EdifactSyntax, parseServiceStringAdvice, splitSegment } from './edifact';
import { IntervalSeries, type MsconsChannelSummary, MsconsTotals } from './msconsSeries';
import {
  clip,
  flatCopy,
  type Instant,
  kwhOf,
  type MsconsChannel,
  parseDtm303,
  type Product,
  productOf,
  QTY_QUALITY,
  type RecordError,
} from './msconsValues';

export type { MsconsChannelSummary } from './msconsSeries';
export type { MsconsChannel } from './msconsValues';

/**
 * German MSCONS meter data (UN/EDIFACT D.04B, BDEW EDI@Energy), fed one segment at a time by the EDIFACT
 * splitter (lib/formats/edifact.ts), so an interchange of any size streams with bounded memory: the reader
 * keeps the current message, LOC, LIN series and one QTY until the segment after its DTM and STS arrives.
 *
 * `UNA` `UNB` (`UNH` `BGM` `DTM` `RFF` `NAD` `UNS` (`LOC+172` (`LIN` `PIA+5` (`QTY` `DTM+163` `DTM+164`
 * `STS`*)*)*)* `UNT`)* `UNZ`. Each QTY becomes one record (`line` = its segment number) with the fields
 * meter_id (the LOC+172 id), channel, obis, product_id (the raw PIA), interval_start (the file's wall clock
 * and offset), interval_minutes, kwh, quality, source_quality (the QTY qualifier) and status (the STS
 * segments after it, or null). Whole-interchange problems are FileRejections; a reading's own problems
 * travel with its record as errors. Irregular intervals are errors, never accepted (msconsSeries.ts).
 */

export interface MsconsNotIngested {
  meterId: string;
  product: string;
  reason: string;
  intervals: number;
}

export interface MsconsSummary {
  messages: number;
  /** QTY segments read, of every series. */
  intervalsRead: number;
  /** Readings handed over with errors, including those rejected whole (no LOC, no PIA). */
  rejectedIntervals: number;
  irregularIntervals: number;
  channels: MsconsChannelSummary[];
  notIngested: MsconsNotIngested[];
  /** Everything worth an operator's attention, as the validation report lists it. */
  notes: string[];
}

interface Series {
  meterId: string;
  /** From the PIA+5; null before it. */
  product: Product | null;
  /** Reported on each of its readings: no LOC before the LIN, or a LOC that names no metering location. */
  problem: RecordError | null;
  segment: number;
  intervals: IntervalSeries;
}

interface Reading {
  segment: number;
  qualifier: string;
  value: string;
  unit: string;
  start: { text: string; time: Instant | string } | null;
  end: { text: string; time: Instant | string } | null;
  status: string[];
}

const TAG = /^[A-Z][A-Z0-9]{2}$/;
/** Segments of the message that carry nothing a reading needs; others are counted in a note. */
const QUIET = new Set(['BGM', 'RFF', 'NAD', 'UNS', 'CTA', 'COM']);

const at = (elements: string[][], element: number, component = 0): string =>
  elements[element]?.[component] ?? '';
const malformed = (detail: string): FileRejection => new FileRejection('EDIFACT_MALFORMED', detail);
const mismatch = (detail: string): FileRejection => new FileRejection('EDIFACT_CONTROL_MISMATCH', detail);

export class MsconsReader {
  private syntax: EdifactSyntax = { ...DEFAULT_SYNTAX };
  private stage: 'start' | 'interchange' | 'message' | 'done' = 'start';
  private interchangeRef = '';
  private messages = 0;
  private message = { ref: '', segments: 0, opened: 0 };
  private location: { meterId: string; problem: RecordError | null } | null = null;
  private series: Series | null = null;
  private reading: Reading | null = null;
  private intervalsRead = 0;
  private rejectedIntervals = 0;
  private unitless = 0;
  private readonly totals: MsconsTotals;
  private readonly notIngested = new Map<string, MsconsNotIngested>();
  private readonly productNotes = new Set<string>();
  private readonly ignored = new Map<string, number>();

  /** `timezone`: the zone whose 23- and 25-hour days the notes name (the contract's; Europe/Berlin). */
  constructor(options: { timezone?: string } = {}) {
    this.totals = new MsconsTotals(options.timezone ?? 'Europe/Berlin');
  }

  push(segment: string, segmentNumber: number): DocumentRecord[] {
    const where = `segment ${segmentNumber}`;
    if (segment.startsWith('UNA')) {
      if (this.stage !== 'start' || segmentNumber !== 1)
        throw malformed(`${where} is a UNA service string advice, which only the first segment may be`);
      this.syntax = parseServiceStringAdvice(segment);
      return [];
    }
    const elements = splitSegment(segment, this.syntax);
    const tag = at(elements, 0);
    if (!TAG.test(tag)) throw malformed(`${where} ('${clip(segment)}') does not start with a segment tag`);
    switch (this.stage) {
      case 'done':
        throw malformed(`${where} (${tag}) follows the UNZ interchange trailer`);
      case 'start':
        if (tag !== 'UNB')
          throw new FileRejection('HEADER_MISSING', `an interchange starts with UNB; ${where} is ${tag}`);
        this.interchangeRef = at(elements, 5);
        this.stage = 'interchange';
        return [];
      case 'interchange':
        this.betweenMessages(tag, elements, segmentNumber);
        return [];
      case 'message':
        this.message.segments++;
        return this.inMessage(tag, elements, segmentNumber);
    }
  }

  end(): DocumentRecord[] {
    const { ref, opened } = this.message;
    if (this.stage === 'start') throw new FileRejection('HEADER_MISSING', 'no UNB interchange header');
    if (this.stage === 'message')
      throw malformed(`message '${clip(ref)}' (UNH, segment ${opened}) has no UNT: the file is cut short`);
    if (this.stage === 'interchange') throw malformed('no UNZ interchange trailer: the file is cut short');
    return [];
  }

  get summary(): MsconsSummary {
    const notes = [...this.productNotes];
    if (this.unitless > 0) notes.push(`${this.unitless} QTY value(s) carry no unit and were read as kWh`);
    notes.push(...this.totals.notes());
    for (const n of this.notIngested.values())
      notes.push(
        `meter ${n.meterId} ${n.product}: ${n.intervals} interval(s) reported, not ingested: ${n.reason}`,
      );
    if (this.ignored.size > 0) {
      const tags = [...this.ignored].map(([tag, count]) => `${tag} (${count})`).join(', ');
      notes.push(`segments read and ignored: ${tags}`);
    }
    const channels = this.totals.summaries();
    return {
      messages: this.messages,
      intervalsRead: this.intervalsRead,
      rejectedIntervals: this.rejectedIntervals,
      irregularIntervals: channels.reduce((total, c) => total + c.irregular, 0),
      channels,
      notIngested: [...this.notIngested.values()].map((n) => ({ ...n })),
      notes,
    };
  }

  private betweenMessages(tag: string, elements: string[][], segmentNumber: number): void {
    const where = `segment ${segmentNumber}`;
    if (tag === 'UNH') {
      const type = at(elements, 2);
      if (type !== 'MSCONS')
        throw new FileRejection(
          'DOCUMENT_UNRECOGNISED',
          `${where}: UNH names message type '${clip(type)}', not MSCONS`,
        );
      this.message = { ref: at(elements, 1), segments: 1, opened: segmentNumber };
      this.stage = 'message';
      this.location = null;
      this.series = null;
      return;
    }
    if (tag !== 'UNZ') throw malformed(`${where} (${tag}) stands outside a message (UNH ... UNT)`);
    const [count, ref] = [at(elements, 1), at(elements, 2)];
    if (!/^\d+$/.test(count) || Number(count) !== this.messages)
      throw mismatch(`${where}: UNZ counts '${clip(count)}' messages; the interchange has ${this.messages}`);
    if (ref !== this.interchangeRef)
      throw mismatch(`${where}: UNZ names interchange '${clip(ref)}', UNB '${clip(this.interchangeRef)}'`);
    this.stage = 'done';
  }

  private inMessage(tag: string, elements: string[][], segmentNumber: number): DocumentRecord[] {
    const where = `segment ${segmentNumber}`;
    const { ref, opened } = this.message;
    switch (tag) {
      case 'UNH':
      case 'UNZ':
        throw malformed(
          `${where} (${tag}) comes while message '${clip(ref)}' (segment ${opened}) has no UNT`,
        );
      case 'UNT': {
        const released = this.release();
        this.closeMessage(elements, where);
        return released;
      }
      case 'LOC': {
        const released = this.release();
        this.readLocation(elements, segmentNumber);
        return released;
      }
      case 'LIN': {
        const released = this.release();
        this.openSeries(segmentNumber);
        return released;
      }
      case 'PIA': {
        const released = this.release();
        this.readProduct(elements);
        return released;
      }
      case 'QTY': {
        const released = this.release();
        const [qualifier = '', value = '', unit = ''] = elements[1] ?? [];
        this.reading = { segment: segmentNumber, qualifier, value, unit, start: null, end: null, status: [] };
        this.intervalsRead++;
        return released;
      }
      case 'DTM': {
        // Without a QTY before it, a DTM dates the message (137) or the location's period (163/164): ignored.
        const [qualifier = '', text = '', format = ''] = elements[1] ?? [];
        if (this.reading === null || (qualifier !== '163' && qualifier !== '164')) return [];
        this.reading[qualifier === '163' ? 'start' : 'end'] = { text, time: parseDtm303(text, format) };
        return [];
      }
      case 'STS':
        this.reading?.status.push(
          elements
            .slice(1)
            .map((components) => components.join(':'))
            .join('+'),
        );
        return [];
      default:
        if (!QUIET.has(tag)) this.ignored.set(tag, (this.ignored.get(tag) ?? 0) + 1);
        return [];
    }
  }

  private closeMessage(elements: string[][], where: string): void {
    const { ref, segments } = this.message;
    const [count, named] = [at(elements, 1), at(elements, 2)];
    if (!/^\d+$/.test(count) || Number(count) !== segments)
      throw mismatch(
        `${where}: UNT counts '${clip(count)}' segments; message '${clip(ref)}' has ${segments}`,
      );
    if (named !== ref) throw mismatch(`${where}: UNT names message '${clip(named)}', UNH '${clip(ref)}'`);
    this.messages++;
    this.stage = 'interchange';
    this.location = null;
    this.series = null;
  }

  private readLocation(elements: string[][], segmentNumber: number): void {
    const [qualifier, meterId] = [at(elements, 1), at(elements, 2)];
    const where = `its LOC (segment ${segmentNumber})`;
    const problem: RecordError | null =
      qualifier !== '172'
        ? {
            code: 'INVALID_VALUE',
            message: `${where} has qualifier '${clip(qualifier)}', not 172 (metering location)`,
          }
        : meterId === ''
          ? { code: 'REQUIRED_MISSING', message: `${where} has no metering location id` }
          : null;
    this.location = { meterId: flatCopy(meterId), problem };
    this.series = null;
  }

  private openSeries(segmentNumber: number): void {
    const location = this.location;
    const problem: RecordError | null =
      location === null
        ? { code: 'MALFORMED_ROW', message: `its LIN (segment ${segmentNumber}) follows no LOC` }
        : location.problem;
    const meterId = location?.meterId ?? '';
    this.series = {
      meterId,
      product: null,
      problem,
      segment: segmentNumber,
      intervals: new IntervalSeries(),
    };
  }

  /** PIA+5 names the series' product (msconsValues.ts `productOf`); other PIA qualifiers add nothing. */
  private readProduct(elements: string[][]): void {
    const series = this.series;
    const [code = '', type = ''] = elements[2] ?? [];
    if (series === null || at(elements, 1) !== '5' || code === '') return;
    series.product = productOf(code, type);
    if (series.product.obis === null) {
      const { productId } = series.product;
      this.productNotes.add(
        `meter ${series.meterId}: PIA '${productId}' is not an OBIS code; its values were read as import`,
      );
    }
  }

  private release(): DocumentRecord[] {
    const reading = this.reading;
    if (reading === null) return [];
    this.reading = null;
    const { series } = this;
    const line = reading.segment;
    const problem: RecordError | null =
      series === null
        ? { code: 'MALFORMED_ROW', message: `the QTY at segment ${line} is not inside a LIN group` }
        : (series.problem ??
          (series.product === null
            ? {
                code: 'REQUIRED_MISSING',
                message: `its LIN (segment ${series.segment}) has no PIA+5 product identification`,
              }
            : null));
    if (series === null || series.product === null || problem !== null) {
      this.rejectedIntervals++;
      return [{ line, fields: {}, rows: 1, errors: [problem!] }];
    }
    const { product } = series;
    if (product.channel === null) {
      const key = `${series.meterId}\u0000${product.productId}`;
      const entry = this.notIngested.get(key) ?? {
        meterId: series.meterId,
        product: product.obis ?? product.productId,
        reason: product.notIngestedReason,
        intervals: 0,
      };
      entry.intervals++;
      this.notIngested.set(key, entry);
      return [];
    }
    return [this.record(reading, series, product, product.channel)];
  }

  private record(reading: Reading, series: Series, product: Product, channel: MsconsChannel): DocumentRecord {
    const totals = this.totals.of(series.meterId, channel, product.obis ?? product.productId);
    const errors: RecordError[] = [];
    const quality = QTY_QUALITY[reading.qualifier];
    if (quality === undefined) {
      const message = `QTY qualifier '${clip(reading.qualifier)}' is not 220 (true value), 67 (substitute value) or 201 (proposed value)`;
      errors.push({ code: 'INVALID_VALUE', message, column: 'quality' });
    }
    if (reading.unit === '') this.unitless++;
    const kwh = kwhOf(reading.value, reading.unit, this.syntax.decimal);
    if (typeof kwh !== 'number') errors.push(kwh);
    const start = this.instant(reading.start, 'DTM+163 interval start', errors);
    const end = this.instant(reading.end, 'DTM+164 interval end', errors);
    let minutes: number | null = null;
    if (start !== null && end !== null) {
      const checked = series.intervals.check(start, end, totals);
      minutes = checked.minutes;
      if (checked.error) {
        errors.push(checked.error);
        this.totals.irregular(totals, minutes);
      }
    }
    if (errors.length > 0) {
      totals.rejected++;
      this.rejectedIntervals++;
    } else this.totals.accepted(totals, start!, minutes!, kwh as number, quality!);
    const fields = {
      meter_id: series.meterId,
      channel,
      obis: product.obis,
      product_id: product.productId,
      interval_start: start?.iso ?? (reading.start?.text || null),
      interval_minutes: minutes,
      kwh: typeof kwh === 'number' ? kwh : clip(reading.value),
      quality: quality ?? reading.qualifier,
      source_quality: reading.qualifier,
      status: reading.status.length > 0 ? reading.status.join(' ') : null,
    };
    return { line: reading.segment, fields, ...(errors.length > 0 ? { errors } : {}) };
  }

  private instant(time: Reading['start'], what: string, errors: RecordError[]): Instant | null {
    if (time === null) {
      errors.push({ code: 'REQUIRED_MISSING', message: `the QTY has no ${what}`, column: 'interval_start' });
      return null;
    }
    if (typeof time.time === 'string') {
      errors.push({ code: 'INVALID_TIMESTAMP', message: `${what} ${time.time}`, column: 'interval_start' });
      return null;
    }
    return time.time;
  }
}
