"""Silver reads the staged folder of the generation each ``instance_ids`` entry names."""

from __future__ import annotations

import pytest
from pyspark.sql import SparkSession

from lakehelpers import ctx, reading, reset_catalog, stage, utc
from lakewatt.jobs import silver
from lakewatt.jobs.common import JobParameterError

INSTANCE = "ingest-meter_readings-0123456789abcdef0123456789abcdef"
SLOT = utc(2025, 3, 1, 0)


def staged(kwh: float, line: int):
    return [reading("M1", SLOT, kwh, "actual", instance=INSTANCE, line=line, ingested_at=utc(2026, 1, 1))]


@pytest.fixture(scope="module")
def world(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory):
    reset_catalog(spark)
    root = tmp_path_factory.mktemp("lake")
    # Generation 0 staged under the contract of the time; the reprocess (generation 1) staged other values.
    stage(spark, root, "meter_readings", INSTANCE, staged(1.0, 1), generation=0)
    stage(spark, root, "meter_readings", INSTANCE, staged(7.5, 2), generation=1)
    entry = f"{INSTANCE}/g1"
    first = silver.run(spark, ctx(root, "silver", INSTANCE, 1), "meter_readings", [entry], pii_key=None)
    again = silver.run(spark, ctx(root, "silver", INSTANCE, 2), "meter_readings", [entry], pii_key=None)
    return {"first": first, "again": again}


def test_when_an_entry_names_generation_1_then_silver_holds_that_generations_rows(spark: SparkSession, world):
    rows = spark.table("silver.meter_readings").collect()

    assert [(r.kwh, r.source_line, r.ingest_instance_id) for r in rows] == [(7.5, 2, INSTANCE)]


def test_when_an_entry_names_a_generation_then_bronze_lineage_is_the_instance_id(spark: SparkSession, world):
    rows = spark.table("bronze.meter_readings").collect()

    assert [(r.kwh, r.ingest_instance_id) for r in rows] == [(7.5, INSTANCE)]


def test_when_the_same_entry_runs_again_then_bronze_appends_nothing(world):
    bronze = next(t for t in world["again"]["tables"] if t["table"] == "bronze.meter_readings")

    assert bronze["action"] == "skipped"


@pytest.mark.parametrize("entry", ["../x/g1", "x/g", "x/g1/y", "x/../../y"])
def test_when_an_entry_is_not_an_instance_and_generation_then_it_is_a_parameter_error(entry: str):
    with pytest.raises(JobParameterError, match="instance_ids"):
        silver.instance_of(entry)
