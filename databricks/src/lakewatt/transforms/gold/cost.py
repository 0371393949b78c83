"""Cost per contract and local day: spot prices bucketed to reading intervals, tariffs applied."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lakewatt.transforms.gold.common import date_list, in_dates, usable_channel
from lakewatt.transforms.gold.reference import contract_periods


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


def version_day_sums(
    enriched: DataFrame,
    contracts: DataFrame,
    buckets: DataFrame,
    dates: Sequence[dt.date],
    default_timezone: str,
) -> DataFrame:
    """Per local day, meter and contract version (null for readings without one), with the version's
    customer, time zone, tariff and bidding zone: the sums ``daily_consumption`` and ``customer_daily_cost``
    fold, from one pass over the readings.

    Each usable import reading is priced under its version's tariff terms (on the enriched reading). fixed:
    kWh x unit rate. time_of_use: peak rate when the local clock time of the interval start is in
    ``[peak_start, peak_end)`` (a window may wrap midnight), off-peak rate otherwise. dynamic: kWh x (spot
    EUR/MWh / 1000 + markup), the spot price of the reading's interval; kWh with no price (or no contract)
    count as unpriced.
    """
    spot = buckets.select(
        F.col("bidding_zone").alias("p_zone"),
        F.col("bucket_minutes").alias("p_minutes"),
        F.col("bucket_start").alias("p_start"),
        "price_eur_per_mwh",
    )
    rows = enriched.where(in_dates("date", dates))
    rows = rows.join(
        F.broadcast(spot),
        (rows.bidding_zone == spot.p_zone)
        & (rows.interval_minutes == spot.p_minutes)
        & (rows.interval_start == spot.p_start)
        & (rows.tariff_type == "dynamic"),
        "left",
    )
    minute = F.hour("local_ts") * 60 + F.minute("local_ts")
    start, end = F.col("peak_start_minute"), F.col("peak_end_minute")
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
    imp = usable_channel("import")
    # Keyed by meter and version start only, with numeric buffers: Spark hash-aggregates every reading on one
    # string (a string buffer would make it sort-based). Within a meter the periods a reading can fall in
    # start at distinct instants (contract_periods), so the pair names the version; its contract, customer,
    # time zone, tariff and bidding zone are joined back onto the few sums.
    sums = rows.groupBy("date", "meter_id", "contract_valid_from").agg(
        F.sum(F.when(imp, F.col("kwh")).otherwise(0.0)).alias("import_kwh"),
        F.sum(F.when(usable_channel("export"), F.col("kwh")).otherwise(0.0)).alias("export_kwh"),
        F.count(F.lit(1)).alias("readings_count"),
        F.count(F.when(imp, True)).alias("import_readings"),
        F.count(F.when(imp & F.col("quality").isin("estimated", "substituted"), True)).alias("estimated"),
        F.min("interval_minutes").alias("interval_minutes"),
        F.sum(F.when(imp, F.coalesce(F.col("kwh") * rate, F.lit(0.0))).otherwise(0.0)).alias(
            "energy_cost_eur"
        ),
        F.sum(F.when(imp & rate.isNull(), F.col("kwh")).otherwise(0.0)).alias("unpriced_kwh"),
    )
    versions = (
        contract_periods(contracts)
        .where(F.col("eff_to").isNull() | (F.col("eff_to") > F.col("eff_from")))
        .select(
            F.col("meter_id").alias("v_meter"),
            F.col("eff_from").alias("v_from"),
            "contract_id",
            "customer_id",
            F.coalesce(F.col("tariff_timezone"), F.lit(default_timezone)).alias("v_timezone"),
            "tariff_type",
            "bidding_zone",
        )
    )
    joined = sums.join(
        F.broadcast(versions),
        (sums.meter_id == versions.v_meter) & (sums.contract_valid_from == versions.v_from),
        "left",
    )
    return joined.select(
        "date",
        "meter_id",
        "customer_id",
        F.coalesce(F.col("v_timezone"), F.lit(default_timezone)).alias("timezone"),
        "contract_id",
        "contract_valid_from",
        "tariff_type",
        "bidding_zone",
        *(c for c in sums.columns if c not in ("date", "meter_id", "contract_valid_from")),
    )


def customer_daily_cost(
    sums: DataFrame, contracts: DataFrame, dates: Sequence[dt.date], default_timezone: str
) -> DataFrame:
    """Energy cost per contract and local day (``version_day_sums``), plus standing charges: the contract
    version valid at local midnight is charged for the day, whether or not readings arrived."""
    # The versions a day's usable import readings fell under, folded into one row per contract, taking the
    # latest version's tariff and zone (max_by over strings is sort-based: it only sees these few rows).
    priced = sums.where(F.col("contract_id").isNotNull() & (F.col("import_readings") > 0))
    energy = priced.groupBy("date", "customer_id", "meter_id", "contract_id").agg(
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
