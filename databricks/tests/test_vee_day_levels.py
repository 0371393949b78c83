"""VEE's day rules (high_day, low_day) in a run that spans many days, as a backfill or a week of late files
does: each day is judged against the meter's complete days before it, so the run's last days are judged
too. Expected figures are computed here from the constructed series."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest
from pyspark.sql import SparkSession

from lakehelpers import ctx, reading, reset_catalog, stage, utc
from lakewatt.jobs import silver

METER = "DAYS1"
FIRST = dt.date(2025, 3, 1)
NORMAL_DAYS = [FIRST + dt.timedelta(days=d) for d in range(21)]
HIGH_DAY, HIGH_FACTOR = dt.date(2025, 3, 22), 5.0
LOW_DAY, LOW_FACTOR = dt.date(2025, 3, 23), 0.05
# A meter whose usual day is 0 kWh (a vacant site), then a day of 0.1 kWh a half-hour: far above, no ratio.
IDLE_METER, IDLE_WAKES, IDLE_KWH = "DAYS0", dt.date(2025, 3, 22), 0.1


def profile(slot: int) -> float:
    return round(0.2 + 0.01 * slot, 3)


def day_total(factor: float) -> float:
    return sum(round(profile(slot) * factor, 6) for slot in range(48))


@pytest.fixture(scope="module")
def findings(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list]:
    reset_catalog(spark)
    root = tmp_path_factory.mktemp("vee-days")
    factors = {**dict.fromkeys(NORMAL_DAYS, 1.0), HIGH_DAY: HIGH_FACTOR, LOW_DAY: LOW_FACTOR}
    rows = [
        reading(
            METER,
            utc(day.year, day.month, day.day) + dt.timedelta(minutes=30 * slot),
            round(profile(slot) * factor, 6),
            instance="all-days",
            line=i + 1,
        )
        for i, (day, slot) in enumerate((d, s) for d in sorted(factors) for s in range(48))
        for factor in (factors[day],)
    ]
    idle = [
        reading(
            IDLE_METER,
            utc(day.year, day.month, day.day) + dt.timedelta(minutes=30 * slot),
            IDLE_KWH if day == IDLE_WAKES else 0.0,
            instance="all-days",
            line=len(rows) + i + 1,
        )
        for i, (day, slot) in enumerate((d, s) for d in [*NORMAL_DAYS, IDLE_WAKES] for s in range(48))
    ]
    stage(spark, root, "meter_readings", "all-days", rows + idle)
    silver.run(spark, ctx(root, "silver", "all-days"), "meter_readings", ["all-days"], pii_key=None)
    found = spark.table("silver.vee_findings").where("rule IN ('high_day', 'low_day')").collect()
    return {
        **{
            rule: sorted((r for r in found if r.rule == rule and r.meter_id == METER), key=lambda r: r.date)
            for rule in ("high_day", "low_day")
        },
        "idle": [r for r in found if r.meter_id == IDLE_METER],
    }


def test_when_one_run_holds_weeks_of_days_then_a_high_day_at_its_end_is_judged_against_the_days_before_it(
    findings,
):
    normal = day_total(1.0)

    assert [(r.date, r.channel) for r in findings["high_day"]] == [(HIGH_DAY, "import")]
    (high,) = findings["high_day"]
    assert high.kwh == pytest.approx(day_total(HIGH_FACTOR), abs=1e-6)
    assert high.expected_kwh == pytest.approx(normal, abs=1e-6)
    assert high.score == pytest.approx(day_total(HIGH_FACTOR) / normal, rel=1e-6)


def test_when_the_day_after_a_high_day_is_low_then_the_median_of_the_days_before_it_still_exposes_it(
    findings,
):
    before_low = [day_total(1.0)] * len(NORMAL_DAYS) + [day_total(HIGH_FACTOR)]
    expected = statistics.median(before_low[-28:])

    assert [r.date for r in findings["low_day"]] == [LOW_DAY]
    (low,) = findings["low_day"]
    assert low.kwh == pytest.approx(day_total(LOW_FACTOR), abs=1e-6)
    assert low.expected_kwh == pytest.approx(expected, abs=1e-6)


def test_when_a_meter_that_usually_reads_zero_uses_energy_then_the_day_is_high_with_no_ratio(findings):
    (high,) = findings["idle"]

    assert (high.rule, high.date, high.expected_kwh, high.score) == ("high_day", IDLE_WAKES, 0.0, None)
    assert high.kwh == pytest.approx(48 * IDLE_KWH, abs=1e-6)
