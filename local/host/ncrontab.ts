/**
 * NCRONTAB schedules as Azure Functions timer triggers read them: six fields
 * `{second} {minute} {hour} {day} {month} {day-of-week}`, evaluated in UTC. Each field takes `*`, numbers,
 * ranges `a-b`, steps `*\/n`, `a/n` and `a-b/n`, and comma lists; months and days of the week also take
 * three-letter names. Day-of-week 0 and 7 are Sunday. As in NCrontab, an occurrence must match both the
 * day-of-month and the day-of-week field. A TimeSpan (`hh:mm:ss` or `d.hh:mm:ss`) schedule means "every
 * interval".
 */
export interface Schedule {
  readonly expression: string;
  /** The first occurrence strictly after `after` (ms since epoch). */
  next(after: number): number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  nameBase?: number;
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day-of-week', min: 0, max: 7, names: DAYS, nameBase: 0 },
];

export class ScheduleError extends Error {}

function parseValue(text: string, spec: FieldSpec, expression: string): number {
  const lower = text.toLowerCase();
  const named = spec.names?.indexOf(lower) ?? -1;
  if (named >= 0) return named + (spec.nameBase ?? 0);
  if (!/^\d+$/.test(text)) throw new ScheduleError(`${expression}: '${text}' is not a valid ${spec.name}`);
  const value = Number(text);
  if (value < spec.min || value > spec.max) {
    throw new ScheduleError(`${expression}: ${spec.name} ${value} is outside ${spec.min}-${spec.max}`);
  }
  return value;
}

function parseField(text: string, spec: FieldSpec, expression: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [rangeText, stepText, extra] = part.split('/');
    if (rangeText === undefined || rangeText === '' || extra !== undefined) {
      throw new ScheduleError(`${expression}: '${part}' is not a valid ${spec.name}`);
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new ScheduleError(`${expression}: step '${stepText}' in the ${spec.name} field is not valid`);
      }
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (rangeText === '*') {
      from = spec.min;
      to = spec.name === 'day-of-week' ? 6 : spec.max;
    } else if (rangeText.includes('-')) {
      const [a, b] = rangeText.split('-');
      from = parseValue(a ?? '', spec, expression);
      to = parseValue(b ?? '', spec, expression);
      if (from > to) throw new ScheduleError(`${expression}: range '${rangeText}' runs backwards`);
    } else {
      from = parseValue(rangeText, spec, expression);
      to = stepText === undefined ? from : spec.name === 'day-of-week' ? 6 : spec.max;
    }
    for (let v = from; v <= to; v += step) values.add(spec.name === 'day-of-week' && v === 7 ? 0 : v);
  }
  return values;
}

function parseTimeSpan(expression: string): number | undefined {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(expression.trim());
  if (!match) return undefined;
  const [, d, h, m, s] = match;
  const ms = (((Number(d ?? 0) * 24 + Number(h)) * 60 + Number(m)) * 60 + Number(s)) * 1000;
  if (ms <= 0) throw new ScheduleError(`${expression}: an interval must be positive`);
  return ms;
}

export function parseSchedule(expression: string): Schedule {
  const interval = parseTimeSpan(expression);
  if (interval !== undefined) {
    return { expression, next: (after) => (Math.floor(after / interval) + 1) * interval };
  }
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 6) {
    throw new ScheduleError(
      `${expression}: an NCRONTAB schedule has six fields ({second} {minute} {hour} {day} {month} {day-of-week}), got ${parts.length}`,
    );
  }
  const [seconds, minutes, hours, days, months, weekdays] = parts.map((p, i) =>
    parseField(p, FIELDS[i]!, expression),
  ) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  const sorted = (set: Set<number>): number[] => [...set].sort((a, b) => a - b);
  const secondList = sorted(seconds);
  const minuteList = sorted(minutes);
  const hourList = sorted(hours);
  return {
    expression,
    next(after: number): number {
      const start = Math.floor(after / 1000) * 1000 + 1000;
      const base = new Date(start);
      // Walk days (up to eight years, to cover leap-day schedules), then the times within a matching day.
      const dayStart = Date.UTC(base.getUTCFullYear(), base.getUTCMonth(), base.getUTCDate());
      for (let d = 0; d < 366 * 8; d++) {
        const day = new Date(dayStart + d * 86_400_000);
        if (
          !months.has(day.getUTCMonth() + 1) ||
          !days.has(day.getUTCDate()) ||
          !weekdays.has(day.getUTCDay())
        ) {
          continue;
        }
        for (const h of hourList) {
          for (const m of minuteList) {
            for (const s of secondList) {
              const at = day.getTime() + ((h * 60 + m) * 60 + s) * 1000;
              if (at >= start) return at;
            }
          }
        }
      }
      throw new ScheduleError(`${expression}: the schedule never occurs`);
    },
  };
}
