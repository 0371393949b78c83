"""VEE in the silver job: completeness, the rule catalogue, estimation and the editing trail, on one meter
whose series is known by construction (expected values computed here, from the series, not by VEE)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from pyspark.sql import SparkSession
from pyspark.sql.types import StructType

from lakehelpers import ctx, naive, reading, reset_catalog, stage, utc
from lakewatt.jobs import silver
from lakewatt.tables import SILVER_TABLES, create_table_sql, ensure_table
from lakewatt.vee import series
from lakewatt.vee.config import VeeConfigError, load_config

VEE_COLUMNS = ("estimation_method", "vee_rule")
METER = "V1"
HISTORY = [dt.date(2025, 3, 1) + dt.timedelta(days=d) for d in range(21)]  # Sat 1 .. Fri 21 March
DAY = dt.date(2025, 3, 22)  # a Saturday: like-days are 15, 8 and 1 March
SPIKE_SLOT, SPIKE_KWH = 30, 5.0
ZERO_SLOTS = range(0, 8)  # 4 h of zero import
FROZEN_FROM, FROZEN_SLOTS = 35, range(36, 42)  # slot 35's value repeated 3 h
LINEAR_GAP = (10, 11)
LIKE_DAY_GAP = tuple(range(20, 26))  # 3 h: beyond linear interpolation's 2 h


def profile(slot: int) -> float:
    return round(0.2 + 0.01 * slot, 3)


def at(day: dt.date, slot: int) -> dt.datetime:
    return utc(day.year, day.month, day.day) + dt.timedelta(minutes=30 * slot)


def day_values() -> dict[int, float]:
    """The test day as the meter delivers it (gaps absent)."""
    values = {slot: profile(slot) for slot in range(48)}
    values.update(dict.fromkeys(ZERO_SLOTS, 0.0))
    values.update({slot: profile(FROZEN_FROM) for slot in FROZEN_SLOTS})
    values[SPIKE_SLOT] = SPIKE_KWH
    for slot in (*LINEAR_GAP, *LIKE_DAY_GAP):
        del values[slot]
    return values


def rows(values: dict[tuple[dt.date, int], float], instance: str, ingested: dt.datetime) -> list[tuple]:
    return [
        reading(METER, at(day, slot), kwh, instance=instance, line=i + 1, ingested_at=ingested)
        for i, ((day, slot), kwh) in enumerate(sorted(values.items()))
    ]


@pytest.fixture(scope="module")
def world(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory):
    reset_catalog(spark)
    root = tmp_path_factory.mktemp("vee")
    history = {(day, slot): profile(slot) for day in HISTORY for slot in range(48)}
    stage(spark, root, "meter_readings", "hist", rows(history, "hist", utc(2025, 3, 22)))
    stage(
        spark,
        root,
        "meter_readings",
        "day",
        rows({(DAY, s): v for s, v in day_values().items()}, "day", utc(2025, 3, 23)),
    )
    late = {(DAY, slot): profile(slot) for slot in LIKE_DAY_GAP}
    stage(spark, root, "meter_readings", "late", rows(late, "late", utc(2025, 3, 25)))

    def run(instance: str) -> dict:
        return silver.run(spark, ctx(root, "silver", instance), "meter_readings", [instance], pii_key=None)

    out = {"hist": run("hist")}
    out["history_findings"] = spark.table("silver.vee_findings").collect()
    out["history_days"] = spark.table("silver.meter_day_completeness").collect()
    out["day"] = run("day")
    out["day_readings"] = {
        r.interval_start: r
        for r in spark.table("silver.meter_readings").where(f"reading_date = DATE'{DAY}'").collect()
    }
    out["day_findings"] = spark.table("silver.vee_findings").where(f"date = DATE'{DAY}'").collect()
    out["day_completeness"] = (
        spark.table("silver.meter_day_completeness").where(f"date = DATE'{DAY}'").first()
    )
    out["late"] = run("late")
    out["late_readings"] = {
        r.interval_start: r
        for r in spark.table("silver.meter_readings").where(f"reading_date = DATE'{DAY}'").collect()
    }
    out["late_findings"] = spark.table("silver.vee_findings").where(f"date = DATE'{DAY}'").collect()
    out["edits"] = spark.table("silver.reading_edits").collect()
    return out


def local(day: dt.date, slot: int) -> dt.datetime:
    return naive(day.year, day.month, day.day) + dt.timedelta(minutes=30 * slot)


def test_when_a_clean_history_is_evaluated_then_every_day_is_complete_and_nothing_is_found(world):
    assert world["history_findings"] == []
    assert len(world["history_days"]) == len(HISTORY)
    assert all(d.complete and d.received_intervals == 48 for d in world["history_days"])


def test_when_a_short_gap_arrives_then_it_is_interpolated_between_its_neighbours(world):
    before, after = profile(LINEAR_GAP[0] - 1), profile(LINEAR_GAP[-1] + 1)
    n = len(LINEAR_GAP)
    for k, slot in enumerate(LINEAR_GAP, start=1):
        row = world["day_readings"][local(DAY, slot)]
        assert (row.quality, row.estimation_method, row.vee_rule) == ("estimated", "linear", "gap")
        assert row.kwh == pytest.approx(before + (after - before) * k / (n + 1), abs=1e-6)
        assert row.source_system == series.VEE_SOURCE


def test_when_a_longer_gap_arrives_then_it_takes_the_like_day_profile_scaled_to_the_day(world):
    received = day_values()
    # Every like-day (same weekday, previous weeks) carries the profile, so the scale is the day's received
    # energy over the profile's energy at the same intervals.
    scale = sum(received.values()) / sum(profile(s) for s in received)
    scale = min(max(scale, 0.5), 2.0)
    for slot in LIKE_DAY_GAP:
        row = world["day_readings"][local(DAY, slot)]
        assert (row.quality, row.estimation_method) == ("estimated", "like_day")
        assert row.kwh == pytest.approx(profile(slot) * scale, abs=1e-6)


def test_when_the_day_is_evaluated_then_each_rule_flags_exactly_its_intervals(world):
    found = sorted((f.rule, f.period_start_utc, f.period_end_utc, f.intervals) for f in world["day_findings"])
    expected = sorted(
        [
            ("gap", local(DAY, LINEAR_GAP[0]), local(DAY, LINEAR_GAP[-1] + 1), len(LINEAR_GAP)),
            ("gap", local(DAY, LIKE_DAY_GAP[0]), local(DAY, LIKE_DAY_GAP[-1] + 1), len(LIKE_DAY_GAP)),
            ("spike", local(DAY, SPIKE_SLOT), local(DAY, SPIKE_SLOT + 1), 1),
            ("zero_run", local(DAY, ZERO_SLOTS[0]), local(DAY, ZERO_SLOTS[-1] + 1), len(ZERO_SLOTS)),
            (
                "frozen_value",
                local(DAY, FROZEN_SLOTS[0]),
                local(DAY, FROZEN_SLOTS[-1] + 1),
                len(FROZEN_SLOTS),
            ),
        ]
    )
    assert found == expected


def test_when_gaps_are_estimated_then_the_day_is_complete_with_its_estimated_share(world):
    day = world["day_completeness"]
    gaps = len(LINEAR_GAP) + len(LIKE_DAY_GAP)
    assert (day.expected_intervals, day.received_intervals, day.estimated_intervals) == (48, 48 - gaps, gaps)
    assert (day.missing_intervals, day.complete) == (0, True)
    assert day.estimated_share == pytest.approx(gaps / 48)


def test_when_the_run_ends_then_its_manifest_reports_the_vee_outcome_of_the_file(world):
    vee = world["day"]["vee"]
    mine = vee["byInstance"]["day"]
    assert vee["days"] == [DAY.isoformat()]
    assert mine["estimatedIntervals"] == {"linear": len(LINEAR_GAP), "like_day": len(LIKE_DAY_GAP)}
    assert mine["findings"] == {"frozen_value": 1, "gap": 2, "spike": 1, "zero_run": 1}
    assert (mine["meterDays"], mine["completeMeterDays"], mine["missingIntervals"]) == (1, 1, 0)


def test_when_actual_readings_arrive_late_then_they_replace_the_estimates(world):
    for slot in LIKE_DAY_GAP:
        row = world["late_readings"][local(DAY, slot)]
        assert (row.quality, row.estimation_method, row.kwh) == ("actual", None, profile(slot))
    gaps = [f for f in world["late_findings"] if f.rule == "gap"]
    assert [(g.period_start_utc, g.intervals) for g in gaps] == [(local(DAY, LINEAR_GAP[0]), len(LINEAR_GAP))]


def test_when_an_estimate_is_written_or_replaced_then_the_trail_keeps_both_values(world):
    trail = {(e.interval_start, e.method): e for e in world["edits"]}
    slot = LIKE_DAY_GAP[0]
    estimate = trail[(local(DAY, slot), "like_day")]
    replaced = trail[(local(DAY, slot), "received")]
    assert (estimate.original_kwh, estimate.edited_quality, estimate.edited_by) == (None, "estimated", "day")
    assert (replaced.original_kwh, replaced.edited_kwh) == (estimate.edited_kwh, profile(slot))
    assert (replaced.original_quality, replaced.edited_quality, replaced.edited_by) == (
        "estimated",
        "actual",
        "late",
    )
    assert len(world["edits"]) == len(LINEAR_GAP) + 2 * len(LIKE_DAY_GAP)


@pytest.mark.parametrize(
    ("day", "intervals"), [(dt.date(2025, 3, 30), 46), (dt.date(2025, 6, 1), 48), (dt.date(2025, 10, 26), 50)]
)
def test_when_a_meter_is_in_a_daylight_saving_zone_then_its_day_has_that_days_half_hours(
    spark: SparkSession, day: dt.date, intervals: int
):
    pairs = spark.createDataFrame(
        [("M", "import", 30, "Europe/London")],
        "meter_id string, channel string, interval_minutes int, timezone string",
    )
    assert series.slots(pairs, [day]).count() == intervals


def test_when_the_configuration_names_an_unknown_parameter_then_loading_fails_naming_it():
    with pytest.raises(VeeConfigError, match=r"sources\.smartfeed\.spike_zz"):
        load_config('{"sources": {"smartfeed": {"spike_zz": 3}}}')


def test_when_a_parameter_has_the_wrong_type_then_loading_fails_naming_it():
    with pytest.raises(VeeConfigError, match=r"defaults\.zero_run_minutes must be a int"):
        load_config('{"defaults": {"zero_run_minutes": "3h"}}')


def test_when_a_source_overrides_one_parameter_then_it_keeps_the_other_defaults():
    config = load_config('{"defaults": {"spike_z": 7}, "sources": {"smartfeed": {"zero_run_minutes": 240}}}')
    smartfeed = config.for_source("smartfeed")
    assert (smartfeed.zero_run_minutes, smartfeed.spike_z) == (240, 7.0)
    assert config.for_source("other").zero_run_minutes == 180


def test_when_a_readings_table_predates_vee_then_opening_it_adds_the_vee_columns_and_keeps_its_rows(
    spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
):
    reset_catalog(spark)
    root = tmp_path_factory.mktemp("pre-vee")
    context = ctx(root, "silver", "old")
    spec = SILVER_TABLES["meter_readings"]
    added_later = {*VEE_COLUMNS, "source_quality", "source_quality_reason"}  # by #14 and #15
    # As created then: without the later columns, nor the statistics setting that names one (decision 0031).
    before = replace(
        spec,
        schema=StructType([f for f in spec.schema.fields if f.name not in added_later]),
        properties={k: v for k, v in spec.properties.items() if k != "delta.dataSkippingStatsColumns"},
    )
    name, location = context.table_name("silver", spec.name), context.table_location("silver", spec.name)
    spark.sql("CREATE SCHEMA IF NOT EXISTS silver")
    spark.sql(create_table_sql(before, name, location))
    spark.sql(
        f"INSERT INTO {name} VALUES ('M', 'import', TIMESTAMP'2025-03-01 00:00:00', 30, 1.5, 'actual', "
        "DATE'2025-03-01', 'sim', 'f.csv', '\"0x1\"', 1, 'old', TIMESTAMP'2025-03-02 00:00:00')"
    )
    reset_catalog(spark)

    ensure_table(spark, context, spec)

    assert spark.table(name).columns == spec.columns
    assert [(r.kwh, r.estimation_method) for r in spark.table(name).collect()] == [(1.5, None)]
