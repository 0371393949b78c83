"""A gold table created under an older contract is migrated when a run opens it (#13: utc_date and the
rule-failure map of data_quality_daily): rows kept, columns renamed, comments and clustering current."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pyspark.sql import SparkSession

from lakehelpers import ctx, reset_catalog
from lakewatt import delta_io
from lakewatt.gold_migrations import MIGRATION_KEY, GoldSchemaError
from lakewatt.gold_tables import GOLD_TABLES
from lakewatt.tables import ensure_table

SPEC = GOLD_TABLES["data_quality_daily"]

# data_quality_daily as the contract had it before the rename (a UTC day named `date`, a map column).
OLD_COLUMNS = (
    "date DATE NOT NULL, dataset STRING NOT NULL, source_system STRING NOT NULL, files BIGINT NOT NULL, "
    "rows_staged BIGINT NOT NULL, rows_rejected DOUBLE NOT NULL, rejected_share DOUBLE, "
    "duplicate_rows BIGINT NOT NULL, late_rows BIGINT NOT NULL, completeness DOUBLE, "
    "rule_failures MAP<STRING, BIGINT>, computed_at TIMESTAMP NOT NULL, computed_by STRING NOT NULL"
)
OLD_ROWS = (
    "(DATE'2025-03-01', 'meter_readings', 'headend', 2, 96, 1.5, 0.015385, 0, 0, 1.0, "
    "map('NEGATIVE_VALUE', 3), TIMESTAMP'2026-01-01 00:00:00', 'g-old'), "
    "(DATE'2025-03-02', 'prices', 'entsoe', 1, 24, 0.0, 0.0, 0, 1, NULL, NULL, "
    "TIMESTAMP'2026-01-01 00:00:00', 'g-old')"
)
# The same table at the new contract's columns, without comments or clustering.
NEW_COLUMNS = (
    "utc_date DATE, dataset STRING, source_system STRING, files BIGINT, rows_staged BIGINT, "
    "rows_rejected DOUBLE, rejected_share DOUBLE, duplicate_rows BIGINT, late_rows BIGINT, "
    "completeness DOUBLE, computed_at TIMESTAMP, computed_by STRING"
)


def old_table(spark: SparkSession, root, extra_column: str = "") -> tuple[str, str]:
    """The old table at the gold location, registered under the gold name; returns (name, folder)."""
    reset_catalog(spark)
    context = ctx(root, "gold", "g-new")
    name, location = context.table_name("gold", SPEC.name), context.table_location("gold", SPEC.name)
    spark.sql("CREATE SCHEMA IF NOT EXISTS gold")
    columns = OLD_COLUMNS + extra_column
    spark.sql(f"CREATE TABLE {name} ({columns}) USING DELTA CLUSTER BY (date) LOCATION '{location}'")
    values = OLD_ROWS.replace("'g-old')", "'g-old', 'x')") if extra_column else OLD_ROWS
    spark.sql(f"INSERT INTO {name} VALUES {values}")
    return name, location


def contents(spark: SparkSession, name: str) -> list[tuple]:
    return sorted(
        (r.utc_date, r.dataset, r.files, r.rows_staged, r.rows_rejected, r.late_rows, r.computed_by)
        for r in spark.table(name).collect()
    )


EXPECTED = [
    (dt.date(2025, 3, 1), "meter_readings", 2, 96, 1.5, 0, "g-old"),
    (dt.date(2025, 3, 2), "prices", 1, 24, 0.0, 1, "g-old"),
]


def test_when_a_run_opens_a_table_of_the_old_contract_then_it_has_the_new_columns_and_the_same_rows(
    spark: SparkSession, tmp_path
):
    name, _ = old_table(spark, tmp_path)

    ensure_table(spark, ctx(tmp_path, "gold", "g-new"), SPEC)

    assert spark.table(name).columns == SPEC.columns
    assert contents(spark, name) == EXPECTED
    described = {r.col_name: r.comment for r in spark.sql(f"DESCRIBE TABLE {name}").collect()}
    assert described["utc_date"] == SPEC.column_comments["utc_date"]
    detail = spark.sql(f"DESCRIBE DETAIL {name}").first()
    assert list(detail.clusteringColumns) == ["utc_date", "source_system"]


def test_when_a_migrated_table_is_opened_again_then_nothing_is_committed(spark: SparkSession, tmp_path):
    name, _ = old_table(spark, tmp_path)
    ensure_table(spark, ctx(tmp_path, "gold", "g-new"), SPEC)
    version = delta_io.current_version(spark, name)

    reset_catalog(spark)  # a new session: the table is registered and checked again
    ensure_table(spark, ctx(tmp_path, "gold", "g-later"), SPEC)

    assert delta_io.current_version(spark, name) == version


def test_when_a_migration_was_killed_after_replacing_the_table_then_a_later_run_copies_the_rows(
    spark: SparkSession, tmp_path
):
    name, location = old_table(spark, tmp_path)
    before = spark.sql(f"DESCRIBE HISTORY {name} LIMIT 1").first().version
    # The first step alone, as a process killed before the copy leaves it: an empty table at the new schema.
    step = {MIGRATION_KEY: {"table": SPEC.name, "step": "replace", "copyFrom": before}}
    with delta_io.commit_metadata(spark, json.dumps(step)):
        spark.sql(f"CREATE OR REPLACE TABLE {name} ({NEW_COLUMNS}) USING DELTA LOCATION '{location}'")
    assert spark.table(name).count() == 0
    spark.sql(f"ALTER TABLE {name} SET TBLPROPERTIES ('lakewatt.note' = 'a later commit')")

    ensure_table(spark, ctx(tmp_path, "gold", "g-new"), SPEC)

    assert contents(spark, name) == EXPECTED


def test_when_a_table_has_a_column_no_migration_knows_then_the_run_is_refused_naming_it(
    spark: SparkSession, tmp_path
):
    old_table(spark, tmp_path, extra_column=", note STRING")

    with pytest.raises(GoldSchemaError, match=r"unknown \['note'\]"):
        ensure_table(spark, ctx(tmp_path, "gold", "g-new"), SPEC)


ANOMALIES = GOLD_TABLES["consumption_anomalies"]


def old_anomalies_table(spark: SparkSession, root) -> str:
    """consumption_anomalies as gold's own detectors wrote it, before VEE: a zero_streak type."""
    reset_catalog(spark)
    context = ctx(root, "gold", "g-new")
    name = context.table_name("gold", ANOMALIES.name)
    location = context.table_location("gold", ANOMALIES.name)
    spark.sql("CREATE SCHEMA IF NOT EXISTS gold")
    spark.sql(
        f"CREATE TABLE {name} (date DATE NOT NULL, meter_id STRING NOT NULL, anomaly_type STRING NOT NULL, "
        "period_start_utc TIMESTAMP NOT NULL, period_end_utc TIMESTAMP NOT NULL, kwh DOUBLE NOT NULL, "
        "baseline_kwh DOUBLE, score DOUBLE, detail STRING, computed_at TIMESTAMP NOT NULL, "
        f"computed_by STRING NOT NULL) USING DELTA LOCATION '{location}'"
    )
    spark.sql(
        f"ALTER TABLE {name} ADD CONSTRAINT known_type CHECK "
        "(anomaly_type IN ('spike', 'zero_streak', 'implausible'))"
    )
    at = "TIMESTAMP'2026-01-01 00:00:00'"
    spark.sql(
        f"INSERT INTO {name} VALUES "
        f"(DATE'2025-03-01', 'M1', 'zero_streak', {at}, {at}, 0.0, NULL, 13.0, 'zeros', {at}, 'g-old'), "
        f"(DATE'2025-03-01', 'M2', 'spike', {at}, {at}, 4.0, 0.2, 9.5, 'high', {at}, 'g-old')"
    )
    return name


def test_when_a_run_opens_anomalies_of_the_old_allowed_types_then_zero_streaks_become_zero_runs(
    spark: SparkSession, tmp_path
):
    name = old_anomalies_table(spark, tmp_path)

    ensure_table(spark, ctx(tmp_path, "gold", "g-new"), ANOMALIES)

    assert sorted((r.meter_id, r.anomaly_type, r.score) for r in spark.table(name).collect()) == [
        ("M1", "zero_run", 13.0),
        ("M2", "spike", 9.5),
    ]
    properties = {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES {name}").collect()}
    assert properties["delta.constraints.known_type"] == ANOMALIES.constraints["known_type"]
    version = delta_io.current_version(spark, name)
    reset_catalog(spark)  # a new session opens the migrated table: nothing more to do
    ensure_table(spark, ctx(tmp_path, "gold", "g-later"), ANOMALIES)
    assert delta_io.current_version(spark, name) == version
