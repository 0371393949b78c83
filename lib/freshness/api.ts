import { z } from 'zod';

import { DATASET_NAMES, type DatasetName } from '../contracts/datasets';
import { DATA_DATE_SOURCES, isCalendarDate, SCHEDULE_CADENCES } from '../contracts/schedule';
import type { SourceContractRegistry } from '../contracts/sources';
import type { LakeStore } from '../lake';
import { describeIssues, invalidRequest } from '../pipeline/runsRequest';
import { landingFoldersFor, listLandedFiles, scheduledSources } from './check';
import { arrivalsByDate, lastFileOf } from './evaluate';
import { freshnessFindingSchema } from './finding';
import { addDays, checkWindow, daysBetween, localDateAt } from './periods';
import { readFindings } from './store';

/**
 * `GET /api/freshness` (functions/runsApi.ts): per scheduled source, its last file and that file's delay,
 * and the missing and late findings the freshness check recorded for data dates in the window. The response
 * schema is exported for the console; it is the API's contract.
 */

export const MAX_FRESHNESS_WINDOW_DAYS = 92;

const isoDate = z.iso.date();
const isoTime = z.iso.datetime();

export const freshnessScheduleViewSchema = z.object({
  cadence: z.enum(SCHEDULE_CADENCES),
  expectedBy: z.string(),
  timeZone: z.string(),
  graceMinutes: z.number().int().nonnegative(),
  lagDays: z.number().int(),
  dataDate: z.enum(DATA_DATE_SOURCES),
  since: isoDate.nullable(),
});

export const freshnessLastFileSchema = z.object({
  path: z.string(),
  /** The latest data date that has arrived (up to the window's end). */
  date: isoDate,
  landedAt: isoTime,
  deadline: isoTime,
  /** Minutes after the deadline; zero or negative: on time. */
  delayMinutes: z.number().int(),
});

export const freshnessMissingSchema = freshnessFindingSchema.extend({
  kind: z.literal('missing'),
  /** When a file for the date landed after all (it then has a late finding too); null while none has. */
  arrivedAt: isoTime.nullable(),
});

export const freshnessLateSchema = freshnessFindingSchema.extend({ kind: z.literal('late') });

export const sourceFreshnessViewSchema = z.object({
  dataset: z.enum(DATASET_NAMES),
  source: z.string(),
  schedule: freshnessScheduleViewSchema,
  lastFile: freshnessLastFileSchema.nullable(),
  missing: z.array(freshnessMissingSchema),
  late: z.array(freshnessLateSchema),
});

export const freshnessResponseSchema = z.object({
  /** The data dates covered, inclusive. */
  from: isoDate,
  to: isoDate,
  generatedAt: isoTime,
  sources: z.array(sourceFreshnessViewSchema),
  /** Source contracts without a schedule: nothing is expected of them. */
  unscheduled: z.array(z.object({ dataset: z.enum(DATASET_NAMES), source: z.string() })),
});

export type FreshnessResponse = z.output<typeof freshnessResponseSchema>;
export type SourceFreshnessView = z.output<typeof sourceFreshnessViewSchema>;

export interface FreshnessQuery {
  from: string;
  to: string;
  dataset?: DatasetName;
  source?: string;
}

const dateValue = z.string().refine(isCalendarDate, {
  error: (issue) => `'${String(issue.input)}' is not a date YYYY-MM-DD`,
});

const querySchema = z.strictObject(
  {
    from: dateValue.optional(),
    to: dateValue.optional(),
    dataset: z
      .enum(DATASET_NAMES, {
        error: (issue) => `'${String(issue.input)}' is not a dataset (one of ${DATASET_NAMES.join(', ')})`,
      })
      .optional(),
    source: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected a source id (lowercase letters, digits, - and _)')
      .optional(),
  },
  { error: 'unknown parameter' },
);

/**
 * The query string: `from` and `to` (data dates, inclusive), `dataset`, `source`. The default window ends
 * tomorrow (UTC; day-ahead prices are due the day before their date) and spans `lookbackDays` + 1 days
 * before it, what the check judges. At most MAX_FRESHNESS_WINDOW_DAYS days.
 */
export function parseFreshnessQuery(
  query: Iterable<[string, string]>,
  now: Date,
  lookbackDays: number,
): FreshnessQuery {
  const values: Record<string, string> = {};
  for (const [key, value] of query) if (key !== 'code') values[key] = value;
  const parsed = querySchema.safeParse(values);
  if (!parsed.success) throw invalidRequest(describeIssues(parsed.error));
  const { from: fromValue, to: toValue, ...filter } = parsed.data;
  const to = toValue ?? addDays(localDateAt('UTC', now.getTime()), 1);
  const from = fromValue ?? addDays(to, -(lookbackDays + 1));
  if (from > to) throw invalidRequest('from: must not be later than to');
  if (daysBetween(from, to) >= MAX_FRESHNESS_WINDOW_DAYS) {
    throw invalidRequest(`from: the window spans at most ${MAX_FRESHNESS_WINDOW_DAYS} days`);
  }
  return { from, to, ...filter };
}

export interface FreshnessReportOptions {
  lake: LakeStore;
  contracts: SourceContractRegistry;
  query: FreshnessQuery;
  now: Date;
}

export async function freshnessReport(options: FreshnessReportOptions): Promise<FreshnessResponse> {
  const { lake, query, now } = options;
  const sources: SourceFreshnessView[] = [];
  for (const { dataset, source, schedule } of scheduledSources(options.contracts, query)) {
    const findings = await readFindings(lake, dataset, source, query.from, query.to);
    const folders = landingFoldersFor(schedule, query.from, now);
    const files = await listLandedFiles(lake, dataset, source, folders.from, folders.to);
    const { arrivals } = arrivalsByDate(schedule, files, now.getTime());
    const due = checkWindow(schedule, now.getTime(), 0).to;
    const arrivedAt = (date: string): string | null => {
      const arrival = arrivals.get(date);
      return arrival ? new Date(arrival.landedAt).toISOString() : null;
    };
    sources.push({
      dataset,
      source,
      schedule: {
        cadence: schedule.cadence,
        expectedBy: schedule.expected_by,
        timeZone: schedule.time_zone,
        graceMinutes: schedule.grace_minutes,
        lagDays: schedule.lag_days,
        dataDate: schedule.data_date,
        since: schedule.since ?? null,
      },
      lastFile: lastFileOf(schedule, arrivals, query.to < due ? query.to : due),
      missing: findings.flatMap((f) =>
        f.kind === 'missing' ? [{ ...f, kind: f.kind, arrivedAt: arrivedAt(f.date) }] : [],
      ),
      late: findings.flatMap((f) => (f.kind === 'late' ? [{ ...f, kind: f.kind }] : [])),
    });
  }
  const unscheduled = options.contracts
    .list(query.dataset)
    .filter((c) => !c.schedule && (query.source === undefined || c.source === query.source))
    .map((c) => ({ dataset: c.dataset, source: c.source }))
    .sort((a, b) => `${a.dataset}/${a.source}`.localeCompare(`${b.dataset}/${b.source}`));
  return { from: query.from, to: query.to, generatedAt: now.toISOString(), sources, unscheduled };
}
