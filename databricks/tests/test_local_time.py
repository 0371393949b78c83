"""Local time of UTC instants for a column of zone names (``lakewatt.transforms.zones``)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakewatt.transforms.zones import from_utc

# Around both 2025 changes in Europe and the US, and a zone with a half-hour offset.
INSTANTS = [
    dt.datetime(2025, 3, 30, 0, 30),
    dt.datetime(2025, 3, 30, 1, 30),
    dt.datetime(2025, 10, 26, 0, 30),
    dt.datetime(2025, 10, 26, 1, 30),
    dt.datetime(2025, 11, 2, 6, 30),
]
ZONES = ["Europe/Berlin", "Europe/London", "America/New_York", "Asia/Kolkata", "UTC"]


def expected_local(instant: dt.datetime, zone: str) -> dt.datetime:
    return instant.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def local_times(spark: SparkSession, zones: list[str]) -> dict[tuple[dt.datetime, str], dt.datetime]:
    rows = spark.createDataFrame(
        [(instant, zone) for instant in INSTANTS for zone in ZONES], "utc timestamp, zone string"
    )
    out = rows.select("utc", "zone", from_utc(F.col("utc"), F.col("zone"), zones).alias("local")).collect()
    return {(r.utc, r.zone): r.local for r in out}


def test_when_the_zones_are_named_up_front_then_local_times_are_those_of_each_rows_zone(spark):
    got = local_times(spark, ZONES)

    assert got == {(i, z): expected_local(i, z) for i in INSTANTS for z in ZONES}


def test_when_a_rows_zone_is_not_among_those_named_then_it_still_gets_its_own_local_time(spark):
    got = local_times(spark, ["Europe/Berlin"])

    assert got == {(i, z): expected_local(i, z) for i in INSTANTS for z in ZONES}
