import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { parse as parseYaml } from 'yaml';

import { loadSourceContracts } from '../../../lib/contracts/sources';
import { type FreshnessResponse, freshnessResponseSchema } from '../../../lib/freshness/api';
import type { FreshnessBreachLog } from '../../../lib/freshness/breach';
import { runFreshnessCheck } from '../../../lib/freshness/check';
import { DefectKind, type Manifest, type ManifestFile, simulate } from '../../../lib/simulator';
import { moduleFile, type PipelineWorld, startPipelineWorld } from './support';

/*
 * The freshness check against a real local lake: the simulator's files (with its late files, and one
 * regular file deleted so that it never comes) are given the landing times their manifest says, the check
 * runs as of two moments, and GET /api/freshness on the local host reads the findings back. Then the timer
 * itself fires on the host, with the real clock, for a source whose file of one day never came.
 *
 * Expectations are worked out here from the schedules of contracts/sources (copied by hand below) and the
 * manifest; the London and Berlin offsets hold for October-November 2025 only: summer time until the
 * delivery day 2025-10-26.
 */

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '../../..');
const START = '2025-10-20';
const DAYS = 12;
const LAST = '2025-10-31';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface HandSchedule {
  dataset: string;
  source: string;
  /** Deadline of a data date, worked out by hand. */
  deadline(date: string): number;
  graceMinutes: number;
}

const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 24 * HOUR).toISOString().slice(0, 10);
const midnight = (date: string): number => Date.parse(`${date}T00:00:00Z`);
const summer = (day: string): boolean => day < '2025-10-26';

// 06:00 London on the next day; 07:00 Berlin on the next day; 13:30 Berlin on the day before.
const SCHEDULES: HandSchedule[] = [
  {
    dataset: 'meter_readings',
    source: 'headend_utc',
    graceMinutes: 60,
    deadline: (d) => midnight(addDays(d, 1)) + (summer(addDays(d, 1)) ? 5 : 6) * HOUR,
  },
  {
    dataset: 'meter_readings',
    source: 'uk_hh_wide',
    graceMinutes: 120,
    deadline: (d) => midnight(addDays(d, 1)) + (summer(addDays(d, 1)) ? 5 : 6) * HOUR,
  },
  {
    dataset: 'meter_readings',
    source: 'smartfeed',
    graceMinutes: 60,
    deadline: (d) => midnight(addDays(d, 1)) + (summer(addDays(d, 1)) ? 5 : 6) * HOUR,
  },
  {
    dataset: 'prices',
    source: 'dayahead',
    graceMinutes: 30,
    deadline: (d) => midnight(addDays(d, -1)) + (summer(addDays(d, -1)) ? 11.5 : 12.5) * HOUR,
  },
];

/** When each simulated file "landed": early on its delivery day (prices: mid-morning), before any deadline. */
const landingTime = (file: ManifestFile): number =>
  midnight(file.delivery_date) + (file.dataset === 'prices' ? 10 * HOUR : 4.5 * HOUR);

interface Expected {
  date: string;
  kind: 'missing' | 'late';
  delayMinutes: number;
}

/** Today (UTC, real clock) and the days around it, for the timer that runs on the real clock. */
const TODAY = new Date().toISOString().slice(0, 10);
const PROBE_SCHEDULE = {
  cadence: 'daily',
  expected_by: '06:00',
  time_zone: 'UTC',
  grace: 'PT1H',
  lag_days: 1,
  since: addDays(TODAY, -3),
};

let world: PipelineWorld;
let contractsDir: string;
let manifest: Manifest;
/** The smartfeed file removed from the lake: its data date never gets a file. */
let neverCame: ManifestFile;
let landed: ManifestFile[];

beforeAll(async () => {
  contractsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-freshness-contracts-'));
  await fs.cp(path.join(ROOT, 'contracts/sources'), contractsDir, { recursive: true });
  const headend = parseYaml(
    await fs.readFile(path.join(ROOT, 'contracts/sources/meter_readings.headend_utc.yaml'), 'utf8'),
  ) as Record<string, unknown>;
  await fs.writeFile(
    path.join(contractsDir, 'meter_readings.probe.json'),
    JSON.stringify({ ...headend, source: 'probe', schedule: PROBE_SCHEDULE }),
  );
  world = await startPipelineWorld({
    modules: [moduleFile('functions/runsApi.ts'), moduleFile('functions/freshnessCheck.ts')],
    timers: true,
    env: {
      SOURCE_CONTRACTS_DIR: contractsDir,
      FRESHNESS_SCHEDULE: '0 */15 * * * *',
      FRESHNESS_LOOKBACK_DAYS: '30',
    },
  });
  manifest = await simulate(world.lakeRoot, { meters: 6, days: DAYS, start: START, defects: 0.1 });
  for (const file of manifest.files) {
    const when = new Date(landingTime(file));
    await fs.utimes(path.join(world.lakeRoot, file.path), when, when);
  }
  const late = new Set(manifest.defects.filter((d) => d.kind === DefectKind.LateFile).map((d) => d.file));
  const smartfeedOn = (date: string) =>
    manifest.files.filter((f) => f.source === 'smartfeed' && f.data_date === date);
  neverCame = manifest.files.find(
    (f) =>
      f.source === 'smartfeed' &&
      !late.has(f.path) &&
      f.data_date > START &&
      smartfeedOn(f.data_date).length === 1,
  )!;
  await fs.rm(path.join(world.lakeRoot, neverCame.path));
  landed = manifest.files.filter((f) => f !== neverCame);
});

afterAll(async () => {
  await world?.close();
  if (contractsDir) await fs.rm(contractsDir, { recursive: true, force: true });
});

/** What a check at `now` must find for one source's dates in the simulated range. */
function expectedAt(schedule: HandSchedule, now: number): Expected[] {
  const expected: Expected[] = [];
  for (let date = START; date <= LAST; date = addDays(date, 1)) {
    const deadline = schedule.deadline(date);
    const dueBy = deadline + schedule.graceMinutes * MINUTE;
    const arrivals = landed
      .filter((f) => f.source === schedule.source && f.data_date === date && landingTime(f) <= now)
      .map(landingTime);
    const arrival = arrivals.length > 0 ? Math.min(...arrivals) : undefined;
    if (arrival === undefined && now > dueBy) {
      expected.push({ date, kind: 'missing', delayMinutes: Math.floor((now - deadline) / MINUTE) });
    } else if (arrival !== undefined && arrival > dueBy) {
      expected.push({ date, kind: 'late', delayMinutes: Math.floor((arrival - deadline) / MINUTE) });
    }
  }
  return expected;
}

async function check(now: number) {
  return runFreshnessCheck({
    lake: world.lake,
    contracts: await loadSourceContracts(contractsDir),
    now: new Date(now),
    lookbackDays: 30,
  });
}

/** Findings of the simulated days (a check also judges the days of its look-back before and after them). */
const simulatedDays = <T extends { date: string }>(findings: T[]): T[] =>
  findings.filter((f) => f.date >= START && f.date <= LAST);

async function auditPaths(prefix: string): Promise<string[]> {
  const paths: string[] = [];
  for await (const entry of world.lake.list('audit', prefix)) paths.push(entry.path);
  return paths;
}

const NOW_MID = Date.parse('2025-10-28T12:00:00Z');
const nowEnd = (): number => Math.max(...manifest.files.map(landingTime)) + 24 * HOUR;

describe('the freshness check on the simulator’s files', () => {
  let firstRun: Awaited<ReturnType<typeof check>>;
  let endRun: Awaited<ReturnType<typeof check>>;

  beforeAll(async () => {
    firstRun = await check(NOW_MID);
    endRun = await check(nowEnd());
  });

  it('when the simulation has late files, then there are some to judge, and one file was made never to come', () => {
    expect(manifest.defects.filter((d) => d.kind === DefectKind.LateFile).length).toBeGreaterThanOrEqual(2);
    expect(neverCame.data_date > START).toBe(true);
  });

  it('when the check runs mid-way, then it records what was missing or late by then', () => {
    const found = simulatedDays(firstRun.created).map(
      (f) => `${f.source} ${f.date} ${f.kind} ${f.delayMinutes}`,
    );
    const expected = SCHEDULES.flatMap((s) =>
      expectedAt(s, NOW_MID).map((e) => `${s.source} ${e.date} ${e.kind} ${e.delayMinutes}`),
    );
    expect(found.sort()).toEqual(expected.sort());
  });

  it('when every late file has landed, then the check records each as late with its delay', () => {
    const lateAtEnd = SCHEDULES.flatMap((s) =>
      expectedAt(s, nowEnd())
        .filter((e) => e.kind === 'late')
        .map((e) => `${s.source} ${e.date} ${e.delayMinutes}`),
    );
    const recorded = simulatedDays(endRun.created)
      .filter((f) => f.kind === 'late')
      .map((f) => `${f.source} ${f.date} ${f.delayMinutes}`);
    expect(lateAtEnd.length).toBeGreaterThanOrEqual(2);
    expect(recorded.sort()).toEqual(lateAtEnd.sort());
  });

  it('when the check runs again at the same time, then it records nothing new', async () => {
    const before = await auditPaths('freshness/');

    const again = await check(nowEnd());

    expect(again.created).toEqual([]);
    expect(again.known).toBe(again.sources.reduce((n, s) => n + s.findings.length, 0));
    expect(await auditPaths('freshness/')).toEqual(before);
  });

  it('when GET /api/freshness is asked for the simulated days, then it returns every recorded finding, and the last file per source', async () => {
    const response = await world.api<FreshnessResponse>('GET', `/api/freshness?from=${START}&to=${LAST}`);
    expect(response.status).toBe(200);
    const body = freshnessResponseSchema.parse(response.body);
    expect(body.sources.map((s) => `${s.dataset}/${s.source}`)).toEqual(
      [...SCHEDULES.map((s) => `${s.dataset}/${s.source}`), 'meter_readings/probe'].sort(),
    );
    expect(body.unscheduled.map((u) => u.source)).toContain('crm');

    const end = nowEnd();
    for (const schedule of SCHEDULES) {
      const view = body.sources.find((s) => s.source === schedule.source)!;
      const mid = expectedAt(schedule, NOW_MID);
      const late = expectedAt(schedule, end).filter((e) => e.kind === 'late');
      // A missing date is recorded by the first check that saw it: mid-way, or else at the end.
      const missingMid = mid.filter((e) => e.kind === 'missing');
      const missingEnd = expectedAt(schedule, end).filter(
        (e) => e.kind === 'missing' && !missingMid.some((m) => m.date === e.date),
      );
      const arrivedAt = (date: string): string | null => {
        const times = landed
          .filter((f) => f.source === schedule.source && f.data_date === date)
          .map(landingTime);
        return times.length > 0 ? new Date(Math.min(...times)).toISOString() : null;
      };
      expect([schedule.source, view.late.map((f) => `${f.date} ${f.delayMinutes}`)]).toEqual([
        schedule.source,
        late.map((e) => `${e.date} ${e.delayMinutes}`),
      ]);
      expect([
        schedule.source,
        view.missing.map((f) => `${f.date} ${f.delayMinutes} ${f.arrivedAt}`),
      ]).toEqual([
        schedule.source,
        [...missingMid, ...missingEnd]
          .sort((a, b) => a.date.localeCompare(b.date))
          .map((e) => `${e.date} ${e.delayMinutes} ${arrivedAt(e.date)}`),
      ]);

      const lastDate = landed
        .filter((f) => f.source === schedule.source && f.data_date <= LAST)
        .map((f) => f.data_date)
        .sort()
        .pop()!;
      const first = landed
        .filter((f) => f.source === schedule.source && f.data_date === lastDate)
        .sort((a, b) => landingTime(a) - landingTime(b) || a.path.localeCompare(b.path))[0]!;
      expect(view.lastFile).toEqual({
        path: first.path.replace(/^bronze\//, ''),
        date: lastDate,
        landedAt: new Date(landingTime(first)).toISOString(),
        deadline: new Date(schedule.deadline(lastDate)).toISOString(),
        delayMinutes: Math.floor((landingTime(first) - schedule.deadline(lastDate)) / MINUTE),
      });
    }
    const smartfeed = body.sources.find((s) => s.source === 'smartfeed')!;
    expect(smartfeed.missing.find((f) => f.date === neverCame.data_date)).toMatchObject({ arrivedAt: null });
  });
});

describe('the freshnessCheck timer on the local host', () => {
  it('when a scheduled source’s file of a day never came, then each firing keeps one record and one FreshnessBreach log of it', async () => {
    // The probe's first day (today - 3) landed on time; nothing for today - 2, due yesterday 06:00 UTC + 1 h.
    const first = addDays(TODAY, -3);
    const lost = addDays(TODAY, -2);
    const folder = addDays(first, 1);
    const file = path.join(world.lakeRoot, 'bronze/landing/meter_readings/probe', ...folder.split('-'));
    await fs.mkdir(file, { recursive: true });
    await fs.writeFile(path.join(file, `readings_${first}.csv`), 'meter_id\n');
    const onTime = new Date(midnight(folder) + 5 * HOUR);
    await fs.utimes(path.join(file, `readings_${first}.csv`), onTime, onTime);
    const startedAt = Date.now();

    for (let firing = 0; firing < 2; firing += 1) {
      world.clock.set(world.clock.now() + 15 * MINUTE);
      await world.host.timers.settled();
    }
    const endedAt = Date.now();

    const [yyyy, mm, dd] = lost.split('-');
    const record = JSON.parse(
      (
        await world.lake.read('audit', `freshness/meter_readings/probe/${yyyy}/${mm}/${dd}/missing.json`)
      ).data.toString('utf8'),
    ) as { type: string; finding: { deadline: string; detectedAt: string; delayMinutes: number } };
    const deadline = midnight(TODAY) - 24 * HOUR + 6 * HOUR;
    const detectedAt = Date.parse(record.finding.detectedAt);
    expect(record.type).toBe('freshness_finding');
    expect(record.finding.deadline).toBe(new Date(deadline).toISOString());
    expect(detectedAt).toBeGreaterThanOrEqual(startedAt);
    expect(detectedAt).toBeLessThanOrEqual(endedAt);
    expect(record.finding.delayMinutes).toBe(Math.floor((detectedAt - deadline) / MINUTE));
    expect(
      await auditPaths(
        `freshness/meter_readings/probe/${first.slice(0, 4)}/${first.slice(5, 7)}/${first.slice(8)}/`,
      ),
    ).toEqual([]);

    const breaches = world.logs
      .filter(
        (r) => r.functionName === 'freshnessCheck' && r.message.startsWith('{"event":"FreshnessBreach"'),
      )
      .map((r) => ({ ...(JSON.parse(r.message) as FreshnessBreachLog), level: r.level }))
      .filter((event) => event.source === 'probe' && event.date === lost);
    expect(breaches).toEqual([
      expect.objectContaining({
        level: 'warning',
        event: 'FreshnessBreach',
        dataset: 'meter_readings',
        kind: 'missing',
        delay_minutes: record.finding.delayMinutes,
      }),
    ]);
  });
});
