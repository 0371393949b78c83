"""A run's trace context (job parameter ``traceparent``) reaches the ``userMetadata`` of its commits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from lakehelpers import reading, reset_catalog, stage, utc
from lakewatt.context import local_path
from lakewatt.jobs import silver
from lakewatt.jobs.common import base_parser, context, parse

INSTANCE = "ingest-meter_readings-fedcba9876543210fedcba9876543210"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def argv(root: Path, *extra: str) -> list[str]:
    uri = root.resolve().as_uri()
    roots = [f"--{name}_root={uri}/{name}/" for name in ("staging", "silver", "gold", "audit")]
    return [f"--orchestration_id={INSTANCE}", "--generation=0", *roots, *extra]


def commit_infos(table_dir: str) -> list[dict]:
    """Every ``commitInfo`` action of the table's log, oldest first, read from the JSON commit files."""
    infos = []
    for commit in sorted(Path(table_dir, "_delta_log").glob("*.json")):
        for line in commit.read_text(encoding="utf-8").splitlines():
            action = json.loads(line) if line.strip() else {}
            if "commitInfo" in action:
                infos.append(action["commitInfo"])
    return infos


@pytest.fixture(scope="module")
def world(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory):
    reset_catalog(spark)
    root = tmp_path_factory.mktemp("lake")
    rows = [reading("M-T", utc(2025, 3, 1, 0), 1.5, instance=INSTANCE, ingested_at=utc(2026, 1, 1))]
    stage(spark, root, "meter_readings", INSTANCE, rows, generation=0)
    ctx = context("silver", parse(base_parser("silver"), argv(root, f"--traceparent={TRACEPARENT}")))
    silver.run(spark, ctx, "meter_readings", [f"{INSTANCE}/g0"], pii_key=None)
    return {"ctx": ctx}


@pytest.mark.parametrize("layer", ["silver", "bronze"])
def test_when_a_run_has_a_traceparent_then_each_of_its_commits_carries_it(world, layer: str):
    table_dir = local_path(world["ctx"].table_location(layer, "meter_readings"))
    ours = [
        json.loads(info["userMetadata"])
        for info in commit_infos(table_dir)
        if info.get("userMetadata", "").startswith("{") and INSTANCE in info["userMetadata"]
    ]

    assert ours, f"no commit of the run in {table_dir}"
    assert {meta["traceparent"] for meta in ours} == {TRACEPARENT}


def test_when_the_traceparent_is_malformed_then_it_is_dropped_and_the_run_goes_on(tmp_path: Path):
    args = parse(base_parser("silver"), argv(tmp_path, "--traceparent=00-not-a-trace-01"))

    assert args.traceparent == ""
    assert "traceparent" not in json.loads(context("silver", args).user_metadata)
