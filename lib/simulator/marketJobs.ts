/**
 * The market-format files, each opt-in (options `nem12`, `mscons`, `espi`): one file per format and data
 * day, delivered the next day, holding that format's share of the meters (`meterSources` in sources.ts).
 * Planned after every other file and each from a values stream of its own (`values`, source, day), so they
 * leave every other stream untouched; they are not among the files late delivery draws from and carry no
 * defects (no manifest defect records, no truth lines): each holds exactly the simulated readings.
 *
 * | format   | source        | file                            | day (data date D)                        |
 * |----------|---------------|---------------------------------|------------------------------------------|
 * | NEM12    | `nem12`       | `nem12_{D}.csv`                 | AEST market day, 30 minutes              |
 * | MSCONS   | `mscons`      | `mscons_{D}.edi`                | German market day (Europe/Berlin), 15/60 |
 * | ESPI     | `greenbutton` | `greenbutton_{D}.xml`           | UTC day, the run's interval              |
 */
import type { Meter } from './entities';
import { renderEspi } from './espi';
import { type FileJob, job, type RenderSinks } from './jobs';
import { renderMscons } from './mscons';
import { marketDayBounds, NEM12_INTERVALS_PER_DAY, renderNem12 } from './nem12';
import type { SimulationOptions } from './options';
import { Prng } from './prng';
import { meterDayReadings, type Reading } from './readings';
import {
  ESPI_SOURCE,
  type MarketSource,
  MSCONS_MARKET_ZONE,
  MSCONS_SOURCE,
  msconsMinutes,
  NEM12_INTERVAL_MINUTES,
  NEM12_SOURCE,
} from './sources';
import { DAY_MS, formatDay, localDayBounds } from './time';

/** One market format: its file of a day and how its lines are rendered. */
interface MarketLayout {
  source: MarketSource;
  format: FileJob['format'];
  /** The file name of data date `date`. */
  name(date: string): string;
  /** Readings per data row: 48 per NEM12 300 record, 1 per MSCONS QTY or ESPI IntervalReading. */
  valuesPerRow: number;
  /** UTC bounds [start, end) of the day the file of data day `day` holds. */
  bounds(day: number): { start: number; end: number };
  minutes: number;
  /** Whether the readings include substituted ranges (NEM12 flags them; the others write true values). */
  substituted: boolean;
  render(readings: Iterable<Reading>, ctx: MarketContext): Iterable<string>;
}

/** What a renderer is told of its file: the data day, the delivery day, the interval, where rows are told. */
interface MarketContext {
  day: number;
  deliveryDay: number;
  minutes: number;
  row?: () => void;
}

function marketLayouts(options: SimulationOptions): MarketLayout[] {
  const layouts: MarketLayout[] = [];
  if (options.nem12 === true)
    layouts.push({
      source: NEM12_SOURCE,
      format: 'nem12',
      name: (date) => `nem12_${date}.csv`,
      valuesPerRow: NEM12_INTERVALS_PER_DAY,
      bounds: marketDayBounds,
      minutes: NEM12_INTERVAL_MINUTES,
      substituted: true,
      render: renderNem12,
    });
  if (options.mscons === true)
    layouts.push({
      source: MSCONS_SOURCE,
      format: 'mscons',
      name: (date) => `mscons_${date}.edi`,
      valuesPerRow: 1,
      bounds: (day) => localDayBounds(MSCONS_MARKET_ZONE, day),
      minutes: msconsMinutes(options.interval),
      substituted: false,
      render: renderMscons,
    });
  if (options.espi === true)
    layouts.push({
      source: ESPI_SOURCE,
      format: 'espi_xml',
      name: (date) => `greenbutton_${date}.xml`,
      valuesPerRow: 1,
      bounds: (day) => ({ start: day * DAY_MS, end: (day + 1) * DAY_MS }),
      minutes: options.interval,
      substituted: false,
      render: renderEspi,
    });
  return layouts;
}

/** The files of every market format the run asks for, one per format and data day of the run. */
export function marketJobs(
  options: SimulationOptions,
  allMeters: readonly Meter[],
  firstDay: number,
  lastDay: number,
): FileJob[] {
  const jobs: FileJob[] = [];
  for (const layout of marketLayouts(options)) {
    const meters = allMeters.filter((m) => m.source === layout.source);
    if (meters.length === 0) continue;
    for (let day = firstDay; day <= lastDay; day++) {
      const { start, end } = layout.bounds(day);
      const render = (sinks: RenderSinks): Iterable<string> =>
        layout.render(
          meterDayReadings(
            meters,
            start,
            end,
            layout.minutes,
            Prng.derive(options.seed, 'values', layout.source, day),
            layout.substituted,
          ),
          {
            day,
            deliveryDay: day + 1,
            minutes: layout.minutes,
            ...(sinks.row === undefined ? {} : { row: sinks.row }),
          },
        );
      jobs.push(
        job({
          name: layout.name(formatDay(day)),
          dataset: 'meter_readings',
          source: layout.source,
          dataDay: day,
          deliveryDay: day + 1,
          format: layout.format,
          compression: 'none',
          headerLines: layout.format === 'nem12' ? 1 : 0,
          valuesPerRow: layout.valuesPerRow,
          rowsFrom: 'reported',
          content: { kind: 'lines', render },
        }),
      );
    }
  }
  return jobs;
}
