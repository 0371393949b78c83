"""Spark silver + gold vs DuckDB + delta-rs and DuckDB in memory, same staged Parquet (not a test).

    .venv/bin/python bench/spark/run.py [--meters 5000] [--days 42] [--out bench/out/spark]

1. Generates staged input in the validation engine's layout (same columns, types, lineage,
   staging/{dataset}/{instanceId}/part-00000.parquet + _report.json), with DuckDB, deterministically:
   meters x days x 48 half-hourly import readings (5000 x 42 = 10.08 M), one instance per day, about 0.5 %
   re-delivered duplicates with lower quality; a contract and a customer per meter (a third each fixed,
   time-of-use, dynamic; London and Berlin); 15-minute DE-LU and hourly GB prices. One difference: the
   duplicates sit in the same day's file as the readings they repeat, where validation would reject them
   (DUPLICATE_CONFLICT) and a real re-delivery comes in a file of its own; the silver job ranks them alike.
2. Spark (local[2], 2 GB driver): the silver job for each dataset (readings: all days in one run), then the
   gold job for the whole range, timed per step; the comparison uses daily_consumption + customer_daily_cost.
3. DuckDB in memory (the floor): the same de-duplication, daily consumption and daily cost in SQL over the
   staged Parquet, nothing written.
4. DuckDB + delta-rs (delta_rs_baseline.py, the fair baseline): the same work writing Delta tables, i.e.
   bronze append, de-duplicating MERGE into silver, replace of the gold days.
5. Checks that both sides' gold tables hold the same rows and totals (exits with status 1 if not), prints the
   three times and the ratios, writes bench/out/spark/latest.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

import delta_rs_baseline
import duckdb

ROOT = Path(__file__).resolve().parents[2]
START = dt.date(2025, 9, 1)


def generate(lake: Path, meters: int, days: int) -> dict:
    staging = lake / "staging"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    t0 = time.monotonic()
    lineage = """'{src}' AS source_system, 'bronze/landing/{ds}/{src}/2025/09/01/{inst}.csv' AS source_file,
        '"0x1"' AS source_etag, CAST(row_number() OVER () AS BIGINT) AS source_line,
        '{inst}' AS ingest_instance_id, TIMESTAMPTZ '2025-12-01 00:00:00+00' AS ingested_at"""

    def write(
        dataset: str,
        instance: str,
        select: str,
        rows: int,
        days: list[str] | None = None,
    ) -> None:
        folder = staging / dataset / instance
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY ({select}) TO '{folder / 'part-00000.parquet'}' (FORMAT parquet)")
        report = {
            "schemaVersion": 1,
            "instanceId": instance,
            "file": {
                "path": f"bronze/landing/{dataset}/bench/{instance}.csv",
                "etag": '"0x1"',
                "sha256": "-",
            },
            "contract": {"dataset": dataset, "source": "bench", "maxRejectedShare": 0.05},
            "counts": {"rowsRead": rows, "rowsValid": rows, "rowsRejected": 0, "duplicatesDropped": 0},
            "rejectedShare": 0.0,
            "ruleFailures": {},
            "affectedDates": days or [],
            "verdict": "accepted",
            "startedAt": "2025-12-01T00:00:00Z",
        }
        (folder / "_report.json").write_text(json.dumps(report))

    meter = "'M' || lpad(CAST(m AS VARCHAR), 7, '0')"
    write(
        "contracts",
        "bench-contracts",
        f"""
        SELECT 'C' || lpad(CAST(m AS VARCHAR), 7, '0') AS contract_id,
          'CU' || lpad(CAST(m AS VARCHAR), 7, '0') AS customer_id,
          {meter} AS meter_id,
          CASE m % 3 WHEN 0 THEN 'fixed' WHEN 1 THEN 'time_of_use' ELSE 'dynamic' END AS tariff_type,
          CASE WHEN m % 3 = 0 THEN 0.30::DOUBLE END AS unit_rate_eur_per_kwh,
          CASE WHEN m % 3 = 1 THEN 0.40::DOUBLE END AS peak_rate_eur_per_kwh,
          CASE WHEN m % 3 = 1 THEN 0.20::DOUBLE END AS offpeak_rate_eur_per_kwh,
          CASE WHEN m % 3 = 1 THEN '07:00' END AS peak_start_local,
          CASE WHEN m % 3 = 1 THEN '22:00' END AS peak_end_local,
          CASE WHEN m % 2 = 0 THEN 'Europe/London' ELSE 'Europe/Berlin' END AS tariff_timezone,
          CASE WHEN m % 3 = 2 THEN 0.05::DOUBLE END AS spot_markup_eur_per_kwh,
          (0.25 + (m % 5) * 0.05)::DOUBLE AS standing_charge_eur_per_day,
          CASE WHEN m % 2 = 0 THEN 'GB' ELSE 'DE-LU' END AS bidding_zone,
          TIMESTAMPTZ '2024-01-01 00:00:00+00' AS valid_from, CAST(NULL AS TIMESTAMPTZ) AS valid_to,
          {lineage.format(src="bench", ds="contracts", inst="bench-contracts")}
        FROM range({meters}) t(m)""",
        meters,
    )
    write(
        "customers",
        "bench-customers",
        f"""
        SELECT 'CU' || lpad(CAST(m AS VARCHAR), 7, '0') AS customer_id, 'Name ' || m AS name,
          'c' || m || '@example.org' AS email, '+44 ' || m AS phone, m || ' Street' AS street,
            'P' AS postcode,
          'Town' AS city, 'R' || (m % 7) AS region,
          CASE m % 3 WHEN 0 THEN 'residential' WHEN 1 THEN 'sme' ELSE 'industrial' END AS segment,
          TIMESTAMPTZ '2023-01-01 00:00:00+00' AS created_at,
            TIMESTAMPTZ '2023-01-01 00:00:00+00' AS updated_at,
          {lineage.format(src="bench", ds="customers", inst="bench-customers")}
        FROM range({meters}) t(m)""",
        meters,
    )
    start, end = START - dt.timedelta(days=1), START + dt.timedelta(days=days + 1)
    write(
        "prices",
        "bench-prices",
        f"""
        SELECT zone AS bidding_zone, ts AS interval_start, res::INTEGER AS resolution_minutes,
          (50 + 40 * sin(epoch(ts) / 7200.0))::DOUBLE AS price_eur_per_mwh, 'bench' AS provider,
          CAST(NULL AS TIMESTAMPTZ) AS published_at,
          {lineage.format(src="bench", ds="prices", inst="bench-prices")}
        FROM (SELECT 'DE-LU' AS zone, 15 AS res, unnest(range(TIMESTAMPTZ '{start} 00:00:00+00',
                TIMESTAMPTZ '{end} 00:00:00+00', INTERVAL 15 MINUTE)) AS ts
              UNION ALL SELECT 'GB', 60, unnest(range(TIMESTAMPTZ '{start} 00:00:00+00',
                TIMESTAMPTZ '{end} 00:00:00+00', INTERVAL 1 HOUR)))""",
        0,
        [str(start + dt.timedelta(days=n)) for n in range((end - start).days)],
    )
    instances = []
    for d in range(days):
        day = START + dt.timedelta(days=d)
        inst = f"bench-r-{day:%Y%m%d}"
        instances.append(inst)
        # 48 readings per meter, plus ~0.5 % re-sent as estimated duplicates (lower precedence).
        write(
            "meter_readings",
            inst,
            f"""
            SELECT {meter} AS meter_id,
              TIMESTAMPTZ '{day} 00:00:00+00' + to_minutes(s * 30) AS interval_start,
              30::INTEGER AS interval_minutes, 'import' AS channel,
              round(0.05 + ((m * 31 + s * 17 + {d} * 7) % 100) / 250.0, 4)::DOUBLE AS kwh,
              CASE WHEN dup = 1 THEN 'estimated' ELSE 'actual' END AS quality,
              {lineage.format(src="bench", ds="meter_readings", inst=inst)}
            FROM range({meters}) a(m), range(48) b(s), range(2) c(dup)
            WHERE dup = 0 OR (m * 48 + s) % 200 = {d % 200}""",
            meters * 48,
            [str(day)],
        )
    return {"instances": instances, "seconds": round(time.monotonic() - t0, 1)}


def duckdb_gold(lake: Path) -> dict:
    """De-duplicate (same precedence), then daily consumption and cost per local day, in DuckDB."""
    s = lake / "staging"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    t0 = time.monotonic()
    con.execute(f"""
      CREATE TEMP TABLE best AS
      SELECT meter_id, channel, interval_start,
             arg_max(kwh, struct_pack(q := -CASE quality WHEN 'actual' THEN 0
               WHEN 'substituted' THEN 1 WHEN 'estimated' THEN 2 ELSE 3 END, at := ingested_at,
               by := ingest_instance_id, l := source_line)) AS kwh,
             arg_max(quality, struct_pack(q := -CASE quality WHEN 'actual' THEN 0 WHEN 'substituted' THEN 1
               WHEN 'estimated' THEN 2 ELSE 3 END, at := ingested_at, by := ingest_instance_id,
               l := source_line)) AS quality, min(interval_minutes) AS interval_minutes
      FROM read_parquet('{s}/meter_readings/*/part-*.parquet') GROUP BY ALL""")
    dedupe = time.monotonic() - t0
    con.execute(f"""
      CREATE TEMP TABLE enriched AS
      SELECT b.*, c.contract_id, c.customer_id, c.tariff_type, c.unit_rate_eur_per_kwh,
        c.peak_rate_eur_per_kwh,
             c.offpeak_rate_eur_per_kwh, c.peak_start_local, c.peak_end_local, c.spot_markup_eur_per_kwh,
             c.bidding_zone, c.standing_charge_eur_per_day, c.tariff_timezone AS tz,
             timezone(c.tariff_timezone, b.interval_start) AS local_ts
      FROM best b JOIN read_parquet('{s}/contracts/*/part-*.parquet') c
        ON b.meter_id = c.meter_id AND b.interval_start >= c.valid_from
       AND (c.valid_to IS NULL OR b.interval_start < c.valid_to)""")
    daily = con.execute("""
      SELECT CAST(local_ts AS DATE) AS date, meter_id, customer_id,
             sum(kwh) FILTER (WHERE channel = 'import' AND quality <> 'missing') AS import_kwh,
             count(*) AS readings FROM enriched GROUP BY ALL""").to_arrow_table()
    cost = con.execute(f"""
      WITH p AS (
        SELECT bidding_zone, time_bucket(INTERVAL 30 MINUTE, interval_start) AS slot,
          avg(price_eur_per_mwh) AS price
        FROM read_parquet('{s}/prices/*/part-*.parquet') GROUP BY ALL)
      SELECT CAST(local_ts AS DATE) AS date, customer_id, meter_id, contract_id,
             sum(kwh * CASE tariff_type WHEN 'fixed' THEN unit_rate_eur_per_kwh
               WHEN 'time_of_use' THEN CASE WHEN strftime(local_ts, '%H:%M') >= peak_start_local
                 AND strftime(local_ts, '%H:%M') < peak_end_local THEN peak_rate_eur_per_kwh
                 ELSE offpeak_rate_eur_per_kwh END
               ELSE p.price / 1000 + spot_markup_eur_per_kwh END) AS energy_cost_eur,
             max(standing_charge_eur_per_day) AS standing_charge_eur
      FROM enriched e LEFT JOIN p ON e.tariff_type = 'dynamic' AND p.bidding_zone = e.bidding_zone
        AND p.slot = e.interval_start
      WHERE channel = 'import' GROUP BY ALL""").to_arrow_table()
    return {
        "seconds": round(time.monotonic() - t0, 2),
        "dedupe_seconds": round(dedupe, 2),
        "daily_rows": daily.num_rows,
        "cost_rows": cost.num_rows,
    }


def spark_run(lake: Path, instances: list[str], days: int) -> dict:
    from lakewatt.context import LakeRoots, RunContext
    from lakewatt.jobs import gold, silver
    from lakewatt.spark import build_local_spark
    from lakewatt.vee.config import VeeConfig

    t0 = time.monotonic()
    spark = build_local_spark(
        "bench-spark",
        warehouse_dir=lake / "_warehouse",
        driver_memory="2g",
        extra_conf={
            "spark.sql.shuffle.partitions": "8",
            "spark.sql.adaptive.enabled": "true",
        },
    )
    started = time.monotonic() - t0
    uri = lake.resolve().as_uri()
    roots = LakeRoots(f"{uri}/staging/", f"{uri}/silver/", f"{uri}/gold/", f"{uri}/audit/")
    key = b"bench-only-pii-key-000000000000"
    timings: dict[str, float] = {"session": round(started, 1)}
    for dataset, ids in [
        ("contracts", ["bench-contracts"]),
        ("customers", ["bench-customers"]),
        ("prices", ["bench-prices"]),
    ]:
        t = time.monotonic()
        silver.run(spark, RunContext("silver", ids[0], 0, roots), dataset, ids, pii_key=key)
        timings[f"silver_{dataset}"] = round(time.monotonic() - t, 1)
    t = time.monotonic()
    m = silver.run(
        spark,
        RunContext("silver", "bench-readings", 0, roots),
        "meter_readings",
        instances,
        pii_key=None,
        vee=VeeConfig(enabled=False),  # the baseline does no VEE; its cost is bench/vee/cost.py's
    )
    timings["silver_meter_readings"] = round(time.monotonic() - t, 1)
    readings_rows = next(e["rowCount"] for e in m["tables"] if e["table"] == "silver.meter_readings")
    first, last = START, START + dt.timedelta(days=days - 1)
    t = time.monotonic()
    g = gold.run(
        spark,
        RunContext("gold", "bench-gold", 0, roots),
        first,
        last,
        tables=["daily_consumption", "customer_daily_cost"],
        default_timezone="UTC",
    )
    timings["gold_daily_and_cost"] = round(time.monotonic() - t, 1)
    t = time.monotonic()
    gold.run(
        spark,
        RunContext("gold", "bench-gold-rest", 0, roots),
        first,
        last,
        tables=["load_profile_hourly", "consumption_anomalies", "data_quality_daily", "forecast_features"],
        default_timezone="UTC",
    )
    timings["gold_other_tables"] = round(time.monotonic() - t, 1)
    spark.stop()
    return {
        "timings": timings,
        "silver_readings_rows": readings_rows,
        "silver_steps_ms": m["timingsMs"],
        "gold_steps_ms": g["timingsMs"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=5000)
    parser.add_argument("--days", type=int, default=42)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "spark"))
    args = parser.parse_args()
    os.environ.setdefault("TZ", "UTC")
    time.tzset()
    out = Path(args.out)
    lake = out / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    gen = generate(lake, args.meters, args.days)
    print(
        f"generated {args.meters} meters x {args.days} days in {gen['seconds']} s",
        flush=True,
    )
    load = {"duckdb_memory": os.getloadavg()}
    duck = duckdb_gold(lake)
    print(
        f"duckdb in memory: dedupe + daily consumption + daily cost {duck['seconds']} s",
        flush=True,
    )
    load["delta_rs"] = os.getloadavg()
    last = START + dt.timedelta(days=args.days - 1)
    base = delta_rs_baseline.run(lake, gen["instances"], START, last)
    print(
        f"duckdb + delta-rs: silver(readings) {base['silver_readings_seconds']} s + gold(daily, cost) "
        f"{base['gold_seconds']} s",
        flush=True,
    )
    load["spark"] = os.getloadavg()
    spark = spark_run(lake, gen["instances"], args.days)
    load["end"] = os.getloadavg()
    check = delta_rs_baseline.compare_gold(lake, base["gold_days"])
    t = spark["timings"]
    spark_total = t["silver_meter_readings"] + t["gold_daily_and_cost"]
    result = {
        "started_utc": started,
        "meters": args.meters,
        "days": args.days,
        "readings": spark["silver_readings_rows"],
        "spark": spark,
        "delta_rs": base,
        "duckdb": duck,
        "spark_silver_plus_gold_seconds": round(spark_total, 1),
        "ratio_spark_vs_delta_rs": round(spark_total / base["seconds"], 2),
        "ratio_spark_vs_duckdb_memory": round(spark_total / duck["seconds"], 2),
        "gold_check": check,
        "cpus": os.cpu_count(),
        "load_average_before": load,
        "python": sys.version.split()[0],
    }
    (out / "latest.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(
        f"spark silver(readings)+gold(daily, cost): {spark_total:.1f} s; "
        f"duckdb + delta-rs: {base['seconds']} s; "
        f"duckdb in memory: {duck['seconds']} s; ratios {result['ratio_spark_vs_delta_rs']}x (target <= 3x) "
        f"and {result['ratio_spark_vs_duckdb_memory']}x"
    )
    if not check["ok"]:
        sys.exit(
            "gold check FAILED: the delta-rs baseline and Spark disagree (see gold_check in latest.json)"
        )
    print("gold check passed: same rows, kWh and cost totals on both sides")


if __name__ == "__main__":
    main()
