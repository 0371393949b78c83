"""The only place that writes Delta tables: idempotent append, MERGE, partition replace.

Every commit carries the run's ``userMetadata`` (orchestration id, generation, job, run id) and every write
returns a ``TableWrite`` naming the Delta version it committed and that commit's ``operationMetrics``, read
back from the table's history, so the run manifest cites exactly what changed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakewatt import delta_log

USER_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"

# Delta's optimistic concurrency errors: another writer committed first; the whole transaction was rolled
# back, so running the (idempotent) write again is safe.
CONFLICT_MARKERS = (
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException",
    "DELTA_CONCURRENT_APPEND",
    "DELTA_CONCURRENT_DELETE_READ",
    "DELTA_CONCURRENT_DELETE_DELETE",
    "DELTA_CONCURRENT_TRANSACTION",
)


@dataclass
class TableWrite:
    """What one write did to one table (one entry of the run manifest)."""

    table: str
    action: str  # append | merge | replace | unchanged | skipped | maintain
    version: int | None
    previous_version: int | None
    operation: str | None = None
    operation_metrics: dict[str, str] = field(default_factory=dict)
    user_metadata: str | None = None
    source_rows: int | None = None
    row_count: int | None = None
    duration_ms: int = 0
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        return {_camel(k): v for k, v in out.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@contextmanager
def commit_metadata(spark: SparkSession, user_metadata: str) -> Iterator[None]:
    """Sets the session's commit ``userMetadata`` for SQL writes (MERGE) and restores it afterwards.

    The session may be shared (a warm local worker, a Databricks cluster), so the previous value comes back
    even when the write fails.
    """
    previous = spark.conf.get(USER_METADATA_CONF, None)
    spark.conf.set(USER_METADATA_CONF, user_metadata)
    try:
        yield
    finally:
        if previous is None:
            spark.conf.unset(USER_METADATA_CONF)
        else:
            spark.conf.set(USER_METADATA_CONF, previous)


def is_conflict(error: BaseException) -> bool:
    text = f"{type(error).__name__} {error}"
    return any(marker in text for marker in CONFLICT_MARKERS)


def with_conflict_retry(write: Callable[[], None], *, attempts: int = 4, backoff_s: float = 2.0) -> None:
    """Runs ``write``; on a Delta concurrent-modification conflict waits and runs it again."""
    for attempt in range(1, attempts + 1):
        try:
            write()
            return
        except Exception as error:
            if attempt == attempts or not is_conflict(error):
                raise
            time.sleep(backoff_s * attempt)


# Where ``tables.ensure_table`` registered a local table (a session setting per catalog name): a session
# setting outlives the emulator worker's module purge between runs, and dies with the session's catalog.
REGISTERED_CONF = "spark.lakewatt.registered."


def remember_local_dir(spark: SparkSession, table: str, folder: str) -> None:
    spark.conf.set(REGISTERED_CONF + table, folder)


def forget_local_dir(spark: SparkSession, table: str) -> None:
    spark.conf.unset(REGISTERED_CONF + table)


def local_dir(spark: SparkSession, table: str) -> str | None:
    """The folder of a local table this session registered, or None (a cloud table, or not yet seen)."""
    try:
        return spark.conf.get(REGISTERED_CONF + table, None)
    except PySparkException:  # Databricks serverless refuses unknown settings (CONFIG_NOT_AVAILABLE)
        return None


def sql_target(spark: SparkSession, table: str) -> str:
    """How a SQL write names ``table``: by folder when this session registered it locally, else by name.

    By name, open-source Delta plans the write through the catalog first (the table and its metadata loaded
    and compared as a catalog table); by folder it goes straight to the log: a one-day gold run took 13.3 s
    instead of 15.8 s (decision 0036). Unity Catalog tables are written by name.
    """
    folder = local_dir(spark, table)
    return table if folder is None else "delta.`" + folder.replace("`", "``") + "`"


def latest_commit(spark: SparkSession, table: str):
    """The newest history row (version, operation) of ``table``, or None."""
    rows = recent_history(spark, table, 1)
    return rows[0] if rows else None


def current_version(spark: SparkSession, table: str) -> int | None:
    latest = latest_commit(spark, table)
    return int(latest.version) if latest else None


CREATE_OPERATIONS = ("CREATE TABLE", "CREATE OR REPLACE TABLE", "REPLACE TABLE")


def only_created(latest) -> bool:
    """True when the table's only commit is its creation (no data can be in it): read from history, free."""
    return latest is not None and int(latest.version) == 0 and latest.operation in CREATE_OPERATIONS


def recent_history(spark: SparkSession, table: str, limit: int = 50) -> list:
    """The newest ``limit`` history rows (version, operation, operationMetrics, userMetadata), newest first.

    One small query: the commit of this run and the table's current version are both picked from it. A
    local table's log is read directly (``delta_log``): the same rows without a Spark command.
    """
    local = local_dir(spark, table)
    if local is not None:
        return delta_log.history(local, limit)
    return (
        spark.sql(f"DESCRIBE HISTORY {table} LIMIT {limit}")
        .select("version", "operation", "operationMetrics", "userMetadata")
        .collect()
    )


def own_commit(history: list, user_metadata: str, after_version: int | None):
    """The newest row of ``history`` after ``after_version`` that this run committed (or None)."""
    for row in history:  # newest first
        if after_version is not None and row.version <= after_version:
            return None
        if row.userMetadata == user_metadata:
            return row
    return None


def table_row_count(spark: SparkSession, table: str) -> int:
    # A bare count over a Delta table is answered from the file statistics in the log.
    return int(spark.table(table).count())


def record_write(
    spark: SparkSession,
    table: str,
    action: str,
    user_metadata: str,
    before: int | None,
    started: float,
    source_rows: int | None = None,
    note: str | None = None,
    history: list | None = None,
) -> TableWrite:
    """The manifest entry of a write: its commit (from ``history``, read now when not given) and the
    table's rows after it, counted for appends and merges. A replace leaves ``row_count`` None: counting
    a whole table is a Spark job per table per run; the rows it wrote are in the commit's
    ``operation_metrics`` (``numOutputRows``)."""
    history = recent_history(spark, table) if history is None else history
    commit = own_commit(history, user_metadata, before)
    if commit is None:
        action = "unchanged" if action != "skipped" else action
        version = int(history[0].version) if history else None
        operation, metrics = None, {}
    else:
        version, operation = int(commit.version), commit.operation
        metrics = {k: str(v) for k, v in (commit.operationMetrics or {}).items()}
    return TableWrite(
        table=table,
        action=action,
        version=version,
        previous_version=before,
        operation=operation,
        operation_metrics=metrics,
        user_metadata=user_metadata if commit is not None else None,
        source_rows=source_rows,
        row_count=None if action == "replace" else table_row_count(spark, table),
        duration_ms=int((time.monotonic() - started) * 1000),
        note=note,
    )


def append_once(
    spark: SparkSession,
    table: str,
    rows: DataFrame,
    *,
    instance_ids: list[str],
    user_metadata: str,
) -> TableWrite:
    """Adds the rows of ``instance_ids`` that the table does not hold yet, keyed by (instance, source line).

    Staging is per orchestration instance and immutable, so "this instance is already in the table" means
    "this exact data is already in the table": a retried or replayed run adds nothing twice. A cheap check
    (a filter on ``ingest_instance_id``, which the table is clustered by) skips instances already present;
    the rest go in through an insert-only MERGE on (``ingest_instance_id``, ``source_line``), so two runs of
    one instance that both passed the check (an earlier run outliving its orchestration, and the replay)
    still leave each line once: the later MERGE conflicts with the earlier commit, is retried, and finds
    its lines there.
    """
    started = time.monotonic()
    before = current_version(spark, table)
    done = sorted(present_instances(spark, table, instance_ids))
    todo = [i for i in instance_ids if i not in set(done)]
    note = f"already present: {', '.join(done)}" if done else None
    if not todo:
        return record_write(spark, table, "skipped", user_metadata, before, started, note=note)
    insert_new_lines(spark, table, rows, instance_ids=todo, user_metadata=user_metadata)
    return record_write(spark, table, "append", user_metadata, before, started, note=note)


def present_instances(spark: SparkSession, table: str, instance_ids: list[str]) -> set[str]:
    """The ``instance_ids`` that have rows in ``table``."""
    present = (
        spark.table(table)
        .where(F.col("ingest_instance_id").isin(instance_ids))
        .select("ingest_instance_id")
        .distinct()
        .collect()
    )
    return {r.ingest_instance_id for r in present}


def insert_new_lines(
    spark: SparkSession, table: str, rows: DataFrame, *, instance_ids: list[str], user_metadata: str
) -> None:
    """Inserts the rows of ``instance_ids`` whose (instance, source line) the table does not hold."""
    view = f"lakewatt_append_source_{abs(hash((table, user_metadata))) % 10**8}"
    rows.where(F.col("ingest_instance_id").isin(instance_ids)).select(
        *spark.table(table).columns
    ).createOrReplaceTempView(view)
    listed = ", ".join("'" + i.replace("'", "''") + "'" for i in instance_ids)
    statement = (
        f"MERGE INTO {sql_target(spark, table)} AS t USING {view} AS s "
        f"ON t.ingest_instance_id IN ({listed}) "
        "AND t.ingest_instance_id = s.ingest_instance_id AND t.source_line = s.source_line "
        "WHEN NOT MATCHED THEN INSERT *"
    )

    def go() -> None:
        with commit_metadata(spark, user_metadata):
            spark.sql(statement)

    try:
        with_conflict_retry(go)
    finally:
        spark.catalog.dropTempView(view)


def merge(
    spark: SparkSession,
    table: str,
    changes: DataFrame,
    *,
    on: str,
    user_metadata: str,
    matched_condition: str | None = None,
    source_rows: int | None = None,
    first_load_inserts: bool = True,
    target_filter: Callable[[], str | None] | None = None,
) -> TableWrite:
    """``MERGE INTO table`` from ``changes``: update matched rows (when ``matched_condition``), insert others.

    ``changes`` should already hold only rows that win over the target, so a re-run with the same input
    matches nothing to change and (with deletion vectors) commits nothing.

    ``target_filter`` builds an extra condition on the target (for example the batch's date window, so the
    full MERGE skips target files); it is called only when the full MERGE runs, since a first load does not
    need it.

    ``first_load_inserts``: when the table's only commit is its creation (so it is empty; read from the
    history row fetched anyway), run an insert-only MERGE (no matched clause). Delta executes that as one
    pass over the source (an anti-join, no source materialisation, no touched-file scan), where the full
    MERGE computes the source twice. If another writer committed between that check and this MERGE, the
    full MERGE runs as well, which is idempotent and applies any update the insert-only pass could not see.
    """
    started = time.monotonic()
    latest = latest_commit(spark, table)
    before = int(latest.version) if latest else None
    view = f"lakewatt_merge_source_{abs(hash((table, user_metadata))) % 10**8}"
    changes.createOrReplaceTempView(view)
    when_matched = f"WHEN MATCHED AND ({matched_condition})" if matched_condition else "WHEN MATCHED"
    target = sql_target(spark, table)

    def sql(condition: str, *, inserts_only: bool = False) -> str:
        head = f"MERGE INTO {target} AS t USING {view} AS s ON {condition} "
        if inserts_only:
            return f"{head}WHEN NOT MATCHED THEN INSERT *"
        return f"{head}{when_matched} THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"

    def full_sql() -> str:
        extra = target_filter() if target_filter is not None else None
        return sql(f"{on} AND {extra}" if extra else on)

    def run(statement: str) -> Callable[[], None]:
        def go() -> None:
            with commit_metadata(spark, user_metadata):
                spark.sql(statement)

        return go

    note = None
    try:
        if first_load_inserts and before is not None and only_created(latest):
            with_conflict_retry(run(sql(on, inserts_only=True)))
            newest = recent_history(spark, table, 5)
            ours = own_commit(newest, user_metadata, before)
            clean = ours.version == before + 1 if ours is not None else newest[0].version == before
            if clean:
                note = "first load: insert-only MERGE"
            else:  # another writer committed around this one: settle precedence with the full MERGE
                with_conflict_retry(run(full_sql()))
        else:
            with_conflict_retry(run(full_sql()))
    finally:
        spark.catalog.dropTempView(view)
    return record_write(
        spark, table, "merge", user_metadata, before, started, source_rows=source_rows, note=note
    )


def replace_where_once(
    spark: SparkSession, table: str, rows: DataFrame, *, predicate: str, user_metadata: str
) -> None:
    """One attempt at replacing the rows matching ``predicate`` with ``rows`` (Delta ``replaceWhere``).

    Rows outside the predicate make the write fail (Delta checks it), so a bug cannot touch other dates.
    Gold writes go through ``fresh_writes.replace_days``, which retries conflicts and keeps an older read
    of silver from replacing a newer one.
    """
    writer = (
        rows.select(*spark.table(table).columns)
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", predicate)
        .option("userMetadata", user_metadata)
    )
    folder = local_dir(spark, table)
    if folder is None:
        writer.saveAsTable(table)
    else:  # by folder, as sql_target says why
        writer.save(folder)


def overwrite_once(spark: SparkSession, table: str, rows: DataFrame, *, user_metadata: str) -> None:
    """One attempt at replacing every row of ``table`` with ``rows`` (a small dimension rebuilt whole).

    ``replaceWhere`` with a predicate every row meets: a plain overwrite (or ``INSERT OVERWRITE``) replaces
    the table's metadata too and drops its liquid clustering.
    """
    replace_where_once(spark, table, rows, predicate="true", user_metadata=user_metadata)


def manifest_json(writes: list[TableWrite]) -> str:
    return json.dumps([w.to_json() for w in writes], indent=2)
