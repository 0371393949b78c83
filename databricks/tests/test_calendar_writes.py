"""The calendar tables are written once per year and zone, not by every gold run (#13, per-run cost)."""

from __future__ import annotations

import datetime as dt

import holidays
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


def calendar_run(
    spark: SparkSession, root, name: str, day: dt.date, zone: str, tables: list[str] = CALENDAR
) -> dict[str, str]:
    manifest = gold.run(spark, ctx(root, "gold", name), day, day, tables=tables, default_timezone=zone)
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

    first = calendar_run(spark, tmp_path, "first", dt.date(2024, 3, 10), "Europe/London")
    second = calendar_run(spark, tmp_path, "second", dt.date(2024, 3, 11), "Europe/London")

    assert first == {"gold.dim_date": "replace", "gold.dim_holiday": "replace"}
    assert second == {"gold.dim_date": "skipped", "gold.dim_holiday": "skipped"}
    assert calendar_rows(spark) == {("Europe/London", 2024): 366}


def test_when_a_run_serves_a_zone_the_calendar_lacks_then_the_year_is_rewritten_keeping_the_other_zones(
    spark: SparkSession, tmp_path
):
    reset_catalog(spark)
    add_day(spark, tmp_path, dt.date(2025, 3, 10))
    calendar_run(spark, tmp_path, "utc", dt.date(2025, 3, 10), "UTC")

    again = calendar_run(spark, tmp_path, "london", dt.date(2025, 3, 10), "Europe/London")

    assert again == {"gold.dim_date": "replace", "gold.dim_holiday": "replace"}
    assert calendar_rows(spark) == {("UTC", 2025): 365, ("Europe/London", 2025): 365}


def test_when_only_dim_date_was_written_then_a_later_run_writes_the_holidays_it_lacks(
    spark: SparkSession, tmp_path
):
    reset_catalog(spark)
    add_day(spark, tmp_path, dt.date(2025, 5, 5))
    calendar_run(spark, tmp_path, "dates", dt.date(2025, 5, 5), "Europe/London", tables=["dim_date"])

    later = calendar_run(spark, tmp_path, "both", dt.date(2025, 5, 5), "Europe/London")

    assert later == {"gold.dim_date": "skipped", "gold.dim_holiday": "replace"}
    nationwide = spark.sql(
        "SELECT count(*) AS n FROM gold.dim_holiday WHERE country = 'GB' AND subdivision IS NULL"
    ).first()
    assert nationwide.n == len(holidays.country_holidays("GB", years=[2025]))
