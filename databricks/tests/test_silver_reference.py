"""Customers and contracts: SCD type 2 ranges, PII masked with a stable keyed hash."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pyspark.sql import SparkSession

from lakehelpers import PII_KEY, ctx, lineage, naive, reset_catalog, stage, utc
from lakewatt.jobs import silver
from lakewatt.pii import hmac_sha256_hex, masked

T1, T2 = utc(2026, 1, 1), utc(2026, 1, 2)


def contract(cid, meter, tariff, valid_from, valid_to=None, *, instance, line, at):
    rates = {
        "fixed": (0.30, None, None, None, None, None),
        "time_of_use": (None, 0.40, 0.20, "07:00", "22:00", None),
    }[tariff]
    return (
        cid, "CU1", meter, tariff, *rates[:5], "Europe/Berlin", rates[5], 0.25, "DE-LU", valid_from, valid_to,
        *lineage("billing", instance, line, at),
    )  # fmt: skip


def customer(name, email, phone, street, updated_at, *, instance, line, at, region="Sachsen"):
    return (
        "CU1", name, email, phone, street, "04383", "Leipzig", region, "sme", utc(2023, 1, 1), updated_at,
        *lineage("crm", instance, line, at),
    )  # fmt: skip


@pytest.fixture(scope="module")
def world(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory):
    reset_catalog(spark)
    root = tmp_path_factory.mktemp("lake")
    stage(spark, root, "contracts", "c-1", [
        contract("C1", "M1", "fixed", utc(2025, 1, 1), instance="c-1", line=1, at=T1),
        contract("C2", "M2", "fixed", utc(2025, 1, 1), instance="c-1", line=2, at=T1),
    ])  # fmt: skip
    # The tariff change: C1 re-sent with its end and a new version; C2 only gets its new version.
    stage(spark, root, "contracts", "c-2", [
        contract("C1", "M1", "fixed", utc(2025, 1, 1), utc(2025, 6, 1), instance="c-2", line=1, at=T2),
        contract("C1", "M1", "time_of_use", utc(2025, 6, 1), instance="c-2", line=2, at=T2),
        contract("C2", "M2", "time_of_use", utc(2025, 3, 1), instance="c-2", line=3, at=T2),
    ])  # fmt: skip
    for instance in ("c-1", "c-2"):
        silver.run(spark, ctx(root, "silver", instance), "contracts", [instance], pii_key=None)
    stage(spark, root, "customers", "p-1", [
        customer("Anna Schmidt", " Anna@Example.org ", "+49 30 1234", "Lindenallee 5", utc(2024, 1, 1),
                 instance="p-1", line=1, at=T1),
        customer("Anna Schmidt", "anna@example.org", "+49 30 1234", "Lindenallee 5", utc(2025, 2, 1),
                 instance="p-1", line=2, at=T1, region="Berlin"),
    ])  # fmt: skip
    # A re-delivery of the same versions in another file, later.
    stage(spark, root, "customers", "p-2", [
        customer("Anna Schmidt", "anna@example.org", "+49 30 1234", "Lindenallee 5", utc(2025, 2, 1),
                 instance="p-2", line=1, at=T2, region="Berlin"),
    ])  # fmt: skip
    first = silver.run(spark, ctx(root, "silver", "p-1"), "customers", ["p-1"], pii_key=PII_KEY)
    hashes_after_first = sorted(r.name_hash for r in spark.table("silver.customers").collect())
    second = silver.run(spark, ctx(root, "silver", "p-2"), "customers", ["p-2"], pii_key=PII_KEY)
    return {"first": first, "second": second, "hashes_after_first": hashes_after_first}


def test_tariff_change_closes_the_old_version_and_opens_the_new(spark: SparkSession, world):
    rows = spark.table("silver.contracts").orderBy("contract_id", "valid_from").collect()

    assert [(r.contract_id, r.tariff_type, r.valid_from, r.valid_to, r.is_current) for r in rows] == [
        ("C1", "fixed", naive(2025, 1, 1), naive(2025, 6, 1), False),
        ("C1", "time_of_use", naive(2025, 6, 1), None, True),
        ("C2", "fixed", naive(2025, 1, 1), naive(2025, 3, 1), False),
        ("C2", "time_of_use", naive(2025, 3, 1), None, True),
    ]


def test_customer_versions_form_scd2_ranges(spark: SparkSession, world):
    rows = spark.table("silver.customers").orderBy("valid_from").collect()

    assert [(r.region, r.valid_from, r.valid_to, r.is_current) for r in rows] == [
        ("Sachsen", naive(2024, 1, 1), naive(2025, 2, 1), False),
        ("Berlin", naive(2025, 2, 1), None, True),
    ]


def test_pii_is_masked_with_hmac_of_the_normalised_value_and_street_is_dropped(spark: SparkSession, world):
    def expected(value: str) -> str:
        return hmac.new(PII_KEY, value.encode(), hashlib.sha256).hexdigest()

    for name in ("bronze.customers", "silver.customers"):
        columns = set(spark.table(name).columns)
        row = spark.table(name).orderBy("updated_at").first()
        assert not columns & {"name", "email", "phone", "street"}
        assert (row.name_hash, row.email_hash, row.phone_hash) == (
            expected("Anna Schmidt"),
            expected("anna@example.org"),
            expected("+49301234"),
        )


def test_hash_is_stable_across_runs_and_a_redelivery_changes_nothing(spark: SparkSession, world):
    silver_write = next(t for t in world["second"]["tables"] if t["table"] == "silver.customers")

    assert (
        sorted(r.name_hash for r in spark.table("silver.customers").collect()) == world["hashes_after_first"]
    )
    assert silver_write["action"] == "unchanged"


def test_hmac_expression_equals_python_hmac_for_long_keys_unicode_and_null(spark: SparkSession):
    long_key = b"k" * 100
    values = ["", "Zoë Müller", "x" * 300, None]
    df = spark.createDataFrame([(v,) for v in values], "v string")

    got = [r.h for r in df.select(hmac_sha256_hex(df.v, long_key).alias("h")).collect()]
    masked_empty = df.select(masked("v", long_key)).first()[0]

    assert got == [
        None if v is None else hmac.new(long_key, v.encode(), hashlib.sha256).hexdigest() for v in values
    ]
    assert masked_empty is None
