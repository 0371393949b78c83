"""Driver-side logic of the jobs: date scopes, names, commit metadata, parameter errors."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from lakehelpers import lake
from lakewatt.context import RunContext, join_uri
from lakewatt.jobs.common import JobParameterError
from lakewatt.jobs.gold import date_predicate, local_dates
from lakewatt.jobs.silver import main as silver_main
from lakewatt.pii import MissingPiiKeyError, resolve_key
from lakewatt.transforms.silver import shuffle_partitions


def test_a_utc_day_covers_the_next_local_day_east_of_utc_and_the_previous_one_west():
    day = dt.date(2025, 10, 27)

    assert local_dates(day, day, ["UTC"]) == [day]
    assert local_dates(day, day, ["Europe/Berlin"]) == [day, dt.date(2025, 10, 28)]
    assert local_dates(day, day, ["America/New_York"]) == [dt.date(2025, 10, 26), day]


def test_replace_predicate_spans_the_days():
    days = [dt.date(2025, 1, 2), dt.date(2025, 1, 1)]

    assert date_predicate(days) == "date >= DATE'2025-01-01' AND date <= DATE'2025-01-02'"


def test_when_the_days_have_a_gap_then_the_replace_predicate_names_each_day_and_none_between():
    days = [dt.date(2024, 1, 5), dt.date(2025, 3, 4), dt.date(2025, 3, 5)]

    assert date_predicate(days) == "date IN (DATE'2024-01-05', DATE'2025-03-04', DATE'2025-03-05')"


def test_names_locations_and_commit_metadata(tmp_path):
    local = RunContext("gold", "orch-9", 2, lake(tmp_path))
    uc = RunContext("gold", "orch-9", 2, lake(tmp_path), catalog="lakewatt", databricks_run_id="77")

    assert local.table_name("silver", "prices") == "silver.prices"
    assert uc.table_name("gold", "daily_consumption") == "lakewatt.gold.daily_consumption"
    assert local.table_location("bronze", "prices").endswith("/silver/_bronze/prices")
    assert local.manifest_uri().endswith("/audit/job-runs/orch-9/2/gold.json")
    assert json.loads(uc.user_metadata) == {
        "orchestrationId": "orch-9",
        "generation": 2,
        "job": "gold",
        "runId": "77",
    }
    assert join_uri("abfss://silver@acct.dfs.core.windows.net/", "x", "/y/") == (
        "abfss://silver@acct.dfs.core.windows.net/x/y"
    )


def test_bad_parameters_fail_with_a_clear_message(tmp_path):
    roots = [f"--{n}=file://{tmp_path}/" for n in ("staging_root", "silver_root", "gold_root", "audit_root")]

    with pytest.raises(JobParameterError, match="generation"):
        silver_main(["--dataset=prices", "--orchestration_id=o", "--generation=one", *roots])
    with pytest.raises(JobParameterError, match="audit_root"):
        silver_main(["--dataset=prices", "--orchestration_id=o", *roots[:3], "--audit_root="])


def test_pii_key_has_no_default_and_must_be_long_enough(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PII_HASH_KEY", raising=False)

    with pytest.raises(MissingPiiKeyError, match="no PII hashing key"):
        resolve_key()
    with pytest.raises(MissingPiiKeyError, match="at least 16"):
        resolve_key(key_param="short")
    monkeypatch.setenv("PII_HASH_KEY", "k" * 16)
    assert resolve_key() == b"k" * 16


class _Conf:
    def __init__(self, value: str) -> None:
        self.value = value

    def get(self, key: str, default: str | None = None) -> str:
        assert key == "spark.sql.shuffle.partitions"
        return self.value


class _Session:
    def __init__(self, value: str) -> None:
        self.conf = _Conf(value)


def test_when_shuffle_partitions_is_not_a_number_then_the_key_count_uses_sparks_default_of_200():
    # Databricks accepts "auto" there; Apache Spark only numbers.
    assert shuffle_partitions(_Session("auto")) == 200
    assert shuffle_partitions(_Session("16")) == 16
