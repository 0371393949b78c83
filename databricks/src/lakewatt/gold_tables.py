"""The gold tables that analysts, Power BI and data scientists read: schemas, comments, constraints, keys."""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql.types import (
    BooleanType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructType,
    TimestampType,
)

from lakewatt.gold_columns import GOLD_COLUMN_COMMENTS
from lakewatt.table_spec import TableSpec, opt, req
from lakewatt.transforms.gold.anomalies import ANOMALY_TYPES

# Gold is for readers: no reader table feature, so delta-rs, DuckDB and BI engines open it too. Deletion
# vectors buy gold nothing (each write replaces whole days), and Databricks turns them on for new tables
# unless told not to.
GOLD_PROPERTIES: Mapping[str, str] = {"delta.enableDeletionVectors": "false"}

_GOLD_TAIL = [req("computed_at", TimestampType()), req("computed_by", StringType())]

GOLD_TABLES = {
    "daily_consumption": TableSpec(
        "gold",
        "daily_consumption",
        StructType(
            [
                req("date", DateType()),
                req("meter_id", StringType()),
                opt("customer_id", StringType()),
                req("timezone", StringType()),
                req("import_kwh", DoubleType()),
                req("export_kwh", DoubleType()),
                req("readings_count", LongType()),
                req("import_readings", LongType()),
                req("expected_readings", LongType()),
                req("completeness", DoubleType()),
                opt("estimated_share", DoubleType()),
                *_GOLD_TAIL,
            ]
        ),
        "Per meter and local day (the supply point's time zone; 23 or 25 hours on daylight-saving days): "
        "import and export kWh, readings received vs expected, share of estimated or substituted values.",
        cluster_by=("date", "meter_id"),
        constraints={"import_non_negative": "import_kwh >= 0", "completeness_range": "completeness >= 0"},
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["daily_consumption"],
        foreign_keys={"customer_id": "dim_customer"},
    ),
    "customer_daily_cost": TableSpec(
        "gold",
        "customer_daily_cost",
        StructType(
            [
                req("date", DateType()),
                req("customer_id", StringType()),
                req("meter_id", StringType()),
                req("contract_id", StringType()),
                req("tariff_type", StringType()),
                req("bidding_zone", StringType()),
                req("import_kwh", DoubleType()),
                req("energy_cost_eur", DoubleType()),
                req("standing_charge_eur", DoubleType()),
                req("total_cost_eur", DoubleType()),
                req("unpriced_kwh", DoubleType()),
                *_GOLD_TAIL,
            ]
        ),
        "Per customer, meter, contract and local day: energy cost under the contract's tariff (fixed, "
        "time-of-use by local clock, dynamic = spot price at the reading's interval + markup) plus the "
        "standing charge of the contract valid at local midnight. unpriced_kwh: dynamic kWh with no price.",
        cluster_by=("date", "customer_id"),
        constraints={"standing_charge_non_negative": "standing_charge_eur >= 0"},
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["customer_daily_cost"],
        foreign_keys={"meter_id": "dim_meter", "customer_id": "dim_customer"},
    ),
    "load_profile_hourly": TableSpec(
        "gold",
        "load_profile_hourly",
        StructType(
            [
                req("date", DateType()),
                req("region", StringType()),
                req("segment", StringType()),
                req("hour", IntegerType()),
                req("import_kwh", DoubleType()),
                req("export_kwh", DoubleType()),
                req("meters", LongType()),
                req("avg_import_kwh_per_meter", DoubleType()),
                *_GOLD_TAIL,
            ]
        ),
        "Load by region x segment x local hour of day (the repeated hour of an autumn daylight-saving day "
        "adds into one hour). No customer-level data.",
        cluster_by=("date", "region"),
        constraints={"hour_range": "hour BETWEEN 0 AND 23"},
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["load_profile_hourly"],
    ),
    "consumption_anomalies": TableSpec(
        "gold",
        "consumption_anomalies",
        StructType(
            [
                req("date", DateType()),
                req("meter_id", StringType()),
                req("anomaly_type", StringType()),
                req("period_start_utc", TimestampType()),
                req("period_end_utc", TimestampType()),
                req("kwh", DoubleType()),
                opt("baseline_kwh", DoubleType()),
                opt("score", DoubleType()),
                opt("detail", StringType()),
                *_GOLD_TAIL,
            ]
        ),
        "Import anomalies per meter and local day: the findings of the VEE rules spike, zero_run, "
        "frozen_value, high_day and low_day (silver.vee_findings, docs/vee.md), and implausible (average "
        "power above the customer segment's physical limit).",
        cluster_by=("date", "meter_id"),
        constraints={"known_type": f"anomaly_type IN ({', '.join(repr(t) for t in ANOMALY_TYPES)})"},
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["consumption_anomalies"],
    ),
    "data_quality_daily": TableSpec(
        "gold",
        "data_quality_daily",
        StructType(
            [
                req("utc_date", DateType()),
                req("dataset", StringType()),
                req("source_system", StringType()),
                req("files", LongType()),
                req("rows_staged", LongType()),
                req("rows_rejected", DoubleType()),
                opt("rejected_share", DoubleType()),
                req("duplicate_rows", LongType()),
                req("late_rows", LongType()),
                opt("completeness", DoubleType()),
                *_GOLD_TAIL,
            ]
        ),
        "Per UTC data day, dataset and source: files and rows staged, rows rejected (each file's rejected "
        "rows spread over its days in proportion to its valid rows), duplicates re-delivered, late rows "
        "(delivered more than a day after the data day), completeness (share of readings with a value). "
        "Per reason code: data_quality_rule_failures.",
        cluster_by=("utc_date", "source_system"),
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["data_quality_daily"],
    ),
    "data_quality_rule_failures": TableSpec(
        "gold",
        "data_quality_rule_failures",
        StructType(
            [
                req("utc_date", DateType()),
                req("dataset", StringType()),
                req("source_system", StringType()),
                req("rule_code", StringType()),
                req("rejected_rows", LongType()),
                *_GOLD_TAIL,
            ]
        ),
        "Rejected rows per reason code, UTC data day, dataset and source: a file's failures count on each of "
        "its data days.",
        cluster_by=("utc_date", "source_system"),
        constraints={"rejected_positive": "rejected_rows > 0"},
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["data_quality_rule_failures"],
        primary_key=("utc_date", "dataset", "source_system", "rule_code"),
    ),
    "forecast_features": TableSpec(
        "gold",
        "forecast_features",
        StructType(
            [
                req("date", DateType()),
                req("meter_id", StringType()),
                req("hour_start_utc", TimestampType()),
                req("local_hour", IntegerType()),
                req("day_of_week", IntegerType()),
                req("is_weekend", BooleanType()),
                req("month", IntegerType()),
                req("utc_offset_hours", DoubleType()),
                req("import_kwh", DoubleType()),
                opt("lag_24h_kwh", DoubleType()),
                opt("lag_168h_kwh", DoubleType()),
                opt("rolling_mean_24h_kwh", DoubleType()),
                opt("rolling_mean_7d_same_hour_kwh", DoubleType()),
                opt("bidding_zone", StringType()),
                opt("price_eur_per_mwh", DoubleType()),
                opt("price_lag_24h_eur_per_mwh", DoubleType()),
                *_GOLD_TAIL,
            ]
        ),
        "Hourly import per meter with lags (24 h, 168 h), trailing means (24 h, same hour over 7 days), "
        "calendar features in local time and the day-ahead price of the hour: input for load forecasting.",
        cluster_by=("date", "meter_id"),
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["forecast_features"],
    ),
    "dim_date": TableSpec(
        "gold",
        "dim_date",
        StructType(
            [
                req("date", DateType()),
                req("timezone", StringType()),
                opt("country", StringType()),
                req("year", IntegerType()),
                req("quarter", IntegerType()),
                req("month", IntegerType()),
                req("month_name", StringType()),
                req("iso_year", IntegerType()),
                req("iso_week", IntegerType()),
                req("day_of_week", IntegerType()),
                req("day_name", StringType()),
                req("is_weekend", BooleanType()),
                req("is_public_holiday", BooleanType()),
                opt("holiday_name", StringType()),
                req("hours_in_day", DoubleType()),
                req("settlement_periods", IntegerType()),
                *_GOLD_TAIL,
            ]
        ),
        "Date dimension: one row per local calendar date and time zone served, every day of each year "
        "the data touches (no gaps), with the calendar, the "
        "country's nationwide public holiday and the day's length (23/24/25 hours on daylight-saving days). "
        "Join facts on (date, timezone).",
        cluster_by=("date",),
        constraints={"hours_range": "hours_in_day BETWEEN 22 AND 26"},
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["dim_date"],
        primary_key=("date", "timezone"),
    ),
    "dim_holiday": TableSpec(
        "gold",
        "dim_holiday",
        StructType(
            [
                req("date", DateType()),
                req("country", StringType()),
                opt("subdivision", StringType()),
                req("holiday_name", StringType()),
                *_GOLD_TAIL,
            ]
        ),
        "Public holidays of the countries served: nationwide (subdivision null) or kept only in one region "
        "(ISO 3166-2 subdivision code, e.g. GB SCT, DE BY).",
        cluster_by=("date",),
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["dim_holiday"],
    ),
    "dim_meter": TableSpec(
        "gold",
        "dim_meter",
        StructType(
            [
                req("meter_id", StringType()),
                req("customer_id", StringType()),
                req("contract_id", StringType()),
                req("timezone", StringType()),
                req("bidding_zone", StringType()),
                opt("region", StringType()),
                opt("segment", StringType()),
                req("supply_start_utc", TimestampType()),
                opt("supply_end_utc", TimestampType()),
                req("is_supplied", BooleanType()),
                req("contract_versions", LongType()),
                *_GOLD_TAIL,
            ]
        ),
        "Meter dimension: one row per meter any contract names, with its latest contract's customer, zone "
        "and bidding zone and the current customer's region and segment (no personal data).",
        cluster_by=("meter_id",),
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["dim_meter"],
        primary_key=("meter_id",),
    ),
    "dim_customer": TableSpec(
        "gold",
        "dim_customer",
        StructType(
            [
                req("customer_id", StringType()),
                opt("region", StringType()),
                opt("segment", StringType()),
                opt("customer_since_utc", TimestampType()),
                opt("version_from_utc", TimestampType()),
                req("meters", LongType()),
                req("has_record", BooleanType()),
                *_GOLD_TAIL,
            ]
        ),
        "Customer dimension: one row per pseudonymous customer id (a customer record or a contract names "
        "it), its current region and segment; no name, contact or address.",
        cluster_by=("customer_id",),
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["dim_customer"],
        primary_key=("customer_id",),
    ),
    "dim_contract": TableSpec(
        "gold",
        "dim_contract",
        StructType(
            [
                req("contract_version_key", StringType()),
                req("contract_id", StringType()),
                req("customer_id", StringType()),
                req("meter_id", StringType()),
                req("tariff_type", StringType()),
                opt("unit_rate_eur_per_kwh", DoubleType()),
                opt("peak_rate_eur_per_kwh", DoubleType()),
                opt("offpeak_rate_eur_per_kwh", DoubleType()),
                opt("peak_start_local", StringType()),
                opt("peak_end_local", StringType()),
                req("tariff_timezone", StringType()),
                opt("spot_markup_eur_per_kwh", DoubleType()),
                req("standing_charge_eur_per_day", DoubleType()),
                req("bidding_zone", StringType()),
                req("valid_from_utc", TimestampType()),
                opt("valid_to_utc", TimestampType()),
                req("is_current", BooleanType()),
                *_GOLD_TAIL,
            ]
        ),
        "Contract (tariff) versions, SCD type 2: one row per version with its validity [valid_from_utc, "
        "valid_to_utc) and is_current; a fact's contract terms on a day are the version valid then.",
        cluster_by=("contract_id",),
        constraints={"valid_range": "valid_to_utc IS NULL OR valid_to_utc > valid_from_utc"},
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["dim_contract"],
        primary_key=("contract_version_key",),
        foreign_keys={"meter_id": "dim_meter", "customer_id": "dim_customer"},
    ),
}
