"""Consumption facts: energy per meter and local day, import per hour, load profiles per segment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakewatt.transforms.gold.common import in_dates, local_day_minutes, usable_channel
from lakewatt.transforms.gold.reference import customer_periods
from lakewatt.transforms.zones import from_utc


def daily_consumption(sums: DataFrame) -> DataFrame:
    """Energy per meter and local day, from the per-version sums of the day (``version_day_sums``)."""
    daily = sums.groupBy("date", "meter_id", "customer_id", "timezone").agg(
        F.sum("import_kwh").alias("import_kwh"),
        F.sum("export_kwh").alias("export_kwh"),
        F.sum("readings_count").alias("readings_count"),
        F.sum("import_readings").alias("import_readings"),
        F.sum("estimated").alias("estimated"),
        F.min("interval_minutes").alias("interval_minutes"),
    )
    expected = (local_day_minutes(F.col("date"), F.col("timezone")) / F.col("interval_minutes")).cast("long")
    return daily.select(
        "date",
        "meter_id",
        "customer_id",
        "timezone",
        F.round("import_kwh", 6).alias("import_kwh"),
        F.round("export_kwh", 6).alias("export_kwh"),
        "readings_count",
        "import_readings",
        expected.alias("expected_readings"),
        F.least(F.lit(1.0), F.col("import_readings") / expected).alias("completeness"),
        F.when(F.col("import_readings") > 0, F.col("estimated") / F.col("import_readings")).alias(
            "estimated_share"
        ),
    )


def hourly_columns(hour_start: Column, kwh: Column, local_hour_start: Column) -> list[Column]:
    """The columns of the hourly import series the forecast features read, whichever way it was built: from a
    UTC hour, its import kWh and the same hour on the meter's local clock."""
    return [
        F.col("meter_id"),
        hour_start.alias("hour_start"),
        kwh.alias("kwh"),
        F.to_date(local_hour_start).alias("date"),
        F.hour(local_hour_start).alias("local_hour"),
        local_hour_start.alias("local_hour_start"),
        (F.unix_seconds(hour_start) / 3600).cast("long").alias("epoch_hour"),
        F.datediff(F.to_date(local_hour_start), F.lit(dt.date(1970, 1, 1))).alias("day_number"),
    ]


def hourly_import(enriched: DataFrame, zones: Iterable[str] = ()) -> DataFrame:
    """Import kWh per meter and UTC hour, with local date and local hour (``hourly_columns``); ``zones`` as
    in ``from_utc``."""
    usable = enriched.where(usable_channel("import"))
    hourly = usable.groupBy("meter_id", F.date_trunc("hour", "interval_start").alias("hour_start")).agg(
        F.sum("kwh").alias("kwh"), F.max("timezone").alias("timezone")
    )
    local = from_utc(F.col("hour_start"), F.col("timezone"), zones)
    return hourly.select(*hourly_columns(F.col("hour_start"), F.col("kwh"), local))


def load_profile_hourly(enriched: DataFrame, customers: DataFrame, dates: Sequence[dt.date]) -> DataFrame:
    rows = enriched.where(in_dates("date", dates) & (F.col("quality") != "missing"))
    per_meter = rows.groupBy("date", F.hour("local_ts").alias("hour"), "meter_id", "customer_id").agg(
        F.sum(F.when(F.col("channel") == "import", F.col("kwh")).otherwise(0.0)).alias("import_kwh"),
        F.sum(F.when(F.col("channel") == "export", F.col("kwh")).otherwise(0.0)).alias("export_kwh"),
        F.min("interval_start").alias("at"),
    )
    people = customer_periods(customers)
    joined = per_meter.join(
        F.broadcast(people),
        (per_meter.customer_id == people.customer_id)
        & (people.c_from.isNull() | (per_meter.at >= people.c_from))
        & (people.c_to.isNull() | (per_meter.at < people.c_to)),
        "left",
    )
    profile = joined.groupBy(
        "date",
        F.coalesce(F.col("region"), F.lit("unknown")).alias("region"),
        F.coalesce(F.col("segment"), F.lit("unknown")).alias("segment"),
        "hour",
    ).agg(
        F.sum("import_kwh").alias("import_kwh"),
        F.sum("export_kwh").alias("export_kwh"),
        F.countDistinct("meter_id").alias("meters"),
    )
    return profile.select(
        "date",
        "region",
        "segment",
        "hour",
        F.round("import_kwh", 6).alias("import_kwh"),
        F.round("export_kwh", 6).alias("export_kwh"),
        "meters",
        F.round(F.col("import_kwh") / F.col("meters"), 6).alias("avg_import_kwh_per_meter"),
    )
