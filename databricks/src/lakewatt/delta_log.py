"""A table's recent commits read straight from its ``_delta_log`` folder, for tables on the local disk.

Every write reads the table's history two or three times (its version before, the commits since, its own
commit after), and a gold run reads the version of every source table: about 35 ``DESCRIBE HISTORY`` per run.
Each is a Spark command of 0.3-1 s on the local worker, most of a warm gold run's fixed cost; the same answer
from the log folder costs a directory listing and a few small file reads. Only the Delta protocol's
published parts are read: commit files are ``<version, 20 digits>.json``, one action per line, and the
``commitInfo`` action carries ``operation``, ``operationMetrics`` and ``userMetadata``. Cloud tables
(abfss://) keep ``DESCRIBE HISTORY``; ``delta_io`` picks the reader.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, NamedTuple

_COMMIT = re.compile(r"^(\d{20})\.json$")


class Commit(NamedTuple):
    """One history row, with the attributes of ``DESCRIBE HISTORY``'s columns (hence their camel case)."""

    version: int
    operation: str | None
    operationMetrics: dict[str, str] | None
    userMetadata: str | None


def commit_versions(table_dir: str) -> list[int]:
    """The versions whose commit file is in the log, newest first (older ones may be cleaned up)."""
    try:
        names = os.listdir(os.path.join(table_dir, "_delta_log"))
    except FileNotFoundError:
        return []
    return sorted((int(m.group(1)) for m in map(_COMMIT.match, names) if m), reverse=True)


def _commit_info(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            action = json.loads(line) if line.strip() else {}
            if "commitInfo" in action:
                return action["commitInfo"] or {}
    return {}


def history(table_dir: str, limit: int) -> list[Commit]:
    """The newest ``limit`` commits, newest first, as ``DESCRIBE HISTORY ... LIMIT limit`` lists them."""
    log_dir = os.path.join(table_dir, "_delta_log")
    out = []
    for version in commit_versions(table_dir)[:limit]:
        info = _commit_info(os.path.join(log_dir, f"{version:020d}.json"))
        metrics = info.get("operationMetrics")
        metrics = {str(k): str(v) for k, v in metrics.items()} if metrics is not None else None
        out.append(
            Commit(
                version=version,
                operation=info.get("operation"),
                operationMetrics={str(k): str(v) for k, v in metrics.items()}
                if metrics is not None
                else None,
                userMetadata=info.get("userMetadata"),
            )
        )
    return out
