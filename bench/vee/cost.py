"""VEE's share of a silver run: one local day of 1,000 meters, warm worker (not a test).

    .venv/bin/python bench/vee/cost.py [--meters 1000] [--history 28] [--runs 3] [--out bench/out/vee-cost]

Staged input from bench/spark/run.py's generator (48 half-hours a meter a day, ~0.5 % re-sent duplicates;
half the meters in London, half in Berlin). The history days go in with VEE off (one run); then each of the
``--runs`` following days is one silver run with VEE on, as an orchestration would start it. Reported per run
and as medians: the wall time, the manifest's steps (bronze, silver MERGE, reports, vee) and VEE's share.
A second pass removes a few readings from each measured day (every 97th meter misses 2 h) so the cost of
estimation and findings is in the figure too. Writes ``<out>/latest.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "spark"))

import duckdb  # noqa: E402
import run as spark_bench  # noqa: E402


def punch_gaps(lake: Path, instance: str) -> int:
    """Drops 2 h of readings of every 97th meter from a staged day (rewrites its Parquet file)."""
    part = lake / "staging" / "meter_readings" / instance / "part-00000.parquet"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    before = con.execute(f"SELECT count(*) FROM '{part}'").fetchone()[0]
    kept = lake / "kept.parquet"
    con.execute(
        f"""COPY (SELECT * FROM '{part}' WHERE NOT (CAST(substr(meter_id, 2) AS INTEGER) % 97 = 0
              AND hour(interval_start) BETWEEN 9 AND 10)) TO '{kept}' (FORMAT parquet)"""
    )
    after = con.execute(f"SELECT count(*) FROM '{kept}'").fetchone()[0]
    shutil.move(kept, part)
    return before - after


def measure(lake: Path, instances: list[str], history: int, runs: int) -> dict:
    from lakewatt.context import LakeRoots, RunContext
    from lakewatt.jobs import silver
    from lakewatt.spark import build_local_spark
    from lakewatt.vee.config import VeeConfig

    spark = build_local_spark(
        "bench-vee-cost",
        warehouse_dir=lake / "_warehouse",
        driver_memory="2g",
        extra_conf={"spark.sql.shuffle.partitions": "8", "spark.sql.adaptive.enabled": "true"},
    )
    uri = lake.resolve().as_uri()
    roots = LakeRoots(f"{uri}/staging/", f"{uri}/silver/", f"{uri}/gold/", f"{uri}/audit/")
    silver.run(
        spark,
        RunContext("silver", "bench-contracts", 0, roots),
        "contracts",
        ["bench-contracts"],
        pii_key=None,
    )
    silver.run(
        spark,
        RunContext("silver", "bench-history", 0, roots),
        "meter_readings",
        instances[:history],
        pii_key=None,
        vee=VeeConfig(enabled=False),
    )
    results = []
    for instance in instances[history : history + runs]:
        t = time.monotonic()
        manifest = silver.run(
            spark, RunContext("silver", instance, 0, roots), "meter_readings", [instance], pii_key=None
        )
        wall = time.monotonic() - t
        steps = manifest["timingsMs"]
        vee = manifest["vee"]
        results.append(
            {
                "instance": instance,
                "wall_seconds": round(wall, 2),
                "steps_ms": steps,
                "vee_share": round(steps["vee"] / sum(steps.values()), 3),
                "meter_days": vee["meterDays"],
                "estimated": vee["estimatedIntervals"],
                "findings": vee["findings"],
            }
        )
        print(f"{instance}: {wall:.1f} s {steps} findings {vee['findings']}", flush=True)
    spark.stop()
    return {
        "runs": results,
        "median_wall_seconds": round(statistics.median(r["wall_seconds"] for r in results), 2),
        "median_vee_ms": int(statistics.median(r["steps_ms"]["vee"] for r in results)),
        "median_vee_share": round(statistics.median(r["vee_share"] for r in results), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--history", type=int, default=28)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "vee-cost"))
    args = parser.parse_args()
    os.environ.setdefault("TZ", "UTC")
    time.tzset()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    lake = out / "lake"
    lake.mkdir(parents=True)
    generated = spark_bench.generate(lake, args.meters, args.history + args.runs)
    instances = generated["instances"]
    removed = sum(punch_gaps(lake, i) for i in instances[args.history :])
    load = os.getloadavg()[0]
    result = {
        "meters": args.meters,
        "history_days": args.history,
        "readings_removed_from_measured_days": removed,
        "load_average_at_start": round(load, 2),
        **measure(lake, instances, args.history, args.runs),
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    (out / "latest.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
