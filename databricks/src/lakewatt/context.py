"""What a job run knows about where it runs: lake roots, catalog, orchestration identity.

Everything here comes from job parameters. The lake roots come from the bundle target (``file:///...``
locally, ``abfss://<container>@<account>.dfs.core.windows.net/`` on Azure), never from the caller, so an
orchestration cannot point a job at another lake.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlparse

LAYERS = ("bronze", "silver", "gold")


def join_uri(root: str, *parts: str) -> str:
    """``root`` joined with ``parts`` by single slashes (roots may or may not end with one)."""
    out = root.rstrip("/")
    for part in parts:
        out = f"{out}/{part.strip('/')}"
    return out


def is_local_uri(uri: str) -> bool:
    """True for ``file:`` URIs and plain paths, which Python can read and write directly."""
    return urlparse(uri).scheme in ("", "file")


def local_path(uri: str) -> str:
    """The file-system path of a local URI (``file:///x`` -> ``/x``)."""
    parsed = urlparse(uri)
    return parsed.path if parsed.scheme == "file" else uri


@dataclass(frozen=True)
class LakeRoots:
    """Roots of the containers a job touches. Bronze Delta tables live under ``bronze_tables``.

    The bronze container holds the files as received and Databricks may only read it (least privilege), so
    the bronze raw-record Delta tables are kept in their own root, by default ``<silver>/_bronze``.
    """

    staging: str
    silver: str
    gold: str
    audit: str
    bronze_tables: str = ""

    def __post_init__(self) -> None:
        if not self.bronze_tables:
            object.__setattr__(self, "bronze_tables", join_uri(self.silver, "_bronze"))

    def layer_root(self, layer: str) -> str:
        return {"bronze": self.bronze_tables, "silver": self.silver, "gold": self.gold}[layer]


@dataclass(frozen=True)
class RunContext:
    """One job run: which orchestration (and replay generation) it serves, and where tables are."""

    job: str
    orchestration_id: str
    generation: int
    roots: LakeRoots
    catalog: str = ""
    databricks_run_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # W3C traceparent of the trace that started the run (empty: none), so a commit leads back to it.
    traceparent: str = ""

    def table_name(self, layer: str, table: str) -> str:
        """``<layer>.<table>`` locally, ``<catalog>.<layer>.<table>`` in Unity Catalog."""
        if layer not in LAYERS:
            raise ValueError(f"unknown layer {layer!r}")
        return f"{self.catalog}.{layer}.{table}" if self.catalog else f"{layer}.{table}"

    def schema_name(self, layer: str) -> str:
        return f"{self.catalog}.{layer}" if self.catalog else layer

    def table_location(self, layer: str, table: str) -> str:
        return join_uri(self.roots.layer_root(layer), table)

    @property
    def user_metadata(self) -> str:
        """What every Delta commit of this run carries in ``userMetadata`` (compact JSON)."""
        meta: dict[str, object] = {
            "orchestrationId": self.orchestration_id,
            "generation": self.generation,
            "job": self.job,
            "runId": self.databricks_run_id or None,
        }
        if self.traceparent:
            meta["traceparent"] = self.traceparent
        return json.dumps(meta, separators=(",", ":"))

    def manifest_uri(self) -> str:
        return join_uri(
            self.roots.audit, "job-runs", self.orchestration_id, str(self.generation), f"{self.job}.json"
        )
