"""The run manifest: ``audit/job-runs/{instanceId}/{generation}/{job}.json``.

Written once, at the end of a successful run, create-only (the audit container allows no overwrite). If a
manifest for the same instance, generation and job already exists, an earlier attempt of this run finished
its writes; this attempt's writes were then no-ops and the existing manifest stays the citation.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import time
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import SparkSession

import lakewatt
from lakewatt.context import RunContext, is_local_uri, local_path
from lakewatt.delta_io import TableWrite

MANIFEST_VERSION = 1


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def versions(spark: SparkSession) -> dict[str, str | None]:
    def pkg(name: str) -> str | None:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {
        "spark": spark.version,
        "delta": pkg("delta-spark"),
        "python": platform.python_version(),
        "lakewatt": lakewatt.__version__,
        "databricksRuntime": os.environ.get("DATABRICKS_RUNTIME_VERSION"),
    }


@dataclass
class RunManifest:
    ctx: RunContext
    parameters: dict[str, Any]
    started_at: str = field(default_factory=_utc_now)
    _t0: float = field(default_factory=time.monotonic)
    tables: list[TableWrite] = field(default_factory=list)
    timings_ms: dict[str, int] = field(default_factory=dict)
    # UTC days (ISO) whose gold the run's changes make stale beyond the files' own days (reference data).
    affected_dates: list[str] = field(default_factory=list)
    # A readings run's VEE outcome (vee.run's summary); None for other datasets or with VEE disabled.
    vee: dict[str, Any] | None = None
    _mark: float = field(default_factory=time.monotonic)

    def step(self, name: str) -> None:
        """Records the time since the previous step under ``name``."""
        now = time.monotonic()
        self.timings_ms[name] = int((now - self._mark) * 1000)
        self._mark = now

    def add(self, write: TableWrite) -> TableWrite:
        self.tables.append(write)
        return write

    def to_json(self, spark: SparkSession) -> dict[str, Any]:
        return {
            "schemaVersion": MANIFEST_VERSION,
            "job": self.ctx.job,
            "orchestrationId": self.ctx.orchestration_id,
            "generation": self.ctx.generation,
            "databricksRunId": self.ctx.databricks_run_id or None,
            "status": "succeeded",
            "parameters": self.parameters,
            "startedAt": self.started_at,
            "endedAt": _utc_now(),
            "durationMs": int((time.monotonic() - self._t0) * 1000),
            "timingsMs": self.timings_ms,
            "versions": versions(spark),
            "userMetadata": self.ctx.user_metadata,
            "tables": [t.to_json() for t in self.tables],
            "affectedDates": self.affected_dates,
            **({"vee": self.vee} if self.vee is not None else {}),
        }


def write_create_only(uri: str, text: str) -> bool:
    """Writes ``text`` to ``uri`` unless it exists; returns whether this call wrote it."""
    if is_local_uri(uri):
        path = local_path(uri)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            with open(path, "x", encoding="utf-8") as handle:
                handle.write(text)
        except FileExistsError:
            return False
        return True
    from databricks.sdk.runtime import dbutils  # Databricks only: abfss:// through the external location

    try:
        dbutils.fs.put(uri, text, overwrite=False)
    except Exception as error:  # dbutils raises a generic error when the file exists
        if "already exists" in str(error).lower():
            return False
        raise
    return True


def read_small_text(uri: str, max_bytes: int = 16 * 1024 * 1024) -> str | None:
    """A small text file (a validation report) read by the driver; None when it does not exist."""
    if is_local_uri(uri):
        try:
            with open(local_path(uri), encoding="utf-8") as handle:
                return handle.read(max_bytes)
        except FileNotFoundError:
            return None
    from databricks.sdk.runtime import dbutils

    try:
        return dbutils.fs.head(uri, max_bytes)
    except Exception as error:
        if "FileNotFoundException" in str(error) or "does not exist" in str(error).lower():
            return None
        raise


def write_manifest(spark: SparkSession, manifest: RunManifest) -> dict[str, Any]:
    body = manifest.to_json(spark)
    uri = manifest.ctx.manifest_uri()
    body["manifestUri"] = uri
    body["written"] = write_create_only(uri, json.dumps(body, indent=2, default=str) + "\n")
    return body
