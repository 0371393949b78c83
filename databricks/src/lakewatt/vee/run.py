"""The VEE step of a readings silver run: evaluate the batch's meter-days, write what it found.

After the batch's MERGE into ``silver.meter_readings``, for every local day the batch touches:

1. the series of every meter expected that day (the batch's meters and those with a contract then), with
   one day each side and ``history_days`` of history before;
2. estimates for the gaps the methods cover, MERGEd into ``silver.meter_readings`` (quality ``estimated``;
   the reading precedence lets any received reading win over them), each new or changed one logged in
   ``silver.reading_edits``, as is every estimate the batch's readings replaced;
3. the days' completeness and findings replace those of the same days (``fresh_writes.replace_days``: a
   run that read older silver never overwrites one that read newer);
4. a summary for the run manifest: totals and, per file of the batch, the meter-days its readings touch.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F

from lakewatt import delta_io, fresh_writes
from lakewatt.context import RunContext
from lakewatt.transforms.gold.common import in_dates
from lakewatt.transforms.silver import READING_KEY, reading_wins_condition
from lakewatt.vee import estimation, rules
from lakewatt.vee import series as s
from lakewatt.vee.config import VeeConfig
from lakewatt.vee.tables import METER_DAY_COMPLETENESS, READING_EDITS, VEE_FINDINGS

SOURCES = ("silver.meter_readings", "silver.contracts")
WINDOW_COLUMNS = (
    "meter_id",
    "channel",
    "interval_start",
    "interval_minutes",
    "kwh",
    "quality",
    "estimation_method",
    "source_system",
)


@dataclass(frozen=True)
class VeeTables:
    readings: str
    contracts: str
    completeness: str
    findings: str
    edits: str


def superseded_estimates(spark: SparkSession, readings: str, best: DataFrame) -> list[Row]:
    """The stored VEE estimates that the batch's received readings replace, with both values; read before
    the MERGE (collected: after it the estimates are gone). Few rows: estimates are a small share."""
    days = best.agg(F.min("reading_date").alias("lo"), F.max("reading_date").alias("hi")).first()
    if days is None or days.lo is None:
        return []
    stored = spark.table(readings).where(
        F.col("estimation_method").isNotNull() & F.col("reading_date").between(days.lo, days.hi)
    )
    arriving = best.where(F.col("quality") != "missing").select(
        *READING_KEY, F.col("kwh").alias("edited_kwh"), F.col("quality").alias("edited_quality")
    )
    return (
        stored.join(arriving, list(READING_KEY))
        .select(
            *READING_KEY,
            F.col("kwh").alias("original_kwh"),
            F.col("quality").alias("original_quality"),
            "edited_kwh",
            "edited_quality",
            F.coalesce(F.col("vee_rule"), F.lit("gap")).alias("rule"),
        )
        .collect()
    )


class Evaluation:
    """The VEE frames of one run over one snapshot of silver (``refresh`` reads the newest)."""

    def __init__(
        self,
        spark: SparkSession,
        tables: VeeTables,
        batch: DataFrame,
        config: VeeConfig,
        default_timezone: str,
    ) -> None:
        self.spark, self.tables, self.batch_rows = spark, tables, batch
        self.config, self.default_timezone = config, default_timezone
        self.parameters = s.parameter_frame(spark, config)
        self._cached: list[DataFrame] = []
        self.refresh()

    def snapshot(self) -> fresh_writes.Snapshot:
        return self._snapshot

    def _keep(self, frame: DataFrame) -> DataFrame:
        """``frame`` computed once and kept, its plan cut short: the rules and writes built on it plan in
        milliseconds instead of re-analysing the whole lineage on every action."""
        kept = frame.localCheckpoint(eager=True)
        self._cached.append(kept)
        return kept

    def release(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        self._cached = []

    def refresh(self) -> None:
        self.release()
        spark, config = self.spark, self.config
        self._snapshot = fresh_writes.capture(
            spark, dict(zip(SOURCES, (self.tables.readings, self.tables.contracts), strict=True))
        )
        readings = fresh_writes.read_at(spark, self.tables.readings, self._snapshot, SOURCES[0])
        contracts = fresh_writes.read_at(spark, self.tables.contracts, self._snapshot, SOURCES[1])
        zones = s.meter_zones(contracts)
        zoned_batch = s.zoned(self.batch_rows, zones, self.default_timezone)
        self.batch = self._keep(
            zoned_batch.select("ingest_instance_id", "meter_id", "channel", "date").distinct()
        )
        self.days = sorted(r.date for r in self.batch.select("date").distinct().collect())
        if not self.days:
            return
        first, last = self.days[0], self.days[-1]
        start = dt.datetime.combine(first - dt.timedelta(days=1), dt.time())
        end = dt.datetime.combine(last + dt.timedelta(days=2), dt.time())
        active = contracts.where(
            (F.col("valid_from") < F.lit(end))
            & (F.col("valid_to").isNull() | (F.col("valid_to") > F.lit(start)))
        ).select("meter_id")
        meters = self.batch.select("meter_id").union(active.select("meter_id")).distinct()
        utc_from = first - dt.timedelta(days=config.history_days + 2)
        window = (
            readings.where(F.col("reading_date").between(utc_from, last + dt.timedelta(days=2)))
            .select(*WINDOW_COLUMNS)  # kept in memory: no lineage strings
            .join(F.broadcast(meters), "meter_id", "left_semi")
        )
        self.window = self._keep(s.zoned(window, zones, self.default_timezone))
        pairs = s.with_parameters(s.targets(self.window, meters), self.parameters, sorted(config.sources))
        span = sorted({d + dt.timedelta(days=k) for d in self.days for k in (-1, 0, 1)})
        span_readings = self.window.where(in_dates("date", span))
        self.series = self._keep(s.series(s.slots(pairs, span), span_readings))
        self.history = s.history(self.window)
        evaluated = self.series.where(in_dates("date", self.days))
        self.evaluated = self._keep(estimation.estimate(evaluated, self.history))
        self.completeness_rows = self._completeness()
        self.findings_rows = self._keep(self._findings())

    def _completeness(self) -> DataFrame:
        per_day = self.evaluated.groupBy("meter_id", "channel", "date").agg(
            F.first("timezone").alias("timezone"),
            F.first("interval_minutes").alias("interval_minutes"),
            F.count(F.lit(1)).cast("int").alias("expected_intervals"),
            F.count("value").cast("int").alias("received_intervals"),
            F.count(F.when(F.col("value").isNull(), F.col("estimate")))
            .cast("int")
            .alias("estimated_intervals"),
        )
        missing = F.col("expected_intervals") - F.col("received_intervals") - F.col("estimated_intervals")
        return per_day.select(
            "*",
            missing.cast("int").alias("missing_intervals"),
            (missing == 0).alias("complete"),
            (F.col("estimated_intervals") / F.col("expected_intervals")).alias("estimated_share"),
        )

    def _findings(self) -> DataFrame:
        runs = rules._runs(self.series)
        profile_from = self.days[0] - dt.timedelta(days=self.config.spike_profile_days)
        profile_history = self.history.where(F.col("date").between(profile_from, self.days[-1]))
        medians = rules.day_medians(self.history, self.days, self.config.history_days)
        return (
            rules.gaps(self.evaluated)
            .unionByName(rules.zero_runs(self.series, self.evaluated, runs))
            .unionByName(rules.frozen_values(self.evaluated, runs))
            .unionByName(rules.spikes(self.evaluated, profile_history, self.config.spike_window_minutes))
            .unionByName(rules.day_levels(self.evaluated, medians, self.days))
        )

    def estimates(self, ctx: RunContext) -> DataFrame:
        """Silver rows for the estimates that are new or changed since the stored ones."""
        changed = F.col("estimate").isNotNull() & (
            F.col("stored_method").isNull() | ~F.col("stored_kwh").eqNullSafe(F.col("estimate"))
        )
        return self.evaluated.where(changed).select(
            "meter_id",
            "channel",
            "interval_start",
            "interval_minutes",
            F.col("estimate").alias("kwh"),
            F.lit("estimated").alias("quality"),
            F.to_date("interval_start").alias("reading_date"),
            F.lit(s.VEE_SOURCE).alias("source_system"),
            F.lit("").alias("source_file"),
            F.lit("").alias("source_etag"),
            F.lit(0).cast("long").alias("source_line"),
            F.lit(ctx.orchestration_id).alias("ingest_instance_id"),
            F.current_timestamp().alias("ingested_at"),
            "estimation_method",
            F.lit("gap").alias("vee_rule"),
            F.lit(None).cast("string").alias("source_quality"),
            F.lit(None).cast("string").alias("source_quality_reason"),
            "stored_kwh",
            "stored_quality",
            "gap_intervals",
        )


def _stamped(frame: DataFrame, ctx: RunContext) -> DataFrame:
    return frame.withColumn("evaluated_at", F.current_timestamp()).withColumn(
        "evaluated_by", F.lit(ctx.orchestration_id)
    )


def _edits(
    spark: SparkSession, ctx: RunContext, estimates: DataFrame, superseded: Sequence[Row]
) -> DataFrame:
    made = estimates.select(
        *READING_KEY,
        F.col("stored_kwh").alias("original_kwh"),
        F.col("stored_quality").alias("original_quality"),
        F.col("kwh").alias("edited_kwh"),
        F.lit("estimated").alias("edited_quality"),
        F.col("estimation_method").alias("method"),
        F.lit("gap").alias("rule"),
        F.concat(
            F.lit("gap of "),
            (F.col("gap_intervals") * F.col("interval_minutes")).cast("string"),
            F.lit(" minutes"),
        ).alias("reason"),
    )
    replaced = spark.createDataFrame(
        [tuple(r) for r in superseded],
        "meter_id string, channel string, interval_start timestamp, original_kwh double, "
        "original_quality string, edited_kwh double, edited_quality string, rule string",
    ).select(
        *READING_KEY,
        "original_kwh",
        "original_quality",
        "edited_kwh",
        "edited_quality",
        F.lit("received").alias("method"),
        "rule",
        F.lit("a reading replaced the estimate").alias("reason"),
    )
    return (
        made.unionByName(replaced)
        .withColumn("edited_at", F.current_timestamp())
        .withColumn("edited_by", F.lit(ctx.orchestration_id))
    )


def _day_outcomes(evaluation: Evaluation) -> DataFrame:
    """One row per evaluated meter-day: completeness, estimates per method and findings per rule."""
    keys = ["meter_id", "channel", "date"]
    estimated = (
        evaluation.evaluated.where(F.col("estimate").isNotNull())
        .groupBy(*keys, "estimation_method")
        .agg(F.count(F.lit(1)).alias("n"))
        .groupBy(*keys)
        .agg(F.map_from_entries(F.collect_list(F.struct("estimation_method", "n"))).alias("estimated"))
    )
    found = (
        evaluation.findings_rows.groupBy(*keys, "rule")
        .agg(F.count(F.lit(1)).alias("n"))
        .groupBy(*keys)
        .agg(F.map_from_entries(F.collect_list(F.struct("rule", "n"))).alias("found"))
    )
    return (
        evaluation.completeness_rows.select(
            *keys, "complete", "expected_intervals", "received_intervals", "missing_intervals"
        )
        .join(estimated, keys, "left")
        .join(found, keys, "left")
    )


def _summary(evaluation: Evaluation) -> dict[str, Any]:
    """Totals over the evaluated meter-days and, per ingest instance, over the meter-days it touches
    (computed on the driver: a run has a few thousand meter-days)."""
    keys = ("meter_id", "channel", "date")
    days = {tuple(r[k] for k in keys): r for r in _day_outcomes(evaluation).collect()}
    touched = evaluation.batch.select("ingest_instance_id", *keys).distinct().collect()

    def outcome(rows: list[Row]) -> dict[str, Any]:
        estimated: Counter[str] = Counter()
        found: Counter[str] = Counter()
        for r in rows:
            estimated.update(r.estimated or {})
            found.update(r.found or {})
        return {
            "meterDays": len(rows),
            "completeMeterDays": sum(1 for r in rows if r.complete),
            "missingIntervals": sum(r.missing_intervals for r in rows),
            "estimatedIntervals": dict(sorted(estimated.items())),
            "findings": dict(sorted(found.items())),
        }

    per_instance: dict[str, list[Row]] = defaultdict(list)
    for t in touched:
        day = days.get(tuple(t[k] for k in keys))
        if day is not None:
            per_instance[t.ingest_instance_id].append(day)
    rows = list(days.values())
    totals = outcome(rows)
    return {
        "days": [d.isoformat() for d in evaluation.days],
        "meterDays": totals["meterDays"],
        "completeMeterDays": totals["completeMeterDays"],
        "expectedIntervals": sum(r.expected_intervals for r in rows),
        "receivedIntervals": sum(r.received_intervals for r in rows),
        "estimatedIntervals": totals["estimatedIntervals"],
        "missingIntervals": totals["missingIntervals"],
        "findings": totals["findings"],
        "byInstance": {i: outcome(r) for i, r in sorted(per_instance.items())},
    }


class _Clock:
    """Milliseconds per part of the step (the manifest's ``vee.timingsMs``)."""

    def __init__(self) -> None:
        self.marks: dict[str, int] = {}
        self._last = time.monotonic()

    def mark(self, name: str) -> None:
        now = time.monotonic()
        self.marks[name] = int((now - self._last) * 1000)
        self._last = now


def evaluate(
    spark: SparkSession,
    ctx: RunContext,
    tables: VeeTables,
    staged: DataFrame,
    *,
    config: VeeConfig,
    default_timezone: str,
    superseded: Sequence[Row],
) -> tuple[list[delta_io.TableWrite], dict[str, Any] | None]:
    """Evaluates the batch's meter-days and writes estimates, edits, completeness and findings; returns the
    writes and the manifest's ``vee`` summary (None when the batch has no readings)."""
    batch = staged.select("ingest_instance_id", "meter_id", "channel", "interval_start")
    clock = _Clock()
    # Before the first read: commits of other runs after these versions are what the day writes check.
    since = {name: delta_io.current_version(spark, name) for name in (tables.completeness, tables.findings)}
    evaluation = Evaluation(spark, tables, batch, config, default_timezone)
    clock.mark("evaluate")
    try:
        if not evaluation.days:
            return [], None
        estimates = evaluation.estimates(ctx).localCheckpoint(eager=True)
        lo = evaluation.days[0] - dt.timedelta(days=1)
        hi = evaluation.days[-1] + dt.timedelta(days=2)
        writes = []
        if not estimates.isEmpty():
            writes.append(
                delta_io.merge(
                    spark,
                    tables.readings,
                    estimates.drop("stored_kwh", "stored_quality", "gap_intervals"),
                    on=" AND ".join(f"t.{k} = s.{k}" for k in READING_KEY),
                    # The estimates' UTC days: Delta skips the table's other files.
                    target_filter=lambda: f"t.reading_date BETWEEN DATE'{lo}' AND DATE'{hi}'",
                    matched_condition=reading_wins_condition(),
                    user_metadata=ctx.user_metadata,
                )
            )
        if superseded or writes:
            writes.append(
                delta_io.merge(
                    spark,
                    tables.edits,
                    _edits(spark, ctx, estimates, superseded),
                    on=" AND ".join(
                        f"t.{k} = s.{k}" for k in (*READING_KEY, "edited_by", "method", "edited_kwh")
                    ),
                    target_filter=lambda: (
                        f"t.interval_start >= TIMESTAMP'{lo} 00:00:00' "
                        f"AND t.interval_start < TIMESTAMP'{hi} 00:00:00'"
                    ),
                    matched_condition="false",
                    user_metadata=ctx.user_metadata,
                )
            )
        clock.mark("estimates")
        predicate = "date IN (" + ", ".join(f"DATE'{d.isoformat()}'" for d in evaluation.days) + ")"
        for table, frame in (
            (tables.completeness, lambda: evaluation.completeness_rows),
            (tables.findings, lambda: evaluation.findings_rows),
        ):
            writes.append(
                fresh_writes.replace_days(
                    spark,
                    table,
                    days=evaluation.days,
                    predicate=predicate,
                    snapshot=evaluation.snapshot,
                    rows=lambda frame=frame: _stamped(frame(), ctx),
                    refresh=evaluation.refresh,
                    user_metadata=ctx.user_metadata,
                    since_version=since[table],
                )
            )
        clock.mark("days")
        summary = _summary(evaluation)
        clock.mark("summary")
        return writes, {**summary, "timingsMs": clock.marks}
    finally:
        evaluation.release()


def table_names(ensure) -> VeeTables:
    """The VEE tables' catalog names, made to exist by ``ensure(spec)``."""
    from lakewatt.tables import SILVER_TABLES

    return VeeTables(
        readings=ensure(SILVER_TABLES["meter_readings"]),
        contracts=ensure(SILVER_TABLES["contracts"]),
        completeness=ensure(METER_DAY_COMPLETENESS),
        findings=ensure(VEE_FINDINGS),
        edits=ensure(READING_EDITS),
    )
