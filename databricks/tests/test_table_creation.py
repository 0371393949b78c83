"""Creating a table survives a kill during its first commit (a `_delta_log` with no commit in it)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from lakehelpers import ctx, reset_catalog
from lakewatt.gold_tables import GOLD_TABLES
from lakewatt.tables import ABANDONED_LOG_SECONDS, ensure_table


@pytest.mark.parametrize(
    "leftovers",
    [
        pytest.param([], id="empty log directory"),
        # The local log store writes a hidden temporary file, then renames it to the commit's name.
        pytest.param([".00000000000000000000.json.6f1c.tmp"], id="unrenamed temporary commit"),
    ],
)
def test_when_a_kill_interrupted_the_first_commit_then_the_next_run_creates_the_table(
    spark: SparkSession, tmp_path: Path, leftovers: list[str]
):
    reset_catalog(spark)
    spec = GOLD_TABLES["daily_consumption"]
    log_dir = tmp_path / "gold" / "daily_consumption" / "_delta_log"
    log_dir.mkdir(parents=True)
    for name in leftovers:
        (log_dir / name).write_text('{"commitInfo":{}}\n')
    # Left by a run killed a while ago, not by a creator still at work.
    abandoned_at = time.time() - ABANDONED_LOG_SECONDS - 1
    for path in [log_dir, *log_dir.iterdir()]:
        os.utime(path, (abandoned_at, abandoned_at))

    name = ensure_table(spark, ctx(tmp_path, "gold", "after-kill"), spec)

    assert [f.name for f in spark.table(name).schema.fields] == [f.name for f in spec.schema.fields]
    assert (log_dir / "00000000000000000000.json").is_file()
