"""Estimation of missing intervals: linear interpolation for short gaps, like-day average for longer ones.

* ``linear``: a gap of at most ``linear_max_minutes`` with a received value on both sides: the values on a
  straight line between the two neighbours.
* ``like_day``: a gap of at most ``like_day_max_minutes``: the mean of the same local time on the same
  weekday of the previous ``like_day_weeks`` weeks, scaled by how the day's received intervals compare with
  those weeks at the same times (within ``like_day_scale_min`` .. ``like_day_scale_max``).
* ``recent_days``: as ``like_day`` when none of those weeks has the time, from the previous ``recent_days``
  days instead (a meter in its first weeks).
* beyond ``like_day_max_minutes``: no estimate; the day stays incomplete and its gap is reported.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakewatt.vee.series import param

ESTIMATE_COLUMNS = ("estimate", "estimation_method")


def minute_of_day(timestamp: str = "interval_start") -> Column:
    local = F.from_utc_timestamp(timestamp, F.col("timezone"))
    return F.hour(local) * 60 + F.minute(local)


def linear(missing: DataFrame) -> Column:
    """The interpolated value of a missing interval (null when the gap is too long or open-ended)."""
    short = F.col("gap_intervals") * F.col("interval_minutes") <= param("linear_max_minutes")
    fraction = F.col("gap_position") / (F.col("gap_intervals") + 1)
    value = F.col("prev_value") + (F.col("next_value") - F.col("prev_value")) * fraction
    return F.when(short & F.col("has_prev") & F.col("has_next"), value)


def like_day_profile(day_slots: DataFrame, history: DataFrame) -> DataFrame:
    """For every interval of ``day_slots``: the mean of the same local time on the same weekday of the
    previous weeks (``week_mean``, ``week_points``) and on the previous days (``recent_mean``)."""
    weeks = F.transform(F.sequence(F.lit(1), param("like_day_weeks")), lambda k: F.date_sub("date", k * 7))
    days = F.transform(F.sequence(F.lit(1), param("recent_days")), lambda k: F.date_sub("date", k))
    candidates = day_slots.select(
        "meter_id",
        "channel",
        "interval_start",
        "minute_of_day",
        F.explode(
            F.concat(
                F.transform(weeks, lambda d: F.struct(d.alias("on"), F.lit(True).alias("weekday"))),
                F.transform(days, lambda d: F.struct(d.alias("on"), F.lit(False).alias("weekday"))),
            )
        ).alias("c"),
    ).select("meter_id", "channel", "interval_start", "minute_of_day", "c.on", "c.weekday")
    # Only the history of the meters that need a profile (a few): not a shuffle of every meter's weeks.
    wanted = F.broadcast(day_slots.select("meter_id", "channel").distinct())
    past = history.join(wanted, ["meter_id", "channel"], "left_semi").select(
        "meter_id", "channel", F.col("date").alias("on"), "minute_of_day", F.col("value").alias("past")
    )
    matched = candidates.join(past, ["meter_id", "channel", "on", "minute_of_day"])
    return matched.groupBy("meter_id", "channel", "interval_start").agg(
        F.avg(F.when(F.col("weekday"), F.col("past"))).alias("week_mean"),
        F.avg(F.when(~F.col("weekday"), F.col("past"))).alias("recent_mean"),
    )


def estimate(evaluated: DataFrame, history: DataFrame) -> DataFrame:
    """``evaluated`` (the series on the run's days, with parameters) plus ``estimate`` and
    ``estimation_method`` for every missing interval an estimation method covers."""
    missing = F.col("value").isNull()
    staged = evaluated.withColumn("_linear", F.when(missing, linear(evaluated)))
    needs_profile = (
        missing
        & F.col("_linear").isNull()
        & (F.col("gap_intervals") * F.col("interval_minutes") <= param("like_day_max_minutes"))
    )
    profile_days = staged.where(needs_profile).select("meter_id", "channel", "date").distinct()
    day_slots = staged.join(profile_days, ["meter_id", "channel", "date"], "left_semi").withColumn(
        "minute_of_day", minute_of_day()
    )
    profile = like_day_profile(day_slots, history)
    like = F.coalesce(F.col("week_mean"), F.col("recent_mean"))
    with_profile = day_slots.join(profile, ["meter_id", "channel", "interval_start"], "left")
    both = F.col("value").isNotNull() & like.isNotNull()
    scale = with_profile.groupBy("meter_id", "channel", "date").agg(
        F.sum(F.when(both, F.col("value"))).alias("_own"), F.sum(F.when(both, like)).alias("_like")
    )
    scaled = (
        with_profile.join(scale, ["meter_id", "channel", "date"])
        .where(needs_profile)
        .select(
            "meter_id",
            "channel",
            "interval_start",
            F.when(F.col("_like") > 0, F.col("_own") / F.col("_like")).otherwise(F.lit(1.0)).alias("_ratio"),
            F.col("week_mean"),
            F.col("recent_mean"),
            param("like_day_scale_min").alias("_lo"),
            param("like_day_scale_max").alias("_hi"),
        )
        .select(
            "meter_id",
            "channel",
            "interval_start",
            (F.coalesce("week_mean", "recent_mean") * F.least(F.greatest("_ratio", "_lo"), "_hi")).alias(
                "_like_value"
            ),
            F.when(F.col("week_mean").isNotNull(), F.lit("like_day"))
            .when(F.col("recent_mean").isNotNull(), F.lit("recent_days"))
            .alias("_like_method"),
        )
    )
    out = staged.join(scaled, ["meter_id", "channel", "interval_start"], "left")
    value = F.coalesce(F.col("_linear"), F.col("_like_value"))
    method = F.when(F.col("_linear").isNotNull(), F.lit("linear")).otherwise(F.col("_like_method"))
    return out.select(
        *staged.columns,
        F.when(value.isNotNull(), F.round(F.greatest(value, F.lit(0.0)), 6)).alias("estimate"),
        F.when(value.isNotNull(), method).alias("estimation_method"),
    ).drop("_linear")
