"""Every Delta table the jobs write: schema, comment, constraints, clustering and properties.

Tables are created explicitly (no schema inference, no ``mergeSchema``), so a write whose columns drift from
the declared schema fails instead of silently changing the table. ``ensure_table`` makes a table exist under
its catalog name at its external location:

* in Unity Catalog the table, once created, is simply there; ``CREATE TABLE IF NOT EXISTS`` is a no-op;
* locally Spark's catalog lives in the session's memory, so each job registers the Delta folders it uses
  (``CREATE TABLE ... LOCATION``) when it starts; the data and the Delta log are the truth, the catalog entry
  is only a name (about 15 ms a table; see docs/decisions/0006-spark-jobs.md).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pyspark.sql import SparkSession
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from lakewatt.context import RunContext, is_local_uri, local_path
from lakewatt.delta_io import local_dir, remember_local_dir
from lakewatt.gold_columns import GOLD_COLUMN_COMMENTS
from lakewatt.schemas import CONTRACTS, LINEAGE_FIELDS, METER_READINGS, PRICES

# Silver tables keep their change data feed (downstream consumers read changes, not snapshots); deletion
# vectors let a MERGE that changes nothing commit nothing and one that changes a few rows rewrite no file.
SILVER_PROPERTIES: Mapping[str, str] = {
    "delta.enableChangeDataFeed": "true",
    "delta.enableDeletionVectors": "true",
}
BRONZE_PROPERTIES: Mapping[str, str] = {"delta.appendOnly": "true"}
# Gold is for readers: no reader table feature, so delta-rs, DuckDB and BI engines open it too. Deletion
# vectors buy gold nothing (each write replaces whole days), and Databricks turns them on for new tables
# unless told not to.
GOLD_PROPERTIES: Mapping[str, str] = {"delta.enableDeletionVectors": "false"}


@dataclass(frozen=True)
class TableSpec:
    layer: str
    name: str
    schema: StructType
    comment: str
    cluster_by: tuple[str, ...] = ()
    constraints: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)
    column_comments: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def columns(self) -> list[str]:
        return self.schema.fieldNames()


def _req(name: str, data_type) -> StructField:
    return StructField(name, data_type, nullable=False)


def _opt(name: str, data_type) -> StructField:
    return StructField(name, data_type, nullable=True)


def _without(schema: StructType, *names: str) -> list[StructField]:
    return [f for f in schema.fields if f.name not in names]


MASKED_CUSTOMER_FIELDS = [
    _req("customer_id", StringType()),
    _req("name_hash", StringType()),
    _opt("email_hash", StringType()),
    _opt("phone_hash", StringType()),
    _opt("postcode", StringType()),
    _opt("city", StringType()),
    _req("region", StringType()),
    _req("segment", StringType()),
    _req("created_at", TimestampType()),
    _req("updated_at", TimestampType()),
]
SCD2_FIELDS = [
    _req("valid_from", TimestampType()),
    _opt("valid_to", TimestampType()),
    _req("is_current", BooleanType()),
    _req("record_hash", StringType()),
]

READING_CONSTRAINTS = {
    "kwh_non_negative": "kwh >= 0",
    "known_channel": "channel IN ('import', 'export')",
    "known_quality": "quality IN ('actual', 'substituted', 'estimated', 'missing')",
    "known_interval": "interval_minutes IN (5, 15, 30, 60)",
}

BRONZE_TABLES = {
    "meter_readings": TableSpec(
        "bronze",
        "meter_readings",
        METER_READINGS,
        "Raw meter reading records as staged, one row per staged row, append-only; lineage columns name "
        "the bronze file and orchestration.",
        cluster_by=("ingest_instance_id",),
        properties=BRONZE_PROPERTIES,
    ),
    "customers": TableSpec(
        "bronze",
        "customers",
        StructType([*MASKED_CUSTOMER_FIELDS, *LINEAGE_FIELDS]),
        "Raw customer records as staged, PII already masked (keyed hash) and street dropped; append-only.",
        cluster_by=("ingest_instance_id",),
        properties=BRONZE_PROPERTIES,
    ),
    "contracts": TableSpec(
        "bronze",
        "contracts",
        CONTRACTS,
        "Raw contract version records as staged; append-only.",
        cluster_by=("ingest_instance_id",),
        properties=BRONZE_PROPERTIES,
    ),
    "prices": TableSpec(
        "bronze",
        "prices",
        PRICES,
        "Raw day-ahead price records as staged; append-only.",
        cluster_by=("ingest_instance_id",),
        properties=BRONZE_PROPERTIES,
    ),
}

SILVER_READINGS = TableSpec(
    "silver",
    "meter_readings",
    StructType(
        [
            _req("meter_id", StringType()),
            _req("channel", StringType()),
            _req("interval_start", TimestampType()),
            _req("interval_minutes", IntegerType()),
            _req("kwh", DoubleType()),
            _req("quality", StringType()),
            _req("reading_date", DateType()),
            *LINEAGE_FIELDS,
        ]
    ),
    "One row per (meter_id, channel, interval_start): the best reading received. Precedence: actual > "
    "substituted > estimated > missing; among equals the later ingestion wins. Lineage names the winner.",
    cluster_by=("meter_id", "reading_date"),
    constraints=READING_CONSTRAINTS,
    properties=SILVER_PROPERTIES,
    column_comments={"reading_date": "UTC date of interval_start (clustering and pruning key)."},
)

SILVER_CUSTOMERS = TableSpec(
    "silver",
    "customers",
    StructType([*MASKED_CUSTOMER_FIELDS, *SCD2_FIELDS, *LINEAGE_FIELDS]),
    "Customers, SCD type 2 over updated_at: one row per version, valid_from = updated_at, valid_to = "
    "the next version's updated_at. name, email and phone are HMAC-SHA256 hashes (hex); street is "
    "never stored.",
    cluster_by=("customer_id",),
    constraints={"valid_range": "valid_to IS NULL OR valid_to > valid_from"},
    properties=SILVER_PROPERTIES,
)

SILVER_CONTRACTS = TableSpec(
    "silver",
    "contracts",
    StructType([*_without(CONTRACTS, *(f.name for f in LINEAGE_FIELDS)), *SCD2_FIELDS[2:], *LINEAGE_FIELDS]),
    "Contract versions, SCD type 2 over business validity: valid_from from the source, valid_to = the "
    "earlier of the source's valid_to and the next version's valid_from; is_current marks the open version.",
    cluster_by=("meter_id",),
    constraints={
        "valid_range": "valid_to IS NULL OR valid_to > valid_from",
        "known_tariff": "tariff_type IN ('fixed', 'time_of_use', 'dynamic')",
        "standing_charge_non_negative": "standing_charge_eur_per_day >= 0",
    },
    properties=SILVER_PROPERTIES,
)

SILVER_PRICES = TableSpec(
    "silver",
    "prices",
    StructType([*_without(PRICES, *(f.name for f in LINEAGE_FIELDS)), *LINEAGE_FIELDS]),
    "Day-ahead prices, one row per (bidding_zone, interval_start, resolution_minutes); the latest "
    "publication (then ingestion) wins.",
    cluster_by=("bidding_zone", "interval_start"),
    constraints={"known_resolution": "resolution_minutes IN (15, 60)"},
    properties=SILVER_PROPERTIES,
)

SILVER_REPORTS = TableSpec(
    "silver",
    "validation_reports",
    StructType(
        [
            _req("instance_id", StringType()),
            _req("dataset", StringType()),
            _req("source_system", StringType()),
            _req("file_path", StringType()),
            _opt("file_etag", StringType()),
            _opt("file_sha256", StringType()),
            _req("rows_read", LongType()),
            _req("rows_valid", LongType()),
            _req("rows_rejected", LongType()),
            _req("duplicates_dropped", LongType()),
            _opt("rejected_share", DoubleType()),
            _opt("rule_failures", MapType(StringType(), LongType())),
            _opt("affected_dates", ArrayType(DateType())),
            _opt("verdict", StringType()),
            _opt("started_at", TimestampType()),
            _req("loaded_at", TimestampType()),
        ]
    ),
    "One row per staged file: the validation report the engine wrote next to the staged rows.",
    cluster_by=("instance_id",),
    constraints={"counts_add_up": "rows_valid <= rows_read"},
    properties=SILVER_PROPERTIES,
)

SILVER_TABLES = {
    "meter_readings": SILVER_READINGS,
    "customers": SILVER_CUSTOMERS,
    "contracts": SILVER_CONTRACTS,
    "prices": SILVER_PRICES,
    "validation_reports": SILVER_REPORTS,
}

_GOLD_TAIL = [_req("computed_at", TimestampType()), _req("computed_by", StringType())]

GOLD_TABLES = {
    "daily_consumption": TableSpec(
        "gold",
        "daily_consumption",
        StructType(
            [
                _req("date", DateType()),
                _req("meter_id", StringType()),
                _opt("customer_id", StringType()),
                _req("timezone", StringType()),
                _req("import_kwh", DoubleType()),
                _req("export_kwh", DoubleType()),
                _req("readings_count", LongType()),
                _req("import_readings", LongType()),
                _req("expected_readings", LongType()),
                _req("completeness", DoubleType()),
                _opt("estimated_share", DoubleType()),
                *_GOLD_TAIL,
            ]
        ),
        "Per meter and local day (the supply point's time zone; 23 or 25 hours on daylight-saving days): "
        "import and export kWh, readings received vs expected, share of estimated or substituted values.",
        cluster_by=("date", "meter_id"),
        constraints={"import_non_negative": "import_kwh >= 0", "completeness_range": "completeness >= 0"},
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["daily_consumption"],
    ),
    "customer_daily_cost": TableSpec(
        "gold",
        "customer_daily_cost",
        StructType(
            [
                _req("date", DateType()),
                _req("customer_id", StringType()),
                _req("meter_id", StringType()),
                _req("contract_id", StringType()),
                _req("tariff_type", StringType()),
                _req("bidding_zone", StringType()),
                _req("import_kwh", DoubleType()),
                _req("energy_cost_eur", DoubleType()),
                _req("standing_charge_eur", DoubleType()),
                _req("total_cost_eur", DoubleType()),
                _req("unpriced_kwh", DoubleType()),
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
    ),
    "load_profile_hourly": TableSpec(
        "gold",
        "load_profile_hourly",
        StructType(
            [
                _req("date", DateType()),
                _req("region", StringType()),
                _req("segment", StringType()),
                _req("hour", IntegerType()),
                _req("import_kwh", DoubleType()),
                _req("export_kwh", DoubleType()),
                _req("meters", LongType()),
                _req("avg_import_kwh_per_meter", DoubleType()),
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
                _req("date", DateType()),
                _req("meter_id", StringType()),
                _req("anomaly_type", StringType()),
                _req("period_start", TimestampType()),
                _req("period_end", TimestampType()),
                _req("kwh", DoubleType()),
                _opt("baseline_kwh", DoubleType()),
                _opt("score", DoubleType()),
                _opt("detail", StringType()),
                *_GOLD_TAIL,
            ]
        ),
        "Import anomalies per meter: spike (robust z-score of the hourly kWh against the meter's trailing "
        "same-hour baseline), zero_streak (consecutive zero readings), implausible "
        "(power above the segment's physical limit).",
        cluster_by=("date", "meter_id"),
        constraints={"known_type": "anomaly_type IN ('spike', 'zero_streak', 'implausible')"},
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["consumption_anomalies"],
    ),
    "data_quality_daily": TableSpec(
        "gold",
        "data_quality_daily",
        StructType(
            [
                _req("date", DateType()),
                _req("dataset", StringType()),
                _req("source_system", StringType()),
                _req("files", LongType()),
                _req("rows_staged", LongType()),
                _req("rows_rejected", DoubleType()),
                _opt("rejected_share", DoubleType()),
                _req("duplicate_rows", LongType()),
                _req("late_rows", LongType()),
                _opt("completeness", DoubleType()),
                _opt("rule_failures", MapType(StringType(), LongType())),
                *_GOLD_TAIL,
            ]
        ),
        "Per UTC data day, dataset and source: files and rows staged, rows rejected (each file's rejected "
        "rows spread over its days in proportion to its valid rows), duplicates re-delivered, late rows "
        "(delivered more than a day after the data day), completeness (share of readings with a value).",
        cluster_by=("date", "source_system"),
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["data_quality_daily"],
    ),
    "forecast_features": TableSpec(
        "gold",
        "forecast_features",
        StructType(
            [
                _req("date", DateType()),
                _req("meter_id", StringType()),
                _req("hour_start", TimestampType()),
                _req("local_hour", IntegerType()),
                _req("day_of_week", IntegerType()),
                _req("is_weekend", BooleanType()),
                _req("month", IntegerType()),
                _req("utc_offset_hours", DoubleType()),
                _req("import_kwh", DoubleType()),
                _opt("lag_24h_kwh", DoubleType()),
                _opt("lag_168h_kwh", DoubleType()),
                _opt("rolling_mean_24h_kwh", DoubleType()),
                _opt("rolling_mean_7d_same_hour_kwh", DoubleType()),
                _opt("bidding_zone", StringType()),
                _opt("price_eur_per_mwh", DoubleType()),
                _opt("price_lag_24h_eur_per_mwh", DoubleType()),
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
                _req("date", DateType()),
                _req("timezone", StringType()),
                _opt("country", StringType()),
                _req("year", IntegerType()),
                _req("quarter", IntegerType()),
                _req("month", IntegerType()),
                _req("month_name", StringType()),
                _req("iso_year", IntegerType()),
                _req("iso_week", IntegerType()),
                _req("day_of_week", IntegerType()),
                _req("day_name", StringType()),
                _req("is_weekend", BooleanType()),
                _req("is_public_holiday", BooleanType()),
                _opt("holiday_name", StringType()),
                _req("hours_in_day", DoubleType()),
                _req("settlement_periods", IntegerType()),
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
    ),
    "dim_holiday": TableSpec(
        "gold",
        "dim_holiday",
        StructType(
            [
                _req("date", DateType()),
                _req("country", StringType()),
                _opt("subdivision", StringType()),
                _req("holiday_name", StringType()),
                *_GOLD_TAIL,
            ]
        ),
        "Public holidays of the countries served: nationwide (subdivision null) or kept only in one region "
        "(ISO 3166-2 subdivision code, e.g. GB SCT, DE BY).",
        cluster_by=("date",),
        properties=GOLD_PROPERTIES,
        column_comments=GOLD_COLUMN_COMMENTS["dim_holiday"],
    ),
}

ALL_TABLES: tuple[TableSpec, ...] = (
    *BRONZE_TABLES.values(),
    *SILVER_TABLES.values(),
    *GOLD_TABLES.values(),
)


def _sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def create_table_sql(spec: TableSpec, name: str, location: str, *, with_constraints: bool = False) -> str:
    """``CREATE TABLE IF NOT EXISTS`` with explicit columns, clustering, comment and properties.

    ``with_constraints`` declares the ``CHECK`` constraints in the same statement (as the
    ``delta.constraints.<name>`` properties ``ALTER TABLE ... ADD CONSTRAINT`` would set), so a new table
    costs one commit instead of one per constraint; Delta enforces them the same way.
    """
    columns = []
    for f in spec.schema.fields:
        column = f"`{f.name}` {f.dataType.simpleString()}"
        if not f.nullable:
            column += " NOT NULL"
        if f.name in spec.column_comments:
            column += f" COMMENT {_sql_string(spec.column_comments[f.name])}"
        columns.append(column)
    parts = [f"CREATE TABLE IF NOT EXISTS {name} (\n  " + ",\n  ".join(columns) + "\n) USING DELTA"]
    if spec.cluster_by:
        parts.append(f"CLUSTER BY ({', '.join(spec.cluster_by)})")
    parts.append(f"LOCATION {_sql_string(location)}")
    parts.append(f"COMMENT {_sql_string(spec.comment)}")
    properties = dict(spec.properties)
    if with_constraints:
        properties.update({f"delta.constraints.{k.lower()}": v for k, v in spec.constraints.items()})
    if properties:
        props = ", ".join(f"{_sql_string(k)} = {_sql_string(v)}" for k, v in properties.items())
        parts.append(f"TBLPROPERTIES ({props})")
    return "\n".join(parts)


_COMMIT_FILE = re.compile(r"^\d{20}\.(json|checkpoint(\.\d+\.\d+)?\.parquet)$")


def _has_commit(location: str) -> bool:
    """Whether a table's log holds a commit: a process killed during the first commit leaves the
    ``_delta_log`` folder with nothing (or only a hidden temporary file) in it, and such a location is a
    table to create, not one to register."""
    log_dir = os.path.join(local_path(location), "_delta_log")
    try:
        return any(_COMMIT_FILE.match(name) for name in os.listdir(log_dir))
    except FileNotFoundError:
        return False


# A creator commits within seconds of making the log folder: a commit-less log older than this was abandoned.
ABANDONED_LOG_SECONDS = 30.0


def _clear_abandoned_log(location: str) -> None:
    """Removes a commit-less ``_delta_log`` left by a process killed while creating the table, which
    Delta would otherwise refuse to create a table over (``DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION``).
    A young one may belong to a creator still at work: wait for its commit first."""
    log_dir = os.path.join(local_path(location), "_delta_log")
    while os.path.isdir(log_dir) and not _has_commit(location):
        try:
            entries = [os.path.join(log_dir, name) for name in os.listdir(log_dir)]
            newest = max([os.path.getmtime(log_dir), *map(os.path.getmtime, entries)])
        except FileNotFoundError:  # a creator renamed its temporary commit, or another run removed the log
            continue
        if time.time() - newest >= ABANDONED_LOG_SECONDS:
            shutil.rmtree(log_dir, ignore_errors=True)
            return
        time.sleep(1.0)


def ensure_table(spark: SparkSession, ctx: RunContext, spec: TableSpec) -> str:
    """Makes ``spec`` exist under its catalog name at its location and returns that name.

    A local session remembers (in a session setting) where it registered each name, so later runs in the
    same session confirm a table with one catalog lookup instead of a ``DESCRIBE DETAIL``.
    """
    name = ctx.table_name(spec.layer, spec.name)
    location = ctx.table_location(spec.layer, spec.name)
    local = is_local_uri(location)
    if spark.catalog.tableExists(name):
        if not local:
            return name
        if local_dir(spark, name) == _normal(location):
            return name
        if _registered_at(spark, name) == _normal(location):
            remember_local_dir(spark, name, _normal(location))
            return name
        # A long-lived local session saw this name at another lake root: point it here.
        spark.sql(f"DROP TABLE {name}")
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {ctx.schema_name(spec.layer)}")
    if local:
        _clear_abandoned_log(location)
    if local and _has_commit(location):
        # Another process created the table; this session only needs the name.
        spark.sql(f"CREATE TABLE IF NOT EXISTS {name} USING DELTA LOCATION {_sql_string(location)}")
    elif local:
        # A new local table: constraints in the DDL, one commit.
        try:
            spark.sql(create_table_sql(spec, name, location, with_constraints=True))
        except Exception:  # Delta's conflict errors reach Python as several types (some py4j)
            if not _has_commit(location):
                raise
            # Another process committed the table first (Delta's ProtocolChangedException or a non-empty
            # location): register the table it made.
            spark.sql(f"CREATE TABLE IF NOT EXISTS {name} USING DELTA LOCATION {_sql_string(location)}")
    else:
        # Unity Catalog: the documented ALTER TABLE ... ADD CONSTRAINT path (idempotent on re-runs).
        spark.sql(create_table_sql(spec, name, location))
        existing = set(_constraint_names(spark, name)) if spec.constraints else set()
        for constraint, expression in spec.constraints.items():
            if constraint.lower() not in existing:
                spark.sql(f"ALTER TABLE {name} ADD CONSTRAINT {constraint} CHECK ({expression})")
    if local:
        remember_local_dir(spark, name, _normal(location))
    return name


def _normal(location: str) -> str:
    return os.path.normpath(local_path(location))


def _registered_at(spark: SparkSession, name: str) -> str | None:
    rows = spark.sql(f"DESCRIBE DETAIL {name}").select("location").collect()
    return _normal(rows[0].location) if rows else None


def _constraint_names(spark: SparkSession, name: str) -> list[str]:
    rows = spark.sql(f"SHOW TBLPROPERTIES {name}").collect()
    prefix = "delta.constraints."
    return [r.key[len(prefix) :].lower() for r in rows if r.key.startswith(prefix)]


def ensure_tables(spark: SparkSession, ctx: RunContext, specs: Sequence[TableSpec]) -> dict[str, str]:
    """``ensure_table`` for each spec; returns ``{spec.key: catalog name}``."""
    return {spec.key: ensure_table(spark, ctx, spec) for spec in specs}
