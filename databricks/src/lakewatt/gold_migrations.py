"""Gold tables created under an older contract, brought to the current one (#13: one meaning per name).

``ensure_table`` creates a table and only adds nullable columns, so a column renamed or dropped in the
contract, or a CHECK constraint whose allowed values changed (old values mapped to current ones), needs a
step of its own. Gold is derived data with no column mapping (readers such as delta-rs would need a reader
feature for renames), so a migration rewrites the table in two commits:

1. ``CREATE OR REPLACE TABLE`` with the current DDL (columns, comments, clustering, constraints, properties):
   the table is empty at its new schema; the commit's ``userMetadata`` names the version to copy from;
2. the rows of that version, columns renamed and dropped, written over the table: an overwrite, so a retry
   (or a second process doing the same) leaves the rows once.

A process killed between the two leaves the first commit newest; the next run that opens the table finds it
and copies. A table whose columns no migration maps to the contract is refused, naming the columns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F

from lakewatt import delta_io
from lakewatt.table_spec import TableSpec


@dataclass(frozen=True)
class Migration:
    renamed: Mapping[str, str] = field(default_factory=dict)  # old column -> its current name
    dropped: tuple[str, ...] = ()
    # column (current name) -> {old value: current value}, for a CHECK constraint whose allowed values changed
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


MIGRATIONS: Mapping[str, Migration] = {
    # A UTC day and UTC instants say so in their names; the rule-failure map moved to its own table.
    "data_quality_daily": Migration(renamed={"date": "utc_date"}, dropped=("rule_failures",)),
    # VEE's rules replaced gold's own (#14): its zero run is the old zero streak.
    "consumption_anomalies": Migration(
        renamed={"period_start": "period_start_utc", "period_end": "period_end_utc"},
        values={"anomaly_type": {"zero_streak": "zero_run"}},
    ),
    "forecast_features": Migration(renamed={"hour_start": "hour_start_utc"}),
}

MIGRATION_KEY = "schemaMigration"


class GoldSchemaError(RuntimeError):
    """A gold table's columns differ from the contract and no migration maps one to the other."""


def _migration_step(commit) -> dict | None:
    try:
        step = json.loads(commit.userMetadata or "")[MIGRATION_KEY]
        return step if isinstance(step, dict) else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _copy_pending(history: list) -> int | None:
    """The version to copy rows from when the newest migration commit is a REPLACE with no copy after it.

    Looked for through later commits (a VACUUM, another run's write), which must not hide a half-done
    migration."""
    for commit in history:  # newest first
        step = _migration_step(commit)
        if step is not None:
            return int(step["copyFrom"]) if step.get("step") == "replace" else None
    return None


def _stale_constraints(spark: SparkSession, spec: TableSpec, name: str) -> list[str]:
    """The contract's CHECK constraints the table holds with another expression (say, an older list of
    allowed values). One the table lacks is not stale: creation and migration declare missing ones."""
    prefix = "delta.constraints."
    held = {
        row.key[len(prefix) :]: row.value
        for row in spark.sql(f"SHOW TBLPROPERTIES {name}").collect()
        if row.key.startswith(prefix)
    }
    return sorted(
        key
        for key, expression in spec.constraints.items()
        if key.lower() in held and held[key.lower()] != expression
    )


def _mapped(column: str, values: Mapping[str, str]) -> Column:
    """``column`` with each old value replaced by its current one."""
    mapped = F.col(column)
    for old_value, new_value in values.items():
        mapped = F.when(F.col(column) == F.lit(old_value), F.lit(new_value)).otherwise(mapped)
    return mapped.alias(column)


def bring_to_contract(
    spark: SparkSession, spec: TableSpec, name: str, replace_sql: Callable[[], str]
) -> bool:
    """Migrates ``name`` to ``spec`` when it was created under an older contract; True when it did.

    ``replace_sql`` gives the table's ``CREATE OR REPLACE TABLE`` statement at the current contract.
    """
    migration = MIGRATIONS.get(spec.name)
    if migration is None:
        return False
    history = delta_io.recent_history(spark, name)
    source = _copy_pending(history)
    if source is None:
        columns = spark.table(name).columns
        if columns == spec.columns and not _stale_constraints(spark, spec, name):
            return False
        mapped = [migration.renamed.get(c, c) for c in columns if c not in migration.dropped]
        if sorted(mapped) != sorted(spec.columns):
            missing, extra = sorted(set(spec.columns) - set(mapped)), sorted(set(mapped) - set(spec.columns))
            raise GoldSchemaError(
                f"{name}: no migration maps its columns to the contract (missing {missing}, unknown "
                f"{extra}); drop the table and run gold over its days to rebuild it"
            )
        source = int(history[0].version)
        step = {MIGRATION_KEY: {"table": spec.name, "step": "replace", "copyFrom": source}}
        with delta_io.commit_metadata(spark, json.dumps(step, separators=(",", ":"))):
            spark.sql(replace_sql())
    old = spark.sql(f"SELECT * FROM {name} VERSION AS OF {source}")
    rows = old.select(
        *[F.col(c).alias(migration.renamed.get(c, c)) for c in old.columns if c not in migration.dropped]
    ).select(*(_mapped(c, migration.values.get(c, {})) for c in spec.columns))
    copied = {MIGRATION_KEY: {"table": spec.name, "step": "copy", "copiedFrom": source}}
    delta_io.overwrite_once(spark, name, rows, user_metadata=json.dumps(copied, separators=(",", ":")))
    return True
