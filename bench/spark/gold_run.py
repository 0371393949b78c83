"""Gold per-run cost on a warm Spark session: one local day of N meters (not a test; prints figures).

    .venv/bin/python bench/spark/gold_run.py [--meters 1000] [--runs 5] [--days 11] [--write-threads 1,4]
        [--variants base,no_aqe,...] [--conf KEY=VALUE ...] [--out bench/out/spark-gold]

The question (issue #13): what a gold run for one new day costs once the worker is warm, table by table,
since that fixed cost, paid by every batch, dominates drop-to-gold latency.

1. Generates staged input with bench/spark/run.py's generator: N meters x (the features' look-back + 3)
   days of half-hourly import readings, a contract and customer per meter, prices.
2. One Spark session (local[2], 2 GB driver, the emulator worker's other settings): silver for every
   dataset, then a gold run over all days (creates the tables, warms the JVM and the caches).
3. ``--runs`` gold runs of the last day per ``--write-threads`` setting and ``--variants`` session settings
   (alternated, the order rotated each round), with the tables a
   meter-readings batch feeds (all of them), each a new orchestration id so nothing is skipped; per run the
   wall time, per table the manifest's step times.
   ``--conf`` sets a session setting for the whole process (static ones, such as the code cache, can only be
   compared process against process).
4. Prints the median of each figure and writes bench/out/spark-gold/latest.json.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import START, generate  # the sibling benchmark's generator

ROOT = Path(__file__).resolve().parents[2]


class WriteProfile:
    """Seconds spent in each Delta metadata call and write of the gold runs, summed over the timed runs."""

    CALLS = ("current_version", "recent_history", "replace_where_once", "table_row_count")

    def __init__(self) -> None:
        from lakewatt import delta_io

        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        for name in self.CALLS:
            setattr(delta_io, name, self.timed(name, getattr(delta_io, name)))

    def timed(self, name, function):
        def wrapper(*args, **kwargs):
            t = time.monotonic()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - t
                self.counts[name] = self.counts.get(name, 0) + 1

        return wrapper

    def reset(self) -> None:
        self.seconds.clear()
        self.counts.clear()


# Session settings tried against the shipped ones (``--variants``); each is set before its runs and unset
# after.
VARIANTS: dict[str, dict[str, str]] = {
    "base": {},
    "no_aqe": {"spark.sql.adaptive.enabled": "false"},
    "no_replace_check": {"spark.databricks.delta.replaceWhere.constraintCheck.enabled": "false"},
    "no_checksum": {"spark.databricks.delta.writeChecksumFile.enabled": "false"},
    "no_aqe_checksum": {
        "spark.sql.adaptive.enabled": "false",
        "spark.databricks.delta.writeChecksumFile.enabled": "false",
    },
    # Gold's replaces by catalog name, as before decision 0036 (see install_by_name_writes).
    "by_name": {"spark.lakewatt.bench.byName": "true"},
}


def install_by_name_writes() -> None:
    """Lets the ``by_name`` variant run gold's replaces the way they ran before decision 0036."""
    from lakewatt import delta_io

    shipped = delta_io.replace_where_once

    def by_name(spark, table, rows, *, predicate, user_metadata):
        (
            rows.select(*spark.table(table).columns)
            .write.format("delta")
            .mode("overwrite")
            .option("replaceWhere", predicate)
            .option("userMetadata", user_metadata)
            .saveAsTable(table)
        )

    def dispatch(spark, table, rows, **kwargs):
        chosen = by_name if spark.conf.get("spark.lakewatt.bench.byName", "false") == "true" else shipped
        return chosen(spark, table, rows, **kwargs)

    delta_io.replace_where_once = dispatch


def measure(
    lake: Path,
    instances: list[str],
    days: int,
    runs: int,
    write_threads: list[int],
    variants: list[str],
    conf: dict[str, str],
) -> dict:
    from lakewatt.context import LakeRoots, RunContext
    from lakewatt.gold_tables import GOLD_TABLES
    from lakewatt.jobs import gold, silver
    from lakewatt.spark import WARM_WORKER_CONF, build_local_spark, compiled_classes
    from lakewatt.vee.config import VeeConfig

    # The settings of the emulator's warm worker, whose per-run cost this measures (worker.py).
    spark = build_local_spark(
        "bench-gold-run",
        warehouse_dir=lake / "_warehouse",
        driver_memory="2g",
        extra_conf={**WARM_WORKER_CONF, **conf},
    )
    uri = lake.resolve().as_uri()
    roots = LakeRoots(f"{uri}/staging/", f"{uri}/silver/", f"{uri}/gold/", f"{uri}/audit/")
    key = b"bench-only-pii-key-000000000000"
    for dataset in ("contracts", "customers", "prices"):
        silver.run(
            spark,
            RunContext("silver", f"bench-{dataset}", 0, roots),
            dataset,
            [f"bench-{dataset}"],
            pii_key=key,
        )
    silver.run(
        spark,
        RunContext("silver", "bench-readings", 0, roots),
        "meter_readings",
        instances,
        pii_key=None,
        # Gold's cost only (VEE's is bench/vee/cost.py's): the anomaly table then reads an empty findings
        # table, where production reads a few hundred findings of the day.
        vee=VeeConfig(enabled=False),
    )
    first, last = START, START + dt.timedelta(days=days - 1)
    t = time.monotonic()
    gold.run(spark, RunContext("gold", "bench-gold-all", 0, roots), first, last, default_timezone="UTC")
    warm_up = time.monotonic() - t

    install_by_name_writes()
    profile = WriteProfile()
    settings = [(threads, variant) for variant in variants for threads in write_threads]
    per_setting: dict[str, dict] = {}
    for n in range(runs):
        # Alternated, and the order rotated each round, so load drifts and warm-up alike over every setting.
        for threads, variant in settings[n % len(settings) :] + settings[: n % len(settings)]:
            for key, value in VARIANTS[variant].items():
                spark.conf.set(key, value)
            compiled, t = compiled_classes(spark), time.monotonic()
            try:
                manifest = gold.run(
                    spark,
                    RunContext("gold", f"bench-gold-day-{n}-{threads}-{variant}", 0, roots),
                    last,
                    last,
                    default_timezone="UTC",
                    write_threads=threads,
                )
            finally:
                for key in VARIANTS[variant]:
                    spark.conf.unset(key)
            wall, compiled = time.monotonic() - t, compiled_classes(spark) - compiled
            label = f"{threads}" if variants == ["base"] else f"{threads}/{variant}"
            figures = per_setting.setdefault(label, {"walls": [], "steps": {}, "compiled": []})
            figures["walls"].append(wall)
            figures["compiled"].append(compiled)
            for step, ms in manifest["timingsMs"].items():
                figures["steps"].setdefault(step, []).append(ms)
            print(
                f"run {n + 1}/{runs}, {label}: {wall:.1f} s, {compiled} classes compiled, "
                f"{manifest['timingsMs']}",
                flush=True,
            )
    spark.stop()
    calls = runs * len(settings)
    return {
        "warm_up_all_days_seconds": round(warm_up, 1),
        "by_setting": {
            label: {
                "run_seconds": [round(w, 2) for w in figures["walls"]],
                "median_run_seconds": round(statistics.median(figures["walls"]), 2),
                "median_step_ms": {step: int(statistics.median(ms)) for step, ms in figures["steps"].items()},
                "classes_compiled": figures["compiled"],
            }
            for label, figures in per_setting.items()
        },
        "tables": list(GOLD_TABLES),
        "delta_calls_per_run": {k: round(v / calls, 1) for k, v in profile.counts.items()},
        "delta_call_seconds_per_run": {k: round(v / calls, 2) for k, v in profile.seconds.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--days", type=int, default=0, help="days generated (default: look-back + 3)")
    parser.add_argument(
        "--write-threads",
        default="",
        help="comma-separated settings, alternated per run (default: the job's)",
    )
    parser.add_argument(
        "--variants",
        default="base",
        help=f"comma-separated session settings to alternate: {', '.join(VARIANTS)}",
    )
    parser.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE", help="a session setting for the whole run"
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "spark-gold"))
    args = parser.parse_args()
    os.environ.setdefault("TZ", "UTC")
    time.tzset()
    from lakewatt.jobs.gold import WRITE_THREADS
    from lakewatt.transforms.gold import LOOKBACK_DAYS

    write_threads = [int(t) for t in args.write_threads.split(",") if t] or [WRITE_THREADS]
    bad = [item for item in args.conf if "=" not in item or not item.split("=", 1)[0]]
    if bad:
        parser.error(f"--conf expects KEY=VALUE, not {', '.join(map(repr, bad))}")
    conf = dict(item.split("=", 1) for item in args.conf)
    days = args.days or LOOKBACK_DAYS + 3
    out = Path(args.out)
    lake = out / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    gen = generate(lake, args.meters, days)
    print(f"generated {args.meters} meters x {days} days in {gen['seconds']} s", flush=True)
    load_before = os.getloadavg()
    result = {
        "meters": args.meters,
        "days": days,
        **measure(lake, gen["instances"], days, args.runs, write_threads, args.variants.split(","), conf),
        "conf": conf,
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "python": sys.version.split()[0],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
