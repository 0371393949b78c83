import type { DocumentRecord } from '../../lib/validation/documents/types';
import { FileRejection } from '../../lib/validation/reasons';
import type { StagedRow } from './validation';

/** The FileRejection reading `text` with `read` throws (fails the test when it throws none, or another error). */
export function rejectedBy(read: (text: string) => unknown, text: string): FileRejection {
  try {
    read(text);
  } catch (error) {
    if (error instanceof FileRejection) return error;
    throw error;
  }
  throw new Error('expected a FileRejection');
}

export const field = (record: DocumentRecord | undefined, name: string): unknown => record?.fields[name];

export const errorsOf = (records: DocumentRecord[]): Array<[string, string]> =>
  records.flatMap((r) => (r.errors ?? []).map((e): [string, string] => [e.code, e.message]));

export interface ReadingItem {
  meter: string;
  channel: string;
  kwh: number;
  quality: string;
}

/** Per meter and channel: readings, kWh (to the Wh) and quality counts. */
export function totals(items: ReadingItem[]) {
  const byChannel: Record<string, { readings: number; kwh: string; quality: Record<string, number> }> = {};
  const sums: Record<string, number> = {};
  for (const item of items) {
    const key = `${item.meter} ${item.channel}`;
    const entry = (byChannel[key] ??= { readings: 0, kwh: '', quality: {} });
    entry.readings++;
    entry.quality[item.quality] = (entry.quality[item.quality] ?? 0) + 1;
    sums[key] = (sums[key] ?? 0) + item.kwh;
    entry.kwh = sums[key].toFixed(3);
  }
  return byChannel;
}

/** `totals` of staged meter-reading rows. */
export const totalsOfRows = (rows: StagedRow[]) =>
  totals(
    rows.map((r) => ({
      meter: String(r.meter_id),
      channel: String(r.channel),
      kwh: Number(r.kwh),
      quality: String(r.quality),
    })),
  );
