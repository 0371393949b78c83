"""Maintenance job: OPTIMIZE and VACUUM every existing bronze, silver and gold table (scheduled in prod).

    lakewatt-maintenance --orchestration_id=maintenance-<run id> [--layers=silver,gold] [--retain_hours=720] \
        --staging_root=... --silver_root=... (lake roots)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pyspark.sql import SparkSession

from lakewatt import maintenance
from lakewatt.context import RunContext
from lakewatt.gold_tables import GOLD_TABLES
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
from lakewatt.manifest import RunManifest, write_manifest
from lakewatt.tables import BRONZE_TABLES, SILVER_TABLES

log = logging.getLogger("lakewatt.maintenance")

TABLES_BY_LAYER = {"bronze": BRONZE_TABLES, "silver": SILVER_TABLES, "gold": GOLD_TABLES}


def run(
    spark: SparkSession,
    ctx: RunContext,
    *,
    layers: Sequence[str] = tuple(TABLES_BY_LAYER),
    retain_hours: int = maintenance.DEFAULT_RETAIN_HOURS,
    parameters: dict | None = None,
) -> dict:
    """Maintains every existing table of ``layers``; returns the manifest it wrote."""
    unknown = sorted(set(layers) - set(TABLES_BY_LAYER))
    if unknown:
        raise JobParameterError(f"unknown layers {unknown}; expected some of {sorted(TABLES_BY_LAYER)}")
    manifest = RunManifest(ctx, parameters or {"layers": list(layers), "retain_hours": retain_hours})
    for layer in layers:
        for spec in TABLES_BY_LAYER[layer].values():
            name = ctx.table_name(spec.layer, spec.name)
            if not spark.catalog.tableExists(name):
                continue
            manifest.add(maintenance.maintain(spark, name, retain_hours))
            manifest.step(name)
    return write_manifest(spark, manifest)


def run_from_args(argv: Sequence[str] | None = None) -> dict:
    configure_logging()
    parser = base_parser("maintenance")
    parser.add_argument("--layers", default="", help="comma-separated layers (default: bronze,silver,gold)")
    parser.add_argument(
        "--retain_hours",
        default=str(maintenance.DEFAULT_RETAIN_HOURS),
        help=f"VACUUM retention in hours (at least {maintenance.MIN_RETAIN_HOURS})",
    )
    args = parse(parser, argv)
    try:
        retain_hours = int(args.retain_hours)
    except ValueError:
        raise JobParameterError(f"retain_hours must be an integer, got {args.retain_hours!r}") from None
    if retain_hours < maintenance.MIN_RETAIN_HOURS:
        raise JobParameterError(
            f"retain_hours {retain_hours} is below {maintenance.MIN_RETAIN_HOURS} (7 days): running jobs and "
            "replays could lose files they still read"
        )
    ctx = context("maintenance", args)
    from lakewatt.spark import get_spark

    spark = get_spark("lakewatt-maintenance")
    layers = split_list(args.layers) or list(TABLES_BY_LAYER)
    summary = run(spark, ctx, layers=layers, retain_hours=retain_hours, parameters=public_parameters(args))
    emit_summary("maintenance", summary)
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point (`lakewatt-maintenance`)."""
    run_from_args(argv)


if __name__ == "__main__":
    main()
