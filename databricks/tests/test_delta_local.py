"""Delta Lake works in the local session: write, read back, MERGE, history and commit metadata."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession

from lakewatt.schemas import METER_READINGS

USER_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"
KEY_MATCH = "t.meter_id = s.meter_id AND t.channel = s.channel AND t.interval_start = s.interval_start"
INGESTED_AT = datetime(2026, 3, 2, 6, 0)


def utc(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 1, hour, minute, tzinfo=UTC)


def reading(meter: str, start: datetime, channel: str, kwh: float, quality: str, line: int, instance: str):
    return (
        meter,
        start,
        30,
        channel,
        kwh,
        quality,
        None,
        None,
        "sim-long",
        f"bronze/landing/meter_readings/sim-long/2026/03/01/{instance}.csv",
        '"0x8DE0001"',
        line,
        instance,
        INGESTED_AT.replace(tzinfo=UTC),
    )


def readings(spark: SparkSession, *rows: tuple) -> DataFrame:
    return spark.createDataFrame(list(rows), METER_READINGS)


def as_tuples(df: DataFrame) -> list[tuple]:
    return sorted(
        (r.meter_id, r.interval_start, r.channel, r.kwh, r.quality, r.source_line, r.ingest_instance_id)
        for r in df.collect()
    )


@pytest.fixture
def table_path(tmp_path: Path) -> str:
    return str(tmp_path / "silver" / "meter_readings")


def first_batch(spark: SparkSession) -> DataFrame:
    return readings(
        spark,
        reading("M-1", utc(0, 0), "import", 0.25, "actual", 2, "orch-1"),
        reading("M-1", utc(0, 30), "import", 0.5, "estimated", 3, "orch-1"),
        reading("M-2", utc(0, 0), "export", 1.125, "actual", 4, "orch-1"),
    )


@pytest.fixture(scope="module")
def merged_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("merged") / "silver" / "meter_readings")


@pytest.fixture(scope="module")
def merged_table(spark: SparkSession, merged_path: str) -> DeltaTable:
    """Version 0: the first batch written by orch-1; version 1: orch-2 merged a correction and a new reading.

    Built once for the tests below, which only read it.
    """
    first_batch(spark).write.format("delta").option("userMetadata", "orch-1").save(merged_path)
    second_batch = readings(
        spark,
        reading("M-1", utc(0, 30), "import", 0.75, "actual", 7, "orch-2"),
        reading("M-2", utc(0, 30), "export", 2.0, "actual", 8, "orch-2"),
    )
    spark.conf.set(USER_METADATA_CONF, "orch-2")
    try:
        target = DeltaTable.forPath(spark, merged_path)
        (
            target.alias("t")
            .merge(second_batch.alias("s"), KEY_MATCH)
            .whenMatchedUpdateAll()
            .whenNotMatchedInsertAll()
            .execute()
        )
    finally:
        spark.conf.unset(USER_METADATA_CONF)
    return target


def history(spark: SparkSession, table_path: str) -> list:
    return spark.sql(f"DESCRIBE HISTORY delta.`{table_path}`").orderBy("version").collect()


def test_when_meter_readings_are_written_as_delta_then_they_read_back_unchanged(
    spark: SparkSession, table_path: str
):
    first_batch(spark).write.format("delta").save(table_path)

    back = spark.read.format("delta").load(table_path)

    assert back.schema.fieldNames() == METER_READINGS.fieldNames()
    assert [f.dataType for f in back.schema.fields] == [f.dataType for f in METER_READINGS.fields]
    assert as_tuples(back) == [
        ("M-1", datetime(2026, 3, 1, 0, 0), "import", 0.25, "actual", 2, "orch-1"),
        ("M-1", datetime(2026, 3, 1, 0, 30), "import", 0.5, "estimated", 3, "orch-1"),
        ("M-2", datetime(2026, 3, 1, 0, 0), "export", 1.125, "actual", 4, "orch-1"),
    ]
    assert back.first().ingested_at == INGESTED_AT


def test_when_a_merge_updates_one_row_and_inserts_another_then_the_table_holds_both_changes(
    merged_table: DeltaTable,
):
    assert as_tuples(merged_table.toDF()) == [
        ("M-1", datetime(2026, 3, 1, 0, 0), "import", 0.25, "actual", 2, "orch-1"),
        ("M-1", datetime(2026, 3, 1, 0, 30), "import", 0.75, "actual", 7, "orch-2"),
        ("M-2", datetime(2026, 3, 1, 0, 0), "export", 1.125, "actual", 4, "orch-1"),
        ("M-2", datetime(2026, 3, 1, 0, 30), "export", 2.0, "actual", 8, "orch-2"),
    ]


def test_when_a_table_is_written_then_merged_then_history_shows_version_0_write_and_version_1_merge(
    spark: SparkSession, merged_path: str, merged_table: DeltaTable
):
    commits = history(spark, merged_path)

    assert [(c.version, c.operation) for c in commits] == [(0, "WRITE"), (1, "MERGE")]
    merge_metrics = commits[1].operationMetrics
    assert merge_metrics["numSourceRows"] == "2"
    assert merge_metrics["numTargetRowsUpdated"] == "1"
    assert merge_metrics["numTargetRowsInserted"] == "1"
    assert merge_metrics["numTargetRowsDeleted"] == "0"
    assert commits[0].operationMetrics["numOutputRows"] == "3"


def test_when_user_metadata_is_set_by_writer_option_or_session_conf_then_each_commit_records_it(
    spark: SparkSession, merged_path: str, merged_table: DeltaTable
):
    commits = history(spark, merged_path)

    assert [(c.version, c.userMetadata) for c in commits] == [(0, "orch-1"), (1, "orch-2")]
    assert spark.conf.get(USER_METADATA_CONF, None) is None
