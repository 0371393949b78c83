"""Reference data on the readings: contract and customer versions as periods, readings enriched with them."""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lakewatt.transforms.zones import from_utc


def contract_periods(contracts: DataFrame) -> DataFrame:
    """Non-overlapping supply periods per meter: ``[eff_from, eff_to)`` with the contract version's terms.

    Versions of different contracts on one meter may overlap in bad data; a later start then ends the
    earlier period, so every reading belongs to at most one contract version.
    """
    w = Window.partitionBy("meter_id").orderBy("valid_from", "contract_id")
    return contracts.select(
        "*",
        F.col("valid_from").alias("eff_from"),
        F.least(F.col("valid_to"), F.lead("valid_from").over(w)).alias("eff_to"),
    )


def customer_periods(customers: DataFrame) -> DataFrame:
    """Customer versions as-of periods; the first version also covers the time before it was recorded."""
    w = Window.partitionBy("customer_id").orderBy("valid_from")
    return customers.select(
        "customer_id",
        F.when(F.lag("valid_from").over(w).isNotNull(), F.col("valid_from")).alias("c_from"),
        F.col("valid_to").alias("c_to"),
        "region",
        "segment",
    )


def minute_of_day(hhmm: Column) -> Column:
    """``HH:MM`` as minutes after midnight."""
    return F.substring(hhmm, 1, 2).cast("int") * 60 + F.substring(hhmm, 4, 2).cast("int")


# The contract version's tariff, carried on each reading so pricing needs no second join of every reading.
TARIFF_TERMS = (
    "tariff_type",
    "unit_rate_eur_per_kwh",
    "peak_rate_eur_per_kwh",
    "offpeak_rate_eur_per_kwh",
    "peak_start_minute",
    "peak_end_minute",
    "spot_markup_eur_per_kwh",
    "bidding_zone",
)


def enrich_readings(
    readings: DataFrame, contracts: DataFrame, default_timezone: str, zones: Iterable[str] = ()
) -> DataFrame:
    """Readings with their contract version, its tariff terms (``TARIFF_TERMS``), customer, time zone, local
    time and local date.

    The contract side is small and broadcast; the range condition is a filter after the hash join on meter.
    ``zones``: the time zones the contracts name, if known (``from_utc``: the same result, faster).
    """
    periods = contract_periods(contracts).select(
        F.col("meter_id").alias("c_meter"),
        "eff_from",
        "eff_to",
        "contract_id",
        F.col("valid_from").alias("contract_valid_from"),
        "customer_id",
        "tariff_timezone",
        *(name for name in TARIFF_TERMS if not name.endswith("_minute")),
        minute_of_day(F.col("peak_start_local")).alias("peak_start_minute"),
        minute_of_day(F.col("peak_end_local")).alias("peak_end_minute"),
    )
    joined = readings.join(
        F.broadcast(periods),
        (readings.meter_id == periods.c_meter)
        & (readings.interval_start >= periods.eff_from)
        & (periods.eff_to.isNull() | (readings.interval_start < periods.eff_to)),
        "left",
    )
    tz = F.coalesce(F.col("tariff_timezone"), F.lit(default_timezone))
    local = from_utc(F.col("interval_start"), tz, [*zones, default_timezone])
    return joined.select(
        "meter_id",
        "channel",
        "interval_start",
        "interval_minutes",
        "kwh",
        "quality",
        "contract_id",
        "contract_valid_from",
        "customer_id",
        *TARIFF_TERMS,
        tz.alias("timezone"),
        local.alias("local_ts"),
        F.to_date(local).alias("date"),
    )
