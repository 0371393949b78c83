import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

import { simulate } from '../../../lib/simulator';
import {
  contractNumber,
  halfHoursInLocalDay,
  isValidIsoInstant,
  isValidUkDate,
  listFiles,
  physicalLines,
  type PlainDefect,
  type PlainManifest,
  readManifest,
  readText,
  sha256,
  sizeOf,
  splitCsv,
  tempDir,
  ukToIso,
} from './support';

const RATE = 0.05;
/** Drawn per meter-day, not per row (series.test.ts). */
const SERIES_KINDS = ['zero_run', 'frozen_value', 'late_fill'];
const CONTRACTS = path.join(__dirname, '../../../contracts/sources');
const ceiling = (source: string): number =>
  contractNumber(
    readFileSync(path.join(CONTRACTS, `meter_readings.${source}.yaml`), 'utf8'),
    'max_kwh_per_interval',
  );

let root: string;
let remove: () => void;
let manifest: PlainManifest;
const textCache = new Map<string, string[]>();
const linesOf = (rel: string): string[] => {
  let lines = textCache.get(rel);
  if (!lines) {
    lines = physicalLines(readText(root, rel));
    textCache.set(rel, lines);
  }
  return lines;
};
const lineAt = (d: PlainDefect, n: number): string => {
  const text = linesOf(d.file)[n - 1];
  if (text === undefined) throw new Error(`${d.file} has no line ${n}`);
  return text;
};
const sourceOf = (file: string): string => file.split('/')[3] ?? '';
const rowDefects = (): PlainDefect[] => manifest.defects.filter((d) => d.lines.length > 0);

beforeAll(async () => {
  ({ dir: root, remove } = tempDir('manifest'));
  await simulate(root, {
    meters: 24,
    days: 10,
    start: '2025-03-27',
    interval: 15,
    seed: 'manifest',
    defects: RATE,
  });
  manifest = readManifest(root);
});
afterAll(() => remove());

/** The energy value of a data line, in kWh, or undefined when the line has none that parses. */
function valueOf(source: string, line: string, column?: string): number | undefined {
  if (source === 'headend_utc') return Number(splitCsv(line)[4]);
  if (source === 'smartfeed') {
    const record = JSON.parse(line) as { wh: unknown };
    return typeof record.wh === 'number' ? record.wh / 1000 : undefined;
  }
  const index = Number((column ?? '').replace('SP', '')) + 2;
  return Number(splitCsv(line)[index]);
}

/** Key of a long-layout line: meter, channel and interval start (UTC ms). */
function longKey(source: string, line: string): string {
  if (source === 'headend_utc') {
    const [meter, start, , channel] = splitCsv(line);
    return `${meter}|${channel === 'AI' ? 'import' : 'export'}|${Date.parse(start ?? '')}`;
  }
  const r = JSON.parse(line) as { meter: { id: string }; end: string; dur: number; ch: string };
  return `${r.meter.id}|${r.ch === 'imp' ? 'import' : 'export'}|${Date.parse(r.end) - r.dur * 60_000}`;
}

describe('simulation manifest', () => {
  it('when the run finishes, then every listed file exists with the listed size and SHA-256', () => {
    expect(manifest.files.length).toBeGreaterThan(50);
    for (const file of manifest.files) {
      expect({ path: file.path, bytes: sizeOf(root, file.path), sha256: sha256(root, file.path) }).toEqual({
        path: file.path,
        bytes: file.bytes,
        sha256: file.sha256,
      });
    }
  });

  it('when the lake root is listed, then every file on disk is in the manifest', () => {
    const listed = new Set(manifest.files.map((f) => f.path));
    const beside = ['simulation-manifest.json', 'simulation-truth.csv.gz'];
    expect(listFiles(root).filter((rel) => !beside.includes(rel) && !listed.has(rel))).toEqual([]);
  });

  it('when a file is read back, then its data-row count is the listed rows', () => {
    for (const file of manifest.files.filter((f) => !f.path.endsWith('.gz') || f.rows > 0)) {
      if (manifest.defects.some((d) => d.file === file.path && d.kind === 'truncated_gzip')) continue;
      const header =
        file.format === 'csv' && file.bytes > 0 && !linesOf(file.path)[0]?.startsWith('<') ? 1 : 0;
      expect({ path: file.path, rows: linesOf(file.path).length - header }).toEqual({
        path: file.path,
        rows: file.rows,
      });
    }
  });

  it('when a defect names lines, then each of those lines really carries that defect', () => {
    const defects = rowDefects();
    expect(defects.length).toBeGreaterThan(50);
    for (const d of defects) {
      const source = sourceOf(d.file);
      for (const n of d.lines) {
        const line = lineAt(d, n);
        const context = `${d.kind} at ${d.file}:${n}: ${line.slice(0, 120)}`;
        switch (d.kind) {
          case 'duplicate_identical':
            expect([context, lineAt(d, d.original_line ?? n - 1)]).toEqual([context, line]);
            break;
          case 'duplicate_conflicting': {
            const original = lineAt(d, d.original_line ?? n - 1);
            expect([context, line === original]).toEqual([context, false]);
            if (source === 'uk_hh_wide') {
              expect([context, splitCsv(line).slice(0, 2)]).toEqual([
                context,
                splitCsv(original).slice(0, 2),
              ]);
            } else {
              expect([context, longKey(source, line)]).toEqual([context, longKey(source, original)]);
            }
            break;
          }
          case 'negative_value':
            expect([context, (valueOf(source, line, d.column) ?? 0) < 0]).toEqual([context, true]);
            if (source !== 'uk_hh_wide')
              expect([context, longKey(source, line).split('|')[1]]).toEqual([context, 'import']);
            break;
          case 'implausible_value':
            expect([context, (valueOf(source, line, d.column) ?? 0) > ceiling(source)]).toEqual([
              context,
              true,
            ]);
            break;
          case 'spike': {
            const value = valueOf(source, line, d.column) ?? -1;
            expect([context, value > 0 && value <= ceiling(source)]).toEqual([context, true]);
            break;
          }
          case 'malformed_row':
            expect([context, isMalformed(source, line)]).toEqual([context, true]);
            break;
          case 'bad_timestamp':
            expect([context, hasBadTimestamp(source, line)]).toEqual([context, true]);
            break;
          case 'zero_run':
          case 'frozen_value':
            break; // series defects: checked against a clean run in series.test.ts
          case 'nonexistent_local_time': {
            const fields = splitCsv(line);
            const periods = halfHoursInLocalDay('Europe/London', ukToIso(fields[1] ?? ''));
            const beyond = fields.slice(3 + periods).filter((cell) => cell !== '');
            expect([context, periods < 50 && beyond.length > 0]).toEqual([context, true]);
            break;
          }
          default:
            throw new Error(`unexpected row defect ${d.kind}`);
        }
      }
    }
  });

  it('when a gap is listed, then the reading (or wide meter-day row) is absent from its file', () => {
    const gaps = manifest.defects.filter((d) => d.kind === 'gap');
    expect(gaps.length).toBeGreaterThan(3);
    for (const gap of gaps) {
      const source = sourceOf(gap.file);
      const data = linesOf(gap.file).slice(source === 'smartfeed' ? 0 : 1);
      if (source === 'uk_hh_wide') {
        const rows = data
          .map(splitCsv)
          .filter((f) => f[0] === gap.key?.meter_id && ukToIso(f[1] ?? '') === gap.key?.date);
        expect([gap.key, rows.length]).toEqual([gap.key, 0]);
      } else {
        const key = `${gap.key?.meter_id}|${gap.key?.channel}|${Date.parse(gap.key?.interval_start ?? '')}`;
        const keys = new Set(
          data
            .filter((l) => l.startsWith('{"') || source === 'headend_utc')
            .flatMap((l) => {
              try {
                return [longKey(source, l)];
              } catch {
                return [];
              }
            }),
        );
        expect([key, keys.has(key)]).toEqual([key, false]);
      }
    }
  });

  it('when a file-level defect is listed, then the file shows it (empty, HTML, truncated gzip, wrong header, late)', () => {
    const fileDefects = manifest.defects.filter(
      (d) => d.lines.length === 0 && !['gap', 'late_fill'].includes(d.kind),
    );
    const kinds = new Set(fileDefects.map((d) => d.kind));
    expect([...kinds].sort()).toEqual([
      'empty_file',
      'html_as_csv',
      'late_file',
      'truncated_gzip',
      'wrong_header',
    ]);
    for (const d of fileDefects) {
      const entry = manifest.files.find((f) => f.path === d.file);
      expect(entry).toBeDefined();
      const bytes = readFileSync(path.join(root, d.file));
      if (d.kind === 'empty_file') expect(bytes.length).toBe(0);
      if (d.kind === 'html_as_csv') expect(bytes.toString('utf8')).toMatch(/^<!DOCTYPE html>/i);
      if (d.kind === 'truncated_gzip') {
        expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
        expect(() => gunzipSync(bytes)).toThrow();
      }
      if (d.kind === 'wrong_header') {
        const header = bytes.toString('utf8').split(/\r?\n/)[0] ?? '';
        const expected =
          sourceOf(d.file) === 'uk_hh_wide'
            ? ['MPAN', 'SettlementDate', 'ReadType', ...Array.from({ length: 50 }, (_, i) => `SP${i + 1}`)]
            : ['meter_id', 'interval_start_utc', 'interval_minutes', 'channel', 'kwh', 'quality_flag'];
        expect(header.split(',')).not.toEqual(expected);
      }
      if (d.kind === 'late_file') {
        const [y, m, day] = d.file.split('/').slice(4, 7);
        const delivered = Date.parse(`${y}-${m}-${day}T00:00:00Z`);
        const lagDays = (delivered - Date.parse(`${entry?.data_date}T00:00:00Z`)) / 86_400_000;
        expect(lagDays).toBeGreaterThanOrEqual(3);
      }
      expect(d.verdict).toBe(d.kind === 'late_file' ? 'not_a_validation_error' : 'file_rejected');
    }
  });

  it('when rows carry defects, then their count follows the rate and every row kind appears', () => {
    const regular = manifest.files.filter(
      (f) =>
        f.dataset === 'meter_readings' &&
        !manifest.defects.some((d) => d.file === f.path && d.verdict === 'file_rejected'),
    );
    const rows = regular.reduce((sum, f) => sum + f.rows, 0);
    const rowKinds = manifest.defects.filter(
      (d) => (d.lines.length > 0 || d.kind === 'gap') && !SERIES_KINDS.includes(d.kind),
    );
    const ratio = rowKinds.length / rows;
    expect(ratio).toBeGreaterThan(RATE * 0.7);
    expect(ratio).toBeLessThan(RATE * 1.3);
    const longKinds = new Set(rowKinds.filter((d) => sourceOf(d.file) !== 'uk_hh_wide').map((d) => d.kind));
    expect([...longKinds].sort()).toEqual([
      'bad_timestamp',
      'duplicate_conflicting',
      'duplicate_identical',
      'gap',
      'implausible_value',
      'malformed_row',
      'negative_value',
      'spike',
    ]);
  });

  it('when wide rows get defects on a 46-period day, then values in non-existent periods SP47..SP50 are listed', async () => {
    const dirty = tempDir('wide');
    try {
      await simulate(dirty.dir, {
        meters: 300,
        days: 1,
        start: '2025-03-30',
        seed: 'wide',
        defects: 0.5,
      });
      const result = readManifest(dirty.dir);
      const listed = result.defects.filter((d) => d.kind === 'nonexistent_local_time');
      expect(listed.length).toBeGreaterThan(0);
      for (const d of listed) {
        const fields = splitCsv(physicalLines(readText(dirty.dir, d.file))[(d.lines[0] ?? 0) - 1] ?? '');
        expect(fields.slice(3, 49).every((cell) => cell !== '')).toBe(true);
        expect(fields.slice(49).some((cell) => cell !== '')).toBe(true);
        expect(d.verdict).toBe('row_rejected');
      }
    } finally {
      dirty.remove();
    }
  });

  it('when the defect rate is 0, then the manifest lists no defects and every file is expected to be accepted', async () => {
    const clean = tempDir('clean');
    try {
      await simulate(clean.dir, { meters: 6, days: 2, seed: 'clean', defects: 0 });
      const result = readManifest(clean.dir);
      expect(result.defects).toEqual([]);
      expect(new Set(result.files.map((f) => f.expected_verdict))).toEqual(new Set(['accepted']));
    } finally {
      clean.remove();
    }
  });
});

function isMalformed(source: string, line: string): boolean {
  if (source === 'headend_utc') {
    const fields = splitCsv(line);
    return fields.length !== 6 || !Number.isFinite(Number(fields[4]));
  }
  if (source === 'uk_hh_wide') {
    const fields = splitCsv(line);
    return fields.length !== 53 || fields.slice(3).some((c) => c !== '' && !Number.isFinite(Number(c)));
  }
  try {
    const record = JSON.parse(line) as { wh?: unknown };
    return typeof record.wh !== 'number';
  } catch {
    return true;
  }
}

function hasBadTimestamp(source: string, line: string): boolean {
  if (source === 'headend_utc') return !isValidIsoInstant(splitCsv(line)[1] ?? '');
  if (source === 'uk_hh_wide') return !isValidUkDate(splitCsv(line)[1] ?? '');
  return !isValidIsoInstant((JSON.parse(line) as { end: string }).end);
}
