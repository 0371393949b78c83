"""Explicit Spark schemas of the four canonical datasets (the rows the validation engine stages).

The single source of truth is the TypeScript dataset contracts (lib/contracts/datasets.ts), exported to
``lakewatt/contracts/datasets.json``. These schemas are written out by hand so job code reads as plain Spark;
tests/test_schemas.py fails whenever the two disagree (names, order, types, nullability, PII, lineage, keys).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any, Literal

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

PiiTreatment = Literal["mask", "drop"]

# Contract type name -> Spark type. Timestamps are UTC instants (TimestampType with the session in UTC).
CONTRACT_TYPES: Mapping[str, DataType] = {
    "string": StringType(),
    "timestamp": TimestampType(),
    "date": DateType(),
    "integer": IntegerType(),
    "long": LongType(),
    "double": DoubleType(),
    "boolean": BooleanType(),
}


def _required(name: str, data_type: DataType) -> StructField:
    return StructField(name, data_type, nullable=False)


def _optional(name: str, data_type: DataType) -> StructField:
    return StructField(name, data_type, nullable=True)


# Where every staged row came from; the same six columns end every dataset.
LINEAGE_FIELDS: tuple[StructField, ...] = (
    _required("source_system", StringType()),
    _required("source_file", StringType()),
    _required("source_etag", StringType()),
    _required("source_line", LongType()),
    _required("ingest_instance_id", StringType()),
    _required("ingested_at", TimestampType()),
)
LINEAGE_COLUMNS: tuple[str, ...] = tuple(field.name for field in LINEAGE_FIELDS)

METER_READINGS = StructType(
    [
        _required("meter_id", StringType()),
        _required("interval_start", TimestampType()),
        _required("interval_minutes", IntegerType()),
        _required("channel", StringType()),
        _required("kwh", DoubleType()),
        _required("quality", StringType()),
        _optional("source_quality", StringType()),
        _optional("source_quality_reason", StringType()),
        *LINEAGE_FIELDS,
    ]
)

CUSTOMERS = StructType(
    [
        _required("customer_id", StringType()),
        _required("name", StringType()),
        _optional("email", StringType()),
        _optional("phone", StringType()),
        _optional("street", StringType()),
        _optional("postcode", StringType()),
        _optional("city", StringType()),
        _required("region", StringType()),
        _required("segment", StringType()),
        _required("created_at", TimestampType()),
        _required("updated_at", TimestampType()),
        *LINEAGE_FIELDS,
    ]
)

CONTRACTS = StructType(
    [
        _required("contract_id", StringType()),
        _required("customer_id", StringType()),
        _required("meter_id", StringType()),
        _required("tariff_type", StringType()),
        _optional("unit_rate_eur_per_kwh", DoubleType()),
        _optional("peak_rate_eur_per_kwh", DoubleType()),
        _optional("offpeak_rate_eur_per_kwh", DoubleType()),
        _optional("peak_start_local", StringType()),
        _optional("peak_end_local", StringType()),
        _required("tariff_timezone", StringType()),
        _optional("spot_markup_eur_per_kwh", DoubleType()),
        _required("standing_charge_eur_per_day", DoubleType()),
        _required("bidding_zone", StringType()),
        _required("valid_from", TimestampType()),
        _optional("valid_to", TimestampType()),
        *LINEAGE_FIELDS,
    ]
)

PRICES = StructType(
    [
        _required("bidding_zone", StringType()),
        _required("interval_start", TimestampType()),
        _required("resolution_minutes", IntegerType()),
        _required("price_eur_per_mwh", DoubleType()),
        _required("provider", StringType()),
        _optional("published_at", TimestampType()),
        *LINEAGE_FIELDS,
    ]
)

SCHEMAS: Mapping[str, StructType] = {
    "meter_readings": METER_READINGS,
    "customers": CUSTOMERS,
    "contracts": CONTRACTS,
    "prices": PRICES,
}

# Business key of each dataset (the MERGE key in silver; customers/contracts also order SCD2 versions).
KEYS: Mapping[str, tuple[str, ...]] = {
    "meter_readings": ("meter_id", "channel", "interval_start"),
    "customers": ("customer_id", "updated_at"),
    "contracts": ("contract_id", "valid_from"),
    "prices": ("bidding_zone", "interval_start", "resolution_minutes"),
}

# Personal data and what silver does with it: "mask" = keyed hash, "drop" = never stored beyond staging.
# Nothing here may reach gold.
PII_COLUMNS: Mapping[str, Mapping[str, PiiTreatment]] = {
    "meter_readings": {},
    "customers": {"name": "mask", "email": "mask", "phone": "mask", "street": "drop"},
    "contracts": {},
    "prices": {},
}


def schema_for(dataset: str) -> StructType:
    """The Spark schema of a canonical dataset; ``KeyError`` naming the known ones otherwise."""
    try:
        return SCHEMAS[dataset]
    except KeyError:
        raise KeyError(f"unknown dataset {dataset!r}; expected one of {sorted(SCHEMAS)}") from None


def load_exported_contracts() -> dict[str, Any]:
    """The dataset contracts exported from TypeScript (``lakewatt/contracts/datasets.json``), parsed."""
    exported = resources.files("lakewatt") / "contracts" / "datasets.json"
    return json.loads(exported.read_text(encoding="utf-8"))


# The validation report the engine writes next to the staged rows (lib/validation/report.ts); only the fields
# the jobs use. Extra fields in the file are ignored, missing ones read as null.
VALIDATION_REPORT = StructType(
    [
        StructField("schemaVersion", IntegerType()),
        StructField("instanceId", StringType()),
        StructField(
            "file",
            StructType(
                [
                    StructField("path", StringType()),
                    StructField("etag", StringType()),
                    StructField("sha256", StringType()),
                ]
            ),
        ),
        StructField(
            "contract",
            StructType([StructField("dataset", StringType()), StructField("source", StringType())]),
        ),
        StructField(
            "counts",
            StructType(
                [
                    StructField("rowsRead", LongType()),
                    StructField("rowsValid", LongType()),
                    StructField("rowsRejected", LongType()),
                    StructField("duplicatesDropped", LongType()),
                ]
            ),
        ),
        StructField("rejectedShare", DoubleType()),
        StructField("ruleFailures", MapType(StringType(), LongType())),
        StructField("affectedDates", ArrayType(StringType())),
        StructField("verdict", StringType()),
        StructField("startedAt", StringType()),
    ]
)
