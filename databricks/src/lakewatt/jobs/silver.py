"""Silver job: staged files of one or more orchestrations -> bronze raw records -> silver.

    lakewatt-silver --dataset=meter_readings --orchestration_id=<id> [--instance_ids=<id>/g<n>,<id>/g<n>] \
        --generation=0 --staging_root=... --silver_root=... --gold_root=... --audit_root=...

Steps (each idempotent, see docs/spark-jobs.md): append the staged rows to ``bronze.<dataset>`` unless that
instance is already there; MERGE them into ``silver.<dataset>`` (readings and prices by key with precedence,
customers and contracts as SCD type 2); MERGE the validation reports into ``silver.validation_reports``;
write the run manifest.

Each ``instance_ids`` entry is ``<instanceId>/g<generation>``: the staged folder of that generation
(``staging/<dataset>/<instanceId>/g<generation>/``; a replay validates again into a folder of its own). A bare
``<instanceId>`` names the folder ``staging/<dataset>/<instanceId>/`` of the layout before generations.
The instance id alone is the lineage (``ingest_instance_id``) and the idempotency key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakewatt import delta_io
from lakewatt.context import RunContext, join_uri
from lakewatt.jobs.common import (
    JobParameterError,
    base_parser,
    configure_logging,
    context,
    emit_summary,
    parse,
    public_parameters,
    split_list,
)
from lakewatt.manifest import RunManifest, read_small_text, write_manifest
from lakewatt.pii import resolve_key
from lakewatt.schemas import LINEAGE_COLUMNS, PII_COLUMNS, SCHEMAS, VALIDATION_REPORT
from lakewatt.tables import BRONZE_TABLES, SILVER_TABLES, ensure_table
from lakewatt.transforms import silver as t
from lakewatt.vee import run as vee_run
from lakewatt.vee.config import DEFAULT_CONFIG, VeeConfig, VeeConfigError, load_config

log = logging.getLogger("lakewatt.silver")


_ENTRY = re.compile(r"^(?P<id>[A-Za-z0-9][A-Za-z0-9_.:-]*)(?:/g(?P<generation>\d+))?$")


def instance_of(entry: str) -> str:
    """The instance id of an ``instance_ids`` entry (``<instanceId>/g<generation>`` or ``<instanceId>``)."""
    match = _ENTRY.fullmatch(entry)
    if match is None:
        raise JobParameterError(f"instance_ids entries are <instanceId>/g<generation>, got {entry!r}")
    return match["id"]


def read_staged(spark: SparkSession, ctx: RunContext, dataset: str, instance_ids: Sequence[str]) -> DataFrame:
    """The staged rows of each ``instance_ids`` entry (its folder: ``<instanceId>/g<generation>``)."""
    paths = [join_uri(ctx.roots.staging, dataset, *entry.split("/")) for entry in instance_ids]
    # Files starting with "_" (the report) are not data files for Spark's Parquet reader.
    return spark.read.schema(SCHEMAS[dataset]).parquet(*paths)


def read_reports(
    spark: SparkSession, ctx: RunContext, dataset: str, instance_ids: Sequence[str]
) -> DataFrame:
    """The ``_report.json`` of each instance (missing reports are skipped).

    Spark's file sources skip names starting with ``_`` even when named explicitly, so the small report
    files are read as text by the driver and parsed with ``from_json`` against the explicit schema.
    """
    texts = [
        read_small_text(join_uri(ctx.roots.staging, dataset, *entry.split("/"), "_report.json"))
        for entry in instance_ids
    ]
    rows = [(text,) for text in texts if text is not None]
    raw = spark.createDataFrame(rows, "value string")
    return raw.select(F.from_json("value", VALIDATION_REPORT).alias("r")).select("r.*")


def _time_window(staged: DataFrame, column: str) -> tuple[str, str] | None:
    row = staged.agg(F.min(column).alias("lo"), F.max(column).alias("hi")).first()
    if row is None or row.lo is None:
        return None
    return row.lo.date().isoformat(), row.hi.date().isoformat()


def _window_filter(staged: DataFrame, make: Callable[[str, str], str]) -> Callable[[], str | None]:
    def build() -> str | None:
        window = _time_window(staged, "interval_start")
        return make(*window) if window else None

    return build


def silver_readings(spark, ctx, staged, best, table) -> delta_io.TableWrite:
    return delta_io.merge(
        spark,
        table,
        best,
        on=" AND ".join(f"t.{k} = s.{k}" for k in t.READING_KEY),
        # Lets Delta skip target files outside the batch's days (full MERGE only).
        target_filter=_window_filter(
            staged, lambda lo, hi: f"t.reading_date BETWEEN DATE'{lo}' AND DATE'{hi}'"
        ),
        matched_condition=t.reading_wins_condition(),
        user_metadata=ctx.user_metadata,
    )


def silver_prices(spark, ctx, staged, table) -> delta_io.TableWrite:
    return delta_io.merge(
        spark,
        table,
        t.latest_prices(staged),
        on=" AND ".join(f"t.{k} = s.{k}" for k in t.PRICE_KEY),
        target_filter=_window_filter(
            staged,
            lambda lo, hi: (
                f"t.interval_start >= TIMESTAMP'{lo} 00:00:00'"
                f" AND t.interval_start < TIMESTAMP'{hi} 00:00:00' + INTERVAL 1 DAY"
            ),
        ),
        matched_condition=t.price_wins_condition(),
        user_metadata=ctx.user_metadata,
    )


def silver_scd2(
    spark, ctx, records, table, *, key, version, end_column=None
) -> tuple[delta_io.TableWrite, list]:
    """Merges the SCD2 versions of ``records``; also returns the versions that change something, with the
    window each changes (collected before the merge: those windows are what gold must recompute)."""
    business = [c for c in records.columns if c not in LINEAGE_COLUMNS]
    versions = t.scd2(
        records,
        spark.table(table),
        key=key,
        version=version,
        business_columns=business,
        end_column=end_column,
    )
    content = [c for c in business if c not in (key, version, "valid_from", "valid_to")]
    changed = t.changed_windows(versions, spark.table(table), key=key, compare=content).collect()
    return delta_io.merge(
        spark,
        table,
        versions,
        on=f"t.{key} = s.{key} AND t.valid_from = s.valid_from",
        matched_condition=t.SCD2_CHANGED,
        user_metadata=ctx.user_metadata,
    ), changed


def reference_affected_dates(spark, ctx, dataset: str, changed: list) -> list[str]:
    """UTC days with readings whose gold the changed contract or customer versions make stale: each changed
    version's validity window, on the meters it applies to (a customer's: those of its contracts)."""
    if not changed:
        return []
    if dataset == "contracts":
        windows = [(r.meter_id, r.w_from, r.w_to) for r in changed]
    else:
        customers = {r.customer_id: [] for r in changed}
        for r in changed:
            customers[r.customer_id].append((r.w_from, r.w_to))
        contracts = (
            spark.table(ensure_table(spark, ctx, SILVER_TABLES["contracts"]))
            .where(F.col("customer_id").isin(list(customers)))
            .select("customer_id", "meter_id")
            .distinct()
            .collect()
        )
        windows = [(c.meter_id, start, end) for c in contracts for start, end in customers[c.customer_id]]
    if not windows:
        return []
    readings = spark.table(ensure_table(spark, ctx, SILVER_TABLES["meter_readings"]))
    frame = spark.createDataFrame(windows, "w_meter string, w_from timestamp, w_to timestamp")
    days = (
        readings.join(F.broadcast(frame), readings.meter_id == frame.w_meter)
        .where(
            (F.col("interval_start") >= F.col("w_from"))
            & (F.col("w_to").isNull() | (F.col("interval_start") < F.col("w_to")))
        )
        .select("reading_date")
        .distinct()
        .collect()
    )
    return sorted(d.reading_date.isoformat() for d in days)


def run(
    spark: SparkSession,
    ctx: RunContext,
    dataset: str,
    instance_ids: Sequence[str],
    *,
    pii_key: bytes | None,
    parameters: dict | None = None,
    vee: VeeConfig = DEFAULT_CONFIG,
    default_timezone: str = "UTC",
) -> dict:
    """The silver job on an existing session; returns the manifest it wrote.

    A readings run ends with VEE (``lakewatt.vee.run``) on the local days of its readings, unless ``vee``
    is disabled; ``default_timezone`` is the zone of meters without a contract."""
    if dataset not in SCHEMAS:
        raise JobParameterError(f"unknown dataset {dataset!r}; expected one of {sorted(SCHEMAS)}")
    ids = [instance_of(entry) for entry in instance_ids]
    manifest = RunManifest(ctx, parameters or {"dataset": dataset, "instance_ids": list(instance_ids)})
    bronze = ensure_table(spark, ctx, BRONZE_TABLES[dataset])
    silver = ensure_table(spark, ctx, SILVER_TABLES[dataset])
    reports_table = ensure_table(spark, ctx, SILVER_TABLES["validation_reports"])
    manifest.step("tables")

    staged = read_staged(spark, ctx, dataset, instance_ids)
    records = t.bronze_records(staged, dataset, pii_key if PII_COLUMNS[dataset] else None)
    manifest.add(
        delta_io.append_once(spark, bronze, records, instance_ids=ids, user_metadata=ctx.user_metadata)
    )
    manifest.step("bronze")

    superseded: list = []
    if dataset == "meter_readings":
        best = t.best_readings(staged)
        if vee.enabled:
            vee_tables = vee_run.table_names(lambda spec: ensure_table(spark, ctx, spec))
            superseded = vee_run.superseded_estimates(spark, silver, best)
        write = silver_readings(spark, ctx, staged, best, silver)
    elif dataset == "prices":
        write = silver_prices(spark, ctx, staged, silver)
    elif dataset == "customers":
        write, changed = silver_scd2(spark, ctx, records, silver, key="customer_id", version="updated_at")
        manifest.affected_dates = reference_affected_dates(spark, ctx, dataset, changed)
    else:
        write, changed = silver_scd2(
            spark, ctx, records, silver, key="contract_id", version="valid_from", end_column="valid_to"
        )
        manifest.affected_dates = reference_affected_dates(spark, ctx, dataset, changed)
    manifest.add(write)
    manifest.step("silver")

    reports = t.report_rows(read_reports(spark, ctx, dataset, instance_ids))
    manifest.add(
        delta_io.merge(
            spark,
            reports_table,
            reports,
            on="t.instance_id = s.instance_id",
            matched_condition="NOT (s.started_at <=> t.started_at) AND s.started_at > t.started_at",
            user_metadata=ctx.user_metadata,
        )
    )
    manifest.step("reports")

    if dataset == "meter_readings" and vee.enabled:
        writes, manifest.vee = vee_run.evaluate(
            spark,
            ctx,
            vee_tables,
            staged,
            config=vee,
            default_timezone=default_timezone,
            superseded=superseded,
        )
        for vee_write in writes:
            manifest.add(vee_write)
        manifest.step("vee")
    return write_manifest(spark, manifest)


def vee_settings(uri: str) -> VeeConfig:
    """The VEE configuration at ``uri`` (the defaults when empty), validated before Spark starts."""
    if not uri:
        return DEFAULT_CONFIG
    text = read_small_text(uri)
    if text is None:
        raise JobParameterError(f"vee_config: no file at {uri}")
    try:
        return load_config(text)
    except VeeConfigError as error:
        raise JobParameterError(f"vee_config {uri}: {error}") from error


def run_from_args(argv: Sequence[str] | None = None) -> dict:
    """Parses the job parameters, runs the job and returns its run summary (the manifest)."""
    configure_logging()
    parser = base_parser("silver")
    parser.add_argument("--dataset", required=True, choices=sorted(SCHEMAS))
    parser.add_argument("--instance_ids", default="", help="comma-separated; default: orchestration_id")
    parser.add_argument("--pii_hash_key", default="", help="local only: the PII hashing key")
    parser.add_argument("--pii_secret_scope", default="", help="Databricks secret scope of the PII key")
    parser.add_argument("--pii_secret_key", default="", help="Databricks secret name of the PII key")
    parser.add_argument("--default_timezone", default="UTC", help="time zone of meters without a contract")
    parser.add_argument(
        "--vee_config", default="", help="VEE configuration file (JSON); default: the defaults"
    )
    args = parse(parser, argv)
    ctx = context("silver", args)
    vee = vee_settings(args.vee_config)
    default_timezone = args.default_timezone or "UTC"
    try:
        ZoneInfo(default_timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise JobParameterError(f"default_timezone: unknown time zone {default_timezone!r}") from error
    instance_ids = split_list(args.instance_ids) or [args.orchestration_id]
    pii_key = None
    if PII_COLUMNS[args.dataset]:
        pii_key = resolve_key(
            key_param=args.pii_hash_key, secret_scope=args.pii_secret_scope, secret_key=args.pii_secret_key
        )
    from lakewatt.spark import get_spark

    spark = get_spark("lakewatt-silver")
    summary = run(
        spark,
        ctx,
        args.dataset,
        instance_ids,
        pii_key=pii_key,
        parameters=public_parameters(args),
        vee=vee,
        default_timezone=default_timezone,
    )
    emit_summary("silver", summary)
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point (`lakewatt-silver`): exit status 0 on success, an exception otherwise."""
    run_from_args(argv)


if __name__ == "__main__":
    main()
