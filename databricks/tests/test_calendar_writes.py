"""The calendar tables are written once per year and zone, not by every gold run (#13, per-run cost)."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession

from lakehelpers import ctx, half_hours, reading, reset_catalog, stage, utc
from lakewatt.jobs import gold, silver

CALENDAR = ["dim_date", "dim_holiday"]


def add_day(spark: SparkSession, root, day: dt.date) -> None:
    instance = f"M1-{day}"
    start = utc(day.year, day.month, day.day)
    rows = [
        reading("M1", at, 1.0, instance=instance, line=n)
        for n, at in enumerate(half_hours(start, start + dt.timedelta(days=1)), start=1)
    ]
    stage(spark, root, "meter_readings", instance, rows)
    silver.run(spark, ctx(root, "silver", instance), "meter_readings", [instance], pii_key=None)


def calendar_run(spark: SparkSession, root, name: str, day: dt.date, zone: str) -> dict[str, str]:
    manifest = gold.run(spark, ctx(root, "gold", name), day, day, tables=CALENDAR, default_timezone=zone)
    return {entry["table"]: entry["action"] for entry in manifest["tables"]}


def calendar_rows(spark: SparkSession) -> dict[tuple[str, int], int]:
    rows = spark.sql(
        "SELECT timezone, year(date) AS y, count(*) AS n FROM gold.dim_date GROUP BY 1, 2"
    ).collect()
    return {(r.timezone, r.y): r.n for r in rows}


def test_when_a_later_run_falls_in_a_year_already_written_then_the_calendar_is_not_written_again(
    spark: SparkSession, tmp_path
):
    reset_catalog(spark)
    add_day(spark, tmp_path, dt.date(2024, 3, 10))
    add_day(spark, tmp_path, dt.date(2024, 3, 11))

    first = calendar_run(spark, tmp_path, "first", dt.date(2024, 3, 10), "UTC")
    second = calendar_run(spark, tmp_path, "second", dt.date(2024, 3, 11), "UTC")

    assert first == {"gold.dim_date": "replace", "gold.dim_holiday": "replace"}
    assert second == {"gold.dim_date": "skipped", "gold.dim_holiday": "skipped"}
    assert calendar_rows(spark) == {("UTC", 2024): 366}


def test_when_a_run_serves_a_zone_the_calendar_lacks_then_the_year_is_rewritten_for_the_zones_it_serves(
    spark: SparkSession, tmp_path
):
    reset_catalog(spark)
    add_day(spark, tmp_path, dt.date(2025, 3, 10))
    calendar_run(spark, tmp_path, "utc", dt.date(2025, 3, 10), "UTC")

    again = calendar_run(spark, tmp_path, "london", dt.date(2025, 3, 10), "Europe/London")

    assert again == {"gold.dim_date": "replace", "gold.dim_holiday": "replace"}
    assert calendar_rows(spark) == {("Europe/London", 2025): 365}
