"""The hand-written Spark schemas must agree with the contracts exported from TypeScript."""

from __future__ import annotations

import pytest

from lakewatt.schemas import (
    KEYS,
    LINEAGE_COLUMNS,
    PII_COLUMNS,
    SCHEMAS,
    load_exported_contracts,
    schema_for,
)

EXPORTED = load_exported_contracts()
DATASETS = sorted(EXPORTED["datasets"])

# The contract type vocabulary and the Spark SQL type each becomes, spelled out apart from schemas.py.
SPARK_TYPE_OF = {
    "string": "string",
    "timestamp": "timestamp",
    "date": "date",
    "integer": "int",
    "long": "bigint",
    "double": "double",
    "boolean": "boolean",
}


def columns_of(dataset: str) -> list[dict]:
    return EXPORTED["datasets"][dataset]["columns"]


def test_when_contracts_are_loaded_then_the_export_format_is_the_one_this_code_reads():
    assert EXPORTED["version"] == 1
    assert DATASETS == ["contracts", "customers", "meter_readings", "prices"]


def test_when_contracts_are_exported_then_spark_has_a_schema_for_exactly_those_datasets():
    assert sorted(SCHEMAS) == DATASETS
    assert sorted(PII_COLUMNS) == DATASETS
    assert sorted(KEYS) == DATASETS


@pytest.mark.parametrize("dataset", DATASETS)
def test_when_a_dataset_is_exported_then_its_spark_schema_has_the_same_columns_types_and_nullability(
    dataset: str,
):
    unknown = {c["type"] for c in columns_of(dataset)} - set(SPARK_TYPE_OF)
    assert not unknown, f"contract types with no Spark mapping: {unknown}"
    expected = [(c["name"], SPARK_TYPE_OF[c["type"]], c["nullable"]) for c in columns_of(dataset)]

    actual = [(f.name, f.dataType.simpleString(), f.nullable) for f in schema_for(dataset).fields]

    assert actual == expected


@pytest.mark.parametrize("dataset", DATASETS)
def test_when_a_contract_marks_pii_then_schemas_marks_exactly_those_columns_the_same_way(dataset: str):
    expected = {c["name"]: c["pii"] for c in columns_of(dataset) if c.get("pii")}

    assert dict(PII_COLUMNS[dataset]) == expected


@pytest.mark.parametrize("dataset", DATASETS)
def test_when_a_contract_marks_lineage_then_those_are_the_shared_lineage_columns(dataset: str):
    expected = [c["name"] for c in columns_of(dataset) if c.get("lineage")]

    assert expected == list(LINEAGE_COLUMNS)
    assert schema_for(dataset).fieldNames()[-len(LINEAGE_COLUMNS) :] == list(LINEAGE_COLUMNS)


@pytest.mark.parametrize("dataset", DATASETS)
def test_when_a_contract_names_a_key_then_schemas_uses_the_same_key(dataset: str):
    assert list(KEYS[dataset]) == EXPORTED["datasets"][dataset]["key"]


def test_when_an_unknown_dataset_is_asked_for_then_the_error_names_the_known_ones():
    with pytest.raises(KeyError, match="meter_readings"):
        schema_for("meter_reading")
