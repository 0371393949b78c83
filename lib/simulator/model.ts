/**
 * Physical models: household/business consumption (daily, weekly and seasonal shape plus noise), rooftop
 * solar export (midday bell, zero at night, cloudiness per day) and day-ahead prices (morning and evening
 * peaks, a solar dip that can turn negative on sunny low-demand days).
 */
import type { Prng } from './prng';
import { dayOfYear, type TimeZone, utcOffsetMinutes, weekday } from './time';

export type Segment = 'residential' | 'sme' | 'industrial';

const bell = (x: number, centre: number, width: number): number =>
  Math.exp(-0.5 * ((x - centre) / width) ** 2);
const ramp = (x: number, from: number, to: number, edge: number): number =>
  1 / (1 + Math.exp(-(x - from) / edge)) - 1 / (1 + Math.exp(-(x - to) / edge));

/** Raw (unnormalised) load shape by local hour, for weekdays and weekends. */
const RAW_SHAPE: Record<Segment, (hour: number, weekend: boolean) => number> = {
  residential: (h, weekend) =>
    0.35 +
    (weekend ? 0.7 * bell(h, 10, 2) : 0.9 * bell(h, 7.5, 1)) +
    0.35 * bell(h, 13, 2) +
    1.5 * bell(h, 19, 1.8),
  sme: (h, weekend) => (weekend ? 0.35 : 0.3 + 1.7 * ramp(h, 8, 18, 0.6)),
  industrial: (h, weekend) => (weekend ? 0.55 : 0.6 + 0.6 * ramp(h, 6, 22, 0.5)),
};

const WEEKLY: Record<Segment, { weekday: number; weekend: number }> = {
  residential: { weekday: 1, weekend: 1.1 },
  sme: { weekday: 1, weekend: 1 },
  industrial: { weekday: 1, weekend: 1 },
};

const SEASONAL_AMPLITUDE: Record<Segment, number> = { residential: 0.3, sme: 0.15, industrial: 0.05 };

/** Mean of each raw shape over a week (5 weekdays, 2 weekend days), so the shapes average to 1. */
const SHAPE_MEAN: Record<Segment, number> = (() => {
  const result = {} as Record<Segment, number>;
  for (const segment of ['residential', 'sme', 'industrial'] as const) {
    let total = 0;
    for (let i = 0; i < 288; i++) {
      const h = (i + 0.5) / 12;
      total += 5 * RAW_SHAPE[segment](h, false) + 2 * RAW_SHAPE[segment](h, true);
    }
    result[segment] = total / (288 * 7);
  }
  return result;
})();

export interface LoadProfile {
  segment: Segment;
  annualKwh: number;
  zone: TimeZone;
  solarKwp: number;
  solarOffsetHours: number;
}

function localClock(zone: TimeZone, utcMs: number): { hour: number; day: number } {
  const local = utcMs + utcOffsetMinutes(zone, utcMs) * 60_000;
  const day = Math.floor(local / 86_400_000);
  return { hour: (local - day * 86_400_000) / 3_600_000, day };
}

/** Expected (noise-free) consumption in kWh for the interval starting at `startMs`. */
export function expectedImportKwh(profile: LoadProfile, startMs: number, minutes: number): number {
  const { hour, day } = localClock(profile.zone, startMs + (minutes / 2) * 60_000);
  const dow = weekday(day);
  const weekend = dow === 0 || dow === 6;
  const shape = RAW_SHAPE[profile.segment](hour, weekend) / SHAPE_MEAN[profile.segment];
  const weekly = weekend ? WEEKLY[profile.segment].weekend : WEEKLY[profile.segment].weekday;
  const seasonal =
    1 + SEASONAL_AMPLITUDE[profile.segment] * Math.cos((2 * Math.PI * (dayOfYear(day) - 15)) / 365.25);
  return (profile.annualKwh / 365) * seasonal * weekly * shape * (minutes / 1440);
}

/** Consumption with multiplicative noise, kWh (never negative). */
export function importKwh(profile: LoadProfile, startMs: number, minutes: number, rng: Prng): number {
  const noise = Math.max(0.05, 1 + 0.18 * rng.normal());
  return expectedImportKwh(profile, startMs, minutes) * noise;
}

/** Clear-sky solar output as a fraction of capacity at `utcMs` (0 at night), for a site near 52°N. */
export function solarFraction(utcMs: number, solarOffsetHours: number): number {
  const dayNumber = Math.floor(utcMs / 86_400_000);
  const doy = dayOfYear(dayNumber);
  const solarHour = ((utcMs / 3_600_000) % 24) + solarOffsetHours;
  const dayLength = 12 + 4.3 * Math.sin((2 * Math.PI * (doy - 80)) / 365.25);
  const sunrise = 12 - dayLength / 2;
  if (solarHour <= sunrise || solarHour >= sunrise + dayLength) return 0;
  const peak = 0.45 + 0.3 * Math.sin((2 * Math.PI * (doy - 80)) / 365.25);
  return peak * Math.sin((Math.PI * (solarHour - sunrise)) / dayLength) ** 1.5;
}

/** Energy exported in the interval (generation not used on site), kWh; 0 at night. */
export function exportKwh(
  profile: LoadProfile,
  startMs: number,
  minutes: number,
  cloudiness: number,
  importedKwh: number,
  rng: Prng,
): number {
  const mid = startMs + (minutes / 2) * 60_000;
  const fraction = solarFraction(mid, profile.solarOffsetHours);
  if (fraction <= 0) return 0;
  const generated = profile.solarKwp * fraction * (1 - 0.8 * cloudiness) * (minutes / 60);
  const flicker = Math.max(0, 1 + 0.1 * rng.normal());
  return Math.max(0, generated * flicker - 0.5 * importedKwh);
}

/** Cloudiness of one day, 0 (clear) to 1 (overcast). */
export function dailyCloudiness(rng: Prng): number {
  return Math.min(1, Math.max(0, rng.next() ** 0.8));
}

export const PRICE_LEVEL_EUR_MWH: Record<string, number> = { GB: 92, 'DE-LU': 86, NL: 89 };

export interface PriceDay {
  level: number;
  /** Depth of the midday solar dip, EUR/MWh. */
  solarDip: number;
}

/** Draws the daily parameters of a zone's price curve. */
export function priceDay(zone: string, day: number, rng: Prng): PriceDay {
  const doy = dayOfYear(day);
  const summer = 0.5 + 0.5 * Math.sin((2 * Math.PI * (doy - 80)) / 365.25);
  const dow = weekday(day);
  const weekend = dow === 0 || dow === 6;
  const level = (PRICE_LEVEL_EUR_MWH[zone] ?? 90) * (weekend ? 0.85 : 1) * (1 + 0.15 * rng.normal());
  const sunny = rng.chance(0.15 + 0.25 * summer + (weekend ? 0.15 : 0));
  const solarDip = (10 + 40 * summer) * (sunny ? 2.2 + rng.next() : 0.3 + 0.5 * rng.next());
  return { level, solarDip };
}

/** Day-ahead price in EUR/MWh for one delivery interval (can be negative). */
export function price(day: PriceDay, zone: TimeZone, startMs: number, minutes: number, rng: Prng): number {
  const local = startMs + utcOffsetMinutes(zone, startMs) * 60_000 + (minutes / 2) * 60_000;
  const hour = (local % 86_400_000) / 3_600_000;
  const shape = 0.8 + 0.25 * bell(hour, 8, 1.5) + 0.45 * bell(hour, 19, 1.8) - 0.1 * bell(hour, 3.5, 2);
  const value = day.level * shape - day.solarDip * bell(hour, 13, 2.3) + 3 * rng.normal();
  return Math.round(value * 100) / 100;
}
