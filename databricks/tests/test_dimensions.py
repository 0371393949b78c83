"""The meter, customer and contract dimensions (#13): built from silver's reference data, rebuilt only when it
changed."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import SparkSession

from lakehelpers import PII_KEY, ctx, lineage, reset_catalog, stage, utc
from lakewatt.jobs import gold, silver
from lakewatt.jobs.common import JobParameterError

DIMENSIONS = ["dim_meter", "dim_customer", "dim_contract"]
T = utc(2026, 1, 1)


def contract(line, cid, customer, meter, rate, valid_from, valid_to=None, instance="ref-c"):
    return (cid, customer, meter, "fixed", rate, None, None, None, None, "Europe/London", None, 0.4, "GB",
            valid_from, valid_to, *lineage("billing", instance, line, T))  # fmt: skip


def customer(line, cid, region, segment):
    created = utc(2023, 5, 1)
    return (cid, "Clear Name", None, None, None, None, None, region, segment, created, created,
            *lineage("crm", "ref-p", line, T))  # fmt: skip


def load(spark: SparkSession, root, dataset: str, instance: str, rows: list) -> None:
    stage(spark, root, dataset, instance, rows)
    silver.run(spark, ctx(root, "silver", instance), dataset, [instance], pii_key=PII_KEY)


def dimension_run(spark: SparkSession, root, name: str) -> dict[str, str]:
    """A gold run as a reference file that made no day stale starts it: dimensions only, no days."""
    manifest = gold.run(spark, ctx(root, "gold", name), None, None, tables=DIMENSIONS)
    return {entry["table"]: entry["action"] for entry in manifest["tables"]}


def load_reference(spark: SparkSession, root) -> None:
    """M1 moved from CU1's contract C1 to CU2's C2 on 2025-01-01; CU3's contract C3 on M2 came before any
    record of CU3; CU4 has a record and no contract."""
    reset_catalog(spark)
    load(spark, root, "contracts", "ref-c", [
        contract(1, "C1", "CU1", "M1", 0.30, utc(2024, 1, 1), utc(2025, 1, 1)),
        contract(2, "C2", "CU2", "M1", 0.28, utc(2025, 1, 1)),
        contract(3, "C3", "CU3", "M2", 0.31, utc(2024, 6, 1)),
    ])  # fmt: skip
    load(spark, root, "customers", "ref-p", [
        customer(1, "CU1", "North", "residential"),
        customer(2, "CU2", "South", "sme"),
        customer(3, "CU4", "East", "residential"),
    ])  # fmt: skip


@pytest.fixture(scope="module")
def built(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory):
    """The reference world with its dimensions built once (the read-only tests share it)."""
    root = tmp_path_factory.mktemp("dimensions")
    load_reference(spark, root)
    dimension_run(spark, root, "g-1")
    return root


def read(spark: SparkSession, root, name: str) -> list:
    """A gold table's rows, read from its folder (the catalog is shared with other tests)."""
    return spark.read.format("delta").load(str(root / "gold" / name)).collect()


def table(spark: SparkSession, root, name: str, key: str) -> dict:
    return {r[key]: r for r in read(spark, root, name)}


def test_when_a_meter_changed_contract_then_dim_meter_shows_its_latest_contract_and_first_start(
    spark: SparkSession, built
):
    meters = table(spark, built, "dim_meter", "meter_id")
    assert set(meters) == {"M1", "M2"}
    m1 = meters["M1"]
    assert (m1.customer_id, m1.contract_id, m1.region, m1.segment) == ("CU2", "C2", "South", "sme")
    assert (m1.supply_start_utc, m1.supply_end_utc, m1.is_supplied, m1.contract_versions) == (
        dt.datetime(2024, 1, 1),
        None,
        True,
        2,
    )
    m2 = meters["M2"]
    assert (m2.customer_id, m2.region, m2.timezone) == ("CU3", None, "Europe/London")


def test_when_a_contract_names_a_customer_without_a_record_then_dim_customer_has_it_without_attributes(
    spark: SparkSession, built
):
    customers = {
        cid: (r.region, r.segment, r.meters, r.has_record)
        for cid, r in table(spark, built, "dim_customer", "customer_id").items()
    }
    assert customers == {
        "CU1": ("North", "residential", 0, True),  # its only contract ended: no meter's latest names it
        "CU2": ("South", "sme", 1, True),
        "CU3": (None, None, 1, False),
        "CU4": ("East", "residential", 0, True),
    }
    assert "Clear Name" not in {v for r in read(spark, built, "dim_customer") for v in r}


def test_when_contract_versions_are_built_then_each_has_a_key_its_validity_and_whether_it_is_current(
    spark: SparkSession, built
):
    versions = {
        key: (r.contract_id, r.valid_from_utc, r.valid_to_utc, r.is_current, r.unit_rate_eur_per_kwh)
        for key, r in table(spark, built, "dim_contract", "contract_version_key").items()
    }
    assert versions == {
        "C1@2024-01-01T00:00:00Z": ("C1", dt.datetime(2024, 1, 1), dt.datetime(2025, 1, 1), False, 0.30),
        "C2@2025-01-01T00:00:00Z": ("C2", dt.datetime(2025, 1, 1), None, True, 0.28),
        "C3@2024-06-01T00:00:00Z": ("C3", dt.datetime(2024, 6, 1), None, True, 0.31),
    }


def test_when_reference_data_is_unchanged_then_the_dimensions_are_not_rewritten_and_a_change_rewrites_them(
    spark: SparkSession, tmp_path
):
    reference = tmp_path
    load_reference(spark, reference)
    first = dimension_run(spark, reference, "g-1")
    again = dimension_run(spark, reference, "g-2")
    load(spark, reference, "contracts", "ref-c2", [
        contract(1, "C2", "CU2", "M1", 0.26, utc(2025, 6, 1), instance="ref-c2"),
    ])  # fmt: skip
    changed = dimension_run(spark, reference, "g-3")

    assert set(first.values()) == {"replace"}
    assert set(again.values()) == {"skipped"}
    assert set(changed.values()) == {"replace"}
    m1 = table(spark, reference, "dim_meter", "meter_id")["M1"]
    assert (m1.contract_versions, m1.contract_id) == (3, "C2")
    versions = read(spark, reference, "dim_contract")
    current = [r for r in versions if r.contract_id == "C2" and r.is_current]
    assert [(r.valid_from_utc, r.unit_rate_eur_per_kwh) for r in current] == [(dt.datetime(2025, 6, 1), 0.26)]


def test_when_a_run_without_days_asks_for_a_table_with_days_then_it_is_refused_naming_the_table(
    spark: SparkSession, tmp_path
):
    with pytest.raises(JobParameterError, match=r"date_from is required.*daily_consumption"):
        gold.run(spark, ctx(tmp_path, "gold", "g-x"), None, None, tables=["dim_meter", "daily_consumption"])
