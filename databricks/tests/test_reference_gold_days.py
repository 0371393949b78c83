"""A contract or customer change names the days with readings whose gold it makes stale (#18, item 8)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pyspark.sql import SparkSession

from lakehelpers import PII_KEY, ctx, lineage, reading, reset_catalog, stage, utc
from lakewatt.jobs import silver

T1 = utc(2026, 1, 1)
# Readings: M1 around the start of June, M2 around the start of March, one reading a day at 10:00 UTC.
READING_DAYS = {
    "M1": [utc(2025, 5, 30, 10) + timedelta(days=n) for n in range(4)],
    "M2": [utc(2025, 2, 27, 10) + timedelta(days=n) for n in range(4)],
}


def contract(cid, meter, tariff_rate, valid_from, valid_to=None, *, customer="CU1", instance, line):
    return (
        cid, customer, meter, "fixed", tariff_rate, None, None, None, None, "Europe/Berlin", None, 0.25,
        "DE-LU", valid_from, valid_to, *lineage("billing", instance, line, T1),
    )  # fmt: skip


def customer(cid, region, updated_at, *, instance, line):
    return (
        cid, "Bo", None, None, None, "04383", "Leipzig", region, "sme", utc(2023, 1, 1), updated_at,
        *lineage("crm", instance, line, T1),
    )  # fmt: skip


def days_of(meter: str, since) -> list[str]:
    return sorted({t.date().isoformat() for t in READING_DAYS[meter] if t >= since})


@pytest.fixture(scope="module")
def world(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory):
    reset_catalog(spark)
    root = tmp_path_factory.mktemp("lake")
    rows = [
        reading(meter, at, 1.0, instance="r-1", line=i)
        for meter, times in READING_DAYS.items()
        for i, at in enumerate(times, start=1 if meter == "M1" else 10)
    ]
    stage(spark, root, "meter_readings", "r-1", rows)
    silver.run(spark, ctx(root, "silver", "r-1"), "meter_readings", ["r-1"], pii_key=None)

    def run(dataset: str, instance: str, staged: list) -> list[str]:
        stage(spark, root, dataset, instance, staged)
        key = PII_KEY if dataset == "customers" else None
        manifest = silver.run(spark, ctx(root, "silver", instance), dataset, [instance], pii_key=key)
        return manifest["affectedDates"]

    def contracts(instance: str) -> list:
        return [
            contract("C1", "M1", 0.30, utc(2025, 1, 1), instance=instance, line=1),
            contract("C2", "M2", 0.30, utc(2025, 1, 1), instance=instance, line=2),
            contract("C3", "M3", 0.30, utc(2025, 1, 1), customer="CU2", instance=instance, line=3),
        ]

    return {
        "first": run("contracts", "c-1", contracts("c-1")),
        "resent": run("contracts", "c-1b", contracts("c-1b")),
        "new_version": run(
            "contracts", "c-2", [contract("C2", "M2", 0.45, utc(2025, 3, 1), instance="c-2", line=1)]
        ),
        "no_readings": run(
            "contracts",
            "c-3",
            [contract("C3", "M3", 0.50, utc(2025, 4, 1), customer="CU2", instance="c-3", line=1)],
        ),
        "customer_v1": run(
            "customers", "p-1", [customer("CU1", "Sachsen", utc(2024, 1, 1), instance="p-1", line=1)]
        ),
        "customer_v2": run(
            "customers", "p-2", [customer("CU1", "Berlin", utc(2025, 5, 31), instance="p-2", line=1)]
        ),
        # C1 (open-ended since 2025-01-01) gets an end: same rates, so only the days after the end change.
        "end_set": run(
            "contracts",
            "c-4",
            [contract("C1", "M1", 0.30, utc(2025, 1, 1), utc(2025, 6, 1), instance="c-4", line=1)],
        ),
    }


def test_when_contracts_load_first_then_every_reading_day_of_their_meters_is_stale(world):
    assert world["first"] == sorted(days_of("M1", utc(2025, 1, 1)) + days_of("M2", utc(2025, 1, 1)))


def test_when_the_same_contracts_are_sent_again_then_no_day_is_stale(world):
    assert world["resent"] == []


def test_when_a_contract_gets_a_new_version_then_only_its_meters_days_from_that_version_on_are_stale(world):
    # The version from 2025-03-01 closes the old one, whose content is unchanged: days before March stay.
    assert world["new_version"] == days_of("M2", utc(2025, 3, 1))


def test_when_a_changed_contracts_meter_has_no_readings_then_no_day_is_stale(world):
    assert world["no_readings"] == []


def test_when_a_customer_moves_then_the_days_of_its_contracts_meters_from_the_move_on_are_stale(world):
    # CU1 holds C1 (M1, readings around 1 June) and C2 (M2, readings around 1 March).
    assert world["customer_v2"] == days_of("M1", utc(2025, 5, 31)) + days_of("M2", utc(2025, 5, 31))


def test_when_a_customer_is_first_loaded_then_all_days_of_its_meters_are_stale(world):
    assert world["customer_v1"] == sorted(days_of("M1", utc(2024, 1, 1)) + days_of("M2", utc(2024, 1, 1)))


def test_when_a_contract_gets_an_end_then_only_the_days_after_it_are_stale(world):
    assert world["end_set"] == days_of("M1", utc(2025, 6, 1))
