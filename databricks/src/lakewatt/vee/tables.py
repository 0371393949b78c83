"""The silver tables VEE writes beside ``silver.meter_readings`` (which holds its estimates)."""

from __future__ import annotations

from pyspark.sql.types import (
    BooleanType,
    DateType,
    DoubleType,
    IntegerType,
    StringType,
    StructType,
    TimestampType,
)

from lakewatt.table_spec import TableSpec, opt, req

VEE_PROPERTIES = {"delta.enableChangeDataFeed": "true"}

METER_DAY_COMPLETENESS = TableSpec(
    "silver",
    "meter_day_completeness",
    StructType(
        [
            req("meter_id", StringType()),
            req("channel", StringType()),
            req("date", DateType()),
            req("timezone", StringType()),
            req("interval_minutes", IntegerType()),
            req("expected_intervals", IntegerType()),
            req("received_intervals", IntegerType()),
            req("estimated_intervals", IntegerType()),
            req("missing_intervals", IntegerType()),
            req("complete", BooleanType()),
            opt("estimated_share", DoubleType()),
            req("evaluated_at", TimestampType()),
            req("evaluated_by", StringType()),
        ]
    ),
    "Completeness of each meter, channel and local day VEE evaluated: expected intervals from the day's "
    "length in the meter's zone (46/48/50 half-hours on daylight-saving days), received, estimated by VEE, "
    "still missing. Re-evaluated whenever readings of the day arrive.",
    cluster_by=("date", "meter_id"),
    constraints={
        "counts_add_up": "received_intervals + estimated_intervals + missing_intervals = expected_intervals"
    },
    properties=VEE_PROPERTIES,
    column_comments={
        "date": "Local calendar date in the meter's zone (timezone).",
        "timezone": "IANA zone of the meter: its latest contract's tariff zone, else the platform default.",
        "received_intervals": "Intervals received with a value (actual, substituted, source-estimated).",
        "estimated_intervals": "Missing intervals VEE estimated (silver.meter_readings estimation_method).",
        "missing_intervals": "Intervals with no value after estimation.",
        "complete": "True when every expected interval has a value (received or estimated).",
        "estimated_share": "estimated_intervals / expected_intervals.",
        "evaluated_by": "Orchestration instance id of the silver run that evaluated the day.",
    },
)

VEE_FINDINGS = TableSpec(
    "silver",
    "vee_findings",
    StructType(
        [
            req("meter_id", StringType()),
            req("channel", StringType()),
            req("date", DateType()),
            req("rule", StringType()),
            req("severity", StringType()),
            req("period_start_utc", TimestampType()),
            req("period_end_utc", TimestampType()),
            req("intervals", IntegerType()),
            opt("kwh", DoubleType()),
            opt("expected_kwh", DoubleType()),
            opt("score", DoubleType()),
            opt("detail", StringType()),
            req("evaluated_at", TimestampType()),
            req("evaluated_by", StringType()),
        ]
    ),
    "What the VEE rules found on each meter, channel and local day (docs/vee.md lists the rules); the "
    "findings of a day are replaced whenever the day is evaluated again.",
    cluster_by=("date", "meter_id"),
    constraints={
        "known_rule": "rule IN ('gap', 'spike', 'zero_run', 'frozen_value', 'high_day', 'low_day')",
        "known_severity": "severity IN ('info', 'warning', 'error')",
    },
    properties=VEE_PROPERTIES,
    column_comments={
        "date": "Local calendar date in the meter's zone.",
        "period_end_utc": "End of the flagged period (exclusive), UTC.",
        "kwh": "Energy of the flagged period, kWh (for a gap: the estimated energy, if estimated).",
        "expected_kwh": "What the rule expected, kWh (spike: profile median; high/low day: median day).",
        "score": "The rule's measure: z-score (spike), minutes (gap, zero_run, frozen_value), ratio (day).",
    },
)

READING_EDITS = TableSpec(
    "silver",
    "reading_edits",
    StructType(
        [
            req("meter_id", StringType()),
            req("channel", StringType()),
            req("interval_start", TimestampType()),
            opt("original_kwh", DoubleType()),
            opt("original_quality", StringType()),
            req("edited_kwh", DoubleType()),
            req("edited_quality", StringType()),
            req("method", StringType()),
            req("rule", StringType()),
            req("reason", StringType()),
            req("edited_at", TimestampType()),
            req("edited_by", StringType()),
        ]
    ),
    "The editing trail of silver.meter_readings: every value VEE estimated (and re-estimated when its "
    "neighbours changed) and every estimate a received reading replaced, with the value before and after. "
    "Append-only.",
    cluster_by=("meter_id", "interval_start"),
    properties=VEE_PROPERTIES,
    column_comments={
        "original_kwh": "The value before the edit, kWh (null: the interval had no reading).",
        "method": "linear, like_day, recent_days (an estimate) or received (a reading replaced it).",
        "rule": "The VEE rule that caused the edit.",
        "edited_by": "Orchestration instance id of the silver run that made the edit.",
    },
)

VEE_TABLES = (METER_DAY_COMPLETENESS, VEE_FINDINGS, READING_EDITS)
