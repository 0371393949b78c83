"""The Spark benchmark's fair baseline: DuckDB computes, delta-rs (``deltalake``) writes Delta tables.

Does the work ``run.py`` times on the Spark side, over the same staged Parquet, into tables of its own under
``<lake>/delta_rs/``:

- bronze: the staged readings of each instance not yet in ``bronze/meter_readings``, appended;
- silver: one reading per ``(meter_id, channel, interval_start)`` by the silver job's precedence (quality
  actual > substituted > estimated > missing, then the later ``ingested_at``, then instance id and source
  line), MERGEd into ``silver/meter_readings`` (update only when the new reading wins, insert otherwise);
  the validation reports MERGEd into ``silver/validation_reports``;
- gold: ``daily_consumption`` and ``customer_daily_cost`` of every local day the UTC days touch, the same
  SQL as ``lakewatt.transforms.gold`` written for DuckDB, replacing those days (``write_deltalake`` with
  ``mode="overwrite", predicate=...``: delta-rs' replaceWhere).

Contracts and prices reach silver in a step timed apart, as on the Spark side. It is simpler than the silver
job's SCD type 2 (no record hash or change windows), which the bench's one version per contract allows.
``compare_gold`` reads both sides' gold tables and checks they agree.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
from deltalake import DeltaTable, write_deltalake

# As lakewatt.transforms.silver (not imported: that module needs pyspark and is being edited elsewhere).
QUALITY_PRECEDENCE = ("actual", "substituted", "estimated", "missing")
READING_KEY = ("meter_id", "channel", "interval_start")
LINEAGE = (
    "source_system",
    "source_file",
    "source_etag",
    "source_line",
    "ingest_instance_id",
    "ingested_at",
)
SILVER_READING_COLUMNS = (*READING_KEY, "interval_minutes", "kwh", "quality", "reading_date", *LINEAGE)
GOLD_TABLES = ("daily_consumption", "customer_daily_cost")
GOLD_KEYS = {
    "daily_consumption": ("date", "meter_id"),
    "customer_daily_cost": ("date", "customer_id", "meter_id", "contract_id"),
}


def quality_rank(alias: str) -> str:
    """0 for actual ... 3 for missing, 4 for anything else (SQL for DuckDB and DataFusion alike)."""
    whens = " ".join(f"WHEN '{q}' THEN {i}" for i, q in enumerate(QUALITY_PRECEDENCE))
    prefix = f"{alias}." if alias else ""
    return f"(CASE {prefix}quality {whens} ELSE {len(QUALITY_PRECEDENCE)} END)"


def reading_wins(s: str = "s", t: str = "t") -> str:
    """MERGE update condition: reading ``s`` beats ``t`` (the silver job compares the struct
    ``(-rank, ingested_at, ingest_instance_id, source_line)``; written out here field by field)."""
    fields = [
        (f"-{quality_rank(s)}", f"-{quality_rank(t)}"),
        (f"{s}.ingested_at", f"{t}.ingested_at"),
        (f"{s}.ingest_instance_id", f"{t}.ingest_instance_id"),
        (f"{s}.source_line", f"{t}.source_line"),
    ]
    condition = f"{fields[-1][0]} > {fields[-1][1]}"
    for a, b in reversed(fields[:-1]):
        condition = f"{a} > {b} OR ({a} = {b} AND ({condition}))"
    return condition


def local_dates(date_from: dt.date, date_to: dt.date, zones: Sequence[str]) -> list[dt.date]:
    """Every local day the UTC days ``[date_from, date_to]`` overlap in any of ``zones`` (as the gold job)."""
    start = dt.datetime.combine(date_from, dt.time(), dt.UTC)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), dt.UTC) - dt.timedelta(
        microseconds=1
    )
    lo, hi = date_from, date_to
    for name in set(zones):
        lo = min(lo, start.astimezone(ZoneInfo(name)).date())
        hi = max(hi, end.astimezone(ZoneInfo(name)).date())
    return [lo + dt.timedelta(days=n) for n in range((hi - lo).days + 1)]


def date_predicate(days: Sequence[dt.date]) -> str:
    """The replace predicate of a contiguous run of days (the gold job's form)."""
    return f"date >= '{min(days).isoformat()}' AND date <= '{max(days).isoformat()}'"


class Baseline:
    def __init__(self, lake: Path, default_timezone: str = "UTC") -> None:
        self.staging = lake / "staging"
        self.root = lake / "delta_rs"
        self.default_timezone = default_timezone
        self.con = duckdb.connect()
        self.con.sql("SET TimeZone = 'UTC'")

    def table(self, layer: str, name: str) -> str:
        return str(self.root / layer / name)

    def staged(self, dataset: str, instances: Sequence[str]) -> str:
        files = ", ".join(f"'{self.staging / dataset / i / 'part-00000.parquet'}'" for i in instances)
        return f"read_parquet([{files}])"

    def scan(self, layer: str, name: str, view: str) -> None:
        """Registers the table's current snapshot as a DuckDB view (filters are pushed into the scan)."""
        self.con.register(view, DeltaTable(self.table(layer, name)).to_pyarrow_dataset())

    def create(self, layer: str, name: str, query: str, configuration: dict | None = None) -> DeltaTable:
        """The table, created empty with ``query``'s columns when it does not exist (as ensure_table)."""
        path = self.table(layer, name)
        if DeltaTable.is_deltatable(path):
            return DeltaTable(path)
        schema = self.con.sql(query).limit(0).to_arrow_table().schema
        return DeltaTable.create(path, schema, configuration=configuration)

    def reader(self, query: str):
        return self.con.sql(query).to_arrow_reader()

    # -- reference data (timed apart) ------------------------------------------------------------------

    def reference(self) -> None:
        contracts = f"""
          SELECT * EXCLUDE (valid_to, {", ".join(LINEAGE)}),
                 least(valid_to,
                   lead(valid_from) OVER (PARTITION BY contract_id ORDER BY valid_from)) AS valid_to,
                 lead(valid_from) OVER (PARTITION BY contract_id ORDER BY valid_from) IS NULL AS is_current,
                 {", ".join(LINEAGE)}
          FROM {self.staged("contracts", ["bench-contracts"])}
          QUALIFY row_number() OVER (PARTITION BY contract_id, valid_from
                                     ORDER BY ingested_at DESC, ingest_instance_id DESC,
                                       source_line DESC) = 1"""
        write_deltalake(self.table("silver", "contracts"), self.reader(contracts), mode="overwrite")
        prices = f"""
          SELECT * FROM {self.staged("prices", ["bench-prices"])}
          QUALIFY row_number() OVER (PARTITION BY bidding_zone, interval_start, resolution_minutes
            ORDER BY coalesce(published_at, ingested_at) DESC, ingested_at DESC, ingest_instance_id DESC,
                     source_line DESC) = 1"""
        write_deltalake(self.table("silver", "prices"), self.reader(prices), mode="overwrite")

    # -- silver job for the readings -------------------------------------------------------------------

    def bronze_append(self, instances: Sequence[str]) -> dict:
        """Appends the staged rows of the instances the bronze table does not hold yet."""
        staged = self.staged("meter_readings", instances)
        self.create(
            "bronze",
            "meter_readings",
            f"SELECT * FROM {staged}",
            {"delta.appendOnly": "true"},
        )
        self.scan("bronze", "meter_readings", "bronze_readings")
        listed = ", ".join(f"'{i}'" for i in instances)
        present = {
            r[0]
            for r in self.con.sql(
                "SELECT DISTINCT ingest_instance_id FROM bronze_readings "
                f"WHERE ingest_instance_id IN ({listed})"
            ).fetchall()
        }
        todo = [i for i in instances if i not in present]
        if todo:
            write_deltalake(
                self.table("bronze", "meter_readings"),
                self.reader(f"SELECT * FROM {self.staged('meter_readings', todo)}"),
                mode="append",
            )
        return {"appended_instances": len(todo), "skipped_instances": len(present)}

    def silver_merge(self, instances: Sequence[str]) -> dict:
        """The best staged reading per key, MERGEd into silver where it beats the stored one."""
        staged = self.staged("meter_readings", instances)
        best = f"""
          SELECT {", ".join(SILVER_READING_COLUMNS)} FROM (
            SELECT *, CAST(interval_start AS DATE) AS reading_date FROM {staged}
            QUALIFY row_number() OVER (PARTITION BY {", ".join(READING_KEY)}
              ORDER BY {quality_rank("")}, ingested_at DESC, ingest_instance_id DESC,
                source_line DESC) = 1)"""
        silver = self.create("silver", "meter_readings", best, {"delta.enableChangeDataFeed": "true"})
        lo, hi = self.con.sql(
            f"SELECT CAST(min(interval_start) AS DATE)::VARCHAR, CAST(max(interval_start) AS DATE)::VARCHAR "
            f"FROM {staged}"
        ).fetchall()[0]
        on = " AND ".join(f"t.{k} = s.{k}" for k in READING_KEY)
        metrics = (
            silver.merge(
                self.reader(best),
                predicate=f"{on} AND t.reading_date BETWEEN DATE '{lo}' AND DATE '{hi}'",
                source_alias="s",
                target_alias="t",
            )
            .when_matched_update_all(predicate=reading_wins())
            .when_not_matched_insert_all()
            .execute()
        )
        keep = (
            "num_source_rows",
            "num_target_rows_inserted",
            "num_target_rows_updated",
            "num_output_rows",
        )
        return {k: metrics[k] for k in keep}

    def reports_merge(self, instances: Sequence[str]) -> dict:
        rows = []
        for instance in instances:
            path = self.staging / "meter_readings" / instance / "_report.json"
            if path.exists():
                r = json.loads(path.read_text())
                rows.append(
                    f"('{r['instanceId']}', '{r['contract']['dataset']}', '{r['contract']['source']}', "
                    f"'{r['file']['path']}', {r['counts']['rowsRead']}, {r['counts']['rowsValid']}, "
                    f"{r['counts']['rowsRejected']}, {r['counts']['duplicatesDropped']}, "
                    f"{r['rejectedShare']}, '{r['verdict']}', TIMESTAMPTZ '{r['startedAt']}')"
                )
        source = f"""
          SELECT instance_id, dataset, source_system, file_path, rows_read::BIGINT AS rows_read,
                 rows_valid::BIGINT AS rows_valid, rows_rejected::BIGINT AS rows_rejected,
                 duplicates_dropped::BIGINT AS duplicates_dropped, rejected_share::DOUBLE AS rejected_share,
                 verdict, started_at, now() AS loaded_at
          FROM (VALUES {", ".join(rows)}) v(instance_id, dataset, source_system, file_path, rows_read,
                 rows_valid, rows_rejected, duplicates_dropped, rejected_share, verdict, started_at)"""
        table = self.create("silver", "validation_reports", source)
        metrics = (
            table.merge(
                self.reader(source),
                "t.instance_id = s.instance_id",
                source_alias="s",
                target_alias="t",
            )
            .when_matched_update_all(predicate="s.started_at > t.started_at")
            .when_not_matched_insert_all()
            .execute()
        )
        return {"num_source_rows": metrics["num_source_rows"]}

    # -- gold job for daily_consumption and customer_daily_cost ----------------------------------------

    def gold_prepare(self, date_from: dt.date, date_to: dt.date) -> list[dt.date]:
        """The local days to recompute and the readings enriched with their contract version (kept)."""
        self.scan("silver", "contracts", "contracts")
        self.scan("silver", "prices", "prices")
        self.scan("silver", "meter_readings", "readings")
        zones = [r[0] for r in self.con.sql("SELECT DISTINCT tariff_timezone FROM contracts").fetchall()]
        days = local_dates(
            date_from,
            date_to,
            sorted({self.default_timezone, *(z for z in zones if z)}),
        )
        # The gold job reads the days plus the features' look-back before them; these two tables need the days
        # with one day of margin, which here (readings only inside the run's UTC days) reads the same rows.
        lo, hi = min(days) - dt.timedelta(days=1), max(days) + dt.timedelta(days=1)
        tz = f"coalesce(p.tariff_timezone, '{self.default_timezone}')"
        self.con.sql(f"""
          CREATE OR REPLACE TEMP TABLE enriched AS
          WITH periods AS (
            SELECT *, valid_from AS eff_from,
                   least(valid_to,
                     lead(valid_from) OVER (PARTITION BY meter_id ORDER BY valid_from, contract_id))
                     AS eff_to
            FROM contracts)
          SELECT r.meter_id, r.channel, r.interval_start, r.interval_minutes, r.kwh, r.quality, p.contract_id,
                 p.valid_from AS contract_valid_from, p.customer_id, {tz} AS timezone,
                 timezone({tz}, r.interval_start) AS local_ts,
                 CAST(timezone({tz}, r.interval_start) AS DATE) AS date,
                 p.tariff_type, p.unit_rate_eur_per_kwh, p.peak_rate_eur_per_kwh, p.offpeak_rate_eur_per_kwh,
                 p.peak_start_local, p.peak_end_local, p.spot_markup_eur_per_kwh, p.bidding_zone
          FROM readings r LEFT JOIN periods p ON r.meter_id = p.meter_id AND r.interval_start >= p.eff_from
            AND (p.eff_to IS NULL OR r.interval_start < p.eff_to)
          WHERE r.reading_date BETWEEN DATE '{lo}' AND DATE '{hi}'""")
        return days

    @staticmethod
    def in_days(days: Sequence[dt.date], column: str = "date") -> str:
        return f"{column} BETWEEN DATE '{min(days)}' AND DATE '{max(days)}'"

    def daily_consumption_sql(self, days: Sequence[dt.date], run_id: str) -> str:
        minutes = (
            "CAST((epoch(timezone(timezone, CAST(date + 1 AS TIMESTAMP)))"
            " - epoch(timezone(timezone, CAST(date AS TIMESTAMP)))) / 60 AS BIGINT)"
        )
        return f"""
          WITH daily AS (
            SELECT date, meter_id, customer_id, timezone,
                   sum(CASE WHEN imp THEN kwh ELSE 0.0 END) AS import_kwh,
                   sum(CASE WHEN channel = 'export' AND quality <> 'missing' THEN kwh ELSE 0.0 END)
                     AS export_kwh,
                   count(*) AS readings_count, count(CASE WHEN imp THEN 1 END) AS import_readings,
                   count(CASE WHEN imp AND quality IN ('estimated', 'substituted') THEN 1 END) AS estimated,
                   min(interval_minutes) AS interval_minutes
            FROM (SELECT *, channel = 'import' AND quality <> 'missing' AS imp FROM enriched)
            WHERE {self.in_days(days)} GROUP BY ALL),
          counted AS (
            SELECT *, CAST(trunc({minutes} / interval_minutes) AS BIGINT) AS expected_readings FROM daily)
          SELECT date, meter_id, customer_id, timezone, round(import_kwh, 6) AS import_kwh,
                 round(export_kwh, 6) AS export_kwh, readings_count, import_readings, expected_readings,
                 least(1.0, import_readings / expected_readings) AS completeness,
                 CASE WHEN import_readings > 0 THEN estimated / import_readings END AS estimated_share,
                 now() AS computed_at, '{run_id}' AS computed_by
          FROM counted"""

    def customer_daily_cost_sql(self, days: Sequence[dt.date], run_id: str) -> str:
        buckets = " UNION ALL ".join(
            f"""SELECT bidding_zone, {b} AS bucket_minutes, unnest(generate_series(interval_start,
                  interval_start + to_minutes(resolution_minutes - {b}),
                    INTERVAL {b} MINUTE)) AS bucket_start,
                  price_eur_per_mwh FROM finest WHERE resolution_minutes >= {b}
                UNION ALL
                SELECT bidding_zone, {b}, to_timestamp(floor(epoch(interval_start) / {b * 60}) * {b * 60}),
                  avg(price_eur_per_mwh) FROM finest WHERE resolution_minutes < {b} GROUP BY ALL"""
            for b in (5, 15, 30, 60)
        )

        def minute_of(hhmm: str) -> str:
            hours, minutes = (f"TRY_CAST(substring({hhmm}, {at}, 2) AS INTEGER)" for at in (1, 4))
            return f"({hours} * 60 + {minutes})"

        start, end = minute_of("peak_start_local"), minute_of("peak_end_local")
        minute = "(hour(local_ts) * 60 + minute(local_ts))"
        in_peak = (
            f"CASE WHEN {start} <= {end} THEN {minute} >= {start} AND {minute} < {end} "
            f"ELSE {minute} >= {start} OR {minute} < {end} END"
        )
        rate = f"""CASE tariff_type WHEN 'fixed' THEN unit_rate_eur_per_kwh
            WHEN 'time_of_use' THEN
              CASE WHEN {in_peak} THEN peak_rate_eur_per_kwh ELSE offpeak_rate_eur_per_kwh END
            WHEN 'dynamic' THEN price_eur_per_mwh / 1000.0 + coalesce(spot_markup_eur_per_kwh, 0.0) END"""
        day_list = ", ".join(f"DATE '{d}'" for d in sorted(set(days)))
        keys = ("date", "customer_id", "meter_id", "contract_id")
        return f"""
          WITH finest AS (
            SELECT bidding_zone, interval_start, resolution_minutes, price_eur_per_mwh FROM prices
            QUALIFY resolution_minutes = min(resolution_minutes)
              OVER (PARTITION BY bidding_zone, date_trunc('hour', interval_start))),
          buckets AS ({buckets}),
          priced AS (
            SELECT e.*, b.price_eur_per_mwh FROM enriched e LEFT JOIN buckets b
              ON e.tariff_type = 'dynamic' AND e.bidding_zone = b.bidding_zone
             AND e.interval_minutes = b.bucket_minutes AND e.interval_start = b.bucket_start
            WHERE {self.in_days(days, "e.date")} AND e.channel = 'import' AND e.quality <> 'missing'
              AND e.contract_id IS NOT NULL),
          per_version AS (
            SELECT date, customer_id, meter_id, contract_id, contract_valid_from, tariff_type, bidding_zone,
                   sum(kwh) AS import_kwh, sum(coalesce(kwh * ({rate}), 0.0)) AS energy_cost_eur,
                   sum(CASE WHEN ({rate}) IS NULL THEN kwh ELSE 0.0 END) AS unpriced_kwh
            FROM priced GROUP BY ALL),
          energy AS (
            SELECT date, customer_id, meter_id, contract_id, sum(import_kwh) AS import_kwh,
                   sum(energy_cost_eur) AS energy_cost_eur, sum(unpriced_kwh) AS unpriced_kwh,
                   arg_max(tariff_type, contract_valid_from) AS e_tariff,
                   arg_max(bidding_zone, contract_valid_from) AS e_zone
            FROM per_version GROUP BY ALL),
          standing AS (
            SELECT d.date, c.customer_id, c.meter_id, c.contract_id,
                   sum(c.standing_charge_eur_per_day) AS standing_charge_eur,
                   arg_max(c.tariff_type, c.valid_from) AS s_tariff,
                   arg_max(c.bidding_zone, c.valid_from) AS s_zone
            FROM contracts c, (SELECT unnest([{day_list}]) AS date) d
            WHERE c.valid_from <= timezone(coalesce(c.tariff_timezone, '{self.default_timezone}'),
              CAST(d.date AS TIMESTAMP))
              AND (c.valid_to IS NULL
                   OR timezone(coalesce(c.tariff_timezone, '{self.default_timezone}'),
                     CAST(d.date AS TIMESTAMP))
                      < c.valid_to)
            GROUP BY ALL),
          both_sides AS (
            SELECT {", ".join(f"coalesce(e.{k}, s.{k}) AS {k}" for k in keys)},
                   coalesce(e.e_tariff, s.s_tariff) AS tariff_type,
                   coalesce(e.e_zone, s.s_zone) AS bidding_zone,
                   round(coalesce(e.import_kwh, 0.0), 6) AS import_kwh,
                   round(coalesce(e.energy_cost_eur, 0.0), 6) AS energy_cost_eur,
                   coalesce(s.standing_charge_eur, 0.0) AS standing_charge_eur,
                   round(coalesce(e.unpriced_kwh, 0.0), 6) AS unpriced_kwh
            FROM energy e FULL JOIN standing s ON {" AND ".join(f"e.{k} = s.{k}" for k in keys)})
          SELECT {", ".join(keys)}, tariff_type, bidding_zone, import_kwh, energy_cost_eur,
            standing_charge_eur,
                 round(energy_cost_eur + standing_charge_eur, 6) AS total_cost_eur, unpriced_kwh,
                 now() AS computed_at, '{run_id}' AS computed_by
          FROM both_sides"""

    def gold_replace(self, name: str, days: Sequence[dt.date], run_id: str) -> None:
        """Replaces ``days`` of the gold table (the write refuses rows outside the predicate)."""
        query = getattr(self, f"{name}_sql")(days, run_id)
        self.create("gold", name, query, {"delta.enableDeletionVectors": "false"})
        write_deltalake(
            self.table("gold", name),
            self.reader(query),
            mode="overwrite",
            predicate=date_predicate(days),
        )


def run(lake: Path, instances: Sequence[str], date_from: dt.date, date_to: dt.date) -> dict:
    """Reference data, then the timed silver (readings) and gold (two tables) work; seconds per step."""
    b = Baseline(lake)
    timings: dict[str, float] = {}
    t = time.monotonic()
    b.reference()
    timings["silver_contracts_and_prices"] = round(time.monotonic() - t, 2)
    t0 = t = time.monotonic()
    bronze = b.bronze_append(instances)
    timings["bronze_append"] = round(time.monotonic() - t, 2)
    t = time.monotonic()
    silver = b.silver_merge(instances)
    timings["silver_dedupe_merge"] = round(time.monotonic() - t, 2)
    t = time.monotonic()
    b.reports_merge(instances)
    timings["silver_reports_merge"] = round(time.monotonic() - t, 2)
    silver_seconds = time.monotonic() - t0
    t1 = t = time.monotonic()
    days = b.gold_prepare(date_from, date_to)
    timings["gold_prepare"] = round(time.monotonic() - t, 2)
    for name in GOLD_TABLES:
        t = time.monotonic()
        b.gold_replace(name, days, "bench-delta-rs")
        timings[f"gold_{name}"] = round(time.monotonic() - t, 2)
    gold_seconds = time.monotonic() - t1
    return {
        "timings": timings,
        "silver_readings_seconds": round(silver_seconds, 2),
        "gold_seconds": round(gold_seconds, 2),
        "seconds": round(silver_seconds + gold_seconds, 2),
        "bronze": bronze,
        "silver_merge": silver,
        "gold_days": [str(min(days)), str(max(days))],
    }


def gold_totals(con: duckdb.DuckDBPyConnection, path: Path, name: str, days: Sequence[str]) -> dict:
    con.register("g", DeltaTable(str(path)).to_pyarrow_dataset())
    cost = "sum(total_cost_eur)" if name == "customer_daily_cost" else "NULL"
    rows, kwh, eur = con.sql(
        f"SELECT count(*), sum(import_kwh), {cost} FROM g "
        f"WHERE date BETWEEN DATE '{days[0]}' AND DATE '{days[1]}'"
    ).fetchall()[0]
    con.unregister("g")
    return {"rows": rows, "import_kwh": kwh, "total_cost_eur": eur}


def compare_gold(lake: Path, days: Sequence[str]) -> dict:
    """Rows, kWh and cost totals of each gold table from both sides' Delta tables over ``days``
    (first, last); equal means the same row count and sums within 1e-9 relative (summation order).
    ``mismatched_rows`` counts keys present on one side only or whose kWh or cost differ by more than
    1e-6."""
    con = duckdb.connect()
    out: dict = {"ok": True}
    for name in GOLD_TABLES:
        spark_path, ours = lake / "gold" / name, lake / "delta_rs" / "gold" / name
        a, b = (
            gold_totals(con, spark_path, name, days),
            gold_totals(con, ours, name, days),
        )
        con.register("a", DeltaTable(str(spark_path)).to_pyarrow_dataset())
        con.register("b", DeltaTable(str(ours)).to_pyarrow_dataset())
        keys = GOLD_KEYS[name]
        cost = " OR abs(a.total_cost_eur - b.total_cost_eur) > 1e-6" if name == "customer_daily_cost" else ""
        (mismatched,) = con.sql(f"""
          SELECT count(*) FROM a FULL JOIN b ON {" AND ".join(f"a.{k} = b.{k}" for k in keys)}
          WHERE a.meter_id IS NULL OR b.meter_id IS NULL
            OR abs(a.import_kwh - b.import_kwh) > 1e-6{cost}""").fetchall()[0]
        equal = a["rows"] == b["rows"] and all(
            (a[k] is None and b[k] is None) or math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-9)
            for k in ("import_kwh", "total_cost_eur")
        )
        out[name] = {
            "spark": a,
            "delta_rs": b,
            "equal": equal,
            "mismatched_rows": mismatched,
        }
        out["ok"] = out["ok"] and equal and mismatched == 0
    return out
