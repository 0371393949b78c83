"""Bronze holds each (instance, source line) once, even when two runs of one instance both append."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from pyspark.sql import SparkSession

from lakehelpers import ctx, reading, reset_catalog, stage, utc
from lakewatt import delta_io
from lakewatt.jobs import silver
from lakewatt.tables import BRONZE_TABLES, ensure_table
from lakewatt.transforms import silver as t

INSTANCE = "ingest-meter_readings-00000000000000000000000000000b0e"
ENTRY = f"{INSTANCE}/g0"
START = utc(2025, 3, 1, 0)
BRONZE = "bronze.meter_readings"


def staged_rows() -> list[tuple]:
    """Five lines; line 3 is a wide line that carries two readings (as a row-per-day format stages it)."""
    rows = []
    for line, slots in [(1, 1), (2, 1), (3, 2), (4, 1), (5, 1)]:
        for slot in range(slots):
            at = START + timedelta(minutes=30 * (len(rows)))
            rows.append(reading("M1", at, float(line + slot), "actual", instance=INSTANCE, line=line))
    return rows


EXPECTED = Counter((INSTANCE, row[-3]) for row in staged_rows())


@pytest.fixture
def world(spark: SparkSession, tmp_path):
    reset_catalog(spark)
    stage(spark, tmp_path, "meter_readings", INSTANCE, staged_rows(), generation=0)
    run_ctx = ctx(tmp_path, "silver", INSTANCE, 0)
    ensure_table(spark, run_ctx, BRONZE_TABLES["meter_readings"])
    records = t.bronze_records(
        silver.read_staged(spark, run_ctx, "meter_readings", [ENTRY]), "meter_readings"
    )
    return {"root": tmp_path, "records": records}


def bronze_lines(spark: SparkSession) -> Counter:
    rows = spark.table(BRONZE).select("ingest_instance_id", "source_line").collect()
    return Counter((r.ingest_instance_id, r.source_line) for r in rows)


def test_when_a_run_checked_for_its_lines_before_another_run_committed_then_bronze_holds_each_line_once(
    spark: SparkSession, world
):
    silver.run(spark, ctx(world["root"], "silver", INSTANCE, 0), "meter_readings", [ENTRY], pii_key=None)
    # The replay's run checked before that commit, so it goes straight to its insert.
    delta_io.insert_new_lines(
        spark, BRONZE, world["records"], instance_ids=[INSTANCE], user_metadata="late-run"
    )

    assert bronze_lines(spark) == EXPECTED


def test_when_two_runs_of_one_instance_insert_at_the_same_time_then_bronze_holds_each_line_once(
    spark: SparkSession, world
):
    def insert(tag: str) -> None:
        delta_io.insert_new_lines(spark, BRONZE, world["records"], instance_ids=[INSTANCE], user_metadata=tag)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in [pool.submit(insert, "run-a"), pool.submit(insert, "run-b")]:
            done.result()

    assert bronze_lines(spark) == EXPECTED
