import type { SourceContract } from '../contracts/sources';
import type { ColumnBatch } from '../formats/parquet/columnBatch';
import type { ValueConverter } from './convert';
import type { MeterSeries } from './series';
import type { ZoneResolver } from './timestamps';
import { DAY, describe, isMultipleOf, MINUTE, type RowErrors } from './values';

const MIN_TIME = Date.UTC(2000, 0, 1);
const MAX_TIME = Date.UTC(2100, 0, 1);
const METER_FUTURE_GRACE_MS = 60 * MINUTE;
const PRICE_FUTURE_LIMIT_MS = 3 * DAY;
const PRICE_MIN = -500;
const PRICE_MAX = 4000;
/** Default ceiling: a 100 kW connection running flat out for the interval. */
const DEFAULT_MAX_KW = 100;
const ALLOWED_RESOLUTIONS = new Set([15, 60]);

/** The dataset rules that look at several columns of a converted row (docs/validation.md). */
export class RowRules {
  private readonly ceilingKwhPerMinute: number;
  private readonly nowMs: number;
  private readonly landedAtMs: number;
  /** Readings whose interval ended before this are too old (late_readings), or -Infinity. */
  private readonly oldestEndMs: number;
  private readonly fail: RowErrors['fail'];
  private readonly meterColumn: number;
  private readonly channelColumn: number;
  private readonly startColumn: number;
  private readonly minutesColumn: number;
  private readonly kwhColumn: number;

  constructor(
    private readonly contract: SourceContract,
    private readonly batch: ColumnBatch,
    private readonly columnIndex: Readonly<Record<string, number>>,
    private readonly errors: RowErrors,
    private readonly zone: ZoneResolver,
    private readonly converter: ValueConverter,
    private readonly series: MeterSeries,
    times: { now: Date; landedAt: Date },
    private readonly onAmbiguousResolved: () => void,
  ) {
    const maxKwh = contract.max_kwh_per_interval;
    this.ceilingKwhPerMinute =
      maxKwh !== undefined && contract.interval_minutes !== undefined
        ? maxKwh / contract.interval_minutes
        : maxKwh !== undefined
          ? maxKwh / 30
          : DEFAULT_MAX_KW / 60;
    this.nowMs = times.now.getTime();
    this.landedAtMs = times.landedAt.getTime();
    const maxAgeDays = contract.late_readings?.max_age_days;
    this.oldestEndMs =
      maxAgeDays === undefined ? Number.NEGATIVE_INFINITY : this.landedAtMs - maxAgeDays * DAY;
    this.fail = errors.fail.bind(errors);
    // Meter-readings columns (-1 in other datasets, whose rules look them up by name).
    this.meterColumn = columnIndex.meter_id ?? -1;
    this.channelColumn = columnIndex.channel ?? -1;
    this.startColumn = columnIndex.interval_start ?? -1;
    this.minutesColumn = columnIndex.interval_minutes ?? -1;
    this.kwhColumn = columnIndex.kwh ?? -1;
  }

  /**
   * The interval start of a converted row: moved to the start of its interval when the source marks ends,
   * checked against the interval grid of the source's wall clock (`fromWallClock`: long layouts; wide
   * layouts compute their starts from the grid) and against the plausible range.
   */
  private checkIntervalStart(row: number, minutes: number, fromWallClock: boolean): number | undefined {
    const column = this.batch.numbers[this.columnIndex.interval_start!]!;
    let start = column[row]!;
    if (fromWallClock) {
      if (this.contract.timestamp.marks === 'end') start -= minutes * MINUTE;
      column[row] = start;
      const wallMs = this.converter.intervalWallMs;
      if (!isMultipleOf(Math.floor(wallMs / MINUTE), minutes) || !isMultipleOf(wallMs, MINUTE)) {
        this.errors.fail(
          'TIMESTAMP_MISALIGNED',
          `interval start is not on a ${minutes}-minute boundary`,
          'interval_start',
        );
        return undefined;
      }
    }
    if (start < MIN_TIME || start >= MAX_TIME) {
      this.errors.fail(
        'TIMESTAMP_OUT_OF_RANGE',
        `${new Date(start).toISOString()} is outside 2000-2100`,
        'interval_start',
      );
      return undefined;
    }
    return start;
  }

  /** The meter-readings rules (docs/validation.md). */
  private checkReading(row: number): boolean {
    const fail = this.fail;
    const { numbers, strings } = this.batch;
    const wide = this.contract.layout.kind === 'wide';
    const minutes = numbers[this.minutesColumn]![row]!;
    if (!wide) {
      const ambiguousWall = this.converter.takeAmbiguousWall();
      if (ambiguousWall !== undefined) {
        // Fall-back overlap: the first reading of a wall-clock time is the earlier instant, a second
        // reading of the same meter, channel and wall time is the later one (docs/validation.md).
        if (
          this.series.seenAmbiguous(
            strings[this.meterColumn]![row],
            strings[this.channelColumn]![row],
            ambiguousWall,
          )
        ) {
          const later = this.zone.laterOf(ambiguousWall);
          if (later !== undefined) numbers[this.startColumn]![row] = later;
        }
        this.onAmbiguousResolved();
      }
    }
    const start = this.checkIntervalStart(row, minutes, !wide);
    if (start === undefined) return false;
    if (start + minutes * MINUTE > this.nowMs + METER_FUTURE_GRACE_MS) {
      return fail(
        'TIMESTAMP_IN_FUTURE',
        `interval ${new Date(start).toISOString()} has not ended yet`,
        'interval_start',
      );
    }
    const end = start + minutes * MINUTE;
    if (end < this.oldestEndMs) {
      const ageDays = Math.floor((this.landedAtMs - end) / DAY);
      return fail(
        'READING_TOO_OLD',
        `interval ${new Date(start).toISOString()} ended ${ageDays} days before the file landed; this source accepts ${this.contract.late_readings!.max_age_days} (late_readings.max_age_days)`,
        'interval_start',
      );
    }
    const kwh = numbers[this.kwhColumn]![row]!;
    if (kwh < 0)
      return fail(
        'NEGATIVE_VALUE',
        `${strings[this.channelColumn]![row]} energy ${kwh} kWh is negative`,
        'kwh',
      );
    const ceiling = this.ceilingKwhPerMinute * minutes;
    if (kwh > ceiling) {
      return fail(
        'VALUE_ABOVE_CEILING',
        `${kwh} kWh is above the ${ceiling} kWh ceiling for ${minutes} minutes`,
        'kwh',
      );
    }
    return true;
  }

  /** Dataset rules that look at several columns of a converted row. */
  check(row: number): boolean {
    // Meter readings are nearly every row the engine sees: their rules read the columns without closures.
    if (this.contract.dataset === 'meter_readings') return this.checkReading(row);
    const fail = this.fail;
    const n = (name: string): number => this.batch.numbers[this.columnIndex[name]!]![row]!;
    const s = (name: string): string | null | undefined => this.batch.strings[this.columnIndex[name]!]![row];
    const isNull = (name: string): boolean => {
      const c = this.columnIndex[name]!;
      const strings = this.batch.strings[c];
      return strings ? strings[row] === null : this.batch.nulls[c]?.[row] === 1;
    };
    switch (this.contract.dataset) {
      case 'prices': {
        const minutes = n('resolution_minutes');
        if (!ALLOWED_RESOLUTIONS.has(minutes))
          return fail('INVALID_INTERVAL', `resolution ${minutes} is not 15 or 60`, 'resolution_minutes');
        const start = this.checkIntervalStart(row, minutes, true);
        if (start === undefined) return false;
        if (start > this.nowMs + PRICE_FUTURE_LIMIT_MS) {
          return fail(
            'TIMESTAMP_IN_FUTURE',
            `delivery ${new Date(start).toISOString()} is more than 3 days ahead`,
            'interval_start',
          );
        }
        const price = n('price_eur_per_mwh');
        if (price < PRICE_MIN || price > PRICE_MAX) {
          return fail(
            'PRICE_OUT_OF_RANGE',
            `${price} EUR/MWh is outside ${PRICE_MIN} to ${PRICE_MAX}`,
            'price_eur_per_mwh',
          );
        }
        return true;
      }
      case 'contracts': {
        const type = s('tariff_type');
        const need: Record<string, string[]> = {
          fixed: ['unit_rate_eur_per_kwh'],
          time_of_use: [
            'peak_rate_eur_per_kwh',
            'offpeak_rate_eur_per_kwh',
            'peak_start_local',
            'peak_end_local',
          ],
          dynamic: ['spot_markup_eur_per_kwh'],
        };
        const missing = (need[type ?? ''] ?? []).filter(isNull);
        if (missing.length > 0)
          return fail('TARIFF_INCOMPLETE', `a ${type} tariff needs ${missing.join(', ')}`, missing[0]);
        try {
          new Intl.DateTimeFormat('en-GB', { timeZone: s('tariff_timezone') ?? '' });
        } catch {
          return fail(
            'INVALID_TIMEZONE',
            `'${describe(s('tariff_timezone'))}' is not an IANA zone`,
            'tariff_timezone',
          );
        }
        if (!isNull('valid_to') && n('valid_to') <= n('valid_from')) {
          return fail('INVALID_VALIDITY', 'valid_to is not after valid_from', 'valid_to');
        }
        return true;
      }
      case 'customers':
        return true;
    }
  }
}
