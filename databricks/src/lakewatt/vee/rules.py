"""The VEE rule catalogue: each rule turns the evaluated series into findings (docs/vee.md lists them).

A finding covers one meter, channel and local day; a run that crosses midnight gives one finding per day
it touches, each with the length of the whole run in ``score`` (minutes) where that is what qualified it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakewatt.transforms.gold.common import in_dates, local_day_minutes
from lakewatt.vee.series import param

FINDING_COLUMNS = (
    "meter_id",
    "channel",
    "date",
    "rule",
    "severity",
    "period_start_utc",
    "period_end_utc",
    "intervals",
    "kwh",
    "expected_kwh",
    "score",
    "detail",
)


def _end(last_start: Column) -> Column:
    return last_start + F.make_dt_interval(mins=F.col("interval_minutes"))


def _finding(rule: str, **columns: Column) -> list[Column]:
    defaults = {"kwh": F.lit(None), "expected_kwh": F.lit(None), "score": F.lit(None)}
    merged = {**defaults, **columns}
    return [
        F.col("meter_id"),
        F.col("channel"),
        F.col("date"),
        F.lit(rule).alias("rule"),
        param(f"severity_{rule}").alias("severity"),
        merged["period_start_utc"].alias("period_start_utc"),
        merged["period_end_utc"].alias("period_end_utc"),
        merged["intervals"].cast("int").alias("intervals"),
        F.round(merged["kwh"].cast("double"), 6).alias("kwh"),
        F.round(merged["expected_kwh"].cast("double"), 6).alias("expected_kwh"),
        F.round(merged["score"].cast("double"), 3).alias("score"),
        merged["detail"].alias("detail"),
    ]


def _per_day(flagged: DataFrame, run: str) -> DataFrame:
    """Flagged intervals grouped by meter, channel, local day and ``run``."""
    return flagged.groupBy("meter_id", "channel", "date", run).agg(
        F.min("interval_start").alias("first"),
        F.max("interval_start").alias("last"),
        F.count(F.lit(1)).alias("n"),
        F.sum("value").alias("kwh_sum"),
        F.sum("estimate").alias("estimate_sum"),
        F.count("estimate").alias("estimated"),
        F.max_by("estimation_method", "estimate").alias("method"),
        F.first("interval_minutes").alias("interval_minutes"),
        F.first("run_minutes").alias("run_minutes"),
        *(F.first(c).alias(c) for c in flagged.columns if c.startswith("p_")),
    )


def gaps(evaluated: DataFrame) -> DataFrame:
    """``gap``: missing intervals (absent, or received as ``missing``), one finding per gap and day; ``kwh``
    is the estimated energy when the gap was estimated."""
    missing = evaluated.where(F.col("value").isNull()).withColumn(
        "run_minutes", F.col("gap_intervals") * F.col("interval_minutes")
    )
    runs = _per_day(missing, "gap_start")
    detail = F.concat(
        F.col("n").cast("string"),
        F.lit(" missing interval(s) of a "),
        F.col("run_minutes").cast("string"),
        F.lit("-minute gap; "),
        F.when(F.col("estimated") == F.col("n"), F.concat(F.lit("estimated ("), F.col("method"), F.lit(")")))
        .when(F.col("estimated") > 0, F.lit("partly estimated"))
        .otherwise(F.lit("not estimated")),
    )
    return runs.select(
        *_finding(
            "gap",
            period_start_utc=F.col("first"),
            period_end_utc=_end(F.col("last")),
            intervals=F.col("n"),
            kwh=F.when(F.col("estimated") > 0, F.col("estimate_sum")),
            score=F.col("run_minutes"),
            detail=detail,
        )
    )


def _runs(series: DataFrame) -> DataFrame:
    """Runs of one repeated received value: ``run_id``, its value, first and last interval, length."""
    present = series.where(F.col("value").isNotNull())
    return present.groupBy("meter_id", "channel", "run_id").agg(
        F.first("value").alias("run_value"),
        F.min("interval_start").alias("run_first"),
        F.max("interval_start").alias("run_last"),
        F.count(F.lit(1)).alias("run_length"),
    )


def zero_runs(series: DataFrame, evaluated: DataFrame, runs: DataFrame) -> DataFrame:
    """``zero_run``: import of exactly 0 for at least ``zero_run_minutes`` while the meter exported nothing
    (a prosumer covering its own load reads 0 import legitimately)."""
    rows = evaluated.where((F.col("channel") == "import") & (F.col("value") == 0)).join(
        runs, ["meter_id", "channel", "run_id"]
    )
    long_enough = rows.withColumn("run_minutes", F.col("run_length") * F.col("interval_minutes")).where(
        F.col("run_minutes") >= param("zero_run_minutes")
    )
    export = series.where((F.col("channel") == "export") & (F.col("value") > 0)).select(
        F.col("meter_id").alias("x_meter"), F.col("interval_start").alias("x_at")
    )
    exporting = long_enough.join(
        export,
        (F.col("meter_id") == F.col("x_meter"))
        & (F.col("x_at") >= F.col("run_first"))
        & (F.col("x_at") <= F.col("run_last")),
        "left_semi",
    )
    flagged = long_enough.join(
        exporting.select("meter_id", "run_id").distinct(), ["meter_id", "run_id"], "left_anti"
    )
    per_day = _per_day(flagged, "run_id")
    return per_day.select(
        *_finding(
            "zero_run",
            period_start_utc=F.col("first"),
            period_end_utc=_end(F.col("last")),
            intervals=F.col("n"),
            kwh=F.lit(0.0),
            score=F.col("run_minutes"),
            detail=F.concat(F.lit("0 kWh for "), F.col("run_minutes").cast("string"), F.lit(" minutes")),
        )
    )


def frozen_values(evaluated: DataFrame, runs: DataFrame) -> DataFrame:
    """``frozen_value``: a non-zero value repeated for at least ``frozen_minutes`` after its first
    occurrence; the repeats are flagged (the first occurrence may well be true)."""
    rows = evaluated.where(F.col("value") > 0).join(runs, ["meter_id", "channel", "run_id"])
    repeats = rows.withColumn("run_minutes", (F.col("run_length") - 1) * F.col("interval_minutes")).where(
        (F.col("run_minutes") >= param("frozen_minutes")) & (F.col("interval_start") > F.col("run_first"))
    )
    per_day = _per_day(repeats, "run_id")
    return per_day.select(
        *_finding(
            "frozen_value",
            period_start_utc=F.col("first"),
            period_end_utc=_end(F.col("last")),
            intervals=F.col("n"),
            kwh=F.col("kwh_sum"),
            score=F.col("run_minutes"),
            detail=F.concat(
                F.lit("value "),
                F.col("kwh_sum") / F.col("n"),
                F.lit(" kWh repeated for "),
                F.col("run_minutes").cast("string"),
                F.lit(" minutes"),
            ),
        )
    )


def spike_profile(history: DataFrame, window_minutes: int) -> DataFrame:
    """The meter's profile per channel and local hour: quartiles and count of the received values within
    ``window_minutes`` of that hour (``profile_hour``), over the history it is given."""
    reach = max(0, math.ceil(window_minutes / 60))
    offsets = F.array(*(F.lit(k) for k in range(-reach, reach + 1)))
    hour = (F.col("minute_of_day") / 60).cast("int")
    spread = history.select(
        "meter_id",
        "channel",
        "value",
        F.explode(F.transform(offsets, lambda k: F.pmod(hour + k, F.lit(24)))).alias("profile_hour"),
    )
    return spread.groupBy("meter_id", "channel", "profile_hour").agg(
        F.percentile("value", F.array(F.lit(0.25), F.lit(0.5), F.lit(0.75))).alias("q"),
        F.count(F.lit(1)).alias("points"),
    )


def spikes(evaluated: DataFrame, history: DataFrame, window_minutes: int) -> DataFrame:
    """``spike``: a value far above the meter's own profile at that time of day: robust z = (value -
    median) / scale with scale = IQR / 1.349, floored at 10 % of the median and ``spike_min_scale_kwh``;
    and more than ``spike_neighbour_ratio`` times both neighbouring values (a sunny hour of solar export is
    high in every interval around it, an injected or metering spike is not).

    The neighbour test is cheap and comes first: the profile is computed only for the meters, channels and
    hours of the values that pass it (a few in a thousand), not for every hour of every meter."""
    neighbours = F.greatest(
        F.coalesce(F.col("prev_value"), F.lit(0.0)),
        F.coalesce(F.col("next_value"), F.lit(0.0)),
        param("spike_min_scale_kwh"),
    )
    local = F.from_utc_timestamp("interval_start", F.col("timezone"))
    candidates = evaluated.where(
        F.col("value").isNotNull() & (F.col("value") > neighbours * param("spike_neighbour_ratio"))
    ).withColumn("profile_hour", F.hour(local))
    keys = candidates.select("meter_id", "channel", "profile_hour").distinct()
    relevant = history.join(
        F.broadcast(keys.select("meter_id", "channel").distinct()), ["meter_id", "channel"], "left_semi"
    )
    profile = spike_profile(relevant, window_minutes).join(
        F.broadcast(keys), ["meter_id", "channel", "profile_hour"], "left_semi"
    )
    scored = candidates.join(profile, ["meter_id", "channel", "profile_hour"])
    median = F.col("q")[1]
    scale = F.greatest((F.col("q")[2] - F.col("q")[0]) / 1.349, median * 0.1, param("spike_min_scale_kwh"))
    z = (F.col("value") - median) / scale
    found = scored.where((F.col("points") >= param("spike_min_points")) & (z > param("spike_z")))
    return found.select(
        *_finding(
            "spike",
            period_start_utc=F.col("interval_start"),
            period_end_utc=_end(F.col("interval_start")),
            intervals=F.lit(1),
            kwh=F.col("value"),
            expected_kwh=median,
            score=z,
            detail=F.concat(
                F.lit("robust z "),
                F.round(z, 1).cast("string"),
                F.lit(" against "),
                F.col("points").cast("string"),
                F.lit(" values of the meter's profile"),
            ),
        )
    )


def day_medians(history: DataFrame, days: Sequence[dt.date], days_back: int) -> DataFrame:
    """Per meter and day of ``days``: the median import of the meter's complete local days in the
    ``days_back`` days before that day (``median_total``) and how many there were (``history_days``).

    Each day is judged against its own past, so a run over many days (a backfill, a batch of late files)
    judges its last days against the days just before them, not only against what preceded its first."""
    imports = history.where(F.col("channel") == "import")
    daily = imports.groupBy("meter_id", "date").agg(
        F.sum("value").alias("total"),
        F.count(F.lit(1)).alias("n"),
        F.min("interval_minutes").alias("interval_minutes"),
        F.first("timezone").alias("timezone"),
    )
    expected = local_day_minutes(F.col("date"), F.col("timezone")) / F.col("interval_minutes")
    complete = daily.where(F.col("n") >= expected).select("meter_id", F.col("date").alias("past"), "total")
    judged = (
        imports.select("meter_id")
        .distinct()
        .select("meter_id", F.explode(F.array(*(F.lit(d) for d in sorted(set(days))))).alias("date"))
    )
    before = (F.col("past") < F.col("date")) & (F.col("past") >= F.date_sub("date", days_back))
    return (
        judged.join(complete, "meter_id")
        .where(before)
        .groupBy("meter_id", "date")
        .agg(F.percentile("total", 0.5).alias("median_total"), F.count(F.lit(1)).alias("history_days"))
    )


def day_levels(evaluated: DataFrame, medians: DataFrame, days: Sequence[dt.date]) -> DataFrame:
    """``high_day`` / ``low_day``: the day's import (received and estimated) against the median of the
    meter's complete days before it (``day_medians``); a day with unestimated gaps is not judged low."""
    imports = evaluated.where((F.col("channel") == "import") & in_dates("date", days))
    daily = imports.groupBy("meter_id", "channel", "date").agg(
        F.sum(F.coalesce("value", "estimate")).alias("total"),
        F.count(F.when(F.col("value").isNull() & F.col("estimate").isNull(), True)).alias("unfilled"),
        F.min("interval_start").alias("first"),
        F.max("interval_start").alias("last"),
        F.first("interval_minutes").alias("interval_minutes"),
        F.count(F.lit(1)).alias("n"),
        *(F.first(c).alias(c) for c in evaluated.columns if c.startswith("p_")),
    )
    judged = daily.join(medians, ["meter_id", "date"])
    judged = judged.where(F.col("history_days") >= param("day_min_history"))
    difference = F.abs(F.col("total") - F.col("median_total")) >= param("day_min_difference_kwh")
    high = F.col("total") > F.col("median_total") * param("high_day_ratio")
    low = (F.col("unfilled") == 0) & (F.col("total") < F.col("median_total") * param("low_day_ratio"))

    def level(rule: str, condition: Column, word: str) -> DataFrame:
        return judged.where(condition & difference).select(
            *_finding(
                rule,
                period_start_utc=F.col("first"),
                period_end_utc=_end(F.col("last")),
                intervals=F.col("n"),
                kwh=F.col("total"),
                expected_kwh=F.col("median_total"),
                # A meter whose usual day is 0 kWh has no ratio (ANSI division by zero would fail the job).
                score=F.when(F.col("median_total") > 0, F.col("total") / F.col("median_total")),
                detail=F.concat(
                    F.lit(f"day {word} the median of "),
                    F.col("history_days").cast("string"),
                    F.lit(" complete days"),
                ),
            )
        )

    return level("high_day", high, "far above").unionByName(level("low_day", low, "far below"))
