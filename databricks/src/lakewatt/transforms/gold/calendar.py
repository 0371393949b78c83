"""The date dimension: one row per local calendar date and time zone the platform serves, and the public
holidays of each zone's country and its regions (the ``holidays`` package).

Pure Python: a few rows per day, built on the driver. A local day has 23, 24 or 25 hours (daylight saving),
so 46, 48 or 50 half-hour settlement periods.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import holidays

# The country whose public holidays apply in each zone the platform serves (a zone with none: no holidays).
ZONE_COUNTRY = {
    "Europe/London": "GB",
    "Europe/Dublin": "IE",
    "Europe/Berlin": "DE",
    "Europe/Vienna": "AT",
    "Europe/Zurich": "CH",
    "Europe/Paris": "FR",
    "Europe/Brussels": "BE",
    "Europe/Amsterdam": "NL",
    "Europe/Luxembourg": "LU",
    "Europe/Madrid": "ES",
    "Europe/Lisbon": "PT",
    "Europe/Rome": "IT",
    "Europe/Copenhagen": "DK",
    "Europe/Oslo": "NO",
    "Europe/Stockholm": "SE",
    "Europe/Helsinki": "FI",
    "Europe/Warsaw": "PL",
}


def day_hours(day: dt.date, zone: str) -> float:
    """Length of the local ``day`` in ``zone``, hours (23, 24 or 25 where clocks change by an hour)."""
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(day, dt.time(), tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)
    return (end.astimezone(dt.UTC) - start.astimezone(dt.UTC)).total_seconds() / 3600


def calendar_days(days: Iterable[dt.date]) -> list[dt.date]:
    """Every day of each calendar year that ``days`` touch: the date dimension covers whole years, so its
    dates are contiguous (Power BI marks a table as the date table only then) whichever days a run
    recomputes."""
    years = sorted({d.year for d in days})
    return [
        dt.date(year, 1, 1) + dt.timedelta(days=n)
        for year in years
        for n in range((dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days)
    ]


def _national(country: str | None, years: set[int]) -> dict[dt.date, str]:
    return dict(holidays.country_holidays(country, years=sorted(years))) if country else {}


def calendar_rows(days: Iterable[dt.date], zones: Iterable[str]) -> list[tuple]:
    """Rows of ``dim_date`` (its columns before the run columns) for every day in every zone."""
    days = sorted(set(days))
    years = {d.year for d in days}
    rows = []
    for zone in sorted(set(zones)):
        country = ZONE_COUNTRY.get(zone)
        national = _national(country, years)
        for day in days:
            iso = day.isocalendar()
            hours = day_hours(day, zone)
            rows.append(
                (
                    day, zone, country, day.year, (day.month - 1) // 3 + 1, day.month, day.strftime("%B"),
                    iso.year, iso.week, iso.weekday, day.strftime("%A"), iso.weekday >= 6,
                    day in national, national.get(day), hours, round(hours * 2),
                )
            )  # fmt: skip
    return rows


def holiday_rows(days: Iterable[dt.date], zones: Iterable[str]) -> list[tuple]:
    """Rows of ``dim_holiday``: each public holiday on ``days`` in the countries of ``zones``, nationwide
    (subdivision null) or of one region (a holiday only some regions keep)."""
    days = sorted(set(days))
    wanted, years = set(days), {d.year for d in days}
    rows = set()
    for country in sorted({ZONE_COUNTRY[z] for z in zones if z in ZONE_COUNTRY}):
        national = _national(country, years)
        rows |= {(day, country, None, name) for day, name in national.items() if day in wanted}
        for subdivision in holidays.list_supported_countries()[country]:
            regional = holidays.country_holidays(country, subdiv=subdivision, years=sorted(years))
            rows |= {
                (day, country, subdivision, name)
                for day, name in regional.items()
                if day in wanted and national.get(day) != name
            }
    return sorted(rows, key=lambda r: (r[0], r[1], r[2] or "", r[3]))
