"""VEE against the simulator's hidden truth: a small simulation goes through the validation engine
(``./bin/lakewatt validate``) and the silver job in delivery order, and the final tables are scored with
``bench/vee/scoring.py`` (the benchmark ``bench/vee/score.py`` runs the same harness on a month, one run per
delivery day).

Issue targets: precision and recall >= 0.95 per rule; daily totals with estimates within 3 % for days with at
most 2 h missing. Needs the CLI built (``make test`` builds before it runs pytest); skipped otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from lakehelpers import reset_catalog

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "vee"))
import harness
import scoring

# A series-defect rate above the default (0.0015 per meter-day and kind) so that a small run still holds
# zero runs, frozen values, late fills and a high and a low day (from the 15th day); this seed has every kind
# (asserted below).
SIMULATION = {"meters": 24, "days": 21, "seed": "2", "series_defects": 0.01}
# A week of delivery days per silver run: 3 runs instead of 21 (VEE costs 20-30 s a run on 2 cores). A _fill
# file delivered in a later week than its file still has its gap estimated first; in the same week, not.
DAYS_PER_RUN = 7
TARGET = 0.95
DAILY_TOLERANCE = 0.03

CLI_MISSING = harness.cli_missing()
pytestmark = pytest.mark.skipif(CLI_MISSING is not None, reason=f"lakewatt CLI: {CLI_MISSING}")


@pytest.fixture(scope="module")
def scored(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> dict:
    reset_catalog(spark)
    lake = tmp_path_factory.mktemp("vee-truth")
    manifest = harness.simulate(lake, **SIMULATION)
    staged = harness.stage(lake, manifest)
    harness.ingest(spark, lake, staged, days_per_run=DAYS_PER_RUN)
    truth = scoring.load_truth(lake / "simulation-truth.csv.gz")
    state = harness.read_state(spark)
    assert state.findings is not None, "the silver run of meter_readings wrote no silver.vee_findings"
    return scoring.evaluate(manifest, truth, state, [f.path for f in staged if not f.staged])


def test_when_the_simulation_runs_then_every_scored_rule_has_truth_to_find(scored: dict):
    truth = {**scored["truth_intervals"], **scored["truth_days"]}

    assert {rule: n for rule, n in truth.items() if n == 0} == {}


def test_when_silver_lacks_an_interval_then_the_truth_or_a_rejected_file_explains_it(scored: dict):
    oracle = scored["oracle_gaps"]

    assert (oracle["missing_not_in_truth"], oracle["truth_not_missing"]) == (0, 0), oracle


# The spike rule misses the target on this simulation (15 of 17 found, 2 false, both on one meter's solar
# export; 0.993 / 0.961 on the month, bench/README.md): 17 spikes leave no room (16 of 17 is 0.94). Kept
# visible until the rule reaches it, and failing the suite once it does.
SPIKE_SHORT = pytest.mark.xfail(strict=True, reason="spike precision/recall below 0.95 (issue #14)")
RULES = [
    pytest.param(r, marks=SPIKE_SHORT) if r == "spike" else r
    for r in (*scoring.SCORED_RULES, *scoring.DAY_RULES)
]


@pytest.mark.parametrize("rule", RULES)
def test_when_vee_flags_intervals_then_precision_and_recall_reach_95_percent(scored: dict, rule: str):
    score = scored["rules"][rule]
    if score["truth"] == 0:
        pytest.skip(f"no {rule} in this simulation")
    detail = (
        f"{rule}: precision {score['precision']}, recall {score['recall']} "
        f"(tp {score['tp']}, fp {score['fp']}, fn {score['fn']}); "
        f"false positives {score['fp_examples']}; missed {score['fn_examples']}"
    )

    assert score["precision"] is not None, detail
    assert score["precision"] >= TARGET, detail
    assert score["recall"] >= TARGET, detail


def test_when_at_most_2_h_are_missing_then_the_day_total_with_estimates_is_within_3_percent(scored: dict):
    totals = scored["daily_totals"]

    assert totals["days_scored"] > 0, totals
    assert totals["max_error"] <= DAILY_TOLERANCE, totals["worst"]
