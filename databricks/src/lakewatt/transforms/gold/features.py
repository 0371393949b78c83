"""Forecast features per meter and hour: lags, rolling means, calendar and the day-ahead price."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lakewatt.transforms.gold.common import in_dates
from lakewatt.transforms.gold.consumption import hourly_columns
from lakewatt.transforms.gold.reference import contract_periods

# A day's features look back at most 168 hours: 7 days, 8 local dates across a clock change.
LOOKBACK_DAYS = 8


def same_hour_window(days_back: int, days_to: int) -> Window:
    # One partitioning (meter) for every window of the table, so Spark shuffles the hourly series once; the
    # composite order key keeps a range frame inside one local hour of day.
    return (
        Window.partitionBy("meter_id")
        .orderBy(F.col("local_hour") * 100000 + F.col("day_number"))
        .rangeBetween(days_back, days_to)
    )


def hourly_prices(buckets: DataFrame) -> DataFrame:
    """Mean day-ahead price per zone and UTC hour (finest resolution available), from ``price_buckets``."""
    return buckets.where(F.col("bucket_minutes") == 60).select(
        F.col("bidding_zone").alias("p_zone"),
        F.col("bucket_start").alias("p_hour"),
        F.col("price_eur_per_mwh").alias("p_price"),
    )


def stored_hourly(features: DataFrame) -> DataFrame:
    """The hourly import series (``hourly_columns``) as ``forecast_features`` keeps it: a run reads the
    hours before its days from there instead of enriching weeks of readings again."""
    start = F.col("hour_start_utc")
    local = F.timestamp_seconds(F.unix_seconds(start) + (F.col("utc_offset_hours") * 3600).cast("long"))
    return features.select(*hourly_columns(start, F.col("import_kwh"), local))


def forecast_features(
    hourly: DataFrame, contracts: DataFrame, buckets: DataFrame, dates: Sequence[dt.date]
) -> DataFrame:
    history = {d - dt.timedelta(days=back) for d in dates for back in range(LOOKBACK_DAYS + 1)}
    by_hour = Window.partitionBy("meter_id").orderBy("epoch_hour")
    features = (
        hourly.where(in_dates("date", history))
        .select(
            "*",
            F.max("kwh").over(by_hour.rangeBetween(-24, -24)).alias("lag_24h_kwh"),
            F.max("kwh").over(by_hour.rangeBetween(-168, -168)).alias("lag_168h_kwh"),
            F.avg("kwh").over(by_hour.rangeBetween(-24, -1)).alias("rolling_mean_24h_kwh"),
            F.avg("kwh").over(same_hour_window(-7, -1)).alias("rolling_mean_7d_same_hour_kwh"),
        )
        .where(in_dates("date", dates))
    )
    zones = contract_periods(contracts).select(
        F.col("meter_id").alias("z_meter"), "eff_from", "eff_to", F.col("bidding_zone").alias("z_zone")
    )
    features = features.join(
        F.broadcast(zones),
        (features.meter_id == zones.z_meter)
        & (features.hour_start >= zones.eff_from)
        & (zones.eff_to.isNull() | (features.hour_start < zones.eff_to)),
        "left",
    )
    hp = hourly_prices(buckets)
    lagged = hp.select(
        F.col("p_zone").alias("l_zone"),
        (F.col("p_hour") + F.expr("INTERVAL 24 HOURS")).alias("l_hour"),
        F.col("p_price").alias("l_price"),
    )
    features = features.join(
        F.broadcast(hp), (features.z_zone == hp.p_zone) & (features.hour_start == hp.p_hour), "left"
    ).join(
        F.broadcast(lagged),
        (features.z_zone == lagged.l_zone) & (features.hour_start == lagged.l_hour),
        "left",
    )
    iso_dow = ((F.dayofweek("local_hour_start") + 5) % 7) + 1
    return features.select(
        "date",
        "meter_id",
        F.col("hour_start").alias("hour_start_utc"),
        "local_hour",
        iso_dow.alias("day_of_week"),
        (iso_dow >= 6).alias("is_weekend"),
        F.month("local_hour_start").alias("month"),
        ((F.unix_seconds("local_hour_start") - F.unix_seconds("hour_start")) / 3600.0).alias(
            "utc_offset_hours"
        ),
        F.round("kwh", 6).alias("import_kwh"),
        F.round("lag_24h_kwh", 6).alias("lag_24h_kwh"),
        F.round("lag_168h_kwh", 6).alias("lag_168h_kwh"),
        F.round("rolling_mean_24h_kwh", 6).alias("rolling_mean_24h_kwh"),
        F.round("rolling_mean_7d_same_hour_kwh", 6).alias("rolling_mean_7d_same_hour_kwh"),
        F.col("z_zone").alias("bidding_zone"),
        F.col("p_price").alias("price_eur_per_mwh"),
        F.col("l_price").alias("price_lag_24h_eur_per_mwh"),
    )
