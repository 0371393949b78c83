import { EdifactSplitter } from '../../../lib/formats/edifact';
import { MsconsReader, type MsconsSummary } from '../../../lib/formats/mscons';
import type { DocumentRecord } from '../../../lib/validation/documents/types';
import type { FileRejection } from '../../../lib/validation/reasons';
import { rejectedBy } from '../../helpers/recordFormats';

/** Small hand-written interchanges, in the default syntax (`UNA:+.? '`) unless a test says otherwise. */
export const UNA = "UNA:+.? '";
const UNB = 'UNB+UNOC:3+9900000000001:500+9900000000002:500+240202:1250+REF1++TL';
export const MALO = '51481308448';

export function message(ref: string, ...detail: string[][]): string[] {
  const body = [
    `UNH+${ref}+MSCONS:D:04B:UN:2.4c`,
    `BGM+7+DOC${ref}+9`,
    'DTM+137:202402021250?+00:303',
    'RFF+Z13:13025',
    'NAD+MS+9900000000001::293',
    'UNS+D',
    'NAD+DP',
    ...detail.flat(),
  ];
  return [...body, `UNT+${body.length + 1}+${ref}`];
}

export const interchange = (messages: string[][], una = UNA): string =>
  una + [UNB, ...messages.flat(), `UNZ+${messages.length}+REF1`].map((segment) => `${segment}'`).join('');
export const loc = (id = MALO): string[] => [`LOC+172+${id}`];
export const lin = (product = '1-1?:1.29.0:SRW'): string[] => ['LIN+1', `PIA+5+${product}`];

/** `CCYYMMDDHHMM` wall times: consecutive intervals of the given lengths from `from`. */
export function intervals(lengths: number[], from = Date.UTC(2015, 11, 1)): Array<[string, string]> {
  const wall = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace(/[-T:]/g, '');
  let start = from;
  return lengths.map((minutes) => {
    const pair: [string, string] = [wall(start), wall(start + minutes * 60_000)];
    start += minutes * 60_000;
    return pair;
  });
}

export interface Qty {
  value?: string;
  qualifier?: string;
  unit?: string;
  offset?: string;
  extra?: string[];
}
export const qty = ([start, end]: [string, string], q: Qty = {}): string[] => {
  const { value = '1.5', qualifier = '220', unit = ':KWH', offset = '?+01', extra = [] } = q;
  return [
    `QTY+${qualifier}:${value}${unit}`,
    `DTM+163:${start}${offset}:303`,
    `DTM+164:${end}${offset}:303`,
    ...extra,
  ];
};
export const quarterHours = (count: number, q: Qty = {}): string[] =>
  intervals(new Array<number>(count).fill(15)).flatMap((pair) => qty(pair, q));
/** One message, one LOC, one LIN of `count` quarter-hours from 2015-12-01 00:00+01:00. */
export const simple = (count: number, q: Qty = {}, una = UNA): string =>
  interchange([message('1', loc(), lin(), quarterHours(count, q))], una);

export function read(text: string): { records: DocumentRecord[]; summary: MsconsSummary } {
  const reader = new MsconsReader();
  const records: DocumentRecord[] = [];
  const splitter = new EdifactSplitter(4096, {
    onLine: (segment, segmentNumber) => void records.push(...reader.push(segment, segmentNumber)),
  });
  splitter.push(text);
  splitter.end();
  records.push(...reader.end());
  return { records, summary: reader.summary };
}

export { errorsOf, field } from '../../helpers/recordFormats';
export const rejectionOf = (text: string): FileRejection => rejectedBy(read, text);
