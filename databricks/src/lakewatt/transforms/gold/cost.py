"""Cost per contract and local day: spot prices bucketed to reading intervals, tariffs applied."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lakewatt.transforms.gold.common import date_list, in_dates, usable_channel


def price_buckets(prices: DataFrame) -> DataFrame:
    """Spot price per ``(bidding_zone, bucket_minutes, bucket_start)`` for every reading interval length.

    Where a zone has both hourly and 15-minute prices for an hour, the 15-minute ones are used. A reading
    interval longer than the price resolution gets the mean of the prices it spans (energy spread evenly),
    a shorter one the price of the interval containing it. Small table: broadcast to the readings.
    """
    hour = F.date_trunc("hour", "interval_start")
    finest = Window.partitionBy("bidding_zone", hour)
    p = (
        prices.select("bidding_zone", "interval_start", "resolution_minutes", "price_eur_per_mwh")
        .withColumn("finest", F.min("resolution_minutes").over(finest))
        .where(F.col("resolution_minutes") == F.col("finest"))
    )
    parts = []
    for bucket in (5, 15, 30, 60):
        # Price intervals at least as long as the bucket: one row per bucket they cover.
        covering = p.where(F.col("resolution_minutes") >= bucket).select(
            "bidding_zone",
            F.lit(bucket).alias("bucket_minutes"),
            F.explode(
                F.sequence(
                    F.col("interval_start"),
                    F.col("interval_start") + F.make_dt_interval(mins=F.col("resolution_minutes") - bucket),
                    F.make_dt_interval(mins=F.lit(bucket)),
                )
            ).alias("bucket_start"),
            "price_eur_per_mwh",
        )
        # Shorter price intervals: the mean over the bucket.
        seconds = bucket * 60
        start_s = F.unix_seconds("interval_start")
        spanned = (
            p.where(F.col("resolution_minutes") < bucket)
            .groupBy("bidding_zone", F.timestamp_seconds(start_s - start_s % seconds).alias("bucket_start"))
            .agg(F.avg("price_eur_per_mwh").alias("price_eur_per_mwh"))
            .select(
                "bidding_zone", F.lit(bucket).alias("bucket_minutes"), "bucket_start", "price_eur_per_mwh"
            )
        )
        parts.extend([covering, spanned])
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out


def _minute_of(hhmm: Column) -> Column:
    return F.substring(hhmm, 1, 2).cast("int") * 60 + F.substring(hhmm, 4, 2).cast("int")


def customer_daily_cost(
    enriched: DataFrame,
    contracts: DataFrame,
    buckets: DataFrame,
    dates: Sequence[dt.date],
    default_timezone: str,
) -> DataFrame:
    """Energy cost per reading under its contract version's tariff, per day, plus standing charges.

    fixed: kWh x unit rate. time_of_use: peak rate when the local clock time of the interval start is in
    ``[peak_start, peak_end)`` (a window may wrap midnight), off-peak rate otherwise. dynamic: kWh x (spot
    EUR/MWh / 1000 + markup), the spot price of the reading's interval; kWh with no price count as unpriced.
    Standing charge: the contract version valid at local midnight is charged for the day, whether or not
    readings arrived.
    """
    terms = contracts.select(
        F.col("contract_id").alias("k_contract"),
        F.col("valid_from").alias("k_valid_from"),
        "tariff_type",
        "unit_rate_eur_per_kwh",
        "peak_rate_eur_per_kwh",
        "offpeak_rate_eur_per_kwh",
        "peak_start_local",
        "peak_end_local",
        "spot_markup_eur_per_kwh",
        "bidding_zone",
    )
    rows = enriched.where(
        in_dates("date", dates) & usable_channel("import") & F.col("contract_id").isNotNull()
    )
    rows = rows.join(
        F.broadcast(terms),
        (rows.contract_id == terms.k_contract) & (rows.contract_valid_from == terms.k_valid_from),
    )
    rows = rows.join(
        F.broadcast(buckets),
        (rows.bidding_zone == buckets.bidding_zone)
        & (rows.interval_minutes == buckets.bucket_minutes)
        & (rows.interval_start == buckets.bucket_start)
        & (rows.tariff_type == "dynamic"),
        "left",
    ).drop(buckets.bidding_zone)
    minute = F.hour("local_ts") * 60 + F.minute("local_ts")
    start, end = _minute_of(F.col("peak_start_local")), _minute_of(F.col("peak_end_local"))
    in_peak = F.when(start <= end, (minute >= start) & (minute < end)).otherwise(
        (minute >= start) | (minute < end)
    )
    rate = (
        F.when(F.col("tariff_type") == "fixed", F.col("unit_rate_eur_per_kwh"))
        .when(
            F.col("tariff_type") == "time_of_use",
            F.when(in_peak, F.col("peak_rate_eur_per_kwh")).otherwise(F.col("offpeak_rate_eur_per_kwh")),
        )
        .when(
            F.col("tariff_type") == "dynamic",
            F.col("price_eur_per_mwh") / 1000.0 + F.coalesce(F.col("spot_markup_eur_per_kwh"), F.lit(0.0)),
        )
    )
    # Two steps: sums per contract version first (numeric buffers: a hash aggregate over every reading), then
    # the few version rows of a day folded into one, taking the latest version's tariff and zone (max_by over
    # strings is sort-based, so it only sees the small pre-aggregated rows).
    version_keys = ["date", "customer_id", "meter_id", "contract_id", "contract_valid_from"]
    per_version = rows.groupBy(*version_keys, "tariff_type", "bidding_zone").agg(
        F.sum("kwh").alias("import_kwh"),
        F.sum(F.coalesce(F.col("kwh") * rate, F.lit(0.0))).alias("energy_cost_eur"),
        F.sum(F.when(rate.isNull(), F.col("kwh")).otherwise(0.0)).alias("unpriced_kwh"),
    )
    energy = per_version.groupBy("date", "customer_id", "meter_id", "contract_id").agg(
        F.sum("import_kwh").alias("import_kwh"),
        F.sum("energy_cost_eur").alias("energy_cost_eur"),
        F.sum("unpriced_kwh").alias("unpriced_kwh"),
        F.max_by("tariff_type", "contract_valid_from").alias("e_tariff"),
        F.max_by("bidding_zone", "contract_valid_from").alias("e_zone"),
    )
    # Standing charge: the version valid at local midnight of each day.
    tz = F.coalesce(F.col("tariff_timezone"), F.lit(default_timezone))
    days = F.explode(date_list(dates)).alias("date")
    standing = (
        contracts.select("*", days)
        .withColumn("midnight", F.to_utc_timestamp(F.col("date").cast("timestamp"), tz))
        .where(
            (F.col("valid_from") <= F.col("midnight"))
            & (F.col("valid_to").isNull() | (F.col("midnight") < F.col("valid_to")))
        )
        .groupBy("date", "customer_id", "meter_id", "contract_id")
        .agg(
            F.sum("standing_charge_eur_per_day").alias("standing_charge_eur"),
            F.max_by("tariff_type", "valid_from").alias("s_tariff"),
            F.max_by("bidding_zone", "valid_from").alias("s_zone"),
        )
    )
    both = energy.join(standing, ["date", "customer_id", "meter_id", "contract_id"], "full")
    cost = F.round(F.coalesce(F.col("energy_cost_eur"), F.lit(0.0)), 6)
    charge = F.coalesce(F.col("standing_charge_eur"), F.lit(0.0))
    return both.select(
        "date",
        "customer_id",
        "meter_id",
        "contract_id",
        F.coalesce("e_tariff", "s_tariff").alias("tariff_type"),
        F.coalesce("e_zone", "s_zone").alias("bidding_zone"),
        F.round(F.coalesce(F.col("import_kwh"), F.lit(0.0)), 6).alias("import_kwh"),
        cost.alias("energy_cost_eur"),
        charge.alias("standing_charge_eur"),
        F.round(cost + charge, 6).alias("total_cost_eur"),
        F.round(F.coalesce(F.col("unpriced_kwh"), F.lit(0.0)), 6).alias("unpriced_kwh"),
    )
