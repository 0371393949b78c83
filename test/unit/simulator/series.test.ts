/**
 * Series defects (zero runs, frozen values, late fills, high and low days) and the hidden truth, checked against a clean run of
 * the same seed: values and defects come from separate PRNG streams, so the clean files hold the true value
 * of every reading. Files are parsed here with the layouts' own rules, independently of lib/simulator.
 */
import { simulate } from '../../../lib/simulator';
import { resolveOptions } from '../../../lib/simulator/options';
import {
  halfHoursInLocalDay,
  isValidIsoInstant,
  isValidUkDate,
  listFiles,
  localMidnight,
  physicalLines,
  type PlainDefect,
  type PlainManifest,
  readManifest,
  readText,
  splitCsv,
  tempDir,
  ukToIso,
} from './support';

const OPTIONS = { meters: 48, days: 4, start: '2025-10-24', interval: 15 as const, seed: 'series' };
const SERIES_KINDS = ['zero_run', 'frozen_value', 'late_fill'];
const MINUTE = 60_000;

/** A reading's identity: meter, channel and UTC start (ms). */
const keyOf = (meter: string, channel: string, startMs: number): string => `${meter}|${channel}|${startMs}`;
const kwh = (value: number): string => value.toFixed(3);

interface Parsed {
  /** kWh (3 decimals) of the first readable line of each reading. */
  values: Map<string, string>;
  /** 1-based line of each reading's first readable line. */
  lines: Map<string, number>;
}

/** Every reading of a file whose line can be read (right field count, real timestamp, numeric value). */
function parseReadings(root: string, rel: string): Parsed {
  const source = rel.split('/')[3];
  const values = new Map<string, string>();
  const lines = new Map<string, number>();
  const add = (key: string, value: number, line: number): void => {
    if (values.has(key) || !Number.isFinite(value)) return;
    values.set(key, kwh(value));
    lines.set(key, line);
  };
  physicalLines(readText(root, rel)).forEach((text, index) => {
    const line = index + 1;
    if (source === 'smartfeed') {
      let r: { meter?: { id?: unknown }; end?: unknown; dur?: unknown; ch?: unknown; wh?: unknown };
      try {
        r = JSON.parse(text) as typeof r;
      } catch {
        return;
      }
      if (typeof r.end !== 'string' || !isValidIsoInstant(r.end) || typeof r.wh !== 'number') return;
      const start = Date.parse(r.end) - Number(r.dur) * MINUTE;
      add(keyOf(String(r.meter?.id), r.ch === 'imp' ? 'import' : 'export', start), r.wh / 1000, line);
    } else if (source === 'headend_utc') {
      const f = splitCsv(text);
      if (line === 1 || f.length !== 6 || !isValidIsoInstant(f[1] ?? '') || !/^-?\d/.test(f[4] ?? '')) return;
      add(keyOf(f[0] ?? '', f[3] === 'AI' ? 'import' : 'export', Date.parse(f[1] ?? '')), Number(f[4]), line);
    } else {
      const f = splitCsv(text);
      if (line === 1 || f.length !== 53 || !isValidUkDate(f[1] ?? '')) return;
      const date = ukToIso(f[1] ?? '');
      const midnight = localMidnight('Europe/London', date);
      const periods = halfHoursInLocalDay('Europe/London', date);
      for (let p = 0; p < periods; p++) {
        const cell = f[3 + p] ?? '';
        if (/^-?\d/.test(cell))
          add(keyOf(f[0] ?? '', 'import', midnight + p * 30 * MINUTE), Number(cell), line);
      }
    }
  });
  return { values, lines };
}

interface TruthRow {
  kind: string;
  key: string;
  true_kwh: string;
  written_kwh: string;
  file: string;
}

function readTruth(root: string, rel: string): { header: string[]; rows: TruthRow[] } {
  const [header = '', ...rest] = physicalLines(readText(root, rel));
  const rows = rest.map((line) => {
    const [kind, meter, channel, start, , trueKwh, written, file] = line.split(',');
    return {
      kind: kind ?? '',
      key: keyOf(meter ?? '', channel ?? '', Date.parse(start ?? '')),
      true_kwh: trueKwh ?? '',
      written_kwh: written ?? '',
      file: file ?? '',
    };
  });
  return { header: header.split(','), rows };
}

/** Keys of the intervals a record covers: `intervals` from key.interval_start, on its channel(s). */
function coveredKeys(d: PlainDefect & { interval_minutes?: number; intervals?: number }): string[][] {
  const first = Date.parse(d.key?.interval_start ?? '');
  const channels = d.key?.channel ? [d.key.channel] : ['import', 'export'];
  return channels.map((channel) =>
    Array.from({ length: d.intervals ?? 0 }, (_, i) =>
      keyOf(d.key?.meter_id ?? '', channel, first + i * (d.interval_minutes ?? 0) * MINUTE),
    ),
  );
}

type SeriesDefect = PlainDefect & { interval_minutes?: number; intervals?: number; fill_file?: string };

let dirty: { dir: string; remove: () => void };
let clean: { dir: string; remove: () => void };
let manifest: PlainManifest & { truth: { path: string; rows: number }; defects: SeriesDefect[] };
let truth: { header: string[]; rows: TruthRow[] };
/** True values: every reading of the clean run. */
const trueValues = new Map<string, string>();
const parsedCache = new Map<string, Parsed>();
const parsed = (rel: string): Parsed => {
  let result = parsedCache.get(rel);
  if (!result) {
    result = parseReadings(dirty.dir, rel);
    parsedCache.set(rel, result);
  }
  return result;
};
const ofKind = (kind: string): SeriesDefect[] => manifest.defects.filter((d) => d.kind === kind);

beforeAll(async () => {
  dirty = tempDir('series');
  clean = tempDir('series-clean');
  await simulate(dirty.dir, { ...OPTIONS, defects: 0.05, seriesDefects: 0.08 });
  await simulate(clean.dir, { ...OPTIONS, defects: 0 });
  manifest = readManifest(dirty.dir) as typeof manifest;
  truth = readTruth(dirty.dir, manifest.truth.path);
  for (const file of readManifest(clean.dir).files.filter((f) => f.dataset === 'meter_readings')) {
    for (const [key, value] of parseReadings(clean.dir, file.path).values) trueValues.set(key, value);
  }
}, 60_000);
afterAll(() => {
  dirty.remove();
  clean.remove();
});

describe('series defects', () => {
  it('when series defects are injected, then every kind appears in every reading source', () => {
    const seen = new Set(
      manifest.defects
        .filter((d) => SERIES_KINDS.includes(d.kind))
        .map((d) => `${d.kind} ${d.file.split('/')[3]}`),
    );
    const expected = SERIES_KINDS.flatMap((k) =>
      ['headend_utc', 'smartfeed', 'uk_hh_wide'].map((s) => `${k} ${s}`),
    );
    expect([...seen].sort()).toEqual(expected.sort());
    expect(
      new Set(manifest.defects.filter((d) => SERIES_KINDS.includes(d.kind)).map((d) => d.verdict)),
    ).toEqual(new Set(['not_a_validation_error']));
  });

  it('when a zero run is listed, then its file holds 0 on every channel the meter reports at exactly its intervals, on the listed lines, for at least 3 hours', () => {
    for (const d of ofKind('zero_run')) {
      const [imports = [], exports = []] = coveredKeys(d);
      const file = parsed(d.file);
      const covered = [...imports, ...exports.filter((k) => file.values.has(k))];
      expect({ d: d.key, values: covered.map((k) => file.values.get(k)) }).toEqual({
        d: d.key,
        values: covered.map(() => '0.000'),
      });
      expect((d.intervals ?? 0) * (d.interval_minutes ?? 0)).toBeGreaterThanOrEqual(180);
      const lines = [...new Set(covered.map((k) => file.lines.get(k) ?? 0))].sort((a, b) => a - b);
      expect(lines).toEqual([...d.lines].sort((a, b) => a - b));
    }
  });

  it('when a zero run is listed, then the truth holds the non-zero true values of exactly its altered intervals', () => {
    for (const d of ofKind('zero_run')) {
      const [keys = []] = coveredKeys(d);
      const listed = truth.rows.filter(
        (r) => r.kind === 'zero_run' && r.file === d.file && keys.includes(r.key),
      );
      const altered = keys.filter((k) => trueValues.get(k) !== '0.000');
      expect(listed.map((r) => r.key)).toEqual(altered);
      expect(listed.map((r) => [r.true_kwh, r.written_kwh])).toEqual(
        altered.map((k) => [trueValues.get(k), '0.000']),
      );
      expect(listed.every((r) => Number(r.true_kwh) > 0)).toBe(true);
    }
  });

  it('when a frozen value is listed, then its intervals repeat the non-zero true value of the interval before', () => {
    for (const d of ofKind('frozen_value')) {
      const [keys = []] = coveredKeys(d);
      const before = keyOf(
        d.key?.meter_id ?? '',
        'import',
        Date.parse(d.key?.interval_start ?? '') - (d.interval_minutes ?? 0) * MINUTE,
      );
      const stuck = trueValues.get(before);
      expect(Number(stuck)).toBeGreaterThan(0);
      expect({ d: d.key, values: keys.map((k) => parsed(d.file).values.get(k)) }).toEqual({
        d: d.key,
        values: keys.map(() => stuck),
      });
      const listed = truth.rows.filter((r) => r.kind === 'frozen_value' && keys.includes(r.key));
      expect(listed.map((r) => [r.key, r.true_kwh, r.written_kwh])).toEqual(
        keys.filter((k) => trueValues.get(k) !== stuck).map((k) => [k, trueValues.get(k), stuck]),
      );
    }
  });

  it('when a late fill is listed, then its readings are absent from the file and only the fill file, delivered days later, holds them with the true values', () => {
    const fills = ofKind('late_fill');
    for (const d of fills) {
      const keys = coveredKeys(d)
        .flat()
        .filter((k) => trueValues.has(k));
      expect(keys.length).toBe(d.missing_readings);
      expect(keys.filter((k) => parsed(d.file).values.has(k))).toEqual([]);
      const fill = parsed(d.fill_file ?? '');
      expect(keys.map((k) => fill.values.get(k))).toEqual(keys.map((k) => trueValues.get(k)));
      const regular = manifest.files.find((f) => f.path === d.file);
      const later = manifest.files.find((f) => f.path === d.fill_file);
      expect(later?.data_date).toBe(regular?.data_date);
      const lag =
        (Date.parse(later?.delivery_date ?? '') - Date.parse(regular?.delivery_date ?? '')) / 86_400_000;
      expect(lag).toBeGreaterThanOrEqual(2);
      expect(later?.expected_verdict).toBe('accepted');
    }
    // A fill file holds the late-filled readings of its file and nothing else.
    for (const path of new Set(fills.map((d) => d.fill_file ?? ''))) {
      const expected = fills
        .filter((d) => d.fill_file === path)
        .flatMap((d) => coveredKeys(d).flat())
        .filter((k) => trueValues.has(k));
      expect([...parsed(path).values.keys()].sort()).toEqual(expected.sort());
    }
  });
});

describe('simulation truth', () => {
  it('when the run finishes, then the manifest points to the truth beside it, outside bronze/landing/, with its row count', () => {
    expect(manifest.truth.path).toBe('simulation-truth.csv.gz');
    expect(listFiles(dirty.dir)).toContain(manifest.truth.path);
    expect(manifest.files.some((f) => f.path === manifest.truth.path)).toBe(false);
    expect(truth.header).toEqual([
      'kind',
      'meter_id',
      'channel',
      'interval_start',
      'interval_minutes',
      'true_kwh',
      'written_kwh',
      'file',
    ]);
    expect(truth.rows.length).toBe(manifest.truth.rows);
  });

  it('when the files are compared with a clean run, then the truth lists exactly the readings they leave out or carry with another value', () => {
    const fillFiles = new Set(ofKind('late_fill').map((d) => d.fill_file));
    const rejectedFiles = new Set(
      manifest.defects.filter((d) => d.verdict === 'file_rejected').map((d) => d.file),
    );
    const written = new Map<string, string>();
    for (const f of manifest.files) {
      if (f.dataset !== 'meter_readings' || fillFiles.has(f.path) || rejectedFiles.has(f.path)) continue;
      for (const [key, value] of parsed(f.path).values) if (!written.has(key)) written.set(key, value);
    }
    const expected = [...trueValues]
      .filter(([key, value]) => written.get(key) !== value)
      .map(([key, value]) => [key, value, written.get(key) ?? '']);
    const listed = truth.rows.map((r) => [r.key, r.true_kwh, r.written_kwh]);
    expect(listed.length).toBe(new Set(truth.rows.map((r) => r.key)).size);
    expect(listed.sort()).toEqual(expected.sort());
  });

  it('when the truth lists gaps and spikes, then each row matches a listed defect interval', () => {
    const intervals = new Set(
      manifest.defects
        .filter((d) => d.kind === 'gap' || d.kind === 'spike')
        .flatMap((d) => coveredKeys(d as SeriesDefect).flat()),
    );
    const rows = truth.rows.filter((r) => r.kind === 'gap' || r.kind === 'spike');
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.filter((r) => !intervals.has(r.key))).toEqual([]);
  });
});

describe('series defect options', () => {
  it('when the row rate is 0 and no series rate is given, then the run is clean and the truth empty', () => {
    expect(resolveOptions({ defects: 0 }).seriesDefects).toBe(0);
    const result = readManifest(clean.dir) as typeof manifest;
    expect(result.defects).toEqual([]);
    expect(result.truth.rows).toBe(0);
  });

  it('when a series rate is given with a row rate of 0, then only series defects are injected', async () => {
    const only = tempDir('series-only');
    try {
      await simulate(only.dir, { ...OPTIONS, days: 2, defects: 0, seriesDefects: 0.05 });
      const kinds = new Set(readManifest(only.dir).defects.map((d) => d.kind));
      expect([...kinds].sort()).toEqual([...SERIES_KINDS].sort());
    } finally {
      only.remove();
    }
  });
});

describe('high and low days', () => {
  const DAYS = { meters: 24, days: 17, start: '2025-10-01', seed: 'days', defects: 0 };
  let days: { dir: string; remove: () => void };
  let daysClean: { dir: string; remove: () => void };
  let records: SeriesDefect[];
  let dayTruth: TruthRow[];
  const cleanValues = new Map<string, string>();

  beforeAll(async () => {
    days = tempDir('series-days');
    daysClean = tempDir('series-days-clean');
    await simulate(days.dir, { ...DAYS, seriesDefects: 0.04 });
    await simulate(daysClean.dir, DAYS);
    const m = readManifest(days.dir) as typeof manifest;
    records = m.defects.filter((d) => d.kind === 'high_day' || d.kind === 'low_day');
    dayTruth = readTruth(days.dir, m.truth.path).rows.filter(
      (r) => r.kind === 'high_day' || r.kind === 'low_day',
    );
    for (const file of readManifest(daysClean.dir).files.filter((f) => f.dataset === 'meter_readings')) {
      for (const [key, value] of parseReadings(daysClean.dir, file.path).values) cleanValues.set(key, value);
    }
  }, 60_000);
  afterAll(() => {
    days.remove();
    daysClean.remove();
  });

  it('when day defects are drawn, then both kinds appear, and only from the 15th simulated day on', () => {
    expect(new Set(records.map((d) => d.kind))).toEqual(new Set(['high_day', 'low_day']));
    const firstAllowed = Date.parse('2025-10-15T00:00:00Z');
    const tooEarly = records.filter((d) => {
      const [y, mo, day] = d.file.split('/').slice(4, 7);
      return Date.parse(`${y}-${mo}-${day}T00:00:00Z`) < firstAllowed;
    });
    expect(tooEarly.map((d) => d.file)).toEqual([]);
  });

  it("when a high or low day is listed, then every import reading of the meter's day is its true value times the listed factor, and export is untouched", () => {
    for (const d of records) {
      const factor = Number(/scaled by ([\d.]+)/.exec(d.detail ?? '')?.[1]);
      expect(d.kind === 'high_day' ? factor >= 4 && factor <= 6 : factor >= 0.03 && factor <= 0.08).toBe(
        true,
      );
      const [importKeys = []] = coveredKeys({ ...d, key: { ...d.key, channel: 'import' } } as SeriesDefect);
      const file = parseReadings(days.dir, d.file);
      const off = importKeys.filter((k) => {
        const written = Number(file.values.get(k));
        return Math.abs(written - Number(cleanValues.get(k)) * factor) > 0.001 + 0.0005 * factor;
      });
      expect({ record: d.key, off }).toEqual({ record: d.key, off: [] });
      const exportKeys = [...file.values.keys()].filter(
        (k) => k.startsWith(`${d.key?.meter_id}|export|`) && cleanValues.has(k),
      );
      expect(exportKeys.filter((k) => file.values.get(k) !== cleanValues.get(k))).toEqual([]);
    }
  });

  it('when a high or low day is listed, then the truth holds the true and written value of each reading it changed', () => {
    const changed = records.flatMap((d) => {
      const [importKeys = []] = coveredKeys({ ...d, key: { ...d.key, channel: 'import' } } as SeriesDefect);
      const file = parseReadings(days.dir, d.file);
      return importKeys
        .filter((k) => file.values.get(k) !== cleanValues.get(k))
        .map((k) => [d.kind, k, cleanValues.get(k), file.values.get(k)]);
    });
    expect(changed.length).toBeGreaterThan(0);
    expect(dayTruth.map((r) => [r.kind, r.key, r.true_kwh, r.written_kwh]).sort()).toEqual(changed.sort());
  });
});
