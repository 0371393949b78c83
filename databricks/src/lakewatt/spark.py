"""The SparkSession Lakewatt jobs run in.

On Databricks the runtime's own session is used as it is (classic or Spark Connect/serverless).
Everywhere else a small local session is built with Delta Lake enabled from jars resolved once by
``scripts/setup-python.sh`` into ``.tools/jars`` (or ``$LAKEWATT_DELTA_JARS``). The jars are handed to
Spark as ``spark.jars``, so starting a session never resolves or downloads anything.

Keep job code free of ``sparkContext`` and RDDs: serverless runs it through Spark Connect.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from pyspark.sql import SparkSession

JARS_ENV = "LAKEWATT_DELTA_JARS"
SETUP_HINT = "run `make setup` (or scripts/setup-python.sh)"

# Settings for a fast local session on a small machine, after delta-io's own test base
# (python/delta/testing/utils.py): few partitions everywhere, small Delta snapshot/log caches, no UI.
LOCAL_CONF: Mapping[str, str] = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "2",
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.databricks.delta.delta.log.cacheSize": "3",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.log.level": "WARN",
    "spark.sql.debug.maxToStringFields": "100",
    # Compiled query code kept per JVM (Spark's default: 100 classes). The silver and gold jobs generate ~900
    # distinct classes, so with 100 a warm one-day gold run compiled ~500 of them again every run: 9.5-10.7 s
    # a run with 100, 7.0-7.1 s with 2,000 (~15 compilations a run), metaspace the same (decision 0037).
    "spark.sql.codegen.cache.maxEntries": "2000",
}

# On top of LOCAL_CONF for a session that stays up across runs, as the Jobs emulator's warm worker does (and
# a cluster): a gold run alone reads or writes 14 tables, and with 3 cached Delta logs every switch replays a
# table's log again (a warm gold run took 51 s of CPU with 3, 35 s with 64; docs/jobs-emulator.md). SQL
# statements run beside a task in their own pool: with fair pools a statement gets the next free task slot
# instead of waiting behind every stage of a running job (FIFO within each pool).
WARM_WORKER_CONF: Mapping[str, str] = {
    "spark.databricks.delta.delta.log.cacheSize": "64",
    "spark.scheduler.mode": "FAIR",
}


# The throughput collector: a warm one-day gold run took 11.9-12.1 s with it and 13.6-13.7 s with the default
# G1 (bench/README.md, "Gold per-run cost").
PARALLEL_GC = "-XX:+UseParallelGC"


def _collector(java_options: Sequence[str]) -> list[str]:
    """``PARALLEL_GC`` unless ``java_options`` selects a collector (the JVM refuses to start with two)."""
    chosen = any(o.startswith("-XX:+Use") and o.endswith("GC") for o in java_options)
    return [] if chosen else [PARALLEL_GC]


class DeltaJarsMissingError(RuntimeError):
    """The local Delta Lake jars are not where the session expects them."""


def on_databricks() -> bool:
    """True inside a Databricks runtime (job cluster, all-purpose cluster or serverless)."""
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def _repo_root() -> Path | None:
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for candidate in (start, *start.parents):
            if (candidate / "databricks" / "pyproject.toml").is_file():
                return candidate
    return None


def default_jars_dir() -> Path:
    """``$LAKEWATT_DELTA_JARS`` if set, else ``<repo>/.tools/jars``."""
    configured = os.environ.get(JARS_ENV)
    if configured:
        return Path(configured)
    root = _repo_root() or Path.cwd()
    return root / ".tools" / "jars"


def expected_delta_jar() -> str:
    """File name of the Delta jar matching the installed pyspark and delta-spark packages."""
    spark_minor = ".".join(importlib.metadata.version("pyspark").split(".")[:2])
    return f"delta-spark_{spark_minor}_2.13-{importlib.metadata.version('delta-spark')}.jar"


def delta_jars(jars_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """The jars to put on a local session's classpath; raises ``DeltaJarsMissingError`` when absent."""
    folder = Path(jars_dir) if jars_dir is not None else default_jars_dir()
    try:
        wanted = expected_delta_jar()
    except importlib.metadata.PackageNotFoundError as exc:
        raise DeltaJarsMissingError(f"Python package {exc.name} is not installed; {SETUP_HINT}") from None
    if not (folder / wanted).is_file():
        raise DeltaJarsMissingError(f"Delta Lake jar {wanted} not found in {folder}; {SETUP_HINT}")
    return sorted(folder.glob("*.jar"))


def build_local_spark(
    app_name: str = "lakewatt",
    *,
    warehouse_dir: str | os.PathLike[str] | None = None,
    jars_dir: str | os.PathLike[str] | None = None,
    master: str = "local[2]",
    driver_memory: str = "1g",
    java_options: Sequence[str] = (),
    extra_conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """A local Delta-enabled session (or the one already running in this process).

    ``java_options`` are appended to the driver JVM's options (which start with ``-Duser.timezone=UTC`` and,
    unless ``java_options`` chooses a collector, ``PARALLEL_GC``); ``extra_conf`` overrides any setting made
    here.
    """
    jars = delta_jars(jars_dir)
    conf: dict[str, str] = {
        **LOCAL_CONF,
        "spark.jars": ",".join(str(jar) for jar in jars),
        "spark.driver.memory": driver_memory,
        "spark.driver.extraJavaOptions": " ".join(
            ["-Duser.timezone=UTC", *_collector(java_options), *java_options]
        ),
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
    }
    if warehouse_dir is not None:
        conf["spark.sql.warehouse.dir"] = str(Path(warehouse_dir).resolve())
    conf.update(extra_conf or {})
    # Spark would otherwise pick the first non-loopback interface for its driver's services.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # PySpark starts its Python workers (the PII Arrow UDF) with PYSPARK_PYTHON, not with the conf above, and
    # falls back to `python3`, which lacks this environment's pyarrow.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def compiled_classes(spark: SparkSession) -> int:
    """How many classes Spark's code generator has compiled in this local JVM so far (Spark's own counter).

    A diagnostic for local sessions (the test suite, the benchmarks): Spark Connect has no JVM to ask.
    """
    return spark._jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME().getCount()


def get_spark(app_name: str = "lakewatt") -> SparkSession:
    """The session a job should use: Databricks' own there, otherwise the active or a new local one."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if on_databricks():
        return SparkSession.builder.getOrCreate()
    return build_local_spark(app_name)
