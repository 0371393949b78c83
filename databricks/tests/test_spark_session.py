"""The local session gets Delta from the jars set-up resolved, and never resolves anything itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakewatt.spark import (
    DeltaJarsMissingError,
    compiled_classes,
    delta_jars,
    expected_delta_jar,
    get_spark,
)


def test_when_the_delta_jars_are_missing_then_the_error_is_one_line_telling_to_run_setup(tmp_path: Path):
    with pytest.raises(DeltaJarsMissingError, match="make setup") as raised:
        delta_jars(tmp_path)

    message = str(raised.value)
    assert "\n" not in message
    assert str(tmp_path) in message
    assert expected_delta_jar() in message


def test_when_the_session_starts_then_delta_comes_from_local_jar_files_not_from_a_package_resolver(
    spark: SparkSession,
):
    jars = spark.conf.get("spark.jars").split(",")

    assert spark.conf.get("spark.jars.packages", "") == ""
    assert spark.conf.get("spark.jars.ivy", "") == ""
    assert any(Path(jar).name == expected_delta_jar() for jar in jars)
    assert all(Path(jar).is_file() for jar in jars)


def test_when_the_caller_chooses_a_collector_then_the_driver_starts_with_that_one_only(spark: SparkSession):
    # conftest starts the suite's session with -XX:+UseSerialGC; a second collector would stop the JVM.
    options = spark.conf.get("spark.driver.extraJavaOptions").split()

    assert [o for o in options if o.startswith("-XX:+Use") and o.endswith("GC")] == ["-XX:+UseSerialGC"]


def test_when_a_query_comes_back_after_hundreds_of_others_then_its_code_is_not_compiled_again(
    spark: SparkSession,
):
    # A long literal is written into the generated code, so each factor is a class of its own; Spark's
    # default cache holds 100, which a warm worker's jobs outgrow many times over.
    def run(factor: int) -> list:
        return spark.range(3).select((F.col("id") * F.lit(factor) + F.lit(7)).alias("x")).collect()

    first = run(1_000_003)
    for factor in range(150):
        run(factor)
    before = compiled_classes(spark)

    again = run(1_000_003)

    assert compiled_classes(spark) == before
    assert [row.x for row in again] == [7, 1_000_010, 2_000_013] == [row.x for row in first]


def test_when_the_session_starts_then_it_runs_spark_4_1_like_databricks_runtime_18(spark: SparkSession):
    assert spark.version.startswith("4.1.")
    assert expected_delta_jar().startswith("delta-spark_4.1_2.13-")


def test_when_a_session_is_active_then_get_spark_returns_it(spark: SparkSession):
    assert get_spark() is spark
