import { EspiReader, type EspiSummary } from '../../../lib/formats/espi';
import { XmlSplitter } from '../../../lib/formats/xmlStream';
import type { DocumentRecord } from '../../../lib/validation/documents/types';
import type { FileRejection } from '../../../lib/validation/reasons';
import { rejectedBy } from '../../helpers/recordFormats';

/**
 * Small hand-written Green Button feeds, shaped like the official sample (default namespaces, relative
 * hrefs): one UsagePoint, its MeterReading, a ReadingType of hourly Wh and IntervalBlocks of readings.
 */
export const UP = 'RetailCustomer/1/UsagePoint/01';
export const MR = `${UP}/MeterReading/01`;
export const RT = 'ReadingType/07';
/** 2011-01-01T08:00:00Z */
export const JAN_1 = 1293868800;

export interface Links {
  self?: string;
  up?: string;
  related?: string[];
}

export function entry(links: Links, content: string): string {
  const link = (rel: string, href: string): string => `    <link rel="${rel}" href="${href}"/>`;
  return [
    '  <entry>',
    '    <id>urn:uuid:00000000-0000-0000-0000-000000000000</id>',
    ...(links.self === undefined ? [] : [link('self', links.self)]),
    ...(links.up === undefined ? [] : [link('up', links.up)]),
    ...(links.related ?? []).map((href) => link('related', href)),
    '    <content>',
    content,
    '    </content>',
    '  </entry>',
  ].join('\n');
}

export const feed = (...entries: string[]): string =>
  [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    ...entries,
    '</feed>',
    '',
  ].join('\n');

const espi = (name: string, body: string): string =>
  `<${name} xmlns="http://naesb.org/espi">${body}</${name}>`;
const elements = (fields: Record<string, string | undefined>): string =>
  Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `<${name}>${value}</${name}>`)
    .join('');

export const usagePoint = (kind = '0', self = UP): string =>
  entry(
    { self, up: 'RetailCustomer/1/UsagePoint', related: [`${self}/MeterReading`] },
    espi('UsagePoint', `<ServiceCategory><kind>${kind}</kind></ServiceCategory>`),
  );

export const meterReading = (readingType = RT, self = MR, up = `${UP}/MeterReading`): string =>
  entry({ self, up, related: [`${self}/IntervalBlock`, readingType] }, espi('MeterReading', ''));

export const HOURLY_WH = {
  accumulationBehaviour: '4',
  commodity: '1',
  flowDirection: '1',
  intervalLength: '3600',
  kind: '12',
  powerOfTenMultiplier: '0',
  uom: '72',
};

export const readingType = (fields: Record<string, string | undefined> = {}, self = RT): string =>
  entry({ self, up: 'ReadingType' }, espi('ReadingType', elements({ ...HOURLY_WH, ...fields })));

/** US Pacific time, as the sample writes it: second Sunday of March to first Sunday of November. */
export const localTime = (): string =>
  entry(
    { self: 'LocalTimeParameters/01' },
    espi(
      'LocalTimeParameters',
      elements({ dstEndRule: 'B40E2000', dstOffset: '3600', dstStartRule: '360E2000', tzOffset: '-28800' }),
    ),
  );

export interface Interval {
  start: number;
  duration?: number | undefined;
  /** null: the reading has no value element. */
  value?: string | null;
  quality?: string[];
}

export const reading = ({ start, duration = 3600, value = '1000', quality = [] }: Interval): string =>
  [
    '<IntervalReading>',
    ...quality.map((code) => `<ReadingQuality><quality>${code}</quality></ReadingQuality>`),
    `<timePeriod><duration>${duration}</duration><start>${start}</start></timePeriod>`,
    ...(value === null ? [] : [`<value>${value}</value>`]),
    '</IntervalReading>',
  ].join('\n');

/** `count` consecutive hourly readings from `from` (epoch seconds), each with the given overrides. */
export const hours = (count: number, from = JAN_1, q: Omit<Interval, 'start'> = {}): Interval[] =>
  Array.from({ length: count }, (_, k) => ({ ...q, start: from + k * 3600 }));

export const intervalBlock = (readings: Interval[], up = `${MR}/IntervalBlock`): string =>
  entry({ self: `${MR}/IntervalBlock/1`, up }, espi('IntervalBlock', readings.map(reading).join('\n')));

/** A whole feed of one meter: UsagePoint, MeterReading, ReadingType (with overrides), one block. */
export const simple = (readings: Interval[], fields: Record<string, string | undefined> = {}): string =>
  feed(usagePoint(), meterReading(), readingType(fields), intervalBlock(readings));

export function read(
  text: string,
  options: { chunk?: number; timezone?: string } = {},
): { records: DocumentRecord[]; summary: EspiSummary } {
  const reader = new EspiReader({ timezone: options.timezone ?? 'America/Los_Angeles' });
  const records: DocumentRecord[] = [];
  const splitter = new XmlSplitter(4096, {
    onLine: (unit, line) => void records.push(...reader.push(unit, line)),
  });
  const chunk = options.chunk ?? text.length;
  for (let i = 0; i < text.length; i += chunk) splitter.push(text.slice(i, i + chunk));
  splitter.end();
  records.push(...reader.end());
  return { records, summary: reader.summary };
}

export { errorsOf, field } from '../../helpers/recordFormats';
export const rejectionOf = (text: string): FileRejection => rejectedBy(read, text);
