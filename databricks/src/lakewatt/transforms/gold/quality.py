"""Data quality per UTC data day and source: rows, files, duplicates, late rows, rejections, completeness."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakewatt.transforms.gold.common import in_dates

DATA_DATE_COLUMN = {
    "meter_readings": "interval_start",
    "prices": "interval_start",
    "customers": "updated_at",
    "contracts": "valid_from",
}
DATASET_KEYS = {
    "meter_readings": ("meter_id", "channel", "interval_start"),
    "prices": ("bidding_zone", "interval_start", "resolution_minutes"),
    "customers": ("customer_id", "updated_at"),
    "contracts": ("contract_id", "valid_from"),
}
LANDING_DATE = r"/(\d{4})/(\d{2})/(\d{2})/[^/]+$"


def landing_date(source_file: Column) -> Column:
    """The delivery day in a bronze path ``.../{yyyy}/{mm}/{dd}/{file}`` (null if the path has none)."""
    parts = [F.regexp_extract(source_file, LANDING_DATE, i) for i in (1, 2, 3)]
    return F.when(parts[0] != "", F.make_date(*(p.cast("int") for p in parts)))


def staged_quality(bronze: DataFrame, dataset: str, dates: Sequence[dt.date]) -> DataFrame:
    """Per UTC data day and source: rows, files, re-delivered duplicates, late rows, completeness."""
    key = F.struct(*DATASET_KEYS[dataset])
    day = F.to_date(F.col(DATA_DATE_COLUMN[dataset]))
    rows = bronze.select("*", day.alias("date")).where(in_dates("date", dates))
    late = landing_date(F.col("source_file")) > F.date_add(F.col("date"), 1)
    has_value = F.col("quality") != "missing" if dataset == "meter_readings" else F.lit(True)
    return rows.groupBy("date", "source_system").agg(
        F.lit(dataset).alias("dataset"),
        F.countDistinct("source_file").alias("files"),
        F.count(F.lit(1)).alias("rows_staged"),
        (F.count(F.lit(1)) - F.countDistinct(key)).alias("duplicate_rows"),
        F.count(F.when(late, True)).alias("late_rows"),
        (F.count(F.when(has_value, True)) / F.count(F.lit(1))).alias("completeness"),
    )


# Datasets whose validation report lists exactly the UTC days of its staged rows (interval_start).
DAYS_IN_REPORT = frozenset({"meter_readings", "prices"})


def report_files(reports: DataFrame, dates: Sequence[dt.date]) -> dict[str, list[str]]:
    """Per dataset whose reports list their days (readings, prices): the files (ingest instances) whose report
    names one of ``dates``, or no days at all. One query for every dataset."""
    wanted = F.array(*(F.lit(d) for d in sorted(set(dates))))
    found = (
        reports.where(F.col("dataset").isin(sorted(DAYS_IN_REPORT)))
        .where(F.col("affected_dates").isNull() | F.arrays_overlap("affected_dates", wanted))
        .select("dataset", "instance_id")
        .distinct()
        .collect()
    )
    files: dict[str, list[str]] = {dataset: [] for dataset in sorted(DAYS_IN_REPORT)}
    for row in found:
        files[row.dataset].append(row.instance_id)
    return files


def bronze_on_days(bronze: DataFrame, dataset: str, files: Mapping[str, Sequence[str]]) -> DataFrame:
    """The bronze rows that can fall on the run's days: for readings and prices, only those of the files
    ``report_files`` found (bronze is append-only and clustered by file, so this reads a few files instead of
    the whole history). Other datasets are small: all."""
    if dataset not in DAYS_IN_REPORT:
        return bronze
    return bronze.where(F.col("ingest_instance_id").isin(list(files[dataset])))


def rows_per_instance_day(bronze: DataFrame, dataset: str, dates: Sequence[dt.date]) -> DataFrame:
    day = F.to_date(F.col(DATA_DATE_COLUMN[dataset]))
    return (
        bronze.select("ingest_instance_id", day.alias("date"))
        .where(in_dates("date", dates))
        .groupBy("ingest_instance_id", "date")
        .agg(F.count(F.lit(1)).alias("n"))
    )


def instance_days(bronze_of_days: Mapping[str, DataFrame], dates: Sequence[dt.date]) -> DataFrame:
    """Staged rows per file (ingest instance) and UTC data day on ``dates``, over every dataset's bronze rows
    that can fall on them (``bronze_on_days``). Both data-quality tables read it."""
    per_dataset = [rows_per_instance_day(table, dataset, dates) for dataset, table in bronze_of_days.items()]
    if not per_dataset:
        raise ValueError("no bronze tables given")
    out = per_dataset[0]
    for frame in per_dataset[1:]:
        out = out.unionByName(frame)
    return out


def data_quality_daily(
    bronze_of_days: Mapping[str, DataFrame],
    reports: DataFrame,
    dates: Sequence[dt.date],
    per_instance_day: DataFrame,
) -> DataFrame:
    """``staged_quality`` of every dataset (its bronze rows that can fall on ``dates``) plus rejected rows
    from the validation reports.

    A file's rejected rows are spread over its data days in proportion to its staged rows on each day
    (``per_instance_day``, from ``instance_days``; the rejected rows themselves have no trustworthy date).
    Per reason code: ``data_quality_rule_failures``.
    """
    staged = None
    for dataset, table in bronze_of_days.items():
        q = staged_quality(table, dataset, dates)
        staged = q if staged is None else staged.unionByName(q)
    if staged is None:
        raise ValueError("no bronze tables given")
    r = reports.select("instance_id", "dataset", "source_system", "rows_valid", "rows_rejected").join(
        per_instance_day, reports.instance_id == per_instance_day.ingest_instance_id
    )
    allocated = r.groupBy("date", "dataset", "source_system").agg(
        F.sum(
            F.when(
                F.col("rows_valid") > 0, F.col("rows_rejected") * F.col("n") / F.col("rows_valid")
            ).otherwise(F.col("rows_rejected").cast("double"))
        ).alias("rows_rejected")
    )
    keys = ["date", "dataset", "source_system"]
    out = staged.join(allocated, keys, "left")
    rejected = F.round(F.coalesce(F.col("rows_rejected"), F.lit(0.0)), 3)
    return out.select(
        F.col("date").alias("utc_date"),
        "dataset",
        "source_system",
        "files",
        "rows_staged",
        rejected.alias("rows_rejected"),
        F.round(rejected / (F.col("rows_staged") + rejected), 6).alias("rejected_share"),
        "duplicate_rows",
        "late_rows",
        F.round("completeness", 6).alias("completeness"),
    )


def data_quality_rule_failures(reports: DataFrame, per_instance_day: DataFrame) -> DataFrame:
    """Rejected rows per reason code, UTC data day, dataset and source (long form: BI tools read no maps).

    A file's failures count on every one of its data days that the run recomputes, the days its staged rows
    fall on (``per_instance_day``, from ``instance_days``; reference files' reports list no days, so the days
    come from bronze, as in ``data_quality_daily``): the rejected rows themselves have no trustworthy date.
    """
    failing = reports.where(F.size("rule_failures") > 0).select(
        "instance_id", "dataset", "source_system", "rule_failures"
    )
    return (
        failing.join(per_instance_day, failing.instance_id == per_instance_day.ingest_instance_id)
        .select(
            F.col("date").alias("utc_date"),
            "dataset",
            "source_system",
            F.explode("rule_failures").alias("rule_code", "rows"),
        )
        .groupBy("utc_date", "dataset", "source_system", "rule_code")
        .agg(F.sum("rows").cast("long").alias("rejected_rows"))
    )
