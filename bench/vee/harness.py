"""Simulated month -> validation engine -> staging -> silver job, one silver run per delivery day.

Shared by ``bench/vee/score.py`` and ``databricks/tests/test_vee_truth.py``. Nothing here scores: it
produces the lake (and the per-run timings); ``scoring.py`` turns the final tables and the hidden truth into
numbers.

Order of work, as the pipeline would see the files:

1. ``lakewatt simulate`` writes the bronze files, the manifest and ``simulation-truth.csv.gz``.
2. ``lakewatt validate`` runs on every contracts and meter_readings file (customers and prices are not
   needed by silver readings or VEE). Its output is moved into ``staging/{dataset}/{instanceId}/g0/``, the
   layout ``silver.read_staged`` reads. The CLI names the instance ``validate-<mtime ms>-<size>``, so every
   file is first given an mtime of its own (its delivery rank): two files of equal size never share an
   instance id, and with it the bronze append-once key.
3. Silver: every contracts file in one run first (VEE reads each meter's zone from its contract), then
   meter_readings, one run per delivery day (``days_per_run``: more) with all that day's accepted files, in
   delivery order, so late files and ``_fill`` files arrive after the originals. Files the engine rejects
   (``verdict: rejected``) go to quarantine and are not ingested.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAKEWATT = ROOT / "bin" / "lakewatt"
CLI_ENTRY = ROOT / "dist" / "local" / "cli" / "main.js"
PII_KEY = b"vee-bench-pii-key-0123456789abcdef"
# Datasets ingested, in this order: VEE takes each meter's time zone from its contract.
DATASETS = ("contracts", "meter_readings")
# Any fixed instant works: only the order and uniqueness of the mtimes matter (see the module doc).
_MTIME_BASE_MS = 1_750_000_000_000


def cli_missing() -> str | None:
    """Why ``./bin/lakewatt`` cannot run here (no node, or not built), or None when it can."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not CLI_ENTRY.is_file():
        return f"{CLI_ENTRY.relative_to(ROOT)} is missing: run `make build`"
    return None


def simulate(
    lake: Path, *, meters: int, days: int, seed: int | str, series_defects: float | None = None
) -> dict:
    """Runs ``lakewatt simulate`` into ``lake`` and returns its manifest."""
    args = [str(LAKEWATT), "simulate", "--out", str(lake), "--meters", str(meters), "--days", str(days)]
    args += ["--seed", str(seed), "--json"]
    if series_defects is not None:
        args += ["--series-defects", str(series_defects)]
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads((lake / "simulation-manifest.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class StagedFile:
    """One bronze file after validation."""

    path: str  # lake-relative, as in the simulation manifest
    dataset: str
    source: str
    data_date: str
    delivery_date: str
    instance_id: str
    verdict: str
    rows_valid: int
    rows_rejected: int
    validate_ms: int

    @property
    def entry(self) -> str:
        """The silver job's ``instance_ids`` entry."""
        return f"{self.instance_id}/g0"

    @property
    def staged(self) -> bool:
        return self.verdict != "rejected"


def delivery_order(manifest: dict, datasets: Iterable[str] = DATASETS) -> list[dict]:
    """The manifest's files of ``datasets``, by dataset (in the given order), delivery date, then path."""
    rank = {d: i for i, d in enumerate(datasets)}
    files = [f for f in manifest["files"] if f["dataset"] in rank]
    return sorted(files, key=lambda f: (rank[f["dataset"]], f["delivery_date"], f["path"]))


def _validate(lake: Path, entry: dict, mtime_ms: int) -> StagedFile:
    source = lake / entry["path"]
    os.utime(source, ns=(mtime_ms * 1_000_000, mtime_ms * 1_000_000))
    scratch = lake / "_validate"
    scratch.mkdir(exist_ok=True)
    dataset_args = ("--dataset", entry["dataset"], "--source", entry["source"])
    with tempfile.TemporaryDirectory(dir=scratch) as out:
        proc = subprocess.run(
            [str(LAKEWATT), "validate", str(source), "--json", "--out", out, *dataset_args],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if proc.returncode not in (0, 1) or not proc.stdout.strip():
            raise RuntimeError(f"lakewatt validate {entry['path']} failed ({proc.returncode}): {proc.stderr}")
        report = json.loads(proc.stdout)
        instance = report["instanceId"]
        if report["verdict"] != "rejected":
            target = lake / "staging" / entry["dataset"] / instance / "g0"
            if target.exists():
                raise RuntimeError(f"instance {instance} staged twice ({entry['path']})")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(Path(out) / "staging" / entry["dataset"] / instance / "g0", target)
    return StagedFile(
        path=entry["path"],
        dataset=entry["dataset"],
        source=entry["source"],
        data_date=entry["data_date"],
        delivery_date=entry["delivery_date"],
        instance_id=instance,
        verdict=report["verdict"],
        rows_valid=report["counts"]["rowsValid"],
        rows_rejected=report["counts"]["rowsRejected"],
        validate_ms=report["performance"]["durationMs"],
    )


STAGED_LIST = "_staged.json"


def stage(lake: Path, manifest: dict, *, workers: int = 2) -> list[StagedFile]:
    """Validates the files of ``DATASETS`` in delivery order and stages the accepted ones; the list is also
    written to ``<lake>/_staged.json`` (``restage`` reads it back)."""
    files = delivery_order(manifest)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        staged = list(
            pool.map(lambda item: _validate(lake, item[1], _MTIME_BASE_MS + item[0]), enumerate(files))
        )
    (lake / STAGED_LIST).write_text(json.dumps([f.__dict__ for f in staged], indent=1), encoding="utf-8")
    return staged


def restage(lake: Path) -> list[StagedFile]:
    """The staged files of an earlier ``stage`` into ``lake``, with its silver, audit and catalog folders
    removed, so the silver runs start over from the same staging."""
    for name in ("silver", "gold", "audit", "_warehouse"):
        shutil.rmtree(lake / name, ignore_errors=True)
    return [StagedFile(**f) for f in json.loads((lake / STAGED_LIST).read_text(encoding="utf-8"))]


@dataclass
class SilverRun:
    """One silver job run: what it ingested and how long it took."""

    dataset: str
    delivery_date: str
    files: list[str]
    seconds: float
    timings_ms: dict[str, int] = field(default_factory=dict)
    manifest_ms: int = 0
    # The run manifest's VEE summary without its per-file part (None without VEE).
    vee: dict | None = None


def roots(lake: Path):
    from lakewatt.context import LakeRoots

    uri = lake.resolve().as_uri()
    return LakeRoots(
        staging=f"{uri}/staging/", silver=f"{uri}/silver/", gold=f"{uri}/gold/", audit=f"{uri}/audit/"
    )


def run_context(lake: Path, orchestration_id: str):
    from lakewatt.context import RunContext

    return RunContext(job="silver", orchestration_id=orchestration_id, generation=0, roots=roots(lake))


def vee_disabled() -> dict:
    """Silver options that switch VEE off (empty when the silver job has no VEE)."""
    try:
        from lakewatt.vee.config import VeeConfig
    except ImportError:
        return {}
    return {"vee": VeeConfig(enabled=False)}


def silver_keywords(options: dict) -> dict:
    """The ``options`` that ``silver.run`` accepts as keywords (VEE adds some; older code has none)."""
    from lakewatt.jobs import silver

    accepted = inspect.signature(silver.run).parameters
    return {k: v for k, v in options.items() if k in accepted}


def batches(staged: Sequence[StagedFile], dataset: str, days_per_run: int) -> list[list[StagedFile]]:
    """The staged files of ``dataset`` in runs of ``days_per_run`` consecutive delivery days (0: one run).

    With at most 2 days per run a ``_fill`` file (delivered 2 to 5 days after the file it completes) always
    lands in a later run than that file, so VEE estimates its gap first."""
    files = [f for f in staged if f.dataset == dataset and f.staged]
    if not files:
        return []
    first = min(dt.date.fromisoformat(f.delivery_date) for f in files)
    groups: dict[int, list[StagedFile]] = {}
    for f in files:
        days = (dt.date.fromisoformat(f.delivery_date) - first).days
        groups.setdefault(days // days_per_run if days_per_run else 0, []).append(f)
    return [groups[g] for g in sorted(groups)]


def ingest(
    spark,
    lake: Path,
    staged: Sequence[StagedFile],
    *,
    silver_options: dict | None = None,
    days_per_run: int = 1,
    on_run=None,
) -> list[SilverRun]:
    """Silver runs in delivery order: every contracts file in one run (their versions merge as SCD2 in one
    batch; VEE only reads the zones), then meter_readings in runs of ``days_per_run`` delivery days (1: a
    run per delivery day, as the pipeline batches them). Returns the runs with their timings."""
    from lakewatt.jobs import silver

    keywords = silver_keywords(silver_options or {})
    runs: list[SilverRun] = []
    plan = [("contracts", b) for b in batches(staged, "contracts", 0)]
    plan += [("meter_readings", b) for b in batches(staged, "meter_readings", days_per_run)]
    for dataset, batch in plan:
        if batch:
            day = max(f.delivery_date for f in batch)
            ctx = run_context(lake, f"vee-{dataset}-{day}")
            started = time.monotonic()
            manifest = silver.run(spark, ctx, dataset, [f.entry for f in batch], pii_key=PII_KEY, **keywords)
            run = SilverRun(
                dataset=dataset,
                delivery_date=day,
                files=[f.path for f in batch],
                seconds=round(time.monotonic() - started, 2),
                timings_ms=dict(manifest.get("timingsMs", {})),
                manifest_ms=int(manifest.get("durationMs", 0)),
                vee={k: v for k, v in manifest["vee"].items() if k != "byInstance"}
                if manifest.get("vee")
                else None,
            )
            runs.append(run)
            if on_run is not None:
                on_run(run)
    return runs


def table_exists(spark, name: str) -> bool:
    return bool(spark.catalog.tableExists(name))


def collect(spark, name: str, columns: Sequence[str], where: str | None = None) -> list[tuple]:
    """Rows of ``name`` as tuples of ``columns`` (absent columns read as None)."""
    from pyspark.sql import functions as F

    frame = spark.table(name)
    present = set(frame.columns)
    if where:
        frame = frame.where(where)
    cols = [F.col(c) if c in present else F.lit(None).alias(c) for c in columns]
    return [tuple(r) for r in frame.select(*cols).collect()]


READING_COLUMNS = (
    *("meter_id", "channel", "interval_start", "interval_minutes", "kwh", "quality", "source_system"),
    *("estimation_method", "vee_rule"),
)
EDIT_COLUMNS = (
    "meter_id",
    "channel",
    "interval_start",
    "method",
    "edited_kwh",
    "edited_quality",
    "edited_at",
)
VEE_TABLES = ("silver.vee_findings", "silver.reading_edits", "silver.meter_day_completeness")


def vee_ready(spark) -> bool:
    """True once the silver job writes VEE's tables (the findings table at least)."""
    return table_exists(spark, "silver.vee_findings")


def read_state(spark):
    """The final silver tables as ``scoring.LakeState`` records."""
    from scoring import Edit, Finding, LakeState, Reading

    readings = [
        Reading(*row)
        for row in collect(
            spark,
            "silver.meter_readings",
            READING_COLUMNS,
        )
    ]
    zone_of: dict[str, str] = {}
    contracts = collect(spark, "silver.contracts", ("meter_id", "tariff_timezone", "valid_from"))
    for meter, zone, _ in sorted(contracts, key=lambda r: (r[0], r[2])):
        zone_of[meter] = zone  # the latest version's zone
    state = LakeState(readings=readings, zone_of=zone_of)
    if table_exists(spark, "silver.meter_day_completeness"):
        days = collect(spark, "silver.meter_day_completeness", ("meter_id", "timezone", "channel"))
        state.completeness_days = sum(1 for d in days if d[2] == "import")
        for meter, zone, _ in days:
            if zone:
                zone_of[meter] = zone  # VEE's own zone wins
    if vee_ready(spark):
        state.findings = [
            Finding(*row)
            for row in collect(
                spark,
                "silver.vee_findings",
                ("meter_id", "channel", "rule", "period_start_utc", "period_end_utc", "intervals"),
            )
        ]
    if table_exists(spark, "silver.reading_edits"):
        state.edits = [
            Edit((m, c, start), method, kwh, quality, at)
            for m, c, start, method, kwh, quality, at in collect(
                spark,
                "silver.reading_edits",
                EDIT_COLUMNS,
            )
        ]
    return state
