"""Gold on a small hand-made world: DST day totals, tariff costs, anomalies, data quality, replace scope, PII.

World (UTC instants; expectations computed by hand below):
* meters ML1 (London, fixed 0.30 EUR/kWh, standing 0.50), MB1 (Berlin, time of use 0.40 peak 07:00-22:00
  local / 0.20 off-peak, standing 0.25), MD1 (Berlin, dynamic: spot + 0.05, standing 0.10);
* history 2025-09-20 .. 2025-10-25 12:00: half-hourly import 0.10 x (1 + 0.1 k), k = (day + slot) % 5;
* from 2025-10-25 12:00 to 2025-10-28: 0.10 every half hour, except ML1 at 10-27 12:00 (30 kWh: implausible
  and a spike), ML1 10-27 18:00-19:00 (1.0 twice: a spike), MB1 10-27 00:00-13:00 (26 zeros: a streak);
* DE-LU prices: 100 EUR/MWh every quarter hour, except 10-26 12:00 (200) and 12:15 (300).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import NumericType

from lakehelpers import PII_KEY, ctx, half_hours, lineage, reading, reset_catalog, stage, utc
from lakewatt.gold_tables import GOLD_TABLES
from lakewatt.jobs import gold, silver

DAY = dt.date(2025, 10, 26)  # the autumn daylight-saving change in both London and Berlin
T = utc(2026, 1, 1)


def contract(cid, customer, meter, tariff, tz, zone, standing, rates):
    markup = rates[5] if len(rates) > 5 else None
    return (cid, customer, meter, tariff, *rates[:5], tz, markup, standing, zone,
            utc(2024, 1, 1), None, *lineage("billing", "w-c", 1, T))  # fmt: skip


def customers():
    rows = [("CU-L", "Lena Clear", "Wales", "residential"), ("CU-B", "Bernd Clear", "Sachsen", "sme"),
            ("CU-D", "Dora Clear", "Sachsen", "residential")]  # fmt: skip
    return [(cid, name, f"{cid.lower()}@example.org", "+44 1", "1 Secret Street", "X1", "Town", region, seg,
             utc(2023, 1, 1), utc(2023, 1, 1), *lineage("crm", "w-p", i, T)) for i, (cid, name, region, seg)
            in enumerate(rows, 1)]  # fmt: skip


def value(meter: str, t: dt.datetime) -> float:
    if t < utc(2025, 10, 25, 12):
        k = ((t - utc(2025, 9, 20)).days + t.hour * 2 + t.minute // 30) % 5
        return round(0.1 * (1 + 0.1 * k), 6)
    if meter == "ML1" and t == utc(2025, 10, 27, 12):
        return 30.0
    if meter == "ML1" and utc(2025, 10, 27, 18) <= t < utc(2025, 10, 27, 19):
        return 1.0
    if meter == "MB1" and utc(2025, 10, 27) <= t < utc(2025, 10, 27, 13):
        return 0.0
    return 0.1


def readings(instance: str, start: dt.datetime, end: dt.datetime, landing: dt.date):
    return [reading(m, t, value(m, t), instance=instance, line=i, ingested_at=T, landing=landing)
            for m in ("ML1", "MB1", "MD1") for i, t in enumerate(half_hours(start, end), 1)]  # fmt: skip


def prices():
    rows, t, line = [], utc(2025, 10, 25), 1
    special = {utc(2025, 10, 26, 12): 200.0, utc(2025, 10, 26, 12, 15): 300.0}
    while t < utc(2025, 10, 28):
        rows.append(
            ("DE-LU", t, 15, special.get(t, 100.0), "sim", None, *lineage("dayahead", "w-x", line, T))
        )
        t += dt.timedelta(minutes=15)
        line += 1
    return rows


@pytest.fixture(scope="module")
def world(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory):
    reset_catalog(spark)
    root: Path = tmp_path_factory.mktemp("lake")
    stage(spark, root, "contracts", "w-c", [
        contract("C-L", "CU-L", "ML1", "fixed", "Europe/London", "GB", 0.50, (0.30, None, None, None, None)),
        contract("C-B", "CU-B", "MB1", "time_of_use", "Europe/Berlin", "DE-LU", 0.25,
                 (None, 0.40, 0.20, "07:00", "22:00")),
        contract("C-D", "CU-D", "MD1", "dynamic", "Europe/Berlin", "DE-LU", 0.10,
                 (None, None, None, None, None, 0.05)),
    ])  # fmt: skip
    stage(spark, root, "customers", "w-p", customers())
    stage(spark, root, "prices", "w-x", prices())
    stage(
        spark, root, "meter_readings", "w-h", readings("w-h", utc(2025, 9, 20), utc(2025, 10, 25, 12), None)
    )
    stage(spark, root, "meter_readings", "w-t",
          readings("w-t", utc(2025, 10, 25, 12), utc(2025, 10, 28), dt.date(2025, 10, 27)),
          rejected=6, rule_failures={"NEGATIVE_VALUE": 6})  # fmt: skip
    # Two readings of 10-26 delivered again, late, in another file.
    late = dt.date(2025, 10, 30)
    stage(spark, root, "meter_readings", "w-d", [
        reading("ML1", utc(2025, 10, 26, 3), 0.1, instance="w-d", line=1, ingested_at=T, landing=late),
        reading("ML1", utc(2025, 10, 26, 4), 0.1, instance="w-d", line=2, ingested_at=T, landing=late),
    ])  # fmt: skip
    # One silver run per dataset; the three reading files go in one run (as a backfill would pass them), which
    # gives the same silver rows as three runs: w-t and w-d tie on quality and ingestion, w-t wins either way.
    for dataset, instances in [
        ("contracts", ["w-c"]),
        ("customers", ["w-p"]),
        ("prices", ["w-x"]),
        ("meter_readings", ["w-h", "w-t", "w-d"]),
    ]:
        silver.run(spark, ctx(root, "silver", instances[0]), dataset, instances, pii_key=PII_KEY)
    manifest = gold.run(spark, ctx(root, "gold", "g-1"), dt.date(2025, 10, 19), dt.date(2025, 10, 27))
    return {"root": root, "manifest": manifest}


def rows(spark: SparkSession, table: str, where: str = "true"):
    return spark.table(f"gold.{table}").where(where).collect()


def test_daylight_saving_day_has_50_half_hours_in_london_and_berlin(spark: SparkSession, world):
    got = {r.meter_id: r for r in rows(spark, "daily_consumption", f"date = '{DAY}'")}

    for meter in ("ML1", "MB1", "MD1"):
        assert (got[meter].import_kwh, got[meter].import_readings, got[meter].expected_readings) == (
            5.0,
            50,
            50,
        )
        assert got[meter].completeness == 1.0
    assert got["ML1"].timezone == "Europe/London"


def test_each_tariff_costs_what_was_computed_by_hand(spark: SparkSession, world):
    got = {r.contract_id: r for r in rows(spark, "customer_daily_cost", f"date = '{DAY}'")}

    # fixed: 5.0 kWh x 0.30 = 1.50, + 0.50
    assert (got["C-L"].energy_cost_eur, got["C-L"].total_cost_eur) == pytest.approx((1.5, 2.0))
    # time of use: 07:00-22:00 local = 30 half-hours x 0.1 x 0.40 = 1.20; 20 off-peak x 0.1 x 0.20 = 0.40
    assert (got["C-B"].energy_cost_eur, got["C-B"].total_cost_eur) == pytest.approx((1.6, 1.85))
    # dynamic: 49 x 0.1 x (0.100 + 0.05) = 0.735; 12:00Z half-hour at mean(200, 300)/1000 + 0.05 = 0.30 x 0.1
    assert (got["C-D"].energy_cost_eur, got["C-D"].total_cost_eur) == pytest.approx((0.765, 0.865))
    assert got["C-D"].unpriced_kwh == 0.0


def test_when_gold_runs_then_its_anomalies_are_vee_import_findings_and_implausible_power(
    spark: SparkSession, world
):
    days = [dt.date.fromisoformat(d) for d in world["manifest"]["parameters"]["local_dates"]]
    findings = spark.table("silver.vee_findings").where(
        F.col("date").isin(days) & (F.col("channel") == "import") & (F.col("rule") != "gap")
    )
    from_vee = {
        (r.date, r.meter_id, r.rule, r.period_start_utc, r.period_end_utc, r.kwh, r.expected_kwh, r.score)
        for r in findings.collect()
    }
    # ML1's 30 kWh half-hour is 60 kW on average, above the residential limit of 50 kW: a ratio of 1.2.
    implausible = (dt.date(2025, 10, 27), "ML1", "implausible", utc(2025, 10, 27, 12).replace(tzinfo=None),
                   utc(2025, 10, 27, 12, 30).replace(tzinfo=None), 30.0, None, 1.2)  # fmt: skip

    got = {
        (r.date, r.meter_id, r.anomaly_type, r.period_start_utc, r.period_end_utc, r.kwh, r.baseline_kwh,
         r.score)
        for r in rows(spark, "consumption_anomalies")
    }  # fmt: skip

    assert got == from_vee | {implausible}
    by_rule = {(r[1], r[2], r[3]) for r in got}
    assert ("ML1", "spike", dt.datetime(2025, 10, 27, 12)) in by_rule
    assert ("MB1", "zero_run", dt.datetime(2025, 10, 27)) in by_rule  # 26 zeros from 00:00Z


def test_when_a_one_day_run_reads_its_history_from_forecast_features_then_it_finds_what_the_full_run_found(
    spark: SparkSession, world
):
    def features(day: dt.date):
        return {
            (r.meter_id, r.hour_start_utc): {
                k: v for k, v in r.asDict().items() if k not in ("computed_at", "computed_by")
            }
            for r in rows(spark, "forecast_features", f"date = DATE'{day.isoformat()}'")
        }

    day = dt.date(2025, 10, 27)
    anomalies_before = sorted(
        (r.meter_id, r.anomaly_type, r.period_start_utc, r.score)
        for r in rows(spark, "consumption_anomalies", f"date = DATE'{day.isoformat()}'")
    )
    features_before = features(day)

    # The full run wrote features for the local days 10-19 .. 10-28; the baseline's older days are not there.
    run = gold.run(spark, ctx(world["root"], "gold", "g-day"), day, day,
                   tables=["consumption_anomalies", "forecast_features"])  # fmt: skip

    assert run["parameters"]["local_dates"] == ["2025-10-27", "2025-10-28"]
    assert (
        sorted(
            (r.meter_id, r.anomaly_type, r.period_start_utc, r.score)
            for r in rows(spark, "consumption_anomalies", f"date = DATE'{day.isoformat()}'")
        )
        == anomalies_before
    )
    after = features(day)
    assert after.keys() == features_before.keys()
    for key, expected in features_before.items():
        for column, value in expected.items():
            got = after[key][column]
            assert got == (pytest.approx(value, abs=1e-6) if isinstance(value, float) else value), (
                key,
                column,
            )


def test_data_quality_spreads_rejected_rows_and_counts_duplicates_and_late_rows(spark: SparkSession, world):
    got = rows(spark, "data_quality_daily", f"utc_date = '{DAY}' AND dataset = 'meter_readings'")[0]

    # w-t staged 360 rows (72 on 10-25, 144 on 10-26, 144 on 10-27) and rejected 6: 6 x 144 / 360 = 2.4
    assert (got.files, got.rows_staged, got.duplicate_rows, got.late_rows) == (2, 146, 2, 2)
    assert got.rows_rejected == pytest.approx(2.4)


def test_when_a_file_rejected_rows_for_a_reason_then_each_of_its_data_days_lists_the_reason(
    spark: SparkSession, world
):
    got = {
        (r.utc_date, r.source_system, r.rule_code): r.rejected_rows
        for r in rows(spark, "data_quality_rule_failures")
    }

    # w-t (6 rows rejected as NEGATIVE_VALUE) has readings on the UTC days 10-25, 10-26 and 10-27.
    assert got == {(dt.date(2025, 10, d), "sim", "NEGATIVE_VALUE"): 6 for d in (25, 26, 27)}


def test_load_profile_and_features_cover_the_day(spark: SparkSession, world):
    profile = rows(spark, "load_profile_hourly", f"date = '{DAY}' AND region = 'Wales'")
    features = rows(spark, "forecast_features", f"date = '{DAY}' AND meter_id = 'MD1'")

    assert sum(r.import_kwh for r in profile) == pytest.approx(5.0)
    assert {r.hour for r in profile} == set(range(24))
    assert len(features) == 25  # hours of the local day
    assert {r.price_eur_per_mwh for r in features if r.hour_start_utc == dt.datetime(2025, 10, 26, 12)} == {
        175.0
    }  # mean(200, 300, 100, 100)


def test_no_pii_column_or_value_reaches_gold(spark: SparkSession, world):
    clear = {"Lena Clear", "Bernd Clear", "Dora Clear", "1 Secret Street", "cu-l@example.org", "+44 1"}
    for name in world["manifest"]["tables"]:
        df = spark.table(name["table"])
        assert not set(df.columns) & {"name", "email", "phone", "street", "name_hash", "email_hash"}
        strings = [f.name for f in df.schema.fields if f.dataType.simpleString() == "string"]
        values = {v for r in df.select(*strings).collect() for v in r}
        assert not values & clear


def test_manifest_versions_match_history_and_rerun_replaces_only_affected_days(spark: SparkSession, world):
    for entry in world["manifest"]["tables"]:
        row = spark.sql(f"DESCRIBE HISTORY {entry['table']}").where(f"version = {entry['version']}").first()
        assert {k: str(v) for k, v in row.operationMetrics.items()} == entry["operationMetrics"]
        assert '"orchestrationId":"g-1"' in row.userMetadata

    root = world["root"]
    stage(spark, root, "meter_readings", "w-y", [
        reading("ML1", utc(2025, 10, 26, 12), 0.5, instance="w-y", line=1, ingested_at=utc(2026, 2, 1)),
        reading("ML1", utc(2025, 10, 27, 6), 0.5, instance="w-y", line=2, ingested_at=utc(2026, 2, 1)),
    ])  # fmt: skip
    silver.run(spark, ctx(root, "silver", "w-y"), "meter_readings", ["w-y"], pii_key=None)
    rerun = gold.run(spark, ctx(root, "gold", "g-2"), dt.date(2025, 10, 27), dt.date(2025, 10, 27),
                     tables=["daily_consumption"])  # fmt: skip
    got = {(r.date, r.meter_id): r for r in rows(spark, "daily_consumption", "meter_id = 'ML1'")}

    # UTC 10-27 overlaps local 10-27 (London, Berlin) and 10-28 (Berlin from 23:00Z): only those are replaced.
    assert rerun["parameters"]["local_dates"] == ["2025-10-27", "2025-10-28"]
    assert (got[(DAY, "ML1")].import_kwh, got[(DAY, "ML1")].computed_by) == (5.0, "g-1")
    assert got[(dt.date(2025, 10, 27), "ML1")].computed_by == "g-2"
    assert got[(dt.date(2025, 10, 27), "ML1")].import_kwh == pytest.approx(48 * 0.1 + 29.9 + 2 * 0.9 + 0.4)


def test_when_a_stray_old_day_comes_with_todays_days_then_gold_recomputes_those_days_only(
    spark: SparkSession, world
):
    # Rows on 2025-10-27 and one stray reading from a year before: their range would be 366 days.
    stray = dt.date(2024, 10, 27)
    run = gold.run(spark, ctx(world["root"], "gold", "g-stray"), stray, dt.date(2025, 10, 27),
                   dates=[stray, dt.date(2025, 10, 27)], tables=["daily_consumption"])  # fmt: skip

    # Each UTC day covers its own local day and, east of UTC (Berlin), the next one.
    assert run["parameters"]["local_dates"] == ["2024-10-27", "2024-10-28", "2025-10-27", "2025-10-28"]
    # A day inside the range but not in the set keeps the rows an earlier run computed.
    kept = rows(spark, "daily_consumption", f"date = DATE'{DAY.isoformat()}'")
    assert kept
    assert {r.computed_by for r in kept} == {"g-1"}


def test_when_delta_rs_reads_every_gold_table_then_it_sees_the_rows_and_totals_spark_sees(
    spark: SparkSession, world
):
    for name, spec in GOLD_TABLES.items():
        table = DeltaTable(str(world["root"] / "gold" / name))
        assert not table.protocol().reader_features, f"{name} needs a reader feature"
        arrow = table.to_pyarrow_table()
        numeric = [f.name for f in spec.schema.fields if isinstance(f.dataType, NumericType)]
        spark_totals = (
            spark.table(f"gold.{name}")
            .agg(F.count(F.lit(1)).alias("rows"), *[F.sum(c).alias(c) for c in numeric])
            .first()
        )

        assert arrow.num_rows == spark_totals["rows"], name
        assert arrow.num_rows > 0, name
        for column in numeric:
            total = pc.sum(arrow.column(column)).as_py()
            assert total == pytest.approx(spark_totals[column], rel=1e-9), f"{name}.{column}"


def test_when_gold_is_built_then_every_column_has_a_comment_and_every_measure_its_unit(
    spark: SparkSession, world
):
    units = re.compile(r"kWh|EUR|\bkW\b|ratio|count|hours")
    for name in GOLD_TABLES:
        described = spark.sql(f"DESCRIBE TABLE gold.{name}").collect()
        # The columns come first; a blank row or a "# ..." section (clustering, partitioning) ends them.
        ends = [i for i, r in enumerate(described) if not r.col_name or r.col_name.startswith("#")]
        columns = described[: ends[0] if ends else len(described)]
        missing = [r.col_name for r in columns if not (r.comment or "").strip()]
        assert missing == [], f"{name}: no comment on {missing}"
        unitless = [r.col_name for r in columns if r.data_type == "double" and not units.search(r.comment)]
        assert unitless == [], f"{name}: no unit in the comment of {unitless}"


def test_when_gold_is_built_then_dim_date_gives_each_local_day_the_length_daily_consumption_expects(
    spark: SparkSession, world
):
    # A complete half-hourly day has two readings per hour of the local day: 46, 48 or 50.
    joined = (
        spark.table("gold.daily_consumption")
        .join(spark.table("gold.dim_date"), ["date", "timezone"])
        .select("date", "timezone", "expected_readings", "settlement_periods", "hours_in_day")
        .distinct()
        .collect()
    )
    assert joined, "no consumption day joined its dim_date row"
    assert all(r.expected_readings == r.settlement_periods == round(r.hours_in_day * 2) for r in joined)
    autumn = {r.timezone: r.hours_in_day for r in joined if r.date == dt.date(2025, 10, 26)}
    assert autumn == {"Europe/London": 25.0, "Europe/Berlin": 25.0}


def test_when_gold_is_built_then_every_primary_key_is_unique_and_every_foreign_key_finds_its_row(
    spark: SparkSession, world
):
    for name, spec in GOLD_TABLES.items():
        table = spark.table(f"gold.{name}")
        if spec.primary_key:
            assert table.count() == table.select(*spec.primary_key).distinct().count(), name
        for column, target in spec.foreign_keys.items():
            (key,) = GOLD_TABLES[target].primary_key
            keys = spark.table(f"gold.{target}").select(F.col(key).alias(column))
            orphans = table.where(F.col(column).isNotNull()).join(keys, column, "left_anti")
            assert orphans.count() == 0, f"{name}.{column} -> {target}"
