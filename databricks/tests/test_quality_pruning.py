"""Data quality reads only the bronze files whose report names the days it recomputes (#13, per-run cost)."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import SparkSession
from pyspark.sql.types import ArrayType, DateType, StringType, StructField, StructType

from lakewatt.transforms.gold.quality import (
    bronze_on_days,
    data_quality_rule_failures,
    report_files,
    rows_per_instance_day,
    staged_rows,
)

REPORTS = StructType(
    [
        StructField("instance_id", StringType()),
        StructField("dataset", StringType()),
        StructField("affected_dates", ArrayType(DateType())),
    ]
)
MAY_6, MAY_7 = dt.date(2025, 5, 6), dt.date(2025, 5, 7)


def files_read(spark: SparkSession, dataset: str, reports: list[tuple]) -> set[str]:
    bronze = spark.createDataFrame([(r[0],) for r in reports], "ingest_instance_id string")
    kept = bronze_on_days(bronze, dataset, report_files(spark.createDataFrame(reports, REPORTS), [MAY_7]))
    return {row.ingest_instance_id for row in kept.collect()}


def test_when_a_readings_file_names_only_other_days_then_its_rows_are_not_read(spark: SparkSession):
    reports = [
        ("on-the-day", "meter_readings", [MAY_6, MAY_7]),
        ("day-before", "meter_readings", [MAY_6]),
        ("prices-file", "prices", [MAY_7]),  # another dataset's report names nothing of readings
    ]

    assert files_read(spark, "meter_readings", reports) == {"on-the-day"}


def test_when_a_report_has_no_days_recorded_then_its_file_is_read(spark: SparkSession):
    reports = [("older-report", "meter_readings", None), ("day-before", "meter_readings", [MAY_6])]

    assert files_read(spark, "meter_readings", reports) == {"older-report"}


def test_when_the_dataset_is_reference_data_then_every_file_is_read(spark: SparkSession):
    reports = [("contracts-1", "contracts", []), ("contracts-2", "contracts", [MAY_6])]

    assert files_read(spark, "contracts", reports) == {"contracts-1", "contracts-2"}


def test_when_a_reference_file_rejected_rows_then_its_reasons_count_on_the_days_of_its_staged_rows(
    spark: SparkSession,
):
    # A customers report lists no days: its failures belong to the UTC days of its staged rows.
    landed = "bronze/customers/crm/2025/05/07/crm-1.csv"
    bronze = spark.createDataFrame(
        [
            ("crm-1", "C1", dt.datetime(2025, 5, 7, 9), "crm", landed),
            ("crm-1", "C2", dt.datetime(2025, 5, 6, 9), "crm", landed),
        ],
        "ingest_instance_id string, customer_id string, updated_at timestamp, source_system string, "
        "source_file string",
    )
    reports = spark.createDataFrame(
        [("crm-1", "customers", "crm", {"BAD_EMAIL": 2}, [])],
        "instance_id string, dataset string, source_system string, rule_failures map<string,bigint>, "
        "affected_dates array<date>",
    )

    on_days = {"customers": bronze_on_days(bronze, "customers", report_files(reports, [MAY_7]))}
    got = data_quality_rule_failures(reports, rows_per_instance_day(staged_rows(on_days, [MAY_7])))

    assert [tuple(r) for r in got.collect()] == [(MAY_7, "customers", "crm", "BAD_EMAIL", 2)]
