import { z } from 'zod';

/**
 * When a source's files are expected: the optional `schedule` of a source contract (docs/sources.md
 * "Delivery schedule"). The freshness check (lib/freshness, functions/freshnessCheck.ts) records a data date
 * whose file has not landed by its deadline plus grace as `missing`, and one that landed after it as `late`.
 *
 * The schedule belongs to the contract, that is to one (dataset, source) pair, because that is the unit that
 * arrives: one landing folder written by one feed. Two datasets of one system (the billing system's contract
 * versions, the CRM's customers) are separate extracts with their own timing, and a day-ahead price file and
 * a meter-reading file of the same day are due at different hours.
 *
 * Only `daily` exists. `cadence` is the field later cadences (hourly, weekly) extend: each brings its own
 * period (an hour, an ISO week) and deadline rule in lib/freshness/periods.ts; the finding keys stay
 * (dataset, source, period, kind).
 */

export const SCHEDULE_CADENCES = ['daily'] as const;
export type ScheduleCadence = (typeof SCHEDULE_CADENCES)[number];

/** Where a landed file's data date is read. */
export const DATA_DATE_SOURCES = ['file_name', 'landing_folder'] as const;
export type DataDateSource = (typeof DATA_DATE_SOURCES)[number];

/** A week: longer than that, a file is not late but lost, and the check's look-back would not see it. */
export const MAX_GRACE_MINUTES = 7 * 24 * 60;
export const MIN_LAG_DAYS = -7;
export const MAX_LAG_DAYS = 31;

const ISO_HOURS_MINUTES = /^PT(?:(\d{1,4})H)?(?:(\d{1,6})M)?$/;

/**
 * Minutes of a grace given as whole minutes or as an ISO 8601 duration of hours and minutes (`PT30M`,
 * `PT2H`, `PT1H30M`); undefined when it is neither. Days are refused on purpose: a grace is elapsed time,
 * and a calendar day lasts 23 or 25 hours on daylight-saving days.
 */
export function graceMinutes(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = ISO_HOURS_MINUTES.exec(value.trim());
  if (!match || (match[1] === undefined && match[2] === undefined)) return undefined;
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}

/** Whether `day` is a real calendar day written YYYY-MM-DD. */
export function isCalendarDate(day: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return false;
  const time = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === day;
}

/** An IANA time zone name the runtime knows (Intl), e.g. `Europe/London`. */
export const ianaZone = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected an IANA time zone such as UTC or Europe/London' },
);

const grace = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const minutes = graceMinutes(value);
  if (minutes === undefined) {
    ctx.addIssue({
      code: 'custom',
      message:
        'expected whole minutes (30) or an ISO 8601 duration in hours and minutes (PT30M, PT2H, PT1H30M); no days: a day has 23 or 25 hours on DST days',
    });
    return z.NEVER;
  }
  if (minutes > MAX_GRACE_MINUTES) {
    ctx.addIssue({ code: 'custom', message: `at most ${MAX_GRACE_MINUTES} minutes (PT168H, a week)` });
    return z.NEVER;
  }
  return minutes;
});

export const sourceScheduleSchema = z
  .strictObject({
    cadence: z.enum(SCHEDULE_CADENCES, {
      error: (issue) =>
        `'${String(issue.input)}' is not a supported cadence (supported: ${SCHEDULE_CADENCES.join(', ')})`,
    }),
    /** Local wall-clock time on the delivery day by which the file is expected. */
    expected_by: z
      .string({ error: 'expected a local time HH:MM' })
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a local time HH:MM from 00:00 to 23:59'),
    /** The zone `expected_by` and the delivery day are read in. */
    time_zone: ianaZone,
    /** How long after `expected_by` a file still counts as on time. */
    grace: grace.default(0),
    /**
     * Days from the data date to the day its file is due: 1 (the next day, the default), 0 (the same day),
     * -1 (the day before: day-ahead prices for delivery day D are due on D-1).
     */
    lag_days: z
      .number()
      .int('expected a whole number of days')
      .min(MIN_LAG_DAYS, `at least ${MIN_LAG_DAYS}`)
      .max(MAX_LAG_DAYS, `at most ${MAX_LAG_DAYS}`)
      .default(1),
    /**
     * `file_name`: the first YYYY-MM-DD in the file's name (`readings_2025-09-28.csv`); `landing_folder`:
     * the {yyyy}/{mm}/{dd} folders, for sources that file their deliveries under the data date.
     */
    data_date: z
      .enum(DATA_DATE_SOURCES, {
        error: (issue) =>
          `'${String(issue.input)}' is not a data date source (one of ${DATA_DATE_SOURCES.join(', ')})`,
      })
      .default('file_name'),
    /** First data date a file is expected for (onboarding day); earlier days are never missing. */
    since: z.string().refine(isCalendarDate, { message: 'expected a calendar date YYYY-MM-DD' }).optional(),
  })
  .transform(({ grace: minutes, ...rest }) => ({ ...rest, grace_minutes: minutes }));

export type SourceSchedule = z.output<typeof sourceScheduleSchema>;
