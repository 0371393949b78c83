"""Building staged inputs the way the validation engine writes them, and a lake per test."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pyspark.sql import SparkSession

from lakewatt.context import LakeRoots, RunContext
from lakewatt.schemas import SCHEMAS

PII_KEY = b"test-only-pii-key-0123456789abcdef"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def lake(root: Path) -> LakeRoots:
    uri = root.resolve().as_uri()
    return LakeRoots(
        staging=f"{uri}/staging/", silver=f"{uri}/silver/", gold=f"{uri}/gold/", audit=f"{uri}/audit/"
    )


def ctx(root: Path, job: str, orchestration_id: str, generation: int = 0) -> RunContext:
    return RunContext(job=job, orchestration_id=orchestration_id, generation=generation, roots=lake(root))


def reset_catalog(spark: SparkSession) -> None:
    """Forget every table name (the data stays: local tables are external)."""
    for layer in ("bronze", "silver", "gold"):
        spark.sql(f"DROP SCHEMA IF EXISTS {layer} CASCADE")


def lineage(source: str, instance: str, line: int, ingested_at: datetime, day: date | None = None) -> tuple:
    d = day or ingested_at.date()
    path = f"bronze/landing/x/{source}/{d:%Y/%m/%d}/{instance}.csv"
    return (source, path, '"0x1"', line, instance, ingested_at)


def reading(
    meter: str,
    start: datetime,
    kwh: float,
    quality: str = "actual",
    *,
    channel: str = "import",
    minutes: int = 30,
    instance: str = "orch-1",
    line: int = 1,
    ingested_at: datetime | None = None,
    source: str = "sim",
    landing: date | None = None,
    source_quality: str | None = None,
    source_quality_reason: str | None = None,
) -> tuple:
    at = ingested_at or utc(2026, 1, 1)
    own = (source_quality, source_quality_reason)
    return (meter, start, minutes, channel, kwh, quality, *own, *lineage(source, instance, line, at, landing))


def half_hours(start: datetime, end: datetime) -> Iterable[datetime]:
    t = start
    while t < end:
        yield t
        t += timedelta(minutes=30)


def stage(
    spark: SparkSession,
    root: Path,
    dataset: str,
    instance: str,
    rows: Sequence[tuple],
    *,
    rejected: int = 0,
    rule_failures: dict[str, int] | None = None,
    source: str = "sim",
    started_at: str = "2026-01-01T00:00:00Z",
    generation: int | None = None,
) -> None:
    """``staging/{dataset}/{instance}/g{generation}/part-*.parquet`` plus ``_report.json``, as the engine
    writes them (without ``generation``: ``staging/{dataset}/{instance}/``, the layout before generations)."""
    folder = root / "staging" / dataset / instance
    if generation is not None:
        folder = folder / f"g{generation}"
    spark.createDataFrame(list(rows), SCHEMAS[dataset]).coalesce(1).write.mode("overwrite").parquet(
        folder.as_uri()
    )
    starts = sorted({r[1].date().isoformat() for r in rows if isinstance(r[1], datetime)})
    report = {
        "schemaVersion": 1,
        "instanceId": instance,
        "file": {
            "path": f"bronze/landing/{dataset}/{source}/{instance}.csv",
            "etag": '"0x1"',
            "sha256": "ab",
        },
        "contract": {"dataset": dataset, "source": source, "maxRejectedShare": 0.05},
        "counts": {
            "rowsRead": len(rows) + rejected,
            "rowsValid": len(rows),
            "rowsRejected": rejected,
            "duplicatesDropped": 0,
        },
        "rejectedShare": rejected / max(1, len(rows) + rejected),
        "ruleFailures": rule_failures or {},
        "affectedDates": starts,
        "verdict": "accepted_with_rejections" if rejected else "accepted",
        "startedAt": started_at,
    }
    (folder / "_report.json").write_text(json.dumps(report), encoding="utf-8")


def naive(*args: int) -> datetime:
    """A UTC instant as ``collect()`` returns it (naive, in the process's UTC zone)."""
    return datetime(*args)
