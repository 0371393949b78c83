"""Two gold runs over the same days, interleaved: the one that read older silver never wins (#18, item 6).

Run A reads silver (meter M1 only), then silver gets meter M2 and run B writes gold from it, then A gets to
write. Without the snapshot check A's frame (M1 only) would replace B's rows and M2 would vanish from gold.
"""

from __future__ import annotations

import datetime as dt
from itertools import count

import pytest
from pyspark.sql import SparkSession

from lakehelpers import ctx, half_hours, reading, reset_catalog, stage, utc
from lakewatt import delta_io
from lakewatt.jobs import gold, silver

DAY1, DAY2 = dt.date(2025, 3, 10), dt.date(2025, 3, 11)
_instances = count(1)


def add_readings(spark: SparkSession, root, meter: str, day: dt.date, kwh: float) -> None:
    """One meter's 48 half-hours of ``day`` (UTC) through the silver job, as a file of its own."""
    instance = f"{meter}-{day}-{next(_instances)}"
    start = utc(day.year, day.month, day.day)
    rows = [
        reading(meter, at, kwh, instance=instance, line=n)
        for n, at in enumerate(half_hours(start, start + dt.timedelta(days=1)), start=1)
    ]
    stage(spark, root, "meter_readings", instance, rows)
    silver.run(spark, ctx(root, "silver", instance), "meter_readings", [instance], pii_key=None)


def daily_import(spark: SparkSession) -> dict[tuple[str, str], float]:
    rows = spark.table("gold.daily_consumption").collect()
    return {(r.date.isoformat(), r.meter_id): r.import_kwh for r in rows}


@pytest.fixture
def lake(spark: SparkSession, tmp_path):
    reset_catalog(spark)
    add_readings(spark, tmp_path, "M1", DAY1, 1.0)
    add_readings(spark, tmp_path, "M1", DAY2, 1.0)
    return tmp_path


def started_run(
    spark: SparkSession, root, name: str, days: list[dt.date], tables=("daily_consumption",), **options
) -> gold.GoldRun:
    """A gold run that has read silver (its shared frame computed, as a cached frame would be) but not
    written yet."""
    job = gold.GoldRun(
        spark, ctx(root, "gold", name), min(days), max(days), dates=days, tables=list(tables), **options
    )
    job.prepare()
    job.enriched.count()
    return job


def when_the_newer_run_writes_first(spark: SparkSession, root, days: list[dt.date]) -> None:
    add_readings(spark, root, "M2", DAY2, 2.0)
    gold.run(
        spark, ctx(root, "gold", "newer"), min(days), max(days), dates=days, tables=["daily_consumption"]
    )


def test_when_a_newer_run_already_wrote_the_same_days_then_the_older_run_skips_its_write(
    spark: SparkSession, lake
):
    older = started_run(spark, lake, "older", [DAY2])
    when_the_newer_run_writes_first(spark, lake, [DAY2])
    version = delta_io.current_version(spark, "gold.daily_consumption")

    written = older.write("daily_consumption")

    assert written.action == "skipped"
    assert delta_io.current_version(spark, "gold.daily_consumption") == version
    assert daily_import(spark) == {("2025-03-11", "M1"): 48.0, ("2025-03-11", "M2"): 96.0}


def test_when_a_newer_run_wrote_some_of_the_days_then_the_older_run_recomputes_from_newest_silver(
    spark: SparkSession, lake
):
    older = started_run(spark, lake, "older", [DAY1, DAY2])
    read_before = dict(older.snapshot.versions)
    when_the_newer_run_writes_first(spark, lake, [DAY2])

    written = older.write("daily_consumption")

    assert written.action == "replace"
    assert older.snapshot.versions["silver.meter_readings"] > read_before["silver.meter_readings"]
    assert daily_import(spark) == {
        ("2025-03-10", "M1"): 48.0,
        ("2025-03-11", "M1"): 48.0,
        ("2025-03-11", "M2"): 96.0,
    }


def test_when_a_newer_run_commits_between_the_check_and_the_write_then_the_older_run_writes_again(
    spark: SparkSession, lake, monkeypatch: pytest.MonkeyPatch
):
    older = started_run(spark, lake, "older", [DAY2])
    replace_once = delta_io.replace_where_once
    interleaved = []

    def newer_run_lands_just_before(*args, **kwargs):
        if not interleaved:  # only the older run's first attempt: the newer run's own writes pass through
            interleaved.append(True)
            when_the_newer_run_writes_first(spark, lake, [DAY2])
        replace_once(*args, **kwargs)

    monkeypatch.setattr(delta_io, "replace_where_once", newer_run_lands_just_before)

    written = older.write("daily_consumption")

    assert interleaved
    assert written.action == "replace"
    assert daily_import(spark) == {("2025-03-11", "M1"): 48.0, ("2025-03-11", "M2"): 96.0}


def test_when_tables_written_from_threads_find_newer_silver_then_they_are_recomputed_from_it(
    spark: SparkSession, lake
):
    tables = ("daily_consumption", "consumption_anomalies")
    older = started_run(spark, lake, "older", [DAY1, DAY2], tables, write_threads=2)
    read_before = dict(older.snapshot.versions)
    when_the_newer_run_writes_first(spark, lake, [DAY2])

    older.write_all()

    assert [w.table for w in older.manifest.tables] == [f"gold.{name}" for name in tables]
    assert older.manifest.tables[0].action == "replace"
    assert older.snapshot.versions["silver.meter_readings"] > read_before["silver.meter_readings"]
    assert daily_import(spark) == {
        ("2025-03-10", "M1"): 48.0,
        ("2025-03-11", "M1"): 48.0,
        ("2025-03-11", "M2"): 96.0,
    }
