/**
 * NEM12 files of the simulator (opt-in with `nem12`). Files are split here with plain string operations;
 * the independent side of the kWh check is the simulator's own series of readings (its model, drawn from the
 * same values stream), not the NEM12 writer; market days are computed here as UTC+10 by hand.
 */
import path from 'node:path';

import { loadSourceContracts, type SourceContract } from '../../../lib/contracts/sources';
import { planSimulation, simulate } from '../../../lib/simulator';
import { resolveOptions } from '../../../lib/simulator/options';
import { Prng } from '../../../lib/simulator/prng';
import { meterDayReadings } from '../../../lib/simulator/readings';
import { parseSimulateOptions } from '../../../local/cli/simulate';
import { validate } from '../../helpers/validation';
import { physicalLines, type PlainManifest, readManifest, readText, tempDir } from './support';

const OPTIONS = {
  meters: 60,
  days: 3,
  start: '2025-10-25',
  seed: 'nem12',
  defects: 0.02,
  nem12: true,
};
const HOUR = 3_600_000;

let root: string;
let remove: () => void;
let manifest: PlainManifest;
let contract: SourceContract;
let nem12Files: string[];

beforeAll(async () => {
  ({ dir: root, remove } = tempDir('nem12'));
  await simulate(root, OPTIONS);
  manifest = readManifest(root);
  nem12Files = manifest.files.filter((f) => f.source === 'nem12').map((f) => f.path);
  contract = (await loadSourceContracts(path.join(__dirname, '../../../contracts/sources'))).resolve(
    'meter_readings',
    'nem12',
  );
});
afterAll(() => remove());

const run = (rel: string) =>
  validate(contract, readText(root, rel), { chunkSize: 65_536, path: rel, batchSize: 1000 });

/** The file's records as split fields. */
const recordsOf = (rel: string): string[][] => physicalLines(readText(root, rel)).map((l) => l.split(','));

describe('simulated NEM12 files', () => {
  it('when a run asks for NEM12, then it writes one file per data day', () => {
    expect(nem12Files.map((p) => p.slice(p.lastIndexOf('/') + 1))).toEqual([
      'nem12_2025-10-25.csv',
      'nem12_2025-10-26.csv',
      'nem12_2025-10-27.csv',
    ]);
  });

  it('when the NEM12 files are validated, then per meter and channel the staged kWh and interval count equal the simulated readings', async () => {
    const staged = new Map<string, { kwh: number; intervals: number }>();
    for (const rel of nem12Files) {
      const { rows } = await run(rel);
      for (const r of rows) {
        const key = `${String(r.meter_id)}|${String(r.channel)}`;
        const entry = staged.get(key) ?? { kwh: 0, intervals: 0 };
        entry.kwh += Number(r.kwh);
        entry.intervals++;
        staged.set(key, entry);
      }
    }
    // The simulator's own series: its NEM12 meters over each AEST day (UTC D-1 14:00 to D 14:00).
    const meters = planSimulation(resolveOptions(OPTIONS)).world.meters.filter((m) => m.source === 'nem12');
    const expected = new Map<string, { kwh: number; intervals: number }>();
    for (let d = 0; d < OPTIONS.days; d++) {
      const day = Date.parse(`${OPTIONS.start}T00:00:00Z`) / 86_400_000 + d;
      const start = day * 86_400_000 - 10 * HOUR;
      const values = Prng.derive(OPTIONS.seed, 'values', 'nem12', day);
      for (const r of meterDayReadings(meters, start, start + 24 * HOUR, 30, values, true)) {
        const key = `${r.meter.meter_id}|${r.channel}`;
        const entry = expected.get(key) ?? { kwh: 0, intervals: 0 };
        entry.kwh += Number(r.kwh.toFixed(3));
        entry.intervals++;
        expected.set(key, entry);
      }
    }
    expect(meters.length).toBe(15);
    expect([...staged.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, { kwh, intervals }] of expected) {
      const got = staged.get(key);
      expect([key, got?.intervals]).toEqual([key, intervals]);
      expect(got?.kwh).toBeCloseTo(kwh, 6);
    }
  });

  it('when a NEM12 day has estimated or substituted intervals, then its 400 records cover its 48 intervals exactly once', () => {
    let variableDays = 0;
    for (const rel of nem12Files) {
      const records = recordsOf(rel);
      records.forEach((fields, i) => {
        if (fields[0] !== '300' || fields[50] !== 'V') return;
        variableDays++;
        const covered = new Array<number>(48).fill(0);
        const flags: string[] = [];
        for (let j = i + 1; records[j]?.[0] === '400'; j++) {
          const [, first, last, flag] = records[j]!;
          flags.push(flag ?? '');
          for (let k = Number(first); k <= Number(last); k++) covered[k - 1] = (covered[k - 1] ?? 0) + 1;
        }
        expect(covered).toEqual(new Array<number>(48).fill(1));
        expect(flags.some((f) => /^[ES]\d\d$/.test(f))).toBe(true);
      });
    }
    expect(variableDays).toBeGreaterThan(0);
  });

  it('when the NEM12 files are written, then the manifest lists no defect for them and counts their 300 records as rows of 48 readings', () => {
    const files = manifest.files.filter((f) => f.source === 'nem12');
    expect(manifest.defects.filter((d) => nem12Files.includes(d.file))).toEqual([]);
    for (const f of files) {
      const days = recordsOf(f.path).filter((fields) => fields[0] === '300').length;
      expect([f.path, f.rows, f.format, f.expected_verdict]).toEqual([f.path, days, 'nem12', 'accepted']);
    }
    const summary = (manifest as unknown as { summary: { readings: number } }).summary;
    const other = manifest.files.filter((f) => f.source !== 'nem12').reduce((total, f) => total + f.rows, 0);
    expect(summary.readings).toBeGreaterThan(other);
  });

  it('when --nem12 is given, then the options ask for NEM12, and without it they carry no nem12 key', () => {
    const raw = {
      out: 'x',
      meters: '8',
      days: '2',
      start: '2025-10-01',
      interval: '30',
      seed: '1',
      defects: '0',
    };
    expect(parseSimulateOptions({ ...raw, nem12: true }).nem12).toBe(true);
    expect('nem12' in parseSimulateOptions(raw)).toBe(false);
    expect('nem12' in resolveOptions({ nem12: false })).toBe(false);
  });
});
