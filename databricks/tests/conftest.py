"""One local Spark + Delta session for the whole suite (starting Spark is the slow part)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

from lakewatt.spark import build_local_spark

# collect() turns timestamps into naive datetimes in the Python process's zone: make that zone UTC, like the
# session's, so expected values can be written as plain UTC datetimes.
os.environ["TZ"] = "UTC"
time.tzset()


# A test run's JVM is short-lived: C1-only JIT and the serial collector leave the CPU to the work instead of
# C2 compiler and GC threads, which roughly halves the suite's time on a busy 2-core machine.
TEST_JAVA_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    session = build_local_spark(
        "lakewatt-tests",
        warehouse_dir=tmp_path_factory.mktemp("warehouse"),
        java_options=TEST_JAVA_OPTIONS,
        extra_conf={"spark.databricks.delta.retentionDurationCheck.enabled": "false"},
    )
    yield session
    session.stop()
