"""Throughput of PII masking: the Arrow UDF (lakewatt.pii) vs the former sha2 expression (not a test).

    .venv/bin/python bench/spark/pii_hash.py [--rows 1000000] [--repeat 3]

Masks name, e-mail and phone of ``--rows`` generated customers on local[2] (what the silver job does to a
customers file) and writes the result to Spark's ``noop`` sink, so every hash is computed and nothing is
stored. Each variant runs once to warm up, then ``--repeat`` times; the best time counts. Prints rows/s and
writes bench/out/spark/pii-hash-latest.json.

``in_plan`` is the former implementation, kept here only to compare: HMAC built from two ``sha2`` calls
with the padded keys as literals, which is exactly what put the key into every plan (issue #18).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from lakewatt import pii
from lakewatt.spark import build_local_spark

ROOT = Path(__file__).resolve().parents[2]
KEY = b"bench-only-pii-key-0123456789abcdef"


def in_plan_hmac(value: Column, key: bytes) -> Column:
    """The former ``hmac_sha256_hex``: RFC 2104 from ``sha2`` with the pads as (printed) literals."""
    key = key.ljust(64, b"\0")
    inner_key, outer_key = bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)
    inner = F.unhex(F.sha2(F.concat(F.lit(inner_key), F.encode(value, "UTF-8")), 256))
    return F.sha2(F.concat(F.lit(outer_key), inner), 256)


def customers(spark: SparkSession, rows: int) -> DataFrame:
    return spark.range(rows).select(
        F.format_string("Customer %d Example", "id").alias("name"),
        F.format_string(" User.%d@Example.org ", "id").alias("email"),
        F.format_string("+49 30 %07d", "id").alias("phone"),
    )


def masked(df: DataFrame, variant: str) -> DataFrame:
    """``lakewatt.pii.masked`` for name, e-mail and phone, with the variant's keyed hash."""
    keyed_hash = pii.hmac_sha256_hex if variant == "arrow_udf" else in_plan_hmac
    columns = []
    for name in ("name", "email", "phone"):
        value = pii.NORMALISERS.get(name, F.trim)(F.col(name))
        columns.append(keyed_hash(F.when(F.length(value) > 0, value), KEY).alias(f"{name}_hash"))
    return df.select(*columns)


def timed(df: DataFrame) -> float:
    t0 = time.monotonic()
    df.write.format("noop").mode("overwrite").save()
    return time.monotonic() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    spark = build_local_spark("lakewatt-bench-pii", driver_memory="2g")
    source = customers(spark, args.rows)
    first = {v: masked(source, v).orderBy("name_hash").first() for v in ("in_plan", "arrow_udf")}
    assert first["in_plan"] == first["arrow_udf"], "the two variants disagree"

    results = {}
    baseline = min(timed(source) for _ in range(args.repeat + 1))
    for variant in ("in_plan", "arrow_udf"):
        df = masked(source, variant)
        timed(df)  # warm-up: JIT, Python workers
        best = min(timed(df) for _ in range(args.repeat))
        results[variant] = {
            "seconds": round(best, 3),
            "rows_per_second": round(args.rows / best),
        }
        print(f"{variant:10s} {best:7.2f} s  {args.rows / best:12,.0f} rows/s  (3 hashes per row)")
    print(f"generation alone: {baseline:.2f} s")

    out = ROOT / "bench" / "out" / "spark"
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "rows": args.rows,
        "repeat": args.repeat,
        "generation_seconds": round(baseline, 3),
        "load_average": os.getloadavg(),
        "results": results,
    }
    (out / "pii-hash-latest.json").write_text(json.dumps(report, indent=2))
    spark.stop()


if __name__ == "__main__":
    main()
