/**
 * Plans a simulation: which files land where, with what content (as lazy line generators) and which
 * file-level defects. Pure: no I/O. The writer streams each job's lines to disk.
 */
import {
  renderHeadendWrongHeader,
  renderHtmlLoginPage,
  renderWideWrongHeader,
  truncatedGzipFeed,
} from './badFiles';
import { defect, DefectKind } from './defects';
import { BIDDING_ZONE_TIME_ZONE, BIDDING_ZONES, buildWorld, type Meter, type World } from './entities';
import { type FileJob, job, landingPath, type RenderSinks } from './jobs';
import { FEED_LAYOUT, HEADEND_LAYOUT, renderLong } from './longLayouts';
import { marketJobs } from './marketJobs';
import type { SimulationOptions } from './options';
import { Prng } from './prng';
import { type Channel, meterDayReadings, type RenderContext } from './readings';
import { renderContracts, renderCustomers, renderPrices } from './reference';
import {
  dayDefectRng,
  drawSeriesPlan,
  FILL_LAG_DAYS,
  isLateFilled,
  type SeriesPlan,
  seriesRng,
  withDayDefects,
} from './series';
import { meterSources, READING_SOURCES, type ReadingSource, SOURCE_IDS } from './sources';
import { DAY_MS, formatDay, localDayBounds, parseIsoDate } from './time';
import { renderWide, wideMeterDays } from './wideLayout';

export type { FileContent, FileJob, RenderSinks } from './jobs';
export { landingPath } from './jobs';

export interface SimulationPlan {
  options: SimulationOptions;
  firstDay: number;
  lastDay: number;
  world: World;
  jobs: FileJob[];
}

/** What one reading source's file of one data day looks like, and how its lines are rendered. */
interface ReadingLayout {
  file: Pick<FileJob, 'dataset' | 'source' | 'format' | 'compression' | 'headerLines' | 'valuesPerRow'>;
  /** File name of the day, with `suffix` before the extension. */
  name(suffix: string): string;
  /** The day's interval grid, for drawing series defects. */
  series: Parameters<typeof drawSeriesPlan>[1];
  /** The file's lines, with only the readings `keep` accepts (wide layout: whole meter-day rows). */
  render(ctx: RenderContext, keep: ReadingFilter): Iterable<string>;
}

type ReadingFilter = (meterId: string, channel: Channel, startMs: number) => boolean;

function readingLayout(
  source: ReadingSource,
  options: SimulationOptions,
  meters: readonly Meter[],
  day: number,
): ReadingLayout {
  const date = formatDay(day);
  const common = { dataset: 'meter_readings' as const, source };
  if (source === 'uk_hh_wide') {
    const { start, end } = localDayBounds('Europe/London', day);
    const periods = Math.round((end - start) / 1_800_000);
    return {
      file: { ...common, format: 'csv', compression: 'none', headerLines: 1, valuesPerRow: periods },
      name: (suffix) => `hh_${date}${suffix}.csv`,
      series: { startMs: start, intervals: periods, minutes: 30, wholeDayFills: true },
      render: (ctx, keep) =>
        renderWide(
          filter(wideMeterDays(meters, day, ctx.values), (d) => keep(d.meter.meter_id, 'import', start)),
          day,
          ctx,
        ),
    };
  }
  const utcStart = day * DAY_MS;
  const feed = source === 'smartfeed';
  const minutes = options.interval;
  return {
    file: feed
      ? { ...common, format: 'ndjson', compression: 'gzip', headerLines: 0, valuesPerRow: 1 }
      : { ...common, format: 'csv', compression: 'none', headerLines: 1, valuesPerRow: 1 },
    name: (suffix) => (feed ? `feed_${date}${suffix}.ndjson.gz` : `readings_${date}${suffix}.csv`),
    series: { startMs: utcStart, intervals: DAY_MS / (minutes * 60_000), minutes, wholeDayFills: false },
    render: (ctx, keep) =>
      renderLong(
        feed ? FEED_LAYOUT : HEADEND_LAYOUT,
        filter(meterDayReadings(meters, utcStart, utcStart + DAY_MS, minutes, ctx.values, feed), (r) =>
          keep(r.meter.meter_id, r.channel, r.startMs),
        ),
        ctx,
      ),
  };
}

function* filter<T>(items: Iterable<T>, keep: (item: T) => boolean): Generator<T> {
  for (const item of items) if (keep(item)) yield item;
}

/** Builds the full file plan of a run. */
export function planSimulation(options: SimulationOptions): SimulationPlan {
  const firstDay = parseIsoDate(options.start);
  if (firstDay === undefined) throw new Error(`invalid start date ${options.start}`);
  const lastDay = firstDay + options.days - 1;
  const { seed, defects: rate } = options;
  const world = buildWorld(seed, options.meters, firstDay, lastDay, meterSources(options));
  const jobs: FileJob[] = [];

  // Reference data: full extracts on the first day, then one delta per day with changes, delivered next day.
  jobs.push(
    job({
      name: `customers_full_${formatDay(firstDay)}.csv`,
      dataset: 'customers',
      source: SOURCE_IDS.customers,
      dataDay: firstDay,
      deliveryDay: firstDay,
      format: 'csv',
      compression: 'none',
      headerLines: 1,
      content: { kind: 'lines', render: () => renderCustomers(world.customers) },
    }),
    job({
      name: `contracts_full_${formatDay(firstDay)}.csv`,
      dataset: 'contracts',
      source: SOURCE_IDS.contracts,
      dataDay: firstDay,
      deliveryDay: firstDay,
      format: 'csv',
      compression: 'none',
      headerLines: 1,
      content: { kind: 'lines', render: () => renderContracts(world.contracts) },
    }),
  );
  for (let day = firstDay + 1; day <= lastDay; day++) {
    const customerRecords = world.customerChanges.filter((c) => c.day === day).map((c) => c.record);
    if (customerRecords.length > 0) {
      jobs.push(
        job({
          name: `customers_delta_${formatDay(day)}.csv`,
          dataset: 'customers',
          source: SOURCE_IDS.customers,
          dataDay: day,
          deliveryDay: day + 1,
          format: 'csv',
          compression: 'none',
          headerLines: 1,
          content: { kind: 'lines', render: () => renderCustomers(customerRecords) },
        }),
      );
    }
    const contractRecords = world.contractChanges
      .filter((c) => c.day === day)
      .flatMap((c) => [c.closed, c.opened]);
    if (contractRecords.length > 0) {
      jobs.push(
        job({
          name: `contracts_delta_${formatDay(day)}.csv`,
          dataset: 'contracts',
          source: SOURCE_IDS.contracts,
          dataDay: day,
          deliveryDay: day + 1,
          format: 'csv',
          compression: 'none',
          headerLines: 1,
          content: { kind: 'lines', render: () => renderContracts(contractRecords) },
        }),
      );
    }
  }

  // Day-ahead prices: one file per zone and delivery day, published the day before.
  for (let day = firstDay; day <= lastDay; day++) {
    for (const zone of BIDDING_ZONES) {
      const zoneTime = BIDDING_ZONE_TIME_ZONE[zone] ?? 'UTC';
      jobs.push(
        job({
          name: `dayahead_${zone}_${formatDay(day)}.csv`,
          dataset: 'prices',
          source: SOURCE_IDS.prices,
          dataDay: day,
          deliveryDay: day - 1,
          format: 'csv',
          compression: 'none',
          headerLines: 1,
          content: {
            kind: 'lines',
            render: () => renderPrices(zone, zoneTime, day, Prng.derive(seed, 'prices', zone, day)),
          },
        }),
      );
    }
  }

  // Meter readings: one file per source and data day, delivered the next day.
  const metersOf = (source: ReadingSource): Meter[] => world.meters.filter((m) => m.source === source);
  const bySource = Object.fromEntries(READING_SOURCES.map((s) => [s, metersOf(s)])) as Record<
    ReadingSource,
    Meter[]
  >;
  const readingJobs: FileJob[] = [];
  /** A reading file's render context; without sinks and series it is the clean file (no defects). */
  const context = (
    source: ReadingSource,
    day: number,
    file: string,
    sinks?: RenderSinks,
    series?: SeriesPlan,
  ): RenderContext => ({
    file,
    rate: sinks ? rate : 0,
    values: Prng.derive(seed, 'values', source, day),
    defects: Prng.derive(seed, 'defects', source, day),
    sink: sinks?.defect ?? (() => undefined),
    truth: sinks?.truth ?? (() => undefined),
    ...(series === undefined ? {} : { series }),
  });
  const lateFills: Array<{
    regular: FileJob;
    layout: ReadingLayout;
    source: ReadingSource;
    day: number;
    series: SeriesPlan;
    lag: number;
  }> = [];
  for (let day = firstDay; day <= lastDay; day++) {
    for (const source of READING_SOURCES) {
      const meters = bySource[source];
      if (meters.length === 0) continue;
      const layout = readingLayout(source, options, meters, day);
      const seriesDraws = seriesRng(seed, source, day);
      const series = withDayDefects(
        drawSeriesPlan(meters, layout.series, options.seriesDefects, seriesDraws),
        meters,
        { intervals: layout.series.intervals, dayIndex: day - firstDay },
        options.seriesDefects,
        dayDefectRng(seed, source, day),
      );
      const regular: FileJob = job({
        ...layout.file,
        name: layout.name(''),
        dataDay: day,
        deliveryDay: day + 1,
        content: {
          kind: 'lines',
          render: (sinks) => layout.render(context(source, day, regular.path, sinks, series), () => true),
        },
      });
      readingJobs.push(regular);
      if ([...series.spans.values()].some((span) => span.kind === DefectKind.LateFill))
        lateFills.push({ regular, layout, source, day, series, lag: seriesDraws.int(...FILL_LAG_DAYS) });
    }
  }

  const fileRng = Prng.derive(seed, 'file-defects');
  if (rate > 0 && readingJobs.length > 0) {
    // Late files: delivered 2 to 6 days after their normal delivery date.
    const lateCount = Math.min(readingJobs.length, Math.max(1, Math.round(rate * readingJobs.length)));
    const late = new Set<number>();
    while (late.size < lateCount) late.add(fileRng.int(0, readingJobs.length - 1));
    for (const index of [...late].sort((a, b) => a - b)) {
      const j = readingJobs[index] as FileJob;
      const lag = fileRng.int(2, 6);
      const dataDay = parseIsoDate(j.dataDate) as number;
      const deliveryDay = dataDay + 1 + lag;
      j.deliveryDate = formatDay(deliveryDay);
      j.path = landingPath(j.dataset, j.source, deliveryDay, j.path.slice(j.path.lastIndexOf('/') + 1));
      j.fileDefects.push(
        defect(DefectKind.LateFile, {
          file: j.path,
          lines: [],
          detail: `data for ${j.dataDate} delivered on ${j.deliveryDate}, ${lag} days late`,
        }),
      );
    }
  }
  jobs.push(...readingJobs);

  // Late fills: the readings a file left out, in a separate file delivered days after that file.
  for (const { regular, layout, source, day, series, lag } of lateFills) {
    const fill = job({
      ...layout.file,
      name: layout.name('_fill'),
      dataDay: day,
      deliveryDay: (parseIsoDate(regular.deliveryDate) as number) + lag,
      content: {
        kind: 'lines',
        // The clean file's readings (same values stream), only those the regular file left out.
        render: () =>
          layout.render(context(source, day, fill.path), (meterId, channel, startMs) =>
            isLateFilled(series, meterId, channel, startMs),
          ),
      },
    });
    series.fillFile = fill.path;
    jobs.push(fill);
  }

  if (rate > 0) {
    const perKind = Math.max(1, Math.round((rate * Math.max(readingJobs.length, 1)) / 4));
    for (let n = 1; n <= perKind; n++)
      jobs.push(...badFileJobs(n, fileRng, firstDay, lastDay, bySource, options));
  }
  jobs.push(...marketJobs(options, world.meters, firstDay, lastDay));
  return { options, firstDay, lastDay, world, jobs };
}

function badFileJobs(
  n: number,
  rng: Prng,
  firstDay: number,
  lastDay: number,
  bySource: Record<ReadingSource, Meter[]>,
  options: SimulationOptions,
): FileJob[] {
  const result: FileJob[] = [];
  const add = (kind: DefectKind, j: FileJob, detail: string): void => {
    j.fileDefects.push(defect(kind, { file: j.path, lines: [], detail }));
    result.push(j);
  };
  const sample = (source: ReadingSource, day: number) => {
    const meters = bySource[source].slice(0, 2);
    const start = day * DAY_MS;
    return meterDayReadings(
      meters,
      start,
      start + 4 * 3_600_000,
      options.interval,
      Prng.derive(options.seed, 'bad', n, day),
    );
  };
  const someDay = (): number => rng.int(firstDay, lastDay);

  let day = someDay();
  add(
    DefectKind.EmptyFile,
    job({
      name: `readings_${formatDay(day)}_resend${n}.csv`,
      dataset: 'meter_readings',
      source: 'headend_utc',
      dataDay: day,
      deliveryDay: day + 1,
      format: 'csv',
      compression: 'none',
      headerLines: 0,
      content: { kind: 'lines', render: () => [] },
    }),
    'zero-byte file',
  );

  day = someDay();
  add(
    DefectKind.HtmlAsCsv,
    job({
      name: `hh_${formatDay(day)}_portal${n}.csv`,
      dataset: 'meter_readings',
      source: 'uk_hh_wide',
      dataDay: day,
      deliveryDay: day + 1,
      format: 'csv',
      compression: 'none',
      headerLines: 0,
      content: { kind: 'lines', render: () => renderHtmlLoginPage() },
    }),
    'HTML login page saved as .csv',
  );

  day = someDay();
  add(
    DefectKind.TruncatedGzip,
    job({
      name: `feed_${formatDay(day)}_retry${n}.ndjson.gz`,
      dataset: 'meter_readings',
      source: 'smartfeed',
      dataDay: day,
      deliveryDay: day + 1,
      format: 'ndjson',
      compression: 'gzip',
      headerLines: 0,
      content: { kind: 'bytes', bytes: () => truncatedGzipFeed(sample('smartfeed', day)) },
    }),
    'gzip stream cut at 60 % (no trailer)',
  );

  day = someDay();
  if (n % 2 === 1) {
    add(
      DefectKind.WrongHeader,
      job({
        name: `readings_${formatDay(day)}_v2_${n}.csv`,
        dataset: 'meter_readings',
        source: 'headend_utc',
        dataDay: day,
        deliveryDay: day + 1,
        format: 'csv',
        compression: 'none',
        headerLines: 1,
        content: { kind: 'lines', render: () => renderHeadendWrongHeader(sample('headend_utc', day)) },
      }),
      "header names 'start_time' and 'energy_kwh' instead of 'interval_start_utc' and 'kwh'",
    );
  } else {
    const { start, end } = localDayBounds('Europe/London', day);
    const rowsFor = bySource.uk_hh_wide.slice(0, 3).map((meter) => ({
      meterId: meter.meter_id,
      day,
      values: [...meterDayReadings([meter], start, end, 30, Prng.derive(options.seed, 'bad', n, day))].map(
        (r) => r.kwh.toFixed(3),
      ),
    }));
    add(
      DefectKind.WrongHeader,
      job({
        name: `hh_${formatDay(day)}_v2_${n}.csv`,
        dataset: 'meter_readings',
        source: 'uk_hh_wide',
        dataDay: day,
        deliveryDay: day + 1,
        format: 'csv',
        compression: 'none',
        headerLines: 1,
        content: { kind: 'lines', render: () => renderWideWrongHeader(rowsFor) },
      }),
      'old template header HH01..HH48 instead of SP1..SP50',
    );
  }
  return result;
}
