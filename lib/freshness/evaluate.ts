import type { DatasetName } from '../contracts/datasets';
import type { SourceSchedule } from '../contracts/schedule';
import { findingId, type FreshnessFinding } from './finding';
import { checkWindow, dataDateOf, datesFrom, deadlineOf, dueByOf } from './periods';

/**
 * The freshness rule, pure: given one source's schedule, the files that landed (name, landing folder,
 * landing time) and the time of the check, which data dates are missing or late, and the source's last file.
 *
 * - A date's arrival is its first file's landing time, so a later fill or resend does not make it late.
 * - Late: the arrival is after deadline + grace (exactly at it is on time). Missing: no file, and the check
 *   runs after deadline + grace. A missing date whose file lands later is then also late.
 * - Files that landed after `now` are not seen, so a check can be run again as of an earlier time.
 */

const MINUTE_MS = 60_000;

export interface LandedFile {
  /** Bronze path, `landing/{dataset}/{source}/{yyyy}/{mm}/{dd}/{fileName}`. */
  path: string;
  fileName: string;
  /** The {yyyy}/{mm}/{dd} folder, YYYY-MM-DD. */
  landingDate: string;
  /** Last write of the file (blob Last-Modified). */
  landedAt: Date;
}

export interface LastFile {
  path: string;
  /** Its data date: the latest one that has arrived. */
  date: string;
  landedAt: string;
  deadline: string;
  /** Minutes from the deadline to the landing; zero or less is on time or early. */
  delayMinutes: number;
}

export interface SourceFreshness {
  dataset: DatasetName;
  source: string;
  /** The data dates judged. */
  window: { from: string; to: string };
  /** The first file of the latest data date that has arrived (up to the window's end), if any. */
  lastFile: LastFile | null;
  findings: FreshnessFinding[];
  /** Landed files whose data date could not be read (they count for nothing). */
  undatedFiles: number;
}

export interface FreshnessInput {
  dataset: DatasetName;
  source: string;
  schedule: SourceSchedule;
  files: readonly LandedFile[];
  now: Date;
  lookbackDays: number;
}

interface Arrival {
  path: string;
  landedAt: number;
}

/** Each data date's first file among those landed by `now`, and how many files had no readable date. */
export function arrivalsByDate(
  schedule: SourceSchedule,
  files: readonly LandedFile[],
  now: number,
): { arrivals: Map<string, Arrival>; undated: number } {
  const arrivals = new Map<string, Arrival>();
  let undated = 0;
  for (const file of files) {
    const landedAt = file.landedAt.getTime();
    if (landedAt > now) continue;
    const date = dataDateOf(schedule, file);
    if (date === undefined) {
      undated += 1;
      continue;
    }
    const first = arrivals.get(date);
    if (!first || landedAt < first.landedAt || (landedAt === first.landedAt && file.path < first.path)) {
      arrivals.set(date, { path: file.path, landedAt });
    }
  }
  return { arrivals, undated };
}

const minutesBetween = (from: number, to: number): number => Math.floor((to - from) / MINUTE_MS);

/** The first file of the latest data date up to `until` that has arrived. */
export function lastFileOf(
  schedule: SourceSchedule,
  arrivals: ReadonlyMap<string, Arrival>,
  until: string,
): LastFile | null {
  let latest: string | undefined;
  for (const date of arrivals.keys())
    if (date <= until && (latest === undefined || date > latest)) latest = date;
  if (latest === undefined) return null;
  const arrival = arrivals.get(latest)!;
  const deadline = deadlineOf(schedule, latest);
  return {
    path: arrival.path,
    date: latest,
    landedAt: new Date(arrival.landedAt).toISOString(),
    deadline: new Date(deadline).toISOString(),
    delayMinutes: minutesBetween(deadline, arrival.landedAt),
  };
}

export function evaluateFreshness(input: FreshnessInput): SourceFreshness {
  const { dataset, source, schedule } = input;
  const now = input.now.getTime();
  const window = checkWindow(schedule, now, input.lookbackDays);
  const { arrivals, undated } = arrivalsByDate(schedule, input.files, now);
  const findings: FreshnessFinding[] = [];
  for (const date of datesFrom(window.from, window.to)) {
    const deadline = deadlineOf(schedule, date);
    const dueBy = dueByOf(schedule, date);
    const arrival = arrivals.get(date);
    const common = {
      dataset,
      source,
      date,
      deadline: new Date(deadline).toISOString(),
      graceMinutes: schedule.grace_minutes,
      dueBy: new Date(dueBy).toISOString(),
      detectedAt: input.now.toISOString(),
    };
    if (arrival && arrival.landedAt > dueBy) {
      findings.push({
        id: findingId(dataset, source, date, 'late'),
        kind: 'late',
        ...common,
        landedAt: new Date(arrival.landedAt).toISOString(),
        path: arrival.path,
        delayMinutes: minutesBetween(deadline, arrival.landedAt),
      });
    } else if (!arrival && now > dueBy) {
      findings.push({
        id: findingId(dataset, source, date, 'missing'),
        kind: 'missing',
        ...common,
        landedAt: null,
        path: null,
        delayMinutes: minutesBetween(deadline, now),
      });
    }
  }
  return {
    dataset,
    source,
    window,
    lastFile: lastFileOf(schedule, arrivals, window.to),
    findings,
    undatedFiles: undated,
  };
}
