"""The log reader gives what DESCRIBE HISTORY gives, on a local table with every kind of commit (#13)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession

from lakehelpers import ctx, reset_catalog
from lakewatt import delta_io, delta_log
from lakewatt.gold_tables import GOLD_TABLES
from lakewatt.tables import ensure_table


def consumption_row(day: int, meter: str, kwh: float) -> tuple:
    return (dt.date(2025, 3, day), meter, None, "UTC", kwh, 0.0, 48, 48, 48, 1.0, 0.0,
            dt.datetime(2026, 1, 1), "setup")  # fmt: skip


def test_when_a_local_table_has_writes_merges_replaces_and_an_optimize_then_its_log_reads_as_its_history(
    spark: SparkSession, tmp_path: Path
):
    reset_catalog(spark)
    spec = GOLD_TABLES["daily_consumption"]
    name = ensure_table(spark, ctx(tmp_path, "gold", "log-reader"), spec)
    for day in range(1, 12):  # past Delta's checkpoint interval (10 commits)
        frame = spark.createDataFrame([consumption_row(day, "M1", day * 1.5)], spec.schema)
        writer = frame.write.format("delta").mode("append")
        writer.option("userMetadata", f'{{"day":{day}}}').saveAsTable(name)
    replacement = spark.createDataFrame([consumption_row(3, "M1", 9.0)], spec.schema)
    delta_io.replace_where_once(
        spark, name, replacement, predicate="date = DATE'2025-03-03'", user_metadata='{"replace":1}'
    )
    spark.createDataFrame([consumption_row(4, "M2", 2.0)], spec.schema).createOrReplaceTempView("changes")
    spark.sql(
        f"MERGE INTO {name} t USING changes s ON t.meter_id = s.meter_id AND t.date = s.date "
        "WHEN NOT MATCHED THEN INSERT *"
    )
    spark.sql(f"OPTIMIZE {name}").collect()

    described = (
        spark.sql(f"DESCRIBE HISTORY {name} LIMIT 50")
        .select("version", "operation", "operationMetrics", "userMetadata")
        .collect()
    )
    read = delta_log.history(str(tmp_path / "gold" / "daily_consumption"), 50)

    assert len(described) == 15

    def rows(history: list) -> list[tuple]:
        return [(r.version, r.operation, dict(r.operationMetrics or {}), r.userMetadata) for r in history]

    assert rows(read) == rows(described)
    assert delta_io.current_version(spark, name) == described[0].version


class _RefusingConf:
    """A session setting store that refuses unknown keys, as Databricks serverless does."""

    def get(self, key: str, default=None):
        raise AnalysisException(f"[CONFIG_NOT_AVAILABLE] Configuration {key} is not available.")


class _ServerlessSession:
    conf = _RefusingConf()


def test_when_the_session_refuses_unknown_settings_then_a_table_reads_as_not_local():
    assert delta_io.local_dir(_ServerlessSession(), "main.gold.daily_consumption") is None  # type: ignore[arg-type]
