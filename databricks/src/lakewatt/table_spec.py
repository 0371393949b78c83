"""The declaration of one Delta table (``TableSpec``) and the field helpers the layer modules share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pyspark.sql.types import StructField, StructType


@dataclass(frozen=True)
class TableSpec:
    layer: str
    name: str
    schema: StructType
    comment: str
    cluster_by: tuple[str, ...] = ()
    constraints: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)
    column_comments: Mapping[str, str] = field(default_factory=dict)
    # Informational keys (Unity Catalog: not enforced, declared for BI tools and readers; tables.py).
    primary_key: tuple[str, ...] = ()
    # column -> the table (same layer) whose single-column primary key it references.
    foreign_keys: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def columns(self) -> list[str]:
        return self.schema.fieldNames()


def req(name: str, data_type) -> StructField:
    return StructField(name, data_type, nullable=False)


def opt(name: str, data_type) -> StructField:
    return StructField(name, data_type, nullable=True)
