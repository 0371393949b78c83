"""Gold job: recompute the gold tables for the days a batch affected (partition replace, idempotent).

    lakewatt-gold --orchestration_id=<id> --date_from=2025-10-26 --date_to=2025-10-26 [--tables=...] \
        --generation=0 --default_timezone=UTC --staging_root=... --silver_root=... (lake roots)

``date_from``/``date_to`` are UTC days (the validation report's ``affectedDates``). Tables by local day
recompute every local day those UTC days overlap in the supply points' time zones; ``data_quality_daily``
recomputes the UTC days. Each table is rewritten with ``replaceWhere`` on exactly those days, so other days
are never touched and a re-run writes the same rows again. Silver is read at versions recorded when the run
starts, and a run never writes a day that another run already wrote from newer silver (decision 0016).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from lakewatt import delta_io, fresh_writes
from lakewatt.context import RunContext
from lakewatt.gold_tables import GOLD_TABLES
from lakewatt.jobs.common import (
    JobParameterError,
    base_parser,
    configure_logging,
    context,
    emit_summary,
    parse,
    parse_date,
    public_parameters,
    split_list,
)
from lakewatt.manifest import RunManifest, write_manifest
from lakewatt.tables import BRONZE_TABLES, SILVER_TABLES, ensure_table
from lakewatt.transforms import gold as g

log = logging.getLogger("lakewatt.gold")


def local_dates(date_from: dt.date, date_to: dt.date, timezones: Iterable[str]) -> list[dt.date]:
    """Every local day that the UTC days ``[date_from, date_to]`` overlap in any of ``timezones``."""
    start = dt.datetime.combine(date_from, dt.time(), dt.UTC)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), dt.UTC) - dt.timedelta(
        microseconds=1
    )
    lo, hi = date_from, date_to
    for name in set(timezones):
        zone = ZoneInfo(name)
        lo = min(lo, start.astimezone(zone).date())
        hi = max(hi, end.astimezone(zone).date())
    return [lo + dt.timedelta(days=n) for n in range((hi - lo).days + 1)]


def date_predicate(dates: Sequence[dt.date], column: str = "date") -> str:
    """The replaceWhere predicate of a set of days: a range when they are contiguous, else an IN list."""
    days = sorted(set(dates))
    if (days[-1] - days[0]).days + 1 == len(days):
        return f"{column} >= DATE'{days[0].isoformat()}' AND {column} <= DATE'{days[-1].isoformat()}'"
    return f"{column} IN (" + ", ".join(f"DATE'{d.isoformat()}'" for d in days) + ")"


def around(days: Iterable[dt.date], before: int, after: int) -> list[dt.date]:
    """Every day from ``before`` days before to ``after`` days after any of ``days``."""
    return sorted({d + dt.timedelta(days=k) for d in days for k in range(-before, after + 1)})


def _is_spark_connect(spark: SparkSession) -> bool:
    return "connect" in type(spark).__module__


class Materialized:
    """Keeps a DataFrame reused by several tables in memory/disk where the engine allows it.

    Serverless (Spark Connect) has no persist; there the plan is recomputed and Delta's data skipping and
    the runtime's disk cache keep the repeated scans cheap.
    """

    def __init__(self, spark: SparkSession) -> None:
        self.enabled = not _is_spark_connect(spark)
        self.frames: list[DataFrame] = []

    def __call__(self, df: DataFrame) -> DataFrame:
        if not self.enabled:
            return df
        from pyspark import StorageLevel

        df = df.persist(StorageLevel.MEMORY_AND_DISK)
        self.frames.append(df)
        return df

    def release(self) -> None:
        for df in self.frames:
            df.unpersist()


@dataclass(frozen=True)
class QualityInputs:
    """What both data-quality tables read: every dataset's bronze rows on the run's UTC days in one shape
    (``staged_rows``), and the staged rows per file and day (``rows_per_instance_day``)."""

    staged: DataFrame
    per_instance_day: DataFrame


# The validation-report columns the data-quality tables read.
REPORT_COLUMNS_READ = (
    "instance_id",
    "dataset",
    "source_system",
    "rows_valid",
    "rows_rejected",
    "rule_failures",
    "affected_dates",
)
ALL_GOLD = tuple(GOLD_TABLES)
CALENDAR_TABLES = frozenset({"dim_date", "dim_holiday"})
# Tables per UTC data day (their day column is utc_date), the days the validation reports list.
UTC_DAY_TABLES = frozenset({"data_quality_daily", "data_quality_rule_failures"})
# Dimensions rebuilt whole from reference data, and the silver tables each is built from.
DIMENSION_SOURCES = {
    "dim_meter": ("silver.contracts", "silver.customers"),
    "dim_customer": ("silver.contracts", "silver.customers"),
    "dim_contract": ("silver.contracts",),
}


# Per-day tables written at once from threads: a Delta replace spends 1-2.5 s beyond its compute (files with
# statistics, the commit, the conflict check), which overlaps with the other tables' compute (decision 0027).
WRITE_THREADS = 4


# Row-level frames several tables read (the enriched readings: five tables) are kept for runs of a few days
# (one local day of 1,000 meters: 21.6 s a run kept, 24.0 s recomputed) and recomputed by each table beyond
# that (42 days of 10 M readings: 32.7 s recomputed, 44.1 s kept: caching the wide rows costs three times
# enriching them again).
KEEP_ROWS_MAX_DAYS = 7


class StaleFrames(Exception):
    """A table written from a thread found the run's frames stale (another run wrote newer silver into its
    days); it is written again after the others, from frames read anew (frames are not swapped under the
    threads still using them)."""


class GoldRun:
    """One gold run: the days to recompute, the silver snapshot it reads, and one write per table.

    Every source table is read at the version recorded in ``snapshot``; if another run wrote the same days
    from newer silver meanwhile, ``refresh`` reads the newest versions again (see ``fresh_writes``).
    """

    def __init__(
        self,
        spark: SparkSession,
        ctx: RunContext,
        date_from: dt.date | None,
        date_to: dt.date | None,
        *,
        tables: Sequence[str] = ALL_GOLD,
        dates: Sequence[dt.date] = (),
        default_timezone: str = "UTC",
        rules: g.AnomalyRules = g.DEFAULT_RULES,
        parameters: dict | None = None,
        write_threads: int = WRITE_THREADS,
    ) -> None:
        unknown = sorted(set(tables) - set(GOLD_TABLES))
        if unknown:
            raise JobParameterError(f"unknown gold tables {unknown}; expected some of {sorted(GOLD_TABLES)}")
        if date_from is None or date_to is None:
            # A reference file that made no day stale still changes the dimensions: a run without days.
            with_days = sorted(set(tables) - set(DIMENSION_SOURCES))
            if with_days or dates:
                raise JobParameterError(f"date_from is required for gold tables with days: {with_days}")
        elif date_to < date_from:
            raise JobParameterError("date_to is before date_from")
        elif any(d < date_from or d > date_to for d in dates):
            raise JobParameterError("dates must lie within date_from..date_to")
        if write_threads < 1:
            raise JobParameterError(f"write_threads must be at least 1, not {write_threads}")
        ZoneInfo(default_timezone)  # fails early on a bad zone name
        self.spark, self.ctx, self.tables, self.rules = spark, ctx, list(tables), rules
        self.write_threads = write_threads
        self._shared = threading.RLock()  # the frames tables build lazily, once, whichever thread asks first
        self.default_timezone = default_timezone
        self.manifest = RunManifest(ctx, parameters or {"date_from": str(date_from), "date_to": str(date_to)})
        self.sources = {
            spec.key: ensure_table(spark, ctx, spec)
            for spec in (*SILVER_TABLES.values(), *BRONZE_TABLES.values())
        }
        self.gold_names = {name: ensure_table(spark, ctx, GOLD_TABLES[name]) for name in tables}
        # Recorded before the snapshot: any gold commit after these versions may come from newer silver.
        self.started_at = {
            name: delta_io.current_version(spark, table) for name, table in self.gold_names.items()
        }
        self.utc_days = sorted(set(dates)) or (
            [date_from + dt.timedelta(days=n) for n in range((date_to - date_from).days + 1)]
            if date_from is not None and date_to is not None
            else []
        )
        self.days: list[dt.date] = []
        self.zones: list[str] = []
        self.keep = Materialized(spark)
        # Both calendar tables are read to decide whether either needs writing, whichever the run writes.
        self.calendar_names = (
            {name: ensure_table(spark, ctx, GOLD_TABLES[name]) for name in sorted(CALENDAR_TABLES)}
            if CALENDAR_TABLES & set(tables)
            else {}
        )
        self._calendar_zones: list[str] | None = None
        self._quality: QualityInputs | None = None
        self._reports: DataFrame | None = None
        self._sums: DataFrame | None = None
        self._dim_date_days: dict[tuple[str, int], int] | None = None
        self.manifest.step("tables")

    def source(self, key: str) -> DataFrame:
        return fresh_writes.read_at(self.spark, self.sources[key], self.snapshot, key)

    def prepare(self) -> None:
        """Records the sources' versions and builds the frames the tables share, read at those versions."""
        self.keep.release()
        self.keep = Materialized(self.spark)
        self.snapshot = fresh_writes.capture(self.spark, self.sources)
        self._quality = None
        self._reports = None
        self._sums = None
        self.contracts = self.source("silver.contracts")
        self.customers = self.source("silver.customers")
        if not self.days:  # the local days are fixed by the first read; a refresh recomputes the same days
            zones = [r.tariff_timezone for r in self.contracts.select("tariff_timezone").distinct().collect()]
            self.zones = sorted({self.default_timezone, *(z for z in zones if z)})
            self.days = sorted({x for d in self.utc_days for x in local_dates(d, d, self.zones)})
        # Readings of the local days: their UTC reading dates reach a day to each side.
        readings = self.source("silver.meter_readings")
        enriched = g.enrich_readings(
            readings.where(F.col("reading_date").isin(around(self.days, 1, 1))),
            self.contracts,
            self.default_timezone,
            self.zones,
        )
        self.enriched = self.keep_rows(enriched)
        # Prices of those days and of the day before them (the forecast features' 24-hour price lag), per
        # reading interval length: cost and the forecast features both read them.
        self.price_buckets = self.keep(
            g.price_buckets(
                self.source("silver.prices").where(F.to_date("interval_start").isin(around(self.days, 2, 1)))
            )
        )
        self.hourly = None
        if "forecast_features" in self.tables:
            fresh = g.hourly_import(self.enriched, self.zones).where(F.col("date").isin(self.days))
            self.hourly = fresh.unionByName(self.hourly_before(readings))
        self.manifest.step("prepare")

    def keep_rows(self, rows: DataFrame) -> DataFrame:
        """A row-level frame several tables read, kept when the run has few days (``KEEP_ROWS_MAX_DAYS``)."""
        return self.keep(rows) if len(self.days) <= KEEP_ROWS_MAX_DAYS else rows

    def hourly_before(self, readings: DataFrame) -> DataFrame:
        """The hourly import of the features' look-back days before the run's days, as ``forecast_features``
        keeps it (a one-day run then enriches 3 days of readings, not 10). Days it holds no row of (a new
        lake, a table added later, a day without readings) come from silver."""
        wanted = sorted(set(around(self.days, g.LOOKBACK_DAYS, 0)) - set(self.days))
        if not wanted:
            return g.hourly_import(self.enriched, self.zones).limit(0)
        features = self.spark.table(ensure_table(self.spark, self.ctx, GOLD_TABLES["forecast_features"]))
        stored = g.stored_hourly(features.where(F.col("date").isin(wanted)))
        held = {row.date for row in stored.select("date").distinct().collect()}
        missing = [d for d in wanted if d not in held]
        if not missing:
            return stored
        computed = g.hourly_import(
            g.enrich_readings(
                readings.where(F.col("reading_date").isin(around(missing, 1, 1))),
                self.contracts,
                self.default_timezone,
                self.zones,
            ),
            self.zones,
        ).where(F.col("date").isin(missing))
        return stored.unionByName(computed)

    def version_sums(self) -> DataFrame:
        """The per-version sums of the run's days both consumption and cost fold (``version_day_sums``),
        built once per snapshot and kept: a few rows per meter and day, from one pass over the readings."""
        with self._shared:
            if self._sums is None:
                sums = g.version_day_sums(
                    self.enriched, self.contracts, self.price_buckets, self.days, self.default_timezone
                )
                self._sums = self.keep(sums)
            return self._sums

    def validation_reports(self) -> DataFrame:
        """The silver validation reports at the snapshot, kept (both data-quality tables read them twice), in
        the columns they read: one row per file ever validated, so no paths or hashes are held."""
        with self._shared:
            if self._reports is None:
                reports = self.source("silver.validation_reports").select(*REPORT_COLUMNS_READ)
                self._reports = self.keep(reports)
            return self._reports

    def quality_inputs(self) -> QualityInputs:
        """What both data-quality tables read, found once per snapshot: each dataset's bronze rows that can
        fall on the run's UTC days, and the staged rows per file and day."""
        with self._shared:
            if self._quality is None:
                files = g.report_files(self.validation_reports(), self.utc_days)
                bronze_of_days = {
                    dataset: g.bronze_on_days(self.source(f"bronze.{dataset}"), dataset, files)
                    for dataset in BRONZE_TABLES
                }
                staged = self.keep_rows(g.staged_rows(bronze_of_days, self.utc_days))
                self._quality = QualityInputs(staged, self.keep(g.rows_per_instance_day(staged)))
            return self._quality

    def rows(self, name: str) -> DataFrame:
        builders = {
            "daily_consumption": lambda: g.daily_consumption(self.version_sums()),
            "customer_daily_cost": lambda: g.customer_daily_cost(
                # The sums price each reading from self.price_buckets (daily_consumption's figures use none).
                self.version_sums(),
                self.contracts,
                self.days,
                self.default_timezone,
            ),
            "load_profile_hourly": lambda: g.load_profile_hourly(self.enriched, self.customers, self.days),
            "consumption_anomalies": lambda: g.consumption_anomalies(
                self.source("silver.vee_findings"), self.enriched, self.customers, self.days, self.rules
            ),
            "data_quality_daily": lambda: g.data_quality_daily(
                self.quality_inputs().staged,
                self.validation_reports(),
                self.quality_inputs().per_instance_day,
            ),
            "data_quality_rule_failures": lambda: g.data_quality_rule_failures(
                self.validation_reports(), self.quality_inputs().per_instance_day
            ),
            "forecast_features": lambda: g.forecast_features(
                self.hourly, self.contracts, self.price_buckets, self.days
            ),
            "dim_date": lambda: self.from_rows(
                "dim_date", g.calendar_rows(self.days_of(name), self.calendar_zones())
            ),
            "dim_holiday": lambda: self.from_rows(
                "dim_holiday", g.holiday_rows(self.days_of(name), self.calendar_zones())
            ),
            "dim_meter": lambda: g.dim_meter(self.contracts, self.customers),
            "dim_customer": lambda: g.dim_customer(self.contracts, self.customers),
            "dim_contract": lambda: g.dim_contract(self.contracts),
        }
        return g.with_run_columns(builders[name](), self.ctx.orchestration_id)

    def from_rows(self, name: str, rows: list[tuple]) -> DataFrame:
        """A small table computed on the driver, in the gold table's columns before the run columns."""
        fields = [f for f in GOLD_TABLES[name].schema.fields if f.name not in ("computed_at", "computed_by")]
        return self.spark.createDataFrame(rows, StructType(fields))

    def days_of(self, name: str) -> list[dt.date]:
        """The days a table's write replaces: UTC days for data quality, whole years for the calendar
        tables, else the local days."""
        if name in UTC_DAY_TABLES:
            return self.utc_days
        if name in CALENDAR_TABLES:
            return g.calendar_days(self.days)
        return self.days

    def calendar_years(self) -> list[int]:
        return sorted({d.year for d in self.days})

    def dim_date_days(self) -> dict[tuple[str, int], int]:
        """Days ``dim_date`` holds per (zone, year) for the run's years."""
        if self._dim_date_days is None:
            self._dim_date_days = {
                (row.timezone, row.year): row.days
                for row in self.spark.table(self.calendar_names["dim_date"])
                .where(F.year("date").isin(self.calendar_years()))
                .groupBy("timezone", F.year("date").alias("year"))
                .agg(F.count(F.lit(1)).alias("days"))
                .collect()
            }
        return self._dim_date_days

    def calendar_zones(self) -> list[str]:
        """The zones a whole-year calendar write covers: the run's, and those already in ``dim_date`` for
        its years, so a run serving fewer zones does not drop the others' rows."""
        if self._calendar_zones is None:
            self._calendar_zones = sorted({*self.zones, *(zone for zone, _ in self.dim_date_days())})
        return self._calendar_zones

    def calendar_complete(self, name: str) -> bool:
        """Whether a calendar table already holds what this run would write for its years: every day in
        every zone (``dim_date``), or as many holidays per year and country as the ``holidays`` package
        gives (``dim_holiday``). Each table is judged on its own: a run killed between the two commits, or
        one that wrote only ``dim_date``, leaves ``dim_holiday`` to write."""
        years = self.calendar_years()
        if name == "dim_date":
            days_in = {year: len(g.calendar_days([dt.date(year, 1, 1)])) for year in years}
            found = self.dim_date_days()
            zones = self.calendar_zones()
            return all(found.get((zone, year)) == days_in[year] for zone in zones for year in years)
        expected = Counter(
            (day.year, country)
            for day, country, _, _ in g.holiday_rows(g.calendar_days(self.days), self.calendar_zones())
        )
        found = {
            (row.year, row.country): row.holidays
            for row in self.spark.table(self.calendar_names["dim_holiday"])
            .where(F.year("date").isin(years))
            .groupBy(F.year("date").alias("year"), "country")
            .agg(F.count(F.lit(1)).alias("holidays"))
            .collect()
        }
        return found == dict(expected)

    def write(self, name: str) -> delta_io.TableWrite:
        """Writes one table and records it in the manifest."""
        written = self._write(name, self.prepare)
        self.manifest.add(written)
        self.manifest.step(name)
        return written

    def write_all(self) -> None:
        """Writes every table of the run: the per-day tables ``write_threads`` at a time, then any of them
        that found its frames stale and the dimensions and calendar tables, one by one. The manifest lists
        the tables in the run's order; a table's timing is its own wall time (concurrent ones overlap)."""
        per_day = [n for n in self.tables if n not in DIMENSION_SOURCES and n not in CALENDAR_TABLES]
        written: dict[str, delta_io.TableWrite] = {}
        timings: dict[str, int] = {}
        if self.write_threads > 1 and len(per_day) > 1:
            with ThreadPoolExecutor(self.write_threads, thread_name_prefix="gold-write") as pool:
                attempts = list(pool.map(lambda name: self._timed(name, self._stale), per_day))
            for name, write, ms in attempts:
                if write is not None:
                    written[name], timings[name] = write, ms
        for name in self.tables:
            if name not in written:
                _, written[name], timings[name] = self._timed(name, self.prepare)
        self.manifest.step("writes")
        for name in self.tables:
            self.manifest.add(written[name])
            self.manifest.timings_ms[name] = timings[name]

    def _timed(self, name: str, refresh: Callable[[], None]) -> tuple[str, delta_io.TableWrite | None, int]:
        started = time.monotonic()
        try:
            write: delta_io.TableWrite | None = self._write(name, refresh)
        except StaleFrames:
            write = None
        return name, write, int((time.monotonic() - started) * 1000)

    @staticmethod
    def _stale() -> None:
        raise StaleFrames

    def _write(self, name: str, refresh: Callable[[], None]) -> delta_io.TableWrite:
        """Replaces the table's days (a dimension: the whole table), unless a run that read newer silver
        already did (a calendar table: unless it already holds these years)."""
        if name in DIMENSION_SOURCES:
            return fresh_writes.replace_table(
                self.spark,
                self.gold_names[name],
                sources=DIMENSION_SOURCES[name],
                snapshot=lambda: self.snapshot,
                rows=lambda: self.rows(name),
                user_metadata=self.ctx.user_metadata,
                since_version=self.started_at[name],
            )
        if name in CALENDAR_TABLES and self.calendar_complete(name):
            return delta_io.TableWrite(
                table=self.gold_names[name],
                action="skipped",
                version=delta_io.current_version(self.spark, self.gold_names[name]),
                previous_version=self.started_at[name],
                note="the table already holds the calendar of these years in every zone served",
            )
        days = self.days_of(name)
        return fresh_writes.replace_days(
            self.spark,
            self.gold_names[name],
            days=days,
            predicate=date_predicate(days, "utc_date" if name in UTC_DAY_TABLES else "date"),
            snapshot=lambda: self.snapshot,
            rows=lambda: self.rows(name),
            refresh=refresh,
            user_metadata=self.ctx.user_metadata,
            since_version=self.started_at[name],
        )

    def finish(self) -> dict:
        self.keep.release()
        self.manifest.parameters.setdefault("local_dates", [d.isoformat() for d in self.days])
        self.manifest.parameters.setdefault("sources", dict(sorted(self.snapshot.versions.items())))
        return write_manifest(self.spark, self.manifest)


def run(
    spark: SparkSession, ctx: RunContext, date_from: dt.date | None, date_to: dt.date | None, **options: Any
) -> dict:
    """The gold job on an existing session; returns the manifest it wrote. ``options`` are ``GoldRun``'s
    (``tables``, ``dates``, ``default_timezone``, ``rules``, ``parameters``, ``write_threads``).

    ``dates``, when given, is the exact set of UTC days to recompute (within ``date_from``..``date_to``): one
    stray old reading then recomputes its own day, not every day since.
    """
    job = GoldRun(spark, ctx, date_from, date_to, **options)
    try:
        job.prepare()
        job.write_all()
    finally:
        job.keep.release()
    return job.finish()


def run_from_args(argv: Sequence[str] | None = None) -> dict:
    """Parses the job parameters, runs the job and returns its run summary (the manifest)."""
    configure_logging()
    parser = base_parser("gold")
    parser.add_argument(
        "--date_from", default="", help="first UTC day (YYYY-MM-DD); empty when every table is a dimension"
    )
    parser.add_argument("--date_to", default="", help="last UTC day (default: date_from)")
    parser.add_argument("--tables", default="", help="comma-separated gold tables (default: all)")
    parser.add_argument("--dates", default="", help="comma-separated UTC days (default: all in the range)")
    parser.add_argument("--default_timezone", default="UTC", help="time zone of meters without a contract")
    parser.add_argument("--dataset", default="", help="dataset whose file triggered the run (informational)")
    args = parse(parser, argv)
    ctx = context("gold", args)
    date_from = parse_date(args.date_from, "date_from") if args.date_from else None
    date_to = parse_date(args.date_to, "date_to") if args.date_to else date_from
    tables = split_list(args.tables) or list(ALL_GOLD)
    dates = [parse_date(d, "dates") for d in split_list(args.dates)]
    from lakewatt.spark import get_spark

    spark = get_spark("lakewatt-gold")
    summary = run(
        spark,
        ctx,
        date_from,
        date_to,
        tables=tables,
        dates=dates,
        default_timezone=args.default_timezone or "UTC",
        parameters=public_parameters(args),
    )
    emit_summary("gold", summary)
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point (`lakewatt-gold`): exit status 0 on success, an exception otherwise."""
    run_from_args(argv)


if __name__ == "__main__":
    main()
