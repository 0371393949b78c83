"""Anomaly detectors over hourly import: spikes against a same-hour baseline, zero streaks, implausible kW."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lakewatt.transforms.gold.common import in_dates, usable_channel


@dataclass(frozen=True)
class AnomalyRules:
    """Thresholds of the anomaly detectors (documented in docs/spark-jobs.md)."""

    baseline_days: int = 28  # trailing same-hour baseline
    min_baseline_points: int = 7
    spike_z: float = 6.0  # robust z-score above which an hour is a spike
    min_scale_kwh: float = 0.05  # floor of the robust scale, so a flat baseline does not flag noise
    zero_streak_minutes: int = 12 * 60
    # Largest plausible average power in an interval, kW, by customer segment.
    implausible_kw: Mapping[str, float] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.implausible_kw is None:
            object.__setattr__(
                self, "implausible_kw", {"residential": 50.0, "sme": 500.0, "industrial": 20000.0}
            )


DEFAULT_RULES = AnomalyRules()
UNKNOWN_SEGMENT_KW = 20000.0


def same_hour_window(days_back: int, days_to: int) -> Window:
    # One partitioning (meter) for every window of the job, so Spark shuffles the hourly series once; the
    # composite order key keeps a range frame inside one local hour of day.
    return (
        Window.partitionBy("meter_id")
        .orderBy(F.col("local_hour") * 100000 + F.col("day_number"))
        .rangeBetween(days_back, days_to)
    )


def spikes(hourly: DataFrame, dates: Sequence[dt.date], rules: AnomalyRules = DEFAULT_RULES) -> DataFrame:
    """Hours whose kWh is far above the meter's trailing same-hour baseline (robust z-score).

    Baseline: the same local hour of the previous ``baseline_days`` days. z = (kWh - median) / scale with
    scale = IQR / 1.349 (the normal-consistent robust scale), floored at 10 % of the median and at
    ``min_scale_kwh``. One window pass: the quartiles come from one ``percentile`` over the frame.
    """
    frame = same_hour_window(-rules.baseline_days, -1)
    q = F.percentile("kwh", F.array(F.lit(0.25), F.lit(0.5), F.lit(0.75))).over(frame)
    scored = hourly.select("*", q.alias("q"), F.count("kwh").over(frame).alias("n"))
    median = F.col("q")[1]
    scale = F.greatest((F.col("q")[2] - F.col("q")[0]) / 1.349, median * 0.1, F.lit(rules.min_scale_kwh))
    z = (F.col("kwh") - median) / scale
    return (
        scored.where(in_dates("date", dates) & (F.col("n") >= rules.min_baseline_points))
        .select(
            "date",
            "meter_id",
            F.lit("spike").alias("anomaly_type"),
            F.col("hour_start").alias("period_start"),
            (F.col("hour_start") + F.expr("INTERVAL 1 HOUR")).alias("period_end"),
            F.round("kwh", 6).alias("kwh"),
            F.round(median, 6).alias("baseline_kwh"),
            F.round(z, 3).alias("score"),
            F.concat(F.lit("baseline of "), F.col("n").cast("string"), F.lit(" same-hour values")).alias(
                "detail"
            ),
        )
        .where(F.col("score") > rules.spike_z)
    )


def zero_streaks(
    enriched: DataFrame, dates: Sequence[dt.date], rules: AnomalyRules = DEFAULT_RULES
) -> DataFrame:
    """Runs of consecutive zero import readings lasting at least ``zero_streak_minutes``.

    Gaps-and-islands on the zero readings only: consecutive intervals keep ``slot - row_number`` constant,
    and a non-zero or absent interval starts a new island. A streak belongs to the local date it starts on.
    """
    zeros = enriched.where(usable_channel("import") & (F.col("kwh") == 0))
    order = Window.partitionBy("meter_id", "interval_minutes").orderBy("interval_start")
    slot = (F.unix_seconds("interval_start") / (F.col("interval_minutes") * 60)).cast("long")
    islands = zeros.select("*", (slot - F.row_number().over(order)).alias("island"))
    streaks = islands.groupBy("meter_id", "interval_minutes", "island").agg(
        F.min("interval_start").alias("period_start"),
        F.max("interval_start").alias("last_start"),
        F.count(F.lit(1)).alias("n"),
        F.min_by("date", "interval_start").alias("date"),
    )
    long_enough = streaks.where(F.col("n") * F.col("interval_minutes") >= rules.zero_streak_minutes)
    return long_enough.where(in_dates("date", dates)).select(
        "date",
        "meter_id",
        F.lit("zero_streak").alias("anomaly_type"),
        "period_start",
        (F.col("last_start") + F.make_dt_interval(mins=F.col("interval_minutes"))).alias("period_end"),
        F.lit(0.0).alias("kwh"),
        F.lit(None).cast("double").alias("baseline_kwh"),
        (F.col("n") * F.col("interval_minutes") / 60.0).alias("score"),
        F.concat(F.col("n").cast("string"), F.lit(" consecutive zero readings")).alias("detail"),
    )


def implausible(
    enriched: DataFrame, customers: DataFrame, dates: Sequence[dt.date], rules: AnomalyRules = DEFAULT_RULES
) -> DataFrame:
    """Readings whose average power exceeds what the customer's segment can draw."""
    limits = F.create_map(*(x for seg, kw in rules.implausible_kw.items() for x in (F.lit(seg), F.lit(kw))))
    current = customers.where("is_current").select(F.col("customer_id").alias("cid"), "segment")
    rows = enriched.where(in_dates("date", dates) & usable_channel("import"))
    rows = rows.join(F.broadcast(current), rows.customer_id == current.cid, "left")
    limit = F.coalesce(F.element_at(limits, F.col("segment")), F.lit(UNKNOWN_SEGMENT_KW))
    power = F.col("kwh") * 60.0 / F.col("interval_minutes")
    return rows.where(power > limit).select(
        "date",
        "meter_id",
        F.lit("implausible").alias("anomaly_type"),
        F.col("interval_start").alias("period_start"),
        (F.col("interval_start") + F.make_dt_interval(mins=F.col("interval_minutes"))).alias("period_end"),
        F.round("kwh", 6).alias("kwh"),
        F.lit(None).cast("double").alias("baseline_kwh"),
        F.round(power / limit, 3).alias("score"),
        F.concat(F.lit("average power "), F.round(power, 1).cast("string"), F.lit(" kW")).alias("detail"),
    )


def consumption_anomalies(
    enriched: DataFrame,
    hourly: DataFrame,
    customers: DataFrame,
    dates: Sequence[dt.date],
    rules: AnomalyRules = DEFAULT_RULES,
) -> DataFrame:
    found = (
        spikes(hourly, dates, rules)
        .unionByName(zero_streaks(enriched, dates, rules))
        .unionByName(implausible(enriched, customers, dates, rules))
    )
    return found.withColumnsRenamed({"period_start": "period_start_utc", "period_end": "period_end_utc"})
