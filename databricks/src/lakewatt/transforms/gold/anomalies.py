"""Consumption anomalies: the import findings of VEE (silver.vee_findings) and implausible power.

The series rules (spike, zero_run, frozen_value, high_day, low_day) live once, in VEE (``lakewatt.vee``);
gold projects their findings on the import channel for its readers. Only ``implausible`` is gold's own: it
needs the customer's segment, which VEE does not read. VEE's ``gap`` is completeness, not an anomaly: it is
in ``silver.meter_day_completeness`` and ``daily_consumption.completeness``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakewatt.transforms.gold.common import in_dates, usable_channel

# The VEE rules whose findings are consumption anomalies, in the order docs/vee.md lists them.
VEE_ANOMALY_RULES = ("spike", "zero_run", "frozen_value", "high_day", "low_day")
ANOMALY_TYPES = (*VEE_ANOMALY_RULES, "implausible")


@dataclass(frozen=True)
class AnomalyRules:
    """Largest plausible average power in an interval, kW, by customer segment (docs/spark-jobs.md)."""

    implausible_kw: Mapping[str, float] = field(
        default_factory=lambda: {"residential": 50.0, "sme": 500.0, "industrial": 20000.0}
    )


DEFAULT_RULES = AnomalyRules()
UNKNOWN_SEGMENT_KW = 20000.0


def vee_anomalies(findings: DataFrame, dates: Sequence[dt.date]) -> DataFrame:
    """The import findings of the anomaly rules on ``dates``, in the gold table's columns."""
    found = findings.where(
        in_dates("date", dates)
        & (F.col("channel") == "import")
        & F.col("rule").isin(*VEE_ANOMALY_RULES)
        & F.col("kwh").isNotNull()
    )
    return found.select(
        "date",
        "meter_id",
        F.col("rule").alias("anomaly_type"),
        "period_start_utc",
        "period_end_utc",
        "kwh",
        F.col("expected_kwh").alias("baseline_kwh"),
        "score",
        "detail",
    )


def implausible(
    enriched: DataFrame, customers: DataFrame, dates: Sequence[dt.date], rules: AnomalyRules = DEFAULT_RULES
) -> DataFrame:
    """Readings whose average power exceeds what the customer's segment can draw."""
    limits = F.create_map(*(x for seg, kw in rules.implausible_kw.items() for x in (F.lit(seg), F.lit(kw))))
    current = customers.where("is_current").select(F.col("customer_id").alias("cid"), "segment")
    rows = enriched.where(in_dates("date", dates) & usable_channel("import"))
    rows = rows.join(F.broadcast(current), rows.customer_id == current.cid, "left")
    limit = F.coalesce(F.element_at(limits, F.col("segment")), F.lit(UNKNOWN_SEGMENT_KW))
    power = F.col("kwh") * 60.0 / F.col("interval_minutes")
    return rows.where(power > limit).select(
        "date",
        "meter_id",
        F.lit("implausible").alias("anomaly_type"),
        F.col("interval_start").alias("period_start_utc"),
        (F.col("interval_start") + F.make_dt_interval(mins=F.col("interval_minutes"))).alias(
            "period_end_utc"
        ),
        F.round("kwh", 6).alias("kwh"),
        F.lit(None).cast("double").alias("baseline_kwh"),
        F.round(power / limit, 3).alias("score"),
        F.concat(F.lit("average power "), F.round(power, 1).cast("string"), F.lit(" kW")).alias("detail"),
    )


def consumption_anomalies(
    findings: DataFrame,
    enriched: DataFrame,
    customers: DataFrame,
    dates: Sequence[dt.date],
    rules: AnomalyRules = DEFAULT_RULES,
) -> DataFrame:
    return vee_anomalies(findings, dates).unionByName(implausible(enriched, customers, dates, rules))
