import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runCli } from '../../helpers/cli';

/*
 * `lakewatt freshness --check` on a fresh local state folder, with one scheduled source that never
 * delivered: its first two days are past deadline + grace on the real clock whenever the test runs.
 */

const DAY = 86_400_000;
const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
const day = (offset: number): string => new Date(today + offset * DAY).toISOString().slice(0, 10);

let base: string;
const saved: Record<string, string | undefined> = {};

beforeEach(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-freshness-cli-'));
  const contracts = path.join(base, 'contracts');
  await fs.mkdir(contracts);
  await fs.writeFile(
    path.join(contracts, 'meter_readings.probe.json'),
    JSON.stringify({
      source: 'probe',
      dataset: 'meter_readings',
      description: 'A source that never delivers.',
      format: { type: 'csv' },
      layout: { kind: 'long', columns: { meter_id: 'm', interval_start: 't', kwh: 'v' } },
      timestamp: { format: 'iso8601' },
      interval_minutes: 30,
      unit: 'kWh',
      constants: { channel: 'import', quality: 'actual' },
      // Day D is due D+1 06:00 UTC, an hour's grace: days -3 and -2 are overdue since yesterday 07:00 UTC.
      schedule: { cadence: 'daily', expected_by: '06:00', time_zone: 'UTC', grace: 60, since: day(-3) },
    }),
  );
  const env = { LAKEWATT_HOME: path.join(base, 'home'), SOURCE_CONTRACTS_DIR: contracts, LAKE_ROOT: '' };
  for (const [key, value] of Object.entries(env)) {
    saved[key] = process.env[key];
    process.env[key] = value;
  }
});

afterEach(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await fs.rm(base, { recursive: true, force: true });
});

it('when --check runs for a source that never delivered, then its overdue days are listed as missing', async () => {
  const result = await runCli('freshness', '--check', '--from', day(-3), '--to', day(-2));

  expect(result.code).toBe(0);
  expect(result.stdout).toContain(`missing  meter_readings/probe ${day(-3)}: nothing landed`);
  expect(result.stdout).toContain(`missing  meter_readings/probe ${day(-2)}: nothing landed`);
  // Day -1 is overdue too from 07:00 UTC on, so the count of new findings depends on the hour.
  expect(result.stderr).toMatch(/^freshness check: [23] new findings, 0 known\n$/);
});

it('when the window is inverted, then it is a usage error naming --from', async () => {
  const result = await runCli('freshness', '--from', day(-2), '--to', day(-3));

  expect(result.code).toBe(2);
  expect(result.stderr).toContain('--from: must not be later than to');
});
