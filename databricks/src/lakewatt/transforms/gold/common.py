"""Helpers every gold table family shares: day lists, local day length, usable readings, run columns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

MINUTES_PER_DAY = 24 * 60


def date_list(dates: Iterable[dt.date]) -> Column:
    return F.array(*(F.lit(d) for d in sorted(set(dates))))


def in_dates(column: str, dates: Iterable[dt.date]) -> Column:
    return F.col(column).isin(sorted(set(dates)))


def local_day_minutes(date: Column, timezone: Column) -> Column:
    """Length of a local day in minutes: 1440, or 1380 / 1500 on daylight-saving days."""
    start = F.to_utc_timestamp(date.cast("timestamp"), timezone)
    end = F.to_utc_timestamp(F.date_add(date, 1).cast("timestamp"), timezone)
    return ((F.unix_timestamp(end) - F.unix_timestamp(start)) / 60).cast("long")


def usable_channel(channel: str) -> Column:
    return (F.col("channel") == channel) & (F.col("quality") != "missing")


def with_run_columns(df: DataFrame, computed_by: str) -> DataFrame:
    return df.withColumn("computed_at", F.current_timestamp()).withColumn("computed_by", F.lit(computed_by))
