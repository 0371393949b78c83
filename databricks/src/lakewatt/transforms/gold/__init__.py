"""Gold transforms: pure functions from silver (and bronze) DataFrames to gold rows, by table family.

Time: silver holds UTC instants. Gold days are local days in the supply point's time zone (the contract's
``tariff_timezone``, else the job's default), so a daylight-saving day has 23 or 25 hours, and the
time-of-use peak window is read on the local clock. ``data_quality_daily`` is per UTC data day, the days
the validation reports list.
"""

from lakewatt.transforms.gold.anomalies import DEFAULT_RULES, AnomalyRules, consumption_anomalies
from lakewatt.transforms.gold.calendar import calendar_days, calendar_rows, holiday_rows
from lakewatt.transforms.gold.common import with_run_columns
from lakewatt.transforms.gold.consumption import daily_consumption, hourly_import, load_profile_hourly
from lakewatt.transforms.gold.cost import customer_daily_cost, price_buckets, version_day_sums
from lakewatt.transforms.gold.dimensions import dim_contract, dim_customer, dim_meter
from lakewatt.transforms.gold.features import LOOKBACK_DAYS, forecast_features, stored_hourly
from lakewatt.transforms.gold.quality import (
    bronze_on_days,
    data_quality_daily,
    data_quality_rule_failures,
    report_files,
    rows_per_instance_day,
    staged_rows,
)
from lakewatt.transforms.gold.reference import enrich_readings

__all__ = [
    "DEFAULT_RULES",
    "LOOKBACK_DAYS",
    "AnomalyRules",
    "bronze_on_days",
    "calendar_days",
    "calendar_rows",
    "consumption_anomalies",
    "customer_daily_cost",
    "daily_consumption",
    "data_quality_daily",
    "data_quality_rule_failures",
    "dim_contract",
    "dim_customer",
    "dim_meter",
    "enrich_readings",
    "forecast_features",
    "holiday_rows",
    "hourly_import",
    "load_profile_hourly",
    "price_buckets",
    "report_files",
    "rows_per_instance_day",
    "staged_rows",
    "stored_hourly",
    "version_day_sums",
    "with_run_columns",
]
