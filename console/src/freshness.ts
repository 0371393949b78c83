/**
 * The Freshness page's data: `GET /api/freshness` (lib/freshness/api.ts, `freshnessResponseSchema`) as the
 * page sees the JSON, and its shaping into one row per source, worst first. Written out rather than imported,
 * as in types.ts: the page bundle must not pull in zod or node built-ins; test/unit/console/freshness.test.ts
 * checks at compile time that the API's type still fits these.
 */

export interface FreshnessSchedule {
  cadence: string;
  /** Local time of day, `HH:MM`, in `timeZone`. */
  expectedBy: string;
  timeZone: string;
  graceMinutes: number;
  lagDays: number;
  dataDate: string;
  since: string | null;
}

export interface FreshnessLastFile {
  path: string;
  date: string;
  landedAt: string;
  deadline: string;
  /** Minutes after the deadline; zero or negative: on time. */
  delayMinutes: number;
}

interface FindingFields {
  id: string;
  dataset: string;
  source: string;
  date: string;
  deadline: string;
  graceMinutes: number;
  dueBy: string;
  landedAt: string | null;
  path: string | null;
  delayMinutes: number;
  detectedAt: string;
}

export interface FreshnessMissing extends FindingFields {
  kind: 'missing';
  /** When a file for the date landed after all; null while none has. */
  arrivedAt: string | null;
}

export interface FreshnessLate extends FindingFields {
  kind: 'late';
}

export interface SourceFreshness {
  dataset: string;
  source: string;
  schedule: FreshnessSchedule;
  lastFile: FreshnessLastFile | null;
  missing: FreshnessMissing[];
  late: FreshnessLate[];
}

export interface FreshnessResponse {
  from: string;
  to: string;
  generatedAt: string;
  sources: SourceFreshness[];
  unscheduled: Array<{ dataset: string; source: string }>;
}

/** One finding as the page lists it. */
export interface FindingRow {
  id: string;
  /** `missing` while no file has come; `missing, arrived later` once one has; `late`. */
  state: 'missing' | 'arrived later' | 'late';
  date: string;
  deadline: string;
  dueBy: string;
  /** When the file landed: a late file's landing, or a missing file's late arrival; null while none has. */
  landedAt: string | null;
  delayMinutes: number;
}

export interface SourceRow {
  key: string;
  dataset: string;
  source: string;
  schedule: string;
  lastFile: FreshnessLastFile | null;
  /** Dates still without a file. */
  open: number;
  findings: FindingRow[];
}

const STATE_RANK: Record<FindingRow['state'], number> = { missing: 0, 'arrived later': 1, late: 2 };

/** Missing dates first, then the longest delay, then the newest date. */
function byWorstFinding(a: FindingRow, b: FindingRow): number {
  return (
    STATE_RANK[a.state] - STATE_RANK[b.state] ||
    b.delayMinutes - a.delayMinutes ||
    b.date.localeCompare(a.date) ||
    a.id.localeCompare(b.id)
  );
}

export function findingRows(view: Pick<SourceFreshness, 'missing' | 'late'>): FindingRow[] {
  const rows: FindingRow[] = [
    ...view.missing.map((m) => ({
      id: m.id,
      state: m.arrivedAt === null ? ('missing' as const) : ('arrived later' as const),
      date: m.date,
      deadline: m.deadline,
      dueBy: m.dueBy,
      landedAt: m.arrivedAt,
      delayMinutes: m.delayMinutes,
    })),
    ...view.late.map((l) => ({
      id: l.id,
      state: 'late' as const,
      date: l.date,
      deadline: l.deadline,
      dueBy: l.dueBy,
      landedAt: l.landedAt,
      delayMinutes: l.delayMinutes,
    })),
  ];
  return rows.sort(byWorstFinding);
}

/** When a file for a data date is due, relative to that date (`lag_days`: 1 the next day, -1 the day before). */
export function lagText(lagDays: number): string {
  if (lagDays === 0) return 'due on the data date';
  const days = Math.abs(lagDays);
  const span = days === 1 ? 'the day' : `${days} days`;
  return `due ${span} ${lagDays > 0 ? 'after' : 'before'} the data date`;
}

/** `daily by 06:00 Europe/London, grace 30 min, due the day after the data date`. */
export function scheduleText(schedule: FreshnessSchedule): string {
  const since = schedule.since ? `, since ${schedule.since}` : '';
  return (
    `${schedule.cadence} by ${schedule.expectedBy} ${schedule.timeZone}, ` +
    `grace ${schedule.graceMinutes === 0 ? 'none' : minutesText(schedule.graceMinutes)}, ${lagText(schedule.lagDays)}${since}`
  );
}

/** A positive span of minutes as `45 min`, `2 h 5 min`, `3 d 4 h`. */
export function minutesText(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

/** Minutes after a deadline; zero or less is on time. */
export function delayText(minutes: number): string {
  if (minutes === 0) return 'on time';
  return minutes < 0 ? `on time (${minutesText(-minutes)} early)` : `${minutesText(minutes)} late`;
}

/** Worst first: most dates still missing, then most findings, then the longest delay, then by name. */
function byWorstSource(a: SourceRow, b: SourceRow): number {
  const worstDelay = (row: SourceRow): number => Math.max(0, ...row.findings.map((f) => f.delayMinutes));
  return (
    b.open - a.open ||
    b.findings.length - a.findings.length ||
    worstDelay(b) - worstDelay(a) ||
    (b.lastFile?.delayMinutes ?? 0) - (a.lastFile?.delayMinutes ?? 0) ||
    a.key.localeCompare(b.key)
  );
}

export function sourceRows(response: Pick<FreshnessResponse, 'sources'>): SourceRow[] {
  return response.sources
    .map((view) => {
      const findings = findingRows(view);
      return {
        key: `${view.dataset}/${view.source}`,
        dataset: view.dataset,
        source: view.source,
        schedule: scheduleText(view.schedule),
        lastFile: view.lastFile,
        open: findings.filter((f) => f.state === 'missing').length,
        findings,
      };
    })
    .sort(byWorstSource);
}

/** The API's query for the page address's range; empty (the API's default window) without one. */
export function freshnessQuery(range: { from: string; to: string } | undefined): string {
  return range ? `?${new URLSearchParams(range).toString()}` : '';
}
