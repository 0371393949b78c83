/** Whole files that a validation engine must reject: empty, HTML under a .csv name, truncated gzip, wrong header. */
import { gzipSync } from 'node:zlib';

import { FEED_LAYOUT, HEADEND_LAYOUT } from './longLayouts';
import type { Reading } from './readings';
import { HEADEND_HEADER } from './sources';
import { formatDayUk } from './time';

/** A supplier portal's login page, as saved by a script whose session had expired. */
export function* renderHtmlLoginPage(): Generator<string> {
  yield '<!DOCTYPE html>\n';
  yield '<html lang="en">\n';
  yield '<head><meta charset="utf-8"><title>Sign in - Supplier Data Portal</title></head>\n';
  yield '<body>\n';
  yield '  <form method="post" action="/account/login">\n';
  yield '    <label for="user">User name</label><input id="user" name="user">\n';
  yield '    <label for="pw">Password</label><input id="pw" name="pw" type="password">\n';
  yield '    <button type="submit">Sign in</button>\n';
  yield '  </form>\n';
  yield '  <p>Your session has expired. Please sign in again to download half-hourly data.</p>\n';
  yield '</body>\n';
  yield '</html>\n';
}

/** A headend extract whose header uses another system's column names. */
export function* renderHeadendWrongHeader(readings: Iterable<Reading>): Generator<string> {
  const renamed = HEADEND_HEADER.map((name) =>
    name === 'interval_start_utc' ? 'start_time' : name === 'kwh' ? 'energy_kwh' : name,
  );
  yield `${renamed.join(',')}\n`;
  for (const r of readings) yield `${HEADEND_LAYOUT.row(r)}\n`;
}

/** A wide file from an older export template: HH01..HH48, no room for a 50-period day. */
export function* renderWideWrongHeader(
  rows: Array<{ meterId: string; day: number; values: string[] }>,
): Generator<string> {
  const periods = Array.from({ length: 48 }, (_, i) => `HH${String(i + 1).padStart(2, '0')}`);
  yield `MPAN,SettlementDate,ReadType,${periods.join(',')}\r\n`;
  for (const row of rows)
    yield `${[row.meterId, formatDayUk(row.day), 'A', ...row.values.slice(0, 48)].join(',')}\r\n`;
}

/** A gzip stream of feed records cut at 60 % of its length: no trailer, last block incomplete. */
export function truncatedGzipFeed(readings: Iterable<Reading>): Buffer {
  const lines: string[] = [];
  for (const r of readings) lines.push(`${FEED_LAYOUT.row(r)}\n`);
  const full = gzipSync(Buffer.from(lines.join(''), 'utf8'));
  return full.subarray(0, Math.floor(full.length * 0.6));
}
