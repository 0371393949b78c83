"""The maintenance job: OPTIMIZE compacts a table's small files, VACUUM removes the replaced ones (#13)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakehelpers import ctx, reset_catalog
from lakewatt.gold_tables import GOLD_TABLES
from lakewatt.jobs import maintenance
from lakewatt.jobs.common import JobParameterError
from lakewatt.tables import ensure_table

APPENDS = 5
METERS = 4


def parquet_files(table_dir: Path) -> list[Path]:
    return [p for p in table_dir.rglob("*.parquet") if "_delta_log" not in p.parts]


@pytest.fixture
def small_files(spark: SparkSession, tmp_path: Path):
    """gold.daily_consumption written in APPENDS commits of one file each (as many small runs would)."""
    reset_catalog(spark)
    spec = GOLD_TABLES["daily_consumption"]
    name = ensure_table(spark, ctx(tmp_path, "gold", "setup"), spec)
    for day in range(APPENDS):
        rows = [
            (dt.date(2025, 3, 1 + day), f"M{m}", None, "UTC", 1.5 * m, 0.0, 48, 48, 48, 1.0, 0.0,
             dt.datetime(2026, 1, 1), "setup")
            for m in range(METERS)
        ]  # fmt: skip
        spark.createDataFrame(rows, spec.schema).coalesce(1).write.format("delta").mode("append").saveAsTable(
            name
        )
    return tmp_path


def test_when_a_table_has_many_small_files_then_maintenance_leaves_one_and_removes_the_rest(
    spark: SparkSession, small_files: Path
):
    table_dir = small_files / "gold" / "daily_consumption"
    assert len(parquet_files(table_dir)) == APPENDS

    manifest = maintenance.run(
        spark, ctx(small_files, "maintenance", "maint-1"), layers=["gold"], retain_hours=0
    )

    [entry] = [t for t in manifest["tables"] if t["table"] == "gold.daily_consumption"]
    assert entry["operation"] == "OPTIMIZE"
    assert entry["operationMetrics"]["filesBefore"] == str(APPENDS)
    assert entry["operationMetrics"]["filesAfter"] == "1"
    assert entry["operationMetrics"]["filesVacuumed"] == str(APPENDS)
    assert len(parquet_files(table_dir)) == 1
    totals = spark.table("gold.daily_consumption").agg(F.count(F.lit(1)), F.sum("import_kwh")).first()
    assert tuple(totals) == (APPENDS * METERS, APPENDS * sum(1.5 * m for m in range(METERS)))


def test_when_a_table_does_not_exist_then_maintenance_skips_it_without_creating_it(
    spark: SparkSession, small_files: Path
):
    manifest = maintenance.run(
        spark, ctx(small_files, "maintenance", "maint-2"), layers=["gold"], retain_hours=0
    )

    assert [t["table"] for t in manifest["tables"]] == ["gold.daily_consumption"]
    assert not (small_files / "gold" / "customer_daily_cost").exists()


def test_when_the_retention_is_below_seven_days_then_the_job_refuses_naming_the_parameter(tmp_path: Path):
    roots = [f"--{r}_root={tmp_path.as_uri()}/{r}/" for r in ("staging", "silver", "gold", "audit")]

    with pytest.raises(JobParameterError, match=r"retain_hours 24 is below 168"):
        maintenance.run_from_args(["--orchestration_id=m", "--retain_hours=24", *roots])
