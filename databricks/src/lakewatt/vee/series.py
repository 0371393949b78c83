"""The series VEE evaluates: every expected interval of each meter and channel on the run's local days.

A meter's days are local days in its zone (the tariff zone of its latest contract, or the run's default), so
a day has 46, 48 or 50 half-hours around daylight-saving changes. The series covers the run's days and one
day each side (the neighbours a gap's interpolation needs); history before that is read as plain readings.

A value counts as received when its quality is not ``missing`` and VEE did not produce it: VEE's own
estimates are treated as missing on every evaluation, so they are recomputed from the current neighbours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import fields

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lakewatt.vee.config import RuleParameters, VeeConfig

VEE_SOURCE = "lakewatt-vee"  # source_system of the readings VEE estimates


def param(name: str) -> Column:
    """A rule parameter of the series row's source (the columns ``with_parameters`` adds)."""
    return F.col(f"p_{name}")


def parameter_frame(spark: SparkSession, config: VeeConfig) -> DataFrame:
    """One row per configured source (``p_source``) and one for every other source (``p_source`` = '')."""
    names = [f.name for f in fields(RuleParameters)]
    types = {int: "int", float: "double", str: "string"}
    schema = ", ".join(
        ["p_source string", *(f"p_{n} {types[type(getattr(config.defaults, n))]}" for n in names)]
    )
    entries = [("", config.defaults), *sorted(config.sources.items())]
    rows = [(source, *(getattr(p, n) for n in names)) for source, p in entries]
    return spark.createDataFrame(rows, schema)


def with_parameters(frame: DataFrame, parameters: DataFrame, configured: Sequence[str]) -> DataFrame:
    """``frame`` (with ``source_system``) plus the parameter columns of its source."""
    key = F.when(F.col("source_system").isin(list(configured)), F.col("source_system")).otherwise(F.lit(""))
    return frame.join(F.broadcast(parameters), key == F.col("p_source"), "left").drop("p_source")


def meter_zones(contracts: DataFrame) -> DataFrame:
    """``meter_id``, ``timezone``: the tariff zone of each meter's latest contract version."""
    return contracts.groupBy("meter_id").agg(F.max_by("tariff_timezone", "valid_from").alias("zone"))


def zoned(readings: DataFrame, zones: DataFrame, default_timezone: str) -> DataFrame:
    """``readings`` with the meter's ``timezone``, local timestamp and local ``date``."""
    joined = readings.join(F.broadcast(zones), "meter_id", "left")
    tz = F.coalesce(F.col("zone"), F.lit(default_timezone))
    local = F.from_utc_timestamp("interval_start", tz)
    return joined.select("*", tz.alias("timezone"), F.to_date(local).alias("date")).drop("zone")


def received(readings: DataFrame) -> Column:
    """The reading's value when it counts as received (not missing, not VEE's own estimate)."""
    return F.when(
        (F.col("quality") != "missing") & F.col("estimation_method").isNull(), F.col("kwh")
    ).otherwise(F.lit(None).cast("double"))


def history(window_readings: DataFrame) -> DataFrame:
    """Received readings with local time of day and weekday: what profiles and like-days read."""
    local = F.from_utc_timestamp("interval_start", F.col("timezone"))
    return window_readings.where(
        (F.col("quality") != "missing") & F.col("estimation_method").isNull()
    ).select(
        "meter_id",
        "channel",
        "date",
        "timezone",
        "interval_start",
        "interval_minutes",
        F.col("kwh").alias("value"),
        (F.hour(local) * 60 + F.minute(local)).alias("minute_of_day"),
    )


def targets(window_readings: DataFrame, meters: DataFrame) -> DataFrame:
    """(meter, channel) pairs to evaluate: every channel the meter reported in the window, its interval
    length (the shortest seen), zone and source (the latest source that delivered a reading)."""
    rows = window_readings.join(meters, "meter_id", "left_semi").where(F.col("source_system") != VEE_SOURCE)
    return rows.groupBy("meter_id", "channel").agg(
        F.min("interval_minutes").alias("interval_minutes"),
        F.max("timezone").alias("timezone"),
        F.max_by("source_system", "interval_start").alias("source_system"),
    )


def slots(pairs: DataFrame, days: Sequence[dt.date]) -> DataFrame:
    """Every expected interval of ``pairs`` on ``days`` (local), each day from local midnight to the next."""
    day_array = F.array(*(F.lit(d) for d in sorted(set(days))))
    per_day = pairs.select("*", F.explode(day_array).alias("date"))
    start = F.to_utc_timestamp(F.col("date").cast("timestamp"), F.col("timezone"))
    end = F.to_utc_timestamp(F.date_add("date", 1).cast("timestamp"), F.col("timezone"))
    step = F.make_dt_interval(mins=F.col("interval_minutes"))
    return per_day.select("*", F.explode(F.sequence(start, end - step, step)).alias("interval_start"))


def series(expected: DataFrame, window_readings: DataFrame) -> DataFrame:
    """Expected intervals with what silver holds for them (``stored_*``) and the received ``value``, plus
    each missing interval's gap (``gap_start``, ``gap_intervals``, ``gap_position``, ``prev_value``,
    ``next_value``) and each value's run of equal values (``run_id``)."""
    stored = window_readings.select(
        "meter_id",
        "channel",
        "interval_start",
        F.col("kwh").alias("stored_kwh"),
        F.col("quality").alias("stored_quality"),
        F.col("estimation_method").alias("stored_method"),
        received(window_readings).alias("value"),
    )
    joined = expected.join(stored, ["meter_id", "channel", "interval_start"], "left")
    order = Window.partitionBy("meter_id", "channel").orderBy("interval_start")
    before = order.rowsBetween(Window.unboundedPreceding, -1)
    after = order.rowsBetween(1, Window.unboundedFollowing)
    whole = order.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    present_at = F.when(F.col("value").isNotNull(), F.col("interval_start"))
    step = F.make_dt_interval(mins=F.col("interval_minutes"))
    minutes = F.col("interval_minutes") * 60
    with_neighbours = joined.select(
        "*",
        F.last(present_at, ignorenulls=True).over(before).alias("_prev_at"),
        F.first(present_at, ignorenulls=True).over(after).alias("_next_at"),
        F.last("value", ignorenulls=True).over(before).alias("prev_value"),
        F.first("value", ignorenulls=True).over(after).alias("next_value"),
        F.min("interval_start").over(whole).alias("_first"),
        F.max("interval_start").over(whole).alias("_last"),
        F.lag("value").over(order).alias("_lag"),
    )
    gap_start = F.coalesce(F.col("_prev_at") + step, F.col("_first"))
    gap_end = F.coalesce(F.col("_next_at"), F.col("_last") + step)
    changes = F.col("value").isNull() | F.col("_lag").isNull() | (F.col("value") != F.col("_lag"))
    return with_neighbours.select(
        "*",
        F.when(F.col("value").isNull(), gap_start).alias("gap_start"),
        F.when(
            F.col("value").isNull(),
            ((F.unix_seconds(gap_end) - F.unix_seconds(gap_start)) / minutes).cast("int"),
        ).alias("gap_intervals"),
        F.when(
            F.col("value").isNull(),
            ((F.unix_seconds("interval_start") - F.unix_seconds(gap_start)) / minutes).cast("int") + 1,
        ).alias("gap_position"),
        F.sum(changes.cast("int")).over(order).alias("run_id"),
        F.col("_prev_at").isNotNull().alias("has_prev"),
        F.col("_next_at").isNotNull().alias("has_next"),
    ).drop("_prev_at", "_next_at", "_first", "_last", "_lag")
