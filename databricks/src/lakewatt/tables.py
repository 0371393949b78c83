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
from lakewatt.delta_io import forget_local_dir, local_dir, remember_local_dir
from lakewatt.gold_migrations import bring_to_contract
from lakewatt.gold_tables import GOLD_TABLES
from lakewatt.schemas import CONTRACTS, LINEAGE_FIELDS, METER_READINGS, PRICES
from lakewatt.table_spec import TableSpec, opt, req
from lakewatt.vee.tables import VEE_TABLES

# Silver tables keep their change data feed (downstream consumers read changes, not snapshots); deletion
# vectors let a MERGE that changes nothing commit nothing and one that changes a few rows rewrite no file.
SILVER_PROPERTIES: Mapping[str, str] = {
    "delta.enableChangeDataFeed": "true",
    "delta.enableDeletionVectors": "true",
}
# Delta computes min/max/null statistics of the first 32 columns of every file it writes unless told which
# ones; on 10 M readings that cost a third of the bronze append (decision 0031). Only the columns reads prune
# on keep them: bronze is read by file (instance), silver readings by meter and day (VEE by its estimates).
BRONZE_PROPERTIES: Mapping[str, str] = {
    "delta.appendOnly": "true",
    "delta.dataSkippingStatsColumns": "ingest_instance_id",
}
READINGS_STATS_COLUMNS = "meter_id,channel,interval_start,reading_date,estimation_method"


def _without(schema: StructType, *names: str) -> list[StructField]:
    return [f for f in schema.fields if f.name not in names]


MASKED_CUSTOMER_FIELDS = [
    req("customer_id", StringType()),
    req("name_hash", StringType()),
    opt("email_hash", StringType()),
    opt("phone_hash", StringType()),
    opt("postcode", StringType()),
    opt("city", StringType()),
    req("region", StringType()),
    req("segment", StringType()),
    req("created_at", TimestampType()),
    req("updated_at", TimestampType()),
]
SCD2_FIELDS = [
    req("valid_from", TimestampType()),
    opt("valid_to", TimestampType()),
    req("is_current", BooleanType()),
    req("record_hash", StringType()),
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
            req("meter_id", StringType()),
            req("channel", StringType()),
            req("interval_start", TimestampType()),
            req("interval_minutes", IntegerType()),
            req("kwh", DoubleType()),
            req("quality", StringType()),
            req("reading_date", DateType()),
            *LINEAGE_FIELDS,
            # Added by VEE (#14): an existing table gains them on its first run (add_missing_columns).
            opt("estimation_method", StringType()),
            opt("vee_rule", StringType()),
            # Added by issue #15: market formats' own quality codes (dataset contract meter_readings).
            opt("source_quality", StringType()),
            opt("source_quality_reason", StringType()),
        ]
    ),
    "One row per (meter_id, channel, interval_start): the best reading received, or VEE's estimate of a "
    "missing one. Precedence: actual > substituted > estimated > missing; among equals the later ingestion "
    "wins. Lineage names the winner.",
    cluster_by=("meter_id", "reading_date"),
    constraints=READING_CONSTRAINTS,
    properties={**SILVER_PROPERTIES, "delta.dataSkippingStatsColumns": READINGS_STATS_COLUMNS},
    column_comments={
        "reading_date": "UTC date of interval_start (clustering and pruning key).",
        "source_system": "The source that delivered the reading; lakewatt-vee for VEE's estimates.",
        "source_file": "The bronze file of the reading; empty for VEE's estimates.",
        "estimation_method": "How VEE estimated the value (linear, like_day, recent_days); null: received.",
        "vee_rule": "The VEE rule whose finding the estimate fills (gap); null: received.",
        "source_quality": "The source's own quality code (NEM12 flag with method, MSCONS QTY qualifier); "
        "null: the source gives only the canonical quality, or a VEE estimate.",
        "source_quality_reason": "The source's reason for that quality (NEM12 reason code; MSCONS STS).",
    },
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
            req("instance_id", StringType()),
            req("dataset", StringType()),
            req("source_system", StringType()),
            req("file_path", StringType()),
            opt("file_etag", StringType()),
            opt("file_sha256", StringType()),
            req("rows_read", LongType()),
            req("rows_valid", LongType()),
            req("rows_rejected", LongType()),
            req("duplicates_dropped", LongType()),
            opt("rejected_share", DoubleType()),
            opt("rule_failures", MapType(StringType(), LongType())),
            opt("affected_dates", ArrayType(DateType())),
            opt("verdict", StringType()),
            opt("started_at", TimestampType()),
            req("loaded_at", TimestampType()),
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
    **{spec.name: spec for spec in VEE_TABLES},
}

ALL_TABLES: tuple[TableSpec, ...] = (
    *BRONZE_TABLES.values(),
    *SILVER_TABLES.values(),
    *GOLD_TABLES.values(),
)


def _sql_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def create_table_sql(
    spec: TableSpec,
    name: str,
    location: str,
    *,
    with_constraints: bool = False,
    with_primary_key: bool = False,
) -> str:
    """``CREATE TABLE IF NOT EXISTS`` with explicit columns, clustering, comment and properties.

    ``with_constraints`` declares the ``CHECK`` constraints in the same statement (as the
    ``delta.constraints.<name>`` properties ``ALTER TABLE ... ADD CONSTRAINT`` would set), so a new table
    costs one commit instead of one per constraint; Delta enforces them the same way.
    ``with_primary_key`` declares the informational primary key (Unity Catalog only; open-source Delta has
    no key constraints).
    """
    columns = []
    for f in spec.schema.fields:
        column = f"`{f.name}` {f.dataType.simpleString()}"
        if not f.nullable:
            column += " NOT NULL"
        if f.name in spec.column_comments:
            column += f" COMMENT {_sql_string(spec.column_comments[f.name])}"
        columns.append(column)
    if with_primary_key and spec.primary_key:
        columns.append(f"CONSTRAINT {spec.name}_pk PRIMARY KEY ({', '.join(spec.primary_key)})")
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
    """Makes ``spec`` exist under its catalog name at its location, at the current contract (a gold table
    created under an older one is migrated, ``gold_migrations``), and returns that name.

    A local session remembers (in a session setting) where it registered each name, so later runs in the
    same session confirm a table with one catalog lookup instead of a ``DESCRIBE DETAIL``.
    """
    name = ctx.table_name(spec.layer, spec.name)
    location = ctx.table_location(spec.layer, spec.name)
    local = is_local_uri(location)
    exists = spark.catalog.tableExists(name)
    if exists and local and local_dir(spark, name) == _normal(location):
        return name  # confirmed, and brought to the contract, earlier in this session
    created = False
    if not (exists and (not local or _registered_at(spark, name) == _normal(location))):
        created = _create_or_register(spark, ctx, spec, name, location, local, registered=exists)
    if local:  # before any history read: the log to read is this location's
        remember_local_dir(spark, name, _normal(location))
    try:
        migrated = False
        if not created:  # a table this call created is at the contract already
            add_missing_columns(spark, spec, name)
            migrated = bring_to_contract(spark, spec, name, lambda: _replace_sql(spec, name, location, local))
    except Exception:
        if local:  # not confirmed: the next run in this session checks (and finishes) the migration again
            forget_local_dir(spark, name)
        raise
    if migrated and not local:
        _declare_check_constraints(spark, spec, name)  # a REPLACE on Unity Catalog starts without them
    return name


def add_missing_columns(spark: SparkSession, spec: TableSpec, name: str) -> None:
    """Adds the nullable columns the contract gained after the table was created (an additive change, one
    metadata commit; rows written before read them as null). Any other drift is left to the migrations."""
    present = set(spark.table(name).columns)
    missing = [f for f in spec.schema.fields if f.name not in present]
    if not missing or any(not f.nullable for f in missing):
        return
    columns = []
    for f in missing:
        column = f"`{f.name}` {f.dataType.simpleString()}"
        if f.name in spec.column_comments:
            column += f" COMMENT {_sql_string(spec.column_comments[f.name])}"
        columns.append(column)
    try:
        spark.sql(f"ALTER TABLE {name} ADD COLUMNS ({', '.join(columns)})")
    except Exception as error:  # a concurrent run added them first
        if "already exists" not in str(error).lower():
            raise


def _create_or_register(
    spark: SparkSession,
    ctx: RunContext,
    spec: TableSpec,
    name: str,
    location: str,
    local: bool,
    *,
    registered: bool,
) -> bool:
    """Creates the table at the contract (True) or registers the one another process created (False)."""
    if registered:
        # A long-lived local session saw this name at another lake root: point it here.
        spark.sql(f"DROP TABLE {name}")
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {ctx.schema_name(spec.layer)}")
    if local:
        _clear_abandoned_log(location)
    if local and _has_commit(location):
        # Another process created the table; this session only needs the name.
        spark.sql(f"CREATE TABLE IF NOT EXISTS {name} USING DELTA LOCATION {_sql_string(location)}")
        return False
    if local:
        # A new local table: constraints in the DDL, one commit.
        try:
            spark.sql(create_table_sql(spec, name, location, with_constraints=True))
        except Exception:  # Delta's conflict errors reach Python as several types (some py4j)
            if not _has_commit(location):
                raise
            # Another process committed the table first (Delta's ProtocolChangedException or a non-empty
            # location): register the table it made.
            spark.sql(f"CREATE TABLE IF NOT EXISTS {name} USING DELTA LOCATION {_sql_string(location)}")
            return False
        return True
    # Unity Catalog: the documented ALTER TABLE ... ADD CONSTRAINT path (idempotent on re-runs).
    spark.sql(create_table_sql(spec, name, location, with_primary_key=True))
    _declare_check_constraints(spark, spec, name)
    _declare_foreign_keys(spark, ctx, spec)
    return True


def _replace_sql(spec: TableSpec, name: str, location: str, local: bool) -> str:
    """The table's DDL at the current contract as ``CREATE OR REPLACE TABLE`` (a migration's first step)."""
    create = create_table_sql(spec, name, location, with_constraints=local, with_primary_key=not local)
    return create.replace("CREATE TABLE IF NOT EXISTS", "CREATE OR REPLACE TABLE", 1)


def _declare_check_constraints(spark: SparkSession, spec: TableSpec, name: str) -> None:
    existing = set(_constraint_names(spark, name)) if spec.constraints else set()
    for constraint, expression in spec.constraints.items():
        if constraint.lower() not in existing:
            spark.sql(f"ALTER TABLE {name} ADD CONSTRAINT {constraint} CHECK ({expression})")


def foreign_key_sql(holder: str, spec: TableSpec, column: str, target: str, target_spec: TableSpec) -> str:
    """The informational foreign key from ``holder.column`` to ``target``'s one-column primary key."""
    (key,) = target_spec.primary_key
    return (
        f"ALTER TABLE {holder} ADD CONSTRAINT {spec.name}_{column}_fk FOREIGN KEY ({column}) "
        f"REFERENCES {target} ({key})"
    )


def _declare_foreign_keys(spark: SparkSession, ctx: RunContext, spec: TableSpec) -> None:
    """On Unity Catalog, when ``spec``'s table is created: its foreign keys to tables that exist, and those of
    existing tables that reference it (a key needs both ends, and tables are created in any order)."""
    by_name = {s.name: s for s in ALL_TABLES if s.layer == spec.layer}
    ends = [(spec, column, by_name[target]) for column, target in spec.foreign_keys.items()]
    ends += [
        (other, column, spec)
        for other in by_name.values()
        if other is not spec
        for column, target in other.foreign_keys.items()
        if target == spec.name
    ]
    for holder, column, target in ends:
        holder_name = ctx.table_name(holder.layer, holder.name)
        target_name = ctx.table_name(target.layer, target.name)
        if spark.catalog.tableExists(holder_name) and spark.catalog.tableExists(target_name):
            try:
                spark.sql(foreign_key_sql(holder_name, holder, column, target_name, target))
            except Exception as error:  # a concurrent creator declared it first
                if "already exists" not in str(error).lower():
                    raise


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
