"""Delta maintenance of the pipeline's tables: compact and cluster (OPTIMIZE), then drop unreferenced files
(VACUUM) older than a retention that keeps time travel for replays and audits (decision 0019).

Only tables that exist are touched; maintenance never creates one. Each step is safe to repeat and safe
beside running jobs: OPTIMIZE commits like any writer (a conflicting job retries), and VACUUM removes only
files no version within the retention still references.
"""

from __future__ import annotations

import time

from pyspark.sql import SparkSession

from lakewatt.delta_io import TableWrite, current_version

# Time travel must outlive the longest replay or audit look-back: a run manifest cites Delta versions, and
# a replay reads staging, not old versions, but an operator comparing a table "before and after" a replay
# does. Thirty days matches Delta's default log retention, so every version in the log can still be read.
DEFAULT_RETAIN_HOURS = 30 * 24
# Below a week, a long-running job (or a reader of an older snapshot) could lose files it still reads.
MIN_RETAIN_HOURS = 7 * 24


def _detail(spark: SparkSession, table: str) -> tuple[int, int]:
    row = spark.sql(f"DESCRIBE DETAIL {table}").select("numFiles", "sizeInBytes").first()
    return int(row.numFiles or 0), int(row.sizeInBytes or 0)


def maintain(spark: SparkSession, table: str, retain_hours: int) -> TableWrite:
    """OPTIMIZE then VACUUM one table; the manifest entry names the files and bytes before and after."""
    started = time.monotonic()
    before = current_version(spark, table)
    files_before, bytes_before = _detail(spark, table)
    spark.sql(f"OPTIMIZE {table}").collect()
    latest = spark.sql(f"DESCRIBE HISTORY {table} LIMIT 1").select("version", "operation").first()
    optimized = latest is not None and latest.operation == "OPTIMIZE" and int(latest.version) != before
    # DRY RUN lists what VACUUM will delete; SQL only, so it works on Spark Connect (serverless) too.
    vacuumed = len(spark.sql(f"VACUUM {table} RETAIN {int(retain_hours)} HOURS DRY RUN").collect())
    spark.sql(f"VACUUM {table} RETAIN {int(retain_hours)} HOURS").collect()
    files_after, bytes_after = _detail(spark, table)
    return TableWrite(
        table=table,
        action="maintain",
        version=int(latest.version) if optimized else before,
        previous_version=before,
        operation="OPTIMIZE" if optimized else None,
        operation_metrics={
            "filesBefore": str(files_before),
            "filesAfter": str(files_after),
            "bytesBefore": str(bytes_before),
            "bytesAfter": str(bytes_after),
            "filesVacuumed": str(vacuumed),
        },
        duration_ms=int((time.monotonic() - started) * 1000),
        note=f"VACUUM RETAIN {int(retain_hours)} HOURS",
    )
