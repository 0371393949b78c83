/**
 * MSCONS and Green Button (ESPI) files of the simulator (opt-in with `mscons` / `espi`). Each file runs through
 * the real validation engine with its shipped contract; the independent side of the check is the simulator's
 * own series (its model, drawn from the source's values stream over the day), not the writers: German market
 * days are found here with Intl (support.ts), UTC days by hand, and the files are split with plain string
 * operations.
 */
import path from 'node:path';

import { loadSourceContracts, type SourceContract } from '../../../lib/contracts/sources';
import { planSimulation, simulate } from '../../../lib/simulator';
import { resolveOptions, type SimulationOptions } from '../../../lib/simulator/options';
import { Prng } from '../../../lib/simulator/prng';
import { meterDayReadings } from '../../../lib/simulator/readings';
import { parseSimulateOptions } from '../../../local/cli/simulate';
import { runCli } from '../../helpers/cli';
import { validate } from '../../helpers/validation';
import { localMidnight, type PlainManifest, readManifest, readText, tempDir } from './support';

const DAY = 86_400_000;

interface Run {
  label: string;
  options: Partial<SimulationOptions>;
  /** The file interval of each format in this run. */
  minutes: { mscons: number; greenbutton: number };
  /** Meters dealt to each format. */
  meters: { mscons: number; greenbutton: number };
}

const RUNS: Run[] = [
  {
    // Interval 30: ESPI at 30 minutes, MSCONS at the German quarter-hour; 2025-10-26 is a 25-hour German day.
    label: 'interval 30 over the autumn change, with defects in the other sources',
    options: { meters: 36, days: 3, start: '2025-10-25', seed: 'market', defects: 0.02 },
    minutes: { mscons: 15, greenbutton: 30 },
    meters: { mscons: 7, greenbutton: 7 },
  },
  {
    // Interval 60 over the spring change (2025-03-30, a 23-hour German day): both formats hourly.
    label: 'interval 60 over the spring change',
    options: { meters: 12, days: 2, start: '2025-03-29', seed: 'spring', defects: 0, interval: 60 },
    minutes: { mscons: 60, greenbutton: 60 },
    meters: { mscons: 2, greenbutton: 2 },
  },
];

let contracts: { mscons: SourceContract; greenbutton: SourceContract };
const cleanup: Array<() => void> = [];

beforeAll(async () => {
  const all = await loadSourceContracts(path.join(__dirname, '../../../contracts/sources'));
  contracts = {
    mscons: all.resolve('meter_readings', 'mscons'),
    greenbutton: all.resolve('meter_readings', 'greenbutton'),
  };
});
afterAll(() => cleanup.forEach((remove) => remove()));

const isoDate = (day: number): string => new Date(day * DAY).toISOString().slice(0, 10);
const epochDay = (date: string): number => Date.parse(`${date}T00:00:00Z`) / DAY;

/** UTC bounds of the day a file of `date` holds: the German market day (Intl) or the UTC day. */
function dayBounds(source: 'mscons' | 'greenbutton', date: string): { start: number; end: number } {
  if (source === 'greenbutton') return { start: epochDay(date) * DAY, end: (epochDay(date) + 1) * DAY };
  return {
    start: localMidnight('Europe/Berlin', date),
    end: localMidnight('Europe/Berlin', isoDate(epochDay(date) + 1)),
  };
}

/** The simulator's own readings of a format's meters on the run's days: `meter|channel|start` → kWh as written. */
function simulatedSeries(run: Run, source: 'mscons' | 'greenbutton'): Map<string, number> {
  const options = resolveOptions({ ...run.options, mscons: true, espi: true });
  const meters = planSimulation(options).world.meters.filter((m) => m.source === source);
  expect(meters.length).toBe(run.meters[source]);
  const series = new Map<string, number>();
  for (let d = 0; d < options.days; d++) {
    const day = epochDay(options.start) + d;
    const { start, end } = dayBounds(source, isoDate(day));
    const values = Prng.derive(options.seed, 'values', source, day);
    for (const r of meterDayReadings(meters, start, end, run.minutes[source], values)) {
      // The files' precision: kWh with three decimals (MSCONS), whole Wh (ESPI).
      const kwh = source === 'mscons' ? Number(r.kwh.toFixed(3)) : Math.round(r.kwh * 1000) / 1000;
      series.set(`${r.meter.meter_id}|${r.channel}|${new Date(r.startMs).toISOString()}`, kwh);
    }
  }
  return series;
}

describe.each(RUNS)('simulated MSCONS and ESPI files ($label)', (run) => {
  let root: string;
  let manifest: PlainManifest;
  const filesOf = (source: string) => manifest.files.filter((f) => f.source === source);

  beforeAll(async () => {
    const tmp = tempDir('market');
    cleanup.push(tmp.remove);
    root = tmp.dir;
    await simulate(root, { ...run.options, mscons: true, espi: true });
    manifest = readManifest(root);
  });

  it('when a run asks for both, then each writes one file per data day, landing the next day', () => {
    const days = Array.from({ length: run.options.days! }, (_, d) =>
      isoDate(epochDay(run.options.start!) + d),
    );
    const landed = (source: string, name: (date: string) => string) =>
      days.map((date) => {
        const next = isoDate(epochDay(date) + 1).replaceAll('-', '/');
        return `bronze/landing/meter_readings/${source}/${next}/${name(date)}`;
      });
    expect(filesOf('mscons').map((f) => f.path)).toEqual(landed('mscons', (d) => `mscons_${d}.edi`));
    expect(filesOf('greenbutton').map((f) => f.path)).toEqual(
      landed('greenbutton', (d) => `greenbutton_${d}.xml`),
    );
  });

  it.each(['mscons', 'greenbutton'] as const)(
    'when the %s files are validated, then each is accepted and the staged readings are the simulated series',
    async (source) => {
      const staged = new Map<string, number>();
      for (const file of filesOf(source)) {
        const { report, rows, rejected } = await validate(contracts[source], readText(root, file.path), {
          chunkSize: 65_536,
          path: file.path,
          batchSize: 1000,
        });
        expect([file.path, report.verdict, rejected.length, report.counts.rowsValid]).toEqual([
          file.path,
          'accepted',
          0,
          file.rows,
        ]);
        for (const r of rows) {
          expect([r.interval_minutes, r.quality]).toEqual([run.minutes[source], 'actual']);
          expect(r.source_quality).toBe(source === 'mscons' ? '220' : '0');
          staged.set(`${String(r.meter_id)}|${String(r.channel)}|${String(r.interval_start)}`, Number(r.kwh));
        }
      }
      const expected = simulatedSeries(run, source);
      expect(staged.size).toBe(expected.size);
      expect([...staged.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [key, kwh] of expected) expect([key, staged.get(key)]).toEqual([key, kwh]);
    },
  );

  it('when the files are written, then the manifest gives their format, rows and readings, and no defect', () => {
    const market = [...filesOf('mscons'), ...filesOf('greenbutton')];
    expect(manifest.defects.filter((d) => market.some((f) => f.path === d.file))).toEqual([]);
    for (const f of market) {
      const text = readText(root, f.path);
      const rows =
        f.source === 'mscons' ? text.match(/^QTY\+/gm)?.length : text.match(/<IntervalReading>/g)?.length;
      const format = f.source === 'mscons' ? 'mscons' : 'espi_xml';
      expect([f.path, f.format, f.rows, f.expected_verdict]).toEqual([f.path, format, rows, 'accepted']);
    }
    const summary = (
      manifest as unknown as { summary: { by_source: Array<{ source: string; files: number }> } }
    ).summary;
    const bySource = Object.fromEntries(summary.by_source.map((s) => [s.source, s.files]));
    expect([bySource.mscons, bySource.greenbutton]).toEqual([run.options.days, run.options.days]);
  });

  it('when an MSCONS interchange is read as plain segments, then its envelope, counts and UTC times hold', () => {
    for (const file of filesOf('mscons')) {
      const segments = readText(root, file.path)
        .split("'\n")
        .filter((s) => s !== '');
      expect(segments[0]).toBe('UNA:+.? ');
      const unb = segments[1]!.split('+');
      const [unh, unt] = [segments.indexOf('UNH+1+MSCONS:D:04B:UN:2.4c'), segments.length - 2];
      expect([unh, segments[unt]]).toEqual([2, `UNT+${unt - unh + 1}+1`]);
      expect(segments[unt + 1]).toBe(`UNZ+1+${unb[5]}`);
      expect(segments.filter((s) => s.startsWith('LOC+172+')).length).toBe(run.meters.mscons);
      const products = new Set(segments.filter((s) => s.startsWith('PIA+')));
      expect([...products].every((p) => ['PIA+5+1-1?:1.29.0:SRW', 'PIA+5+1-1?:2.29.0:SRW'].includes(p))).toBe(
        true,
      );
      expect(
        segments.filter((s) => s.startsWith('QTY+')).every((s) => /^QTY\+220:\d+\.\d{3}:KWH$/.test(s)),
      ).toBe(true);
      expect(
        segments.filter((s) => s.startsWith('DTM+')).every((s) => /^DTM\+\d+:\d{12}\?\+00:303$/.test(s)),
      ).toBe(true);
    }
  });

  it('when a Green Button feed is read as plain text, then its ReadingTypes and UsagePoints are as the issue asks', () => {
    for (const file of filesOf('greenbutton')) {
      const text = readText(root, file.path);
      const readingTypes = [...text.matchAll(/<ReadingType [^>]*>(.*?)<\/ReadingType>/g)].map((m) => m[1]);
      expect(readingTypes).toEqual(
        ['1', '19'].map(
          (flow) =>
            '<accumulationBehaviour>4</accumulationBehaviour><commodity>1</commodity><defaultQuality>0</defaultQuality>' +
            `<flowDirection>${flow}</flowDirection><intervalLength>${run.minutes.greenbutton * 60}</intervalLength>` +
            '<kind>12</kind><powerOfTenMultiplier>0</powerOfTenMultiplier><uom>72</uom>',
        ),
      );
      const kinds = [...text.matchAll(/<ServiceCategory><kind>(\d+)<\/kind>/g)].map((m) => m[1]);
      expect(kinds).toEqual(new Array<string>(run.meters.greenbutton).fill('0'));
      expect(text).not.toContain('<ReadingQuality>');
    }
  });
});

describe('market format shares and flags', () => {
  const sourcesOf = (options: Partial<SimulationOptions>): string[] =>
    planSimulation(resolveOptions({ meters: 24, days: 1, ...options })).world.meters.map((m) => m.source);
  const indexesOf = (sources: string[], source: string): number[] =>
    sources.flatMap((s, i) => (s === source ? [i] : []));

  it('when one market format is asked for, then it alone takes every fourth meter, as NEM12 does', () => {
    for (const [flag, source] of [
      ['nem12', 'nem12'],
      ['mscons', 'mscons'],
      ['espi', 'greenbutton'],
    ] as const) {
      const sources = sourcesOf({ [flag]: true });
      expect([flag, indexesOf(sources, source)]).toEqual([flag, [3, 7, 11, 15, 19, 23]]);
      expect(new Set(sources).size).toBe(4);
    }
  });

  it('when all three are asked for, then their shares are disjoint slots of a six-meter turn', () => {
    const sources = sourcesOf({ nem12: true, mscons: true, espi: true });
    expect(indexesOf(sources, 'nem12')).toEqual([3, 9, 15, 21]);
    expect(indexesOf(sources, 'mscons')).toEqual([4, 10, 16, 22]);
    expect(indexesOf(sources, 'greenbutton')).toEqual([5, 11, 17, 23]);
    expect(indexesOf(sources, 'headend_utc')).toEqual([0, 6, 12, 18]);
  });

  it('when MSCONS meters are dealt, then they are German', () => {
    const meters = planSimulation(resolveOptions({ meters: 24, days: 1, mscons: true })).world.meters;
    expect(meters.filter((m) => m.source === 'mscons').map((m) => m.country)).toEqual(
      new Array(6).fill('DE'),
    );
  });

  it('when a flag is off, then it plans none of its files and the world is a default run’s', () => {
    const plan = (options: Partial<SimulationOptions>) =>
      planSimulation(resolveOptions({ meters: 9, days: 2, ...options }));
    const sourcesPlanned = (options: Partial<SimulationOptions>) =>
      [...new Set(plan(options).jobs.map((j) => j.source))].filter((s) =>
        ['nem12', 'mscons', 'greenbutton'].includes(s),
      );
    expect(sourcesPlanned({ mscons: true })).toEqual(['mscons']);
    expect(sourcesPlanned({ espi: true })).toEqual(['greenbutton']);
    expect(sourcesPlanned({ nem12: true, espi: true })).toEqual(['nem12', 'greenbutton']);
    expect(plan({ mscons: false, espi: false }).world).toEqual(plan({}).world);
    expect(Object.keys(resolveOptions({ mscons: false, espi: false }))).toEqual(
      Object.keys(resolveOptions({})),
    );
  });

  it('when --mscons and --espi are given, then the options ask for them, and without them they carry no key', () => {
    const raw = {
      out: 'x',
      meters: '8',
      days: '2',
      start: '2025-10-01',
      interval: '30',
      seed: '1',
      defects: '0',
    };
    const both = parseSimulateOptions({ ...raw, mscons: true, espi: true });
    expect([both.mscons, both.espi, 'nem12' in both]).toEqual([true, true, false]);
    const none = parseSimulateOptions(raw);
    expect(['mscons' in none, 'espi' in none]).toEqual([false, false]);
  });

  it('when simulate is asked for help, then it names --mscons and --espi with their files', async () => {
    const result = await runCli('simulate', '--help');
    expect(result.code).toBe(0);
    const help = result.stdout.replace(/\s+/g, ' ');
    expect(help).toContain(
      '--mscons also deal meters (German MaLos) to a source delivering MSCONS interchanges',
    );
    expect(help).toContain('--espi also deal meters to a source delivering Green Button (ESPI) Atom feeds');
    expect(help).toContain('so one format alone takes every fourth meter');
  });

  it('when the command runs with --mscons --espi, then its summary counts both sources', async () => {
    const tmp = tempDir('market-cli');
    cleanup.push(tmp.remove);
    const result = await runCli(
      'simulate',
      ...[
        '--out',
        tmp.dir,
        '--meters',
        '10',
        '--days',
        '1',
        '--defects',
        '0',
        '--mscons',
        '--espi',
        '--json',
      ],
    );
    expect(result.code).toBe(0);
    // stderr holds the progress lines only (files written), no warning.
    expect(result.stderr.split('\n').filter((line) => !line.startsWith('simulate: '))).toEqual(['']);
    const out = JSON.parse(result.stdout) as {
      options: SimulationOptions;
      summary: { by_source: Array<{ source: string; files: number; rows: number }> };
    };
    expect([out.options.mscons, out.options.espi]).toEqual([true, true]);
    const bySource = new Map(out.summary.by_source.map((s) => [s.source, s]));
    // 10 meters in a five-meter turn: MSCONS meters 3 and 8, ESPI meters 4 and 9.
    expect([bySource.get('mscons')?.files, bySource.get('greenbutton')?.files]).toEqual([1, 1]);
    expect(bySource.get('mscons')?.rows).toBeGreaterThanOrEqual(2 * 96);
    expect(bySource.get('greenbutton')?.rows).toBeGreaterThanOrEqual(2 * 48);
  });
});
