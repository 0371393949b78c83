"""The meter, customer and contract dimensions: small tables rebuilt whole from silver's reference data.

A dimension row exists for every key a fact can carry: every meter and customer any contract version names
(a customer whose own record has not arrived yet gets a row with null region and segment), so a fact's key
always finds its row.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

# ISO instant, as the session runs in UTC: a version key reads the same in every tool.
_INSTANT = "yyyy-MM-dd'T'HH:mm:ss'Z'"

_CONTRACT_TERMS = (
    "contract_id", "customer_id", "meter_id", "tariff_type", "unit_rate_eur_per_kwh", "peak_rate_eur_per_kwh",
    "offpeak_rate_eur_per_kwh", "peak_start_local", "peak_end_local", "tariff_timezone",
    "spot_markup_eur_per_kwh", "standing_charge_eur_per_day", "bidding_zone",
)  # fmt: skip


def dim_contract(contracts: DataFrame) -> DataFrame:
    """Every contract version (SCD type 2 as silver keeps it), keyed by contract id and start."""
    return contracts.select(
        F.concat_ws("@", "contract_id", F.date_format("valid_from", _INSTANT)).alias("contract_version_key"),
        *_CONTRACT_TERMS,
        F.col("valid_from").alias("valid_from_utc"),
        F.col("valid_to").alias("valid_to_utc"),
        F.col("valid_to").isNull().alias("is_current"),
    )


def latest_contract_per_meter(contracts: DataFrame) -> DataFrame:
    """Each meter's latest contract version (latest start; the higher contract id on a tie, as the supply
    periods order them), with the meter's first start and its number of versions."""
    newest_first = Window.partitionBy("meter_id").orderBy(F.desc("valid_from"), F.desc("contract_id"))
    per_meter = Window.partitionBy("meter_id")
    return (
        contracts.select(
            "*",
            F.row_number().over(newest_first).alias("rank"),
            F.min("valid_from").over(per_meter).alias("supply_start_utc"),
            F.count(F.lit(1)).over(per_meter).alias("contract_versions"),
        )
        .where("rank = 1")
        .drop("rank")
    )


def current_customers(customers: DataFrame) -> DataFrame:
    return customers.where(F.col("valid_to").isNull()).select(
        "customer_id", "region", "segment", "created_at", F.col("valid_from").alias("version_from_utc")
    )


def dim_meter(contracts: DataFrame, customers: DataFrame) -> DataFrame:
    latest = latest_contract_per_meter(contracts)
    return latest.join(current_customers(customers), "customer_id", "left").select(
        "meter_id",
        "customer_id",
        "contract_id",
        F.col("tariff_timezone").alias("timezone"),
        "bidding_zone",
        "region",
        "segment",
        "supply_start_utc",
        F.col("valid_to").alias("supply_end_utc"),
        F.col("valid_to").isNull().alias("is_supplied"),
        "contract_versions",
    )


def dim_customer(contracts: DataFrame, customers: DataFrame) -> DataFrame:
    """Customers with a record, and customers only a contract names so far (``has_record`` false)."""
    meters = (
        latest_contract_per_meter(contracts).groupBy("customer_id").agg(F.count(F.lit(1)).alias("meters"))
    )
    named = contracts.select("customer_id").distinct()
    known = current_customers(customers).withColumn("has_record", F.lit(True))
    return (
        known.join(named, "customer_id", "full")
        .join(meters, "customer_id", "left")
        .select(
            "customer_id",
            "region",
            "segment",
            F.col("created_at").alias("customer_since_utc"),
            "version_from_utc",
            F.coalesce("meters", F.lit(0)).cast("long").alias("meters"),
            F.coalesce("has_record", F.lit(False)).alias("has_record"),
        )
    )
