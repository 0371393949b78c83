"""The Asset Bundle is structurally valid: entry points exist, every referenced parameter and variable is
declared, the targets the emulator and the deploy hook use are there, and each task's parameters parse."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from lakewatt.jobs.common import base_parser

BUNDLE = Path(__file__).resolve().parents[1]
JOB_PARAM = re.compile(r"\{\{job\.parameters\.([A-Za-z0-9_]+)\}\}")
VAR = re.compile(r"\$\{var\.([A-Za-z0-9_]+)\}")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bundle():
    main = load(BUNDLE / "databricks.yml")
    jobs = {}
    texts = [(BUNDLE / "databricks.yml").read_text()]
    for pattern in main["include"]:
        for file in sorted(BUNDLE.glob(pattern)):
            texts.append(file.read_text())
            jobs.update(load(file)["resources"]["jobs"])
    return {"main": main, "jobs": jobs, "text": "\n".join(texts)}


def test_targets_and_job_names_are_the_ones_the_pipeline_expects(bundle):
    assert {"dev", "prod", "local"} <= set(bundle["main"]["targets"])
    assert bundle["main"]["targets"]["dev"]["mode"] == "development"
    assert bundle["main"]["targets"]["prod"]["mode"] == "production"
    assert sorted(job["name"] for job in bundle["jobs"].values()) == [
        "lakewatt-gold",
        "lakewatt-maintenance",
        "lakewatt-silver",
    ]


def test_maintenance_runs_nightly_and_every_target_gives_it_compute(bundle):
    schedule = bundle["jobs"]["lakewatt_maintenance"]["schedule"]
    assert schedule["pause_status"] == "UNPAUSED"
    assert schedule["quartz_cron_expression"].split()[2].isdigit()  # one fixed hour: once a day
    for target in ("dev", "prod", "prod_classic"):
        assert "lakewatt_maintenance" in bundle["main"]["targets"][target]["resources"]["jobs"], target


def test_every_referenced_variable_is_declared(bundle):
    declared = set(bundle["main"]["variables"])

    assert set(VAR.findall(bundle["text"])) <= declared


def test_deploy_hook_variables_for_roots_catalog_and_secrets_are_declared(bundle):
    hook = (BUNDLE.parent / "scripts" / "azd-databricks.sh").read_text()
    passed = set(re.findall(r'"([a-z_]+)=', hook))
    needed = {"catalog", "staging_root", "silver_root", "gold_root", "audit_root", "bronze_root"}
    needed |= {"pii_secret_scope", "pii_secret_key", "function_service_principal", "jobs_service_principal"}

    assert needed <= passed
    assert needed <= set(bundle["main"]["variables"])


def test_tasks_reference_only_declared_job_parameters_and_existing_entry_points(bundle):
    scripts = tomllib.loads((BUNDLE / "pyproject.toml").read_text())["project"]["scripts"]
    for key, job in bundle["jobs"].items():
        declared = {p["name"] for p in job["parameters"]}
        for task in job["tasks"]:
            wheel = task["python_wheel_task"]
            used = set(JOB_PARAM.findall(str(wheel)))
            assert used <= declared, f"{key}.{task['task_key']} uses undeclared {used - declared}"
            assert wheel["package_name"] == "lakewatt"
            module, func = scripts[wheel["entry_point"]].split(":")
            assert callable(getattr(importlib.import_module(module), func))


def test_named_parameters_are_exactly_what_the_entry_points_accept(bundle, monkeypatch: pytest.MonkeyPatch):
    captured = {}

    def fake_parse(parser, argv):
        captured["args"] = parser.parse_args(argv)
        raise SystemExit(0)

    for job in bundle["jobs"].values():
        wheel = job["tasks"][0]["python_wheel_task"]
        module = importlib.import_module(
            tomllib.loads((BUNDLE / "pyproject.toml").read_text())["project"]["scripts"][
                wheel["entry_point"]
            ].split(":")[0]
        )
        monkeypatch.setattr(module, "parse", fake_parse)
        argv = [f"--{name}={'prices' if name == 'dataset' else 'x'}" for name in wheel["named_parameters"]]
        with pytest.raises(SystemExit):
            module.main(argv)
        assert set(vars(captured["args"])) >= set(wheel["named_parameters"])


def test_jobs_queue_bound_concurrency_time_out_and_retry(bundle):
    for job in bundle["jobs"].values():
        assert job["queue"]["enabled"] is True
        assert job["max_concurrent_runs"]
        assert job["timeout_seconds"] > 0
        for task in job["tasks"]:
            assert task["max_retries"] >= 1
            assert task["retry_on_timeout"] is False


def test_compute_is_serverless_in_prod_with_an_autoscaling_job_cluster_alternative(bundle):
    targets = bundle["main"]["targets"]
    prod = targets["prod"]["resources"]["jobs"]["lakewatt_silver"]
    classic = targets["prod_classic"]["resources"]["jobs"]["lakewatt_silver"]

    assert prod["tasks"][0]["environment_key"] == prod["environments"][0]["environment_key"]
    cluster = classic["job_clusters"][0]["new_cluster"]
    assert cluster["autoscale"]["min_workers"] >= 1
    assert classic["tasks"][0]["job_cluster_key"] == classic["job_clusters"][0]["job_cluster_key"]


def test_base_parser_requires_the_lake_roots():
    parser = base_parser("silver")

    with pytest.raises(SystemExit):
        parser.parse_args(["--orchestration_id=x"])
