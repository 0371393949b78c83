import { parseSchedule, ScheduleError } from '../../../local/host/ncrontab';

const at = (iso: string): number => Date.parse(iso);
const next = (expression: string, after: string): string =>
  new Date(parseSchedule(expression).next(at(after))).toISOString();

describe('NCRONTAB schedules', () => {
  it('when a step is given for minutes, then the next occurrence is the next multiple', () => {
    expect(next('0 */5 * * * *', '2026-01-01T10:07:30Z')).toBe('2026-01-01T10:10:00.000Z');
  });

  it('when the time is exactly on an occurrence, then the next one is strictly later', () => {
    expect(next('0 */5 * * * *', '2026-01-01T10:10:00Z')).toBe('2026-01-01T10:15:00.000Z');
  });

  it('when a daily time has passed today, then the occurrence is tomorrow', () => {
    expect(next('0 15 13 * * *', '2026-03-05T14:00:00Z')).toBe('2026-03-06T13:15:00.000Z');
  });

  it('when days of the week are named, then only those days match', () => {
    // 2026-01-01 is a Thursday.
    expect(next('0 0 9 * * Mon-Fri', '2026-01-02T10:00:00Z')).toBe('2026-01-05T09:00:00.000Z');
  });

  it('when a month name and a day are given, then the yearly occurrence is found', () => {
    expect(next('30 0 0 29 Feb *', '2026-01-01T00:00:00Z')).toBe('2028-02-29T00:00:30.000Z');
  });

  it('when day-of-week is 7, then it means Sunday', () => {
    expect(next('0 0 0 * * 7', '2026-01-01T00:00:00Z')).toBe('2026-01-04T00:00:00.000Z');
  });

  it('when a TimeSpan is given, then it fires every interval', () => {
    expect(next('00:10:00', '2026-01-01T00:05:00Z')).toBe('2026-01-01T00:10:00.000Z');
  });

  it('when a schedule has five fields, then it is rejected naming the six expected', () => {
    expect(() => parseSchedule('*/5 * * * *')).toThrow(ScheduleError);
    expect(() => parseSchedule('*/5 * * * *')).toThrow(/six fields/);
  });

  it('when a value is out of range, then it is rejected naming the field', () => {
    expect(() => parseSchedule('0 61 * * * *')).toThrow(/minute 61 is outside 0-59/);
  });
});
