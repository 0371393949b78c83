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


def staged_rows_of(bronze: DataFrame, dataset: str, dates: Sequence[dt.date]) -> DataFrame:
    """One dataset's bronze rows on ``dates`` (UTC data days) in the shape every dataset shares: its file, its
    key as one exact string, whether it arrived late (landed after the day after its data day) and whether it
    holds a value."""
    day = F.to_date(F.col(DATA_DATE_COLUMN[dataset]))
    rows = bronze.select("*", day.alias("date")).where(in_dates("date", dates))
    # \u0001 cannot occur in ids or in the string form of timestamps and numbers; null stands out as \u0000.
    key = F.concat_ws(
        "\u0001", *(F.coalesce(F.col(c).cast("string"), F.lit("\u0000")) for c in DATASET_KEYS[dataset])
    )
    late = landing_date(F.col("source_file")) > F.date_add(F.col("date"), 1)
    has_value = F.col("quality") != "missing" if dataset == "meter_readings" else F.lit(True)
    return rows.select(
        F.lit(dataset).alias("dataset"),
        "date",
        "source_system",
        "ingest_instance_id",
        "source_file",
        key.alias("row_key"),
        F.coalesce(late, F.lit(False)).alias("late"),
        has_value.alias("has_value"),
    )


def staged_rows(bronze_of_days: Mapping[str, DataFrame], dates: Sequence[dt.date]) -> DataFrame:
    """``staged_rows_of`` every dataset in ``bronze_of_days`` (``bronze_on_days``), as one frame: both
    data-quality tables aggregate it, each in one query for every dataset."""
    frames = [staged_rows_of(table, dataset, dates) for dataset, table in bronze_of_days.items()]
    if not frames:
        raise ValueError("no bronze tables given")
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out


def staged_quality(staged: DataFrame) -> DataFrame:
    """Per UTC data day, dataset and source: files, rows, re-delivered duplicates, late rows, completeness."""
    rows = F.count(F.lit(1))
    return staged.groupBy("date", "dataset", "source_system").agg(
        F.countDistinct("source_file").alias("files"),
        rows.alias("rows_staged"),
        (rows - F.countDistinct("row_key")).alias("duplicate_rows"),
        F.count(F.when(F.col("late"), True)).alias("late_rows"),
        (F.count(F.when(F.col("has_value"), True)) / rows).alias("completeness"),
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


def rows_per_instance_day(staged: DataFrame) -> DataFrame:
    """Staged rows per file (ingest instance) and UTC data day, from ``staged_rows``."""
    return staged.groupBy("ingest_instance_id", "date").agg(F.count(F.lit(1)).alias("n"))


def data_quality_daily(staged: DataFrame, reports: DataFrame, per_instance_day: DataFrame) -> DataFrame:
    """``staged_quality`` of every dataset's rows on the run's days (``staged_rows``) plus rejected rows from
    the validation reports.

    A file's rejected rows are spread over its data days in proportion to its staged rows on each day
    (``per_instance_day``, from ``rows_per_instance_day``; the rejected rows themselves have no trustworthy
    date). Per reason code: ``data_quality_rule_failures``.
    """
    quality = staged_quality(staged)
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
    out = quality.join(allocated, keys, "left")
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
    fall on (``per_instance_day``, from ``rows_per_instance_day``; reference files' reports list no days, so
    the days come from bronze, as in ``data_quality_daily``): the rejected rows themselves have no trustworthy
    date.
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
