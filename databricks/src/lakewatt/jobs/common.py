"""Parameters shared by the silver and gold entry points.

Databricks passes a ``python_wheel_task``'s ``named_parameters`` as ``--name=value`` arguments; empty
values (an unset job parameter) mean "not given".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Sequence

from lakewatt.context import LakeRoots, RunContext

log = logging.getLogger("lakewatt")

# W3C Trace Context, version 00 (lib/telemetry/traceContext.ts); all-zero ids are invalid.
TRACEPARENT = re.compile(r"^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")


class JobParameterError(ValueError):
    """A job parameter is missing or malformed."""


def base_parser(job: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"lakewatt-{job}", description=f"Lakewatt {job} job")
    p.add_argument("--orchestration_id", required=True, help="durable orchestration instance id")
    p.add_argument("--generation", default="0", help="replay generation of the orchestration (0, 1, ...)")
    p.add_argument("--run_id", default="", help="Databricks run id ({{job.run_id}}), for the manifest")
    p.add_argument("--traceparent", default="", help="W3C trace context of the run, for commit metadata")
    p.add_argument("--catalog", default="", help="Unity Catalog name; empty locally (<layer>.<table>)")
    p.add_argument("--staging_root", required=True)
    p.add_argument("--silver_root", required=True)
    p.add_argument("--gold_root", required=True)
    p.add_argument("--audit_root", required=True)
    p.add_argument("--bronze_tables_root", default="", help="default: <silver_root>/_bronze")
    p.add_argument("--bronze_root", default="", help="bronze container root (read-only; informational)")
    return p


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    for name, value in vars(args).items():
        if isinstance(value, str):
            setattr(args, name, value.strip())
    if not args.orchestration_id:
        raise JobParameterError("orchestration_id must not be empty")
    try:
        args.generation = int(args.generation or "0")
    except ValueError:
        raise JobParameterError(f"generation must be an integer, got {args.generation!r}") from None
    for root in ("staging_root", "silver_root", "gold_root", "audit_root"):
        if not getattr(args, root):
            raise JobParameterError(f"{root} must not be empty (it comes from the bundle target)")
    if args.traceparent and not TRACEPARENT.match(args.traceparent):
        # Telemetry never fails a data run: the commits just carry no trace.
        log.warning("TRACEPARENT_INVALID: ignored job parameter traceparent %r", args.traceparent[:80])
        args.traceparent = ""
    return args


def context(job: str, args: argparse.Namespace) -> RunContext:
    return RunContext(
        job=job,
        orchestration_id=args.orchestration_id,
        generation=args.generation,
        roots=LakeRoots(
            staging=args.staging_root,
            silver=args.silver_root,
            gold=args.gold_root,
            audit=args.audit_root,
            bronze_tables=args.bronze_tables_root,
        ),
        catalog=args.catalog,
        databricks_run_id=args.run_id,
        traceparent=getattr(args, "traceparent", ""),
    )


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.replace(";", ",").split(",") if item.strip()]


def parse_date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise JobParameterError(f"{name} must be a date YYYY-MM-DD, got {value!r}") from None


def public_parameters(args: argparse.Namespace) -> dict[str, object]:
    """The parameters as the manifest records them (never the PII key)."""
    return {k: v for k, v in vars(args).items() if k != "pii_hash_key"}


def emit_summary(job: str, summary: dict) -> None:
    """One marker line the orchestration (or an operator) can find in the task's logs."""
    print(f"LAKEWATT_{job.upper()}_MANIFEST {json.dumps(summary, separators=(',', ':'), default=str)}")


def configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
