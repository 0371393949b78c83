/**
 * Test helpers for the simulator tests: temporary lake roots, reading files back (with gunzip), and
 * time-zone facts computed with Intl, independently of lib/simulator/time.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/** A unique temporary folder; call the returned function to remove it. */
export function tempDir(label: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `lakewatt-sim-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every regular file under `root`, as forward-slash paths relative to it. */
export function listFiles(root: string): string[] {
  const result: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else result.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(root);
  return result.sort();
}

export function sha256(root: string, rel: string): string {
  return createHash('sha256')
    .update(readFileSync(path.join(root, rel)))
    .digest('hex');
}

export function sizeOf(root: string, rel: string): number {
  return statSync(path.join(root, rel)).size;
}

/** The file's text (gunzipped when it ends in .gz). */
export function readText(root: string, rel: string): string {
  const bytes = readFileSync(path.join(root, rel));
  return (rel.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
}

/** Physical lines without their terminators (a trailing terminator does not start a new line). */
export function physicalLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Minimal CSV field splitter that honours double quotes. */
export function splitCsv(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        current += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(current);
      current = '';
    } else current += ch;
  }
  fields.push(current);
  return fields;
}

/** Local wall-clock parts of a UTC instant in `zone`, via Intl. */
export function localParts(
  zone: string,
  utcMs: number,
): { date: string; time: string; offsetMinutes: number } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  const date = `${get('year')}-${get('month')}-${get('day')}`;
  const time = `${get('hour')}:${get('minute')}:${get('second')}`;
  const asUtc = Date.parse(`${date}T${time}Z`);
  return { date, time, offsetMinutes: Math.round((asUtc - utcMs) / 60_000) };
}

/** UTC instant of local midnight starting `date` (YYYY-MM-DD) in `zone`, found by scanning with Intl. */
export function localMidnight(zone: string, date: string): number {
  const guess = Date.parse(`${date}T00:00:00Z`);
  for (let t = guess - 14 * 3_600_000; t <= guess + 14 * 3_600_000; t += 15 * 60_000) {
    const local = localParts(zone, t);
    if (local.date === date && local.time === '00:00:00') return t;
  }
  throw new Error(`no local midnight found for ${date} in ${zone}`);
}

/** Number of half-hours in the local day `date` of `zone`, counted with Intl. */
export function halfHoursInLocalDay(zone: string, date: string): number {
  const start = localMidnight(zone, date);
  let count = 0;
  for (let t = start; localParts(zone, t).date === date; t += 30 * 60_000) count++;
  return count;
}

/** True for a real calendar instant written as YYYY-MM-DDTHH:MM:SS followed by Z or ±HH:MM. */
export function isValidIsoInstant(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!match) return false;
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  return (
    back.getUTCFullYear() === y &&
    back.getUTCMonth() === mo - 1 &&
    back.getUTCDate() === d &&
    back.getUTCHours() === h &&
    back.getUTCMinutes() === mi
  );
}

/** True for a real calendar date written dd/MM/yyyy. */
export function isValidUkDate(text: string): boolean {
  const match = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text);
  if (!match) return false;
  return isValidIsoInstant(`${match[3]}-${match[2]}-${match[1]}T00:00:00Z`);
}

/** dd/MM/yyyy → yyyy-MM-dd. */
export function ukToIso(text: string): string {
  return `${text.slice(6, 10)}-${text.slice(3, 5)}-${text.slice(0, 2)}`;
}

/** Reads a source contract file's top-level scalar (enough for numbers such as max_kwh_per_interval). */
export function contractNumber(contractText: string, key: string): number {
  const match = new RegExp(`^${key}:\\s*([0-9.]+)\\s*$`, 'm').exec(contractText);
  if (!match?.[1]) throw new Error(`no ${key} in contract`);
  return Number(match[1]);
}

/** The manifest as written on disk, with kinds and verdicts as plain strings. */
export interface PlainDefect {
  kind: string;
  verdict: string;
  file: string;
  lines: number[];
  key?: { meter_id: string; channel?: string; interval_start?: string; date?: string };
  column?: string;
  original_line?: number;
  missing_readings?: number;
  detail: string;
}

export interface PlainManifest {
  files: Array<{
    path: string;
    dataset: string;
    source: string;
    data_date: string;
    delivery_date: string;
    format: string;
    rows: number;
    bytes: number;
    sha256: string;
    expected_verdict: string;
  }>;
  defects: PlainDefect[];
}

export function readManifest(root: string): PlainManifest {
  return JSON.parse(readFileSync(path.join(root, 'simulation-manifest.json'), 'utf8')) as PlainManifest;
}
