"""Gold's date dimension: calendar, day length and public holidays per zone (#13). No Spark needed."""

from __future__ import annotations

import datetime as dt
import itertools

from lakewatt.gold_tables import GOLD_TABLES
from lakewatt.transforms.gold.calendar import calendar_days, calendar_rows, holiday_rows

COLUMNS = [f.name for f in GOLD_TABLES["dim_date"].schema.fields][:-2]  # without the run columns


def day(date: dt.date, zone: str) -> dict:
    [row] = [dict(zip(COLUMNS, r, strict=True)) for r in calendar_rows([date], [zone])]
    return row


def test_when_clocks_change_then_the_local_day_has_23_or_25_hours_and_46_or_50_periods():
    # 2025: the EU and the UK change on the last Sundays of March and October.
    for zone in ("Europe/London", "Europe/Berlin"):
        spring, autumn = day(dt.date(2025, 3, 30), zone), day(dt.date(2025, 10, 26), zone)
        assert (spring["hours_in_day"], spring["settlement_periods"]) == (23.0, 46), zone
        assert (autumn["hours_in_day"], autumn["settlement_periods"]) == (25.0, 50), zone
    assert day(dt.date(2025, 3, 30), "UTC")["hours_in_day"] == 24.0


def test_when_a_date_is_in_the_first_iso_week_of_the_next_year_then_iso_year_and_week_say_so():
    monday = day(dt.date(2025, 12, 29), "Europe/London")

    assert (monday["year"], monday["iso_year"], monday["iso_week"], monday["day_of_week"]) == (
        2025,
        2026,
        1,
        1,
    )
    assert (monday["quarter"], monday["month_name"], monday["day_name"], monday["is_weekend"]) == (
        4,
        "December",
        "Monday",
        False,
    )


def test_when_a_day_is_a_nationwide_holiday_then_dim_date_names_it_in_that_country_only():
    christmas = day(dt.date(2025, 12, 25), "Europe/London")
    unity = day(dt.date(2025, 10, 3), "Europe/Berlin")

    assert (christmas["country"], christmas["is_public_holiday"], christmas["holiday_name"]) == (
        "GB",
        True,
        "Christmas Day",
    )
    assert (unity["is_public_holiday"], unity["holiday_name"]) == (True, "German Unity Day")
    assert day(dt.date(2025, 10, 3), "Europe/London")["is_public_holiday"] is False
    assert day(dt.date(2025, 12, 25), "UTC")["country"] is None


def test_when_a_holiday_is_kept_in_some_regions_only_then_dim_holiday_lists_those_regions():
    rows = holiday_rows([dt.date(2025, 11, 30), dt.date(2025, 10, 31)], ["Europe/London", "Europe/Berlin"])

    assert [r[:3] for r in rows if r[0] == dt.date(2025, 11, 30)] == [(dt.date(2025, 11, 30), "GB", "SCT")]
    reformation = {r[2] for r in rows if r[0] == dt.date(2025, 10, 31) and r[1] == "DE"}
    assert {"SN", "TH", "BB"} <= reformation  # Saxony, Thuringia, Brandenburg keep it
    assert "BY" not in reformation  # Bavaria does not


def test_when_a_run_recomputes_scattered_days_then_the_date_dimension_covers_their_whole_years_without_gaps():
    days = calendar_days([dt.date(2024, 7, 1), dt.date(2024, 2, 29), dt.date(2025, 1, 1)])

    assert (days[0], days[-1], len(days)) == (dt.date(2024, 1, 1), dt.date(2025, 12, 31), 366 + 365)
    assert all((b - a).days == 1 for a, b in itertools.pairwise(days))
