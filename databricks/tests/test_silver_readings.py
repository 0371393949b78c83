"""Silver meter readings: duplicate precedence, idempotent re-runs, bronze append once, manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from lakehelpers import ctx, naive, reading, reset_catalog, stage, utc
from lakewatt.context import local_path
from lakewatt.jobs import silver

T1 = utc(2026, 1, 1, 6)  # orch-1 staged
T2 = utc(2026, 1, 2, 6)  # orch-2 staged later


def r(slot: int, kwh: float, quality: str, instance: str, line: int, at, own=(None, None)):
    return reading(
        "M1",
        utc(2025, 3, 1, slot // 2, 30 * (slot % 2)),
        kwh,
        quality,
        instance=instance,
        line=line,
        ingested_at=at,
        source_quality=own[0],
        source_quality_reason=own[1],
    )


BATCH_1 = [
    r(0, 1.0, "actual", "orch-1", 1, T1),  # A
    r(1, 2.0, "estimated", "orch-1", 2, T1, ("E52", "51")),  # B (a market file's own codes)
    r(2, 3.0, "estimated", "orch-1", 3, T1),  # C, duplicate in the file ...
    r(2, 3.5, "substituted", "orch-1", 4, T1),  # ... substituted beats estimated
    r(3, 4.0, "actual", "orch-1", 5, T1),  # D, duplicate of equal quality and ingestion ...
    r(3, 4.4, "actual", "orch-1", 6, T1),  # ... the later line wins (total order)
]
BATCH_2 = [
    r(0, 9.0, "estimated", "orch-2", 1, T2),  # A: estimated never replaces actual
    r(1, 2.2, "actual", "orch-2", 2, T2, ("A", None)),  # B: actual replaces estimated
    r(2, 3.9, "substituted", "orch-2", 3, T2, ("S14", "76")),  # C: equal quality, later ingestion wins
    r(4, 0.0, "missing", "orch-2", 4, T2),  # E: new key
]
# By hand: slot -> (kwh, quality, winning orchestration)
EXPECTED = {
    naive(2025, 3, 1, 0, 0): (1.0, "actual", "orch-1"),
    naive(2025, 3, 1, 0, 30): (2.2, "actual", "orch-2"),
    naive(2025, 3, 1, 1, 0): (3.9, "substituted", "orch-2"),
    naive(2025, 3, 1, 1, 30): (4.4, "actual", "orch-1"),
    naive(2025, 3, 1, 2, 0): (0.0, "missing", "orch-2"),
}


@pytest.fixture(scope="module")
def world(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory):
    reset_catalog(spark)
    root = tmp_path_factory.mktemp("lake")
    stage(spark, root, "meter_readings", "orch-1", BATCH_1)
    stage(spark, root, "meter_readings", "orch-2", BATCH_2)
    m1 = silver.run(spark, ctx(root, "silver", "orch-1"), "meter_readings", ["orch-1"], pii_key=None)
    m2 = silver.run(spark, ctx(root, "silver", "orch-2"), "meter_readings", ["orch-2"], pii_key=None)
    history_before = spark.sql("DESCRIBE HISTORY silver.meter_readings").count()
    again = silver.run(spark, ctx(root, "silver", "orch-2", 1), "meter_readings", ["orch-2"], pii_key=None)
    return {"root": root, "m1": m1, "m2": m2, "again": again, "history_before": history_before}


def table(manifest: dict, name: str) -> dict:
    return next(t for t in manifest["tables"] if t["table"] == name)


def test_duplicates_resolve_by_quality_then_later_ingestion(spark: SparkSession, world):
    rows = spark.table("silver.meter_readings").collect()

    assert {x.interval_start: (x.kwh, x.quality, x.ingest_instance_id) for x in rows} == EXPECTED


def test_when_a_reading_wins_then_silver_keeps_the_quality_code_and_reason_its_source_gave(
    spark: SparkSession, world
):
    rows = spark.table("silver.meter_readings").collect()

    assert {x.interval_start: (x.source_quality, x.source_quality_reason) for x in rows} == {
        naive(2025, 3, 1, 0, 0): (None, None),
        naive(2025, 3, 1, 0, 30): ("A", None),  # the estimated E52/51 lost to the actual reading
        naive(2025, 3, 1, 1, 0): ("S14", "76"),
        naive(2025, 3, 1, 1, 30): (None, None),
        naive(2025, 3, 1, 2, 0): (None, None),
    }


def test_second_batch_updates_two_rows_and_inserts_one(world):
    metrics = table(world["m2"], "silver.meter_readings")["operationMetrics"]

    assert (metrics["numTargetRowsUpdated"], metrics["numTargetRowsInserted"]) == ("2", "1")


def test_rerun_of_the_same_input_commits_nothing_and_leaves_rows_unchanged(spark: SparkSession, world):
    silver_write = table(world["again"], "silver.meter_readings")
    bronze_write = table(world["again"], "bronze.meter_readings")

    assert silver_write["action"] == "unchanged"
    assert silver_write["version"] == table(world["m2"], "silver.meter_readings")["version"]
    assert spark.sql("DESCRIBE HISTORY silver.meter_readings").count() == world["history_before"]
    assert bronze_write["action"] == "skipped"
    assert spark.table("bronze.meter_readings").count() == len(BATCH_1) + len(BATCH_2)


def test_manifest_versions_and_metrics_match_describe_history(spark: SparkSession, world):
    for manifest in (world["m1"], world["m2"]):
        for entry in manifest["tables"]:
            if entry["action"] == "unchanged":
                continue
            row = (
                spark.sql(f"DESCRIBE HISTORY {entry['table']}").where(f"version = {entry['version']}").first()
            )
            assert row is not None
            assert row.operation == entry["operation"]
            assert {k: str(v) for k, v in row.operationMetrics.items()} == entry["operationMetrics"]
            meta = json.loads(row.userMetadata)
            assert (meta["orchestrationId"], meta["generation"], meta["job"]) == (
                manifest["orchestrationId"],
                0,
                "silver",
            )


def test_manifests_are_written_per_instance_and_generation(world):
    root: Path = world["root"]

    first = json.loads((root / "audit/job-runs/orch-2/0/silver.json").read_text())
    replay = json.loads((root / "audit/job-runs/orch-2/1/silver.json").read_text())

    assert local_path(world["again"]["manifestUri"]).endswith("audit/job-runs/orch-2/1/silver.json")
    assert (first["generation"], replay["generation"]) == (0, 1)
    assert first["versions"]["spark"].startswith("4.1")
    assert first["versions"]["delta"] == "4.4.0"
    assert table(first, "silver.meter_readings")["rowCount"] == len(EXPECTED)


def test_silver_table_has_cdf_clustering_comment_and_rejects_negative_import(spark: SparkSession, world):
    detail = spark.sql("DESCRIBE DETAIL silver.meter_readings").first()
    changes = (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", table(world["m2"], "silver.meter_readings")["version"])
        .table("silver.meter_readings")
        .where("_change_type = 'update_postimage'")
        .collect()
    )

    assert detail.properties["delta.enableChangeDataFeed"] == "true"
    assert detail.clusteringColumns == ["meter_id", "reading_date"]
    assert "actual > substituted > estimated" in detail.description
    assert sorted(c.kwh for c in changes) == [2.2, 3.9]
    with pytest.raises(Exception, match="kwh_non_negative"):
        spark.sql(
            "INSERT INTO silver.meter_readings SELECT meter_id, channel, interval_start + INTERVAL 1 DAY, "
            "interval_minutes, -1.0, quality, reading_date, source_system, source_file, source_etag, "
            "source_line, ingest_instance_id, ingested_at, estimation_method, vee_rule, source_quality, "
            "source_quality_reason "
            "FROM silver.meter_readings LIMIT 1"
        )
