import { UsageError } from '../../../lib/errors';
import { DEFAULT_OPTIONS, simulate } from '../../../lib/simulator';
import { parseSimulateOptions } from '../../../local/cli/simulate';
import { listFiles, physicalLines, readText, splitCsv, tempDir } from './support';

let root: string;
let remove: () => void;
beforeAll(async () => {
  ({ dir: root, remove } = tempDir('reference'));
  await simulate(root, { meters: 30, days: 20, start: '2025-06-01', seed: 'reference', defects: 0 });
});
afterAll(() => remove());

const csvRecords = (rel: string): Array<Record<string, string>> => {
  const [header, ...rows] = physicalLines(readText(root, rel)).map(splitCsv);
  return rows.map((row) => Object.fromEntries((header ?? []).map((name, i) => [name, row[i] ?? ''])));
};
const filesMatching = (pattern: RegExp): string[] => listFiles(root).filter((f) => pattern.test(f));

describe('reference data', () => {
  it('when a contract changes tariff, then the delta closes the old version and opens a new one at the same instant', () => {
    const deltas = filesMatching(/contracts_delta_/);
    expect(deltas.length).toBeGreaterThan(0);
    for (const file of deltas) {
      const rows = csvRecords(file);
      expect(rows.length % 2).toBe(0);
      for (let i = 0; i < rows.length; i += 2) {
        const [closed, opened] = [rows[i] ?? {}, rows[i + 1] ?? {}];
        expect(opened.contract_no).toBe(closed.contract_no);
        expect(closed.valid_to).not.toBe('');
        expect(opened.valid_from).toBe(closed.valid_to);
        expect(opened.valid_to).toBe('');
        expect(opened.tariff_type).not.toBe(closed.tariff_type);
        expect(Date.parse(closed.valid_from ?? '')).toBeLessThan(Date.parse(closed.valid_to ?? ''));
      }
    }
  });

  it('when the full contract extract is read, then it has fixed, time-of-use and dynamic tariffs with their rate columns', () => {
    const rows = csvRecords(filesMatching(/contracts_full_/)[0] ?? '');
    const byType = (type: string) => rows.filter((r) => r.tariff_type === type);
    for (const r of byType('fixed')) expect(Number(r.unit_rate_eur_kwh)).toBeGreaterThan(0.1);
    for (const r of byType('time_of_use')) {
      expect(Number(r.peak_rate_eur_kwh)).toBeGreaterThan(Number(r.offpeak_rate_eur_kwh));
      expect(r.peak_start).toMatch(/^\d{2}:\d{2}$/);
    }
    for (const r of byType('dynamic')) expect(Number(r.spot_markup_eur_kwh)).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.tariff_type))).toEqual(new Set(['fixed', 'time_of_use', 'dynamic']));
    expect(new Set(rows.map((r) => r.bidding_zone))).toEqual(new Set(['GB', 'DE-LU', 'NL']));
  });

  it('when a customer changes, then the delta carries the full record with a later updated_at on its data day', () => {
    const full = new Map(
      csvRecords(filesMatching(/customers_full_/)[0] ?? '').map((r) => [r.CustomerRef, r]),
    );
    const deltas = filesMatching(/customers_delta_/);
    expect(deltas.length).toBeGreaterThan(2);
    let moved = 0;
    let resegmented = 0;
    for (const file of deltas) {
      const day = /customers_delta_(\d{4}-\d{2}-\d{2})/.exec(file)?.[1] ?? '';
      for (const r of csvRecords(file)) {
        const before = full.get(r.CustomerRef ?? '');
        expect(before).toBeDefined();
        expect(r.UpdatedAt?.slice(0, 10)).toBe(day);
        expect(Date.parse(r.UpdatedAt ?? '')).toBeGreaterThan(Date.parse(before?.UpdatedAt ?? ''));
        if (r.PostCode !== before?.PostCode) moved++;
        if (r.Segment !== before?.Segment) resegmented++;
      }
    }
    expect(moved).toBeGreaterThan(0);
    expect(resegmented).toBeGreaterThan(0);
  });

  it('when customers are written, then PII fields look like fake contact data', () => {
    const rows = csvRecords(filesMatching(/customers_full_/)[0] ?? '');
    expect(rows.length).toBe(30);
    for (const r of rows) {
      if (r.Email) expect(r.Email).toMatch(/^[a-z0-9.]+@example\.(com|org|net)$/);
      if (r.Phone) expect(r.Phone).toMatch(/^\+(44|49|31) /);
      expect(['residential', 'sme', 'industrial']).toContain(r.Segment);
    }
  });
});

describe('simulate command options', () => {
  const raw = {
    out: '/tmp/x',
    meters: '20',
    days: '7',
    start: '2025-03-27',
    interval: '30',
    seed: '1',
    defects: '0',
  };

  it('when the options are valid, then they parse to numbers', () => {
    expect(parseSimulateOptions(raw)).toEqual({
      meters: 20,
      days: 7,
      start: '2025-03-27',
      interval: 30,
      seed: '1',
      defects: 0,
      seriesDefects: 0,
    });
  });

  it('when a series-defect rate is given, then it is kept whatever the row rate', () => {
    expect(parseSimulateOptions({ ...raw, seriesDefects: '0.01' }).seriesDefects).toBe(0.01);
  });

  it('when no series-defect rate is given and the row rate is above 0, then the default series rate applies', () => {
    expect(parseSimulateOptions({ ...raw, defects: '0.02' }).seriesDefects).toBe(
      DEFAULT_OPTIONS.seriesDefects,
    );
    expect(DEFAULT_OPTIONS.seriesDefects).toBeGreaterThan(0);
  });

  it('when several options are invalid, then one usage error names each of them', () => {
    const error = (() => {
      try {
        parseSimulateOptions({
          ...raw,
          interval: '20',
          start: '2025-02-30',
          defects: '2',
          seriesDefects: '-1',
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/--defects.*--series-defects.*--start.*--interval/);
  });
});
