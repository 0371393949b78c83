"""What every gold column means, with its unit: the column comments of the gold tables (issue #13).

Readers (SQL, Power BI, notebooks) see these in the catalog. ``date`` is a local calendar date in the supply
point's zone, except in ``data_quality_daily``, where it is the UTC data day, as its comment says.
"""

from __future__ import annotations

_RUN = {
    "computed_at": "When the gold run that wrote this row ran (UTC instant).",
    "computed_by": "Orchestration (batch) id of the gold run that wrote this row.",
}
_LOCAL_DATE = "Local calendar date in the supply point's time zone (column timezone / the contract's zone)."
_METER = "Meter (supply point) id as the source systems send it."
_CUSTOMER = "Pseudonymous customer id (no personal data in gold)."

GOLD_COLUMN_COMMENTS: dict[str, dict[str, str]] = {
    "daily_consumption": {
        "date": _LOCAL_DATE,
        "meter_id": _METER,
        "customer_id": _CUSTOMER + " Null when no contract covered the meter that day.",
        "timezone": "IANA zone of the local day: the contract's tariff_timezone, else the default zone.",
        "import_kwh": "Energy imported from the grid over the local day, kWh (missing readings excluded).",
        "export_kwh": "Energy exported to the grid over the local day, kWh.",
        "readings_count": "Readings received for the day, both channels, count.",
        "import_readings": "Import readings with a value (quality not 'missing'), count.",
        "expected_readings": "Import readings of a complete day: day length / interval (46/48/50 at 30 min).",
        "completeness": "import_readings / expected_readings, capped at 1 (ratio 0-1).",
        "estimated_share": "Share of import readings that are estimated or substituted (ratio 0-1).",
        **_RUN,
    },
    "customer_daily_cost": {
        "date": _LOCAL_DATE,
        "customer_id": _CUSTOMER,
        "meter_id": _METER,
        "contract_id": "Contract whose version applied to the readings.",
        "tariff_type": "fixed, time_of_use or dynamic.",
        "bidding_zone": "Day-ahead market zone of the contract (e.g. DE-LU), for dynamic prices.",
        "import_kwh": "Energy imported under this contract that local day, kWh.",
        "energy_cost_eur": "Energy cost under the tariff, EUR (VAT and network charges not included).",
        "standing_charge_eur": "Daily standing charge of the contract valid at local midnight, EUR.",
        "total_cost_eur": "energy_cost_eur + standing_charge_eur, EUR.",
        "unpriced_kwh": "Dynamic-tariff kWh whose interval had no day-ahead price (not costed), kWh.",
        **_RUN,
    },
    "load_profile_hourly": {
        "date": _LOCAL_DATE,
        "region": "Customer region.",
        "segment": "Customer segment (residential, sme, industrial).",
        "hour": "Local hour of day, 0-23 (the repeated autumn hour adds into one).",
        "import_kwh": "Energy imported by the segment in the region in that local hour, kWh.",
        "export_kwh": "Energy exported by the segment in the region in that local hour, kWh.",
        "meters": "Meters with readings in that hour, count.",
        "avg_import_kwh_per_meter": "import_kwh / meters, kWh.",
        **_RUN,
    },
    "consumption_anomalies": {
        "date": _LOCAL_DATE,
        "meter_id": _METER,
        "anomaly_type": "spike, zero_streak or implausible.",
        "period_start": "Start of the anomalous period (UTC instant).",
        "period_end": "End of the anomalous period, exclusive (UTC instant).",
        "kwh": "Energy imported in the period, kWh.",
        "baseline_kwh": "Spike: median of the meter's same-hour baseline over the trailing days, kWh.",
        "score": (
            "spike: robust z-score against the baseline; zero_streak: length, hours; implausible: average "
            "power / the segment's limit (ratio)."
        ),
        "detail": "Human-readable explanation of the finding.",
        **_RUN,
    },
    "data_quality_daily": {
        "date": "UTC data day (the day the rows' timestamps fall on), not a local date.",
        "dataset": "meter_readings, prices, customers or contracts.",
        "source_system": "Source system (the source contract's name).",
        "files": "Files with rows on the day, count.",
        "rows_staged": "Rows that passed validation for the day, count.",
        "rows_rejected": "Rejected rows attributed to the day (spread in proportion to valid rows), count.",
        "rejected_share": "rows_rejected / (rows_staged + rows_rejected) (ratio 0-1).",
        "duplicate_rows": "Rows delivered again with the same key in another file, count.",
        "late_rows": "Rows delivered more than a day after their data day, count.",
        "completeness": "Share of readings with a value (quality not 'missing') (ratio 0-1).",
        "rule_failures": "Rejected rows per reason code (map code -> count).",
        **_RUN,
    },
    "forecast_features": {
        "date": _LOCAL_DATE,
        "meter_id": _METER,
        "hour_start": "Start of the hour (UTC instant).",
        "local_hour": "Local hour of day, 0-23.",
        "day_of_week": "Local ISO day of week, 1 = Monday ... 7 = Sunday.",
        "is_weekend": "True on local Saturday and Sunday.",
        "month": "Local month, 1-12.",
        "utc_offset_hours": "Offset of local time from UTC in that hour, hours.",
        "import_kwh": "Energy imported in the hour, kWh.",
        "lag_24h_kwh": "import_kwh 24 hours earlier, kWh.",
        "lag_168h_kwh": "import_kwh 168 hours (a week) earlier, kWh.",
        "rolling_mean_24h_kwh": "Mean hourly import over the previous 24 hours, kWh.",
        "rolling_mean_7d_same_hour_kwh": "Mean import of the same local hour over the previous 7 days, kWh.",
        "bidding_zone": "Day-ahead market zone of the meter's contract.",
        "price_eur_per_mwh": "Day-ahead price of the hour in the zone, EUR/MWh.",
        "price_lag_24h_eur_per_mwh": "Day-ahead price 24 hours earlier, EUR/MWh.",
        **_RUN,
    },
    "dim_date": {
        "date": "Local calendar date in the row's time zone.",
        "timezone": "IANA time zone of the local date; facts join on (date, timezone).",
        "country": "ISO 3166-1 country whose holidays apply in the zone (null: none).",
        "year": "Calendar year.",
        "quarter": "Calendar quarter, 1-4.",
        "month": "Calendar month, 1-12.",
        "month_name": "Month name in English.",
        "iso_year": "ISO 8601 week-numbering year.",
        "iso_week": "ISO 8601 week, 1-53.",
        "day_of_week": "ISO day of week, 1 = Monday ... 7 = Sunday.",
        "day_name": "Weekday name in English.",
        "is_weekend": "True on Saturday and Sunday.",
        "is_public_holiday": "True on a nationwide public holiday (regional ones are in dim_holiday).",
        "holiday_name": "Name of the nationwide public holiday, in English.",
        "hours_in_day": "Length of the local day, hours (23 or 25 on daylight-saving days).",
        "settlement_periods": "Half-hour settlement periods in the local day, count (46, 48 or 50).",
        **_RUN,
    },
    "dim_holiday": {
        "date": "Date of the holiday (a calendar date, the same in every zone of the country).",
        "country": "ISO 3166-1 country code.",
        "subdivision": "ISO 3166-2 region that keeps the holiday; null when it is nationwide.",
        "holiday_name": "Name of the holiday, in English.",
        **_RUN,
    },
}
