"""Gold writes that never put an older view of silver over a newer one (#18, item 6).

Two gold runs can overlap (a manual re-run, a retried task on classic compute, an operator's backfill). Each
reads silver, computes, and replaces its days; if the run that read silver first writes last, its frame
would replace the newer run's rows with older ones, and a plain conflict retry writes the same stale frame
again. So a gold run reads every source table at a version it records (a ``Snapshot``), every gold commit
carries that snapshot and the days it replaced in its ``userMetadata``, and before and after each write
the run looks at what others committed to the table since it started:

- when every one of our days was last written from a snapshot at least as new as ours, our write is
  redundant: skip it;
- a commit on any of our days from a snapshot that saw something ours did not makes our frame stale:
  read the sources again at their newest versions, recompute, check again;
- a commit of that kind that landed between our check and our own commit was overwritten by ours: write
  again from the newest sources.

Delta versions only grow, and a snapshot taken later is at least as new in every table as any taken
earlier, so each refresh moves strictly forward and the last write of every day is from the newest silver.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from lakewatt import delta_io

MAX_ROUNDS = 6


class StaleSourcesError(RuntimeError):
    """Other runs kept committing newer data to the same days: the write gave up after ``MAX_ROUNDS``."""


@dataclass(frozen=True)
class Snapshot:
    """The Delta version of each source table a run read (absent: the table had no version)."""

    versions: dict[str, int]

    def saw_more_than(self, other: Snapshot) -> bool:
        """True when some table is at a newer version here than in ``other``."""
        return any(v > other.versions.get(k, -1) for k, v in self.versions.items())

    def covers(self, other: Snapshot) -> bool:
        """True when every table is at least at ``other``'s version here."""
        return all(self.versions.get(k, -1) >= v for k, v in other.versions.items())


def capture(spark: SparkSession, tables: dict[str, str]) -> Snapshot:
    """The current version of each of ``tables`` (key -> table name)."""
    versions = {key: delta_io.current_version(spark, name) for key, name in tables.items()}
    return Snapshot({key: v for key, v in versions.items() if v is not None})


def read_at(spark: SparkSession, table: str, snapshot: Snapshot, key: str) -> DataFrame:
    """``table`` as of the snapshot's version (the table as it is now when the snapshot has none)."""
    version = snapshot.versions.get(key)
    if version is None:
        return spark.table(table)
    return spark.sql(f"SELECT * FROM {table} VERSION AS OF {int(version)}")


def day_ranges(days: Iterable[dt.date]) -> list[list[str]]:
    """Sorted days as contiguous ``[first, last]`` ranges (compact enough for ``userMetadata``)."""
    ranges: list[list[dt.date]] = []
    for day in sorted(set(days)):
        if ranges and (day - ranges[-1][1]).days == 1:
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return [[a.isoformat(), b.isoformat()] for a, b in ranges]


def days_of(ranges: Sequence[Sequence[str]]) -> set[dt.date]:
    out: set[dt.date] = set()
    for first, last in ranges:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            out.add(day)
            day += dt.timedelta(days=1)
    return out


def stamped(user_metadata: str, snapshot: Snapshot, days: Iterable[dt.date]) -> str:
    """The run's ``userMetadata`` with the snapshot it read and the days it replaced."""
    meta = json.loads(user_metadata)
    meta["sources"] = dict(sorted(snapshot.versions.items()))
    meta["days"] = day_ranges(days)
    return json.dumps(meta, separators=(",", ":"))


@dataclass(frozen=True)
class GoldCommit:
    version: int
    snapshot: Snapshot
    days: frozenset[dt.date]


def gold_commits(history: list, after_version: int | None) -> list[GoldCommit]:
    """The commits in ``history`` after ``after_version`` that carry a snapshot and days (newest first)."""
    out = []
    for row in history:
        if after_version is not None and row.version <= after_version:
            break
        try:
            meta = json.loads(row.userMetadata or "")
            snapshot = Snapshot({str(k): int(v) for k, v in meta["sources"].items()})
            days = frozenset(days_of(meta["days"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # not a gold write (maintenance, an older run): nothing to compare
        out.append(GoldCommit(int(row.version), snapshot, days))
    return out


def latest_per_day(commits: Iterable[GoldCommit], days: set[dt.date]) -> dict[dt.date, GoldCommit]:
    """For each of ``days`` that a commit touched, the newest such commit (what the table holds now)."""
    latest: dict[dt.date, GoldCommit] = {}
    for commit in sorted(commits, key=lambda c: c.version):
        for day in days & commit.days:
            latest[day] = commit
    return latest


def verdict(commits: Iterable[GoldCommit], snapshot: Snapshot, days: set[dt.date]) -> str:
    """``skip`` when every one of our days was last written from sources at least as new as ours,
    ``stale`` when any of them was written from sources ours did not see, else ``write``."""
    commits = list(commits)
    latest = latest_per_day(commits, days)
    if len(latest) == len(days) and all(c.snapshot.covers(snapshot) for c in latest.values()):
        return "skip"
    if any(days & c.days and c.snapshot.saw_more_than(snapshot) for c in commits):
        return "stale"
    return "write"


def replace_days(
    spark: SparkSession,
    table: str,
    *,
    days: Sequence[dt.date],
    predicate: str,
    snapshot: Callable[[], Snapshot],
    rows: Callable[[], DataFrame],
    refresh: Callable[[], None],
    user_metadata: str,
    since_version: int | None,
    backoff_s: float = 2.0,
) -> delta_io.TableWrite:
    """Replaces ``days`` of ``table`` with ``rows()`` unless another run already wrote them from newer
    sources; ``refresh()`` makes ``snapshot()``/``rows()`` read the newest sources."""
    started = time.monotonic()
    wanted = set(days)
    for _ in range(MAX_ROUNDS):
        current = snapshot()
        history = delta_io.recent_history(spark, table)
        checked = int(history[0].version) if history else None
        others = gold_commits(history, since_version)
        decision = verdict(others, current, wanted)
        if decision == "skip":
            newest = max(c.version for c in latest_per_day(others, wanted).values())
            return delta_io.TableWrite(
                table=table,
                action="skipped",
                version=checked,
                previous_version=since_version,
                note=f"up to version {newest} the table holds these days from sources at least as new",
                duration_ms=int((time.monotonic() - started) * 1000),
            )
        if decision == "stale":
            refresh()
            continue
        meta = stamped(user_metadata, current, wanted)
        try:
            delta_io.replace_where_once(spark, table, rows(), predicate=predicate, user_metadata=meta)
        except Exception as error:
            if not delta_io.is_conflict(error):
                raise
            time.sleep(backoff_s)
            continue
        history = delta_io.recent_history(spark, table)
        ours = delta_io.own_commit(history, meta, checked)
        between = [c for c in gold_commits(history, checked) if ours is None or c.version < ours.version]
        if any(wanted & c.days and c.snapshot.saw_more_than(current) for c in between):
            refresh()  # we replaced rows newer than ours: write again from the newest sources
            continue
        return delta_io.record_write(
            spark,
            table,
            "replace",
            meta,
            since_version,
            started,
            note=f"replaceWhere {predicate}",
            history=history,
        )
    raise StaleSourcesError(
        f"{table}: other runs kept writing these days from newer sources; gave up after {MAX_ROUNDS} rounds"
    )


def replace_table(
    spark: SparkSession,
    table: str,
    *,
    sources: Sequence[str],
    snapshot: Callable[[], Snapshot],
    rows: Callable[[], DataFrame],
    user_metadata: str,
    since_version: int | None,
    backoff_s: float = 2.0,
) -> delta_io.TableWrite:
    """Replaces the whole of ``table`` (a dimension built from the ``sources`` keys of the snapshot) unless
    its newest gold commit was built from those sources at versions at least as new: most runs find the
    reference data unchanged and write nothing. A write carries the snapshot, so a run that read older
    reference data than the table's last writer skips instead of putting older rows back."""
    started = time.monotonic()
    for _ in range(MAX_ROUNDS):
        read = snapshot()
        wanted = Snapshot({k: v for k, v in read.versions.items() if k in sources})
        history = delta_io.recent_history(spark, table)
        newest = next(iter(gold_commits(history, None)), None)
        if newest is not None and newest.snapshot.covers(wanted):
            return delta_io.TableWrite(
                table=table,
                action="skipped",
                version=int(history[0].version),
                previous_version=since_version,
                note=f"version {newest.version} was built from these {', '.join(sorted(sources))} or newer",
                duration_ms=int((time.monotonic() - started) * 1000),
            )
        meta = stamped(user_metadata, read, ())
        try:
            delta_io.overwrite_once(spark, table, rows(), user_metadata=meta)
        except Exception as error:
            if not delta_io.is_conflict(error):
                raise
            time.sleep(backoff_s)
            continue
        return delta_io.record_write(
            spark, table, "replace", meta, since_version, started, note="whole table"
        )
    raise StaleSourcesError(f"{table}: kept conflicting with other writers; gave up after {MAX_ROUNDS} tries")
