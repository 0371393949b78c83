"""Silver transforms: bronze raw records, reading precedence, SCD type 2, price de-duplication."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lakewatt.pii import masked
from lakewatt.schemas import LINEAGE_COLUMNS, PII_COLUMNS

# Lower is better. A missing reading never replaces a reading with a value.
QUALITY_PRECEDENCE = ("actual", "substituted", "estimated", "missing")
READING_KEY = ("meter_id", "channel", "interval_start")
PRICE_KEY = ("bidding_zone", "interval_start", "resolution_minutes")


def quality_rank(quality: Column) -> Column:
    """0 for actual ... 3 for missing (unknown values rank last)."""
    rank = F.lit(len(QUALITY_PRECEDENCE))
    for position, name in reversed(list(enumerate(QUALITY_PRECEDENCE))):
        rank = F.when(quality == name, F.lit(position)).otherwise(rank)
    return rank


def reading_priority(prefix: str = "") -> Column:
    """Orders two readings of one key: the greater struct wins.

    Quality first (actual > substituted > estimated > missing), then the later ingestion; the orchestration
    id and source line only make the order total, so the same input always picks the same winner.
    """
    c = (lambda name: F.col(f"{prefix}{name}")) if prefix else F.col
    return F.struct(
        (-quality_rank(c("quality"))).alias("q"),
        c("ingested_at").alias("at"),
        c("ingest_instance_id").alias("by"),
        c("source_line").alias("line"),
    )


def bronze_records(staged: DataFrame, dataset: str, pii_key: bytes | None = None) -> DataFrame:
    """Staged rows as the bronze raw-record table stores them: as staged, except PII.

    PII columns are masked (``<column>_hash``) or dropped here already, so personal data never lands in a
    Delta table; the bronze files keep the original.
    """
    treatments = PII_COLUMNS[dataset]
    if not treatments:
        return staged
    if pii_key is None:
        raise ValueError(f"{dataset} has PII columns: a hashing key is required")
    out = []
    for name in staged.columns:
        treatment = treatments.get(name)
        if treatment == "mask":
            out.append(masked(name, pii_key))
        elif treatment is None:
            out.append(F.col(name))
    return staged.select(*out)


def shuffle_partitions(spark: SparkSession) -> int:
    """The session's ``spark.sql.shuffle.partitions`` (200, Spark's default, when it is not a number)."""
    value = spark.conf.get("spark.sql.shuffle.partitions", "200") or "200"
    return int(value) if value.isdigit() else 200


def best_readings(staged: DataFrame) -> DataFrame:
    """One reading per ``(meter_id, channel, interval_start)``: the one with the highest priority.

    Duplicates are rare (re-deliveries across the batch's files), so only rows whose key may repeat are
    ranked: a hash of the key is counted (a shuffle of one long per row, not of whole rows), rows with a
    unique hash pass straight through, and the rest (the repeats, plus any hash collision, which only costs
    a ranking) are hash-partitioned on the key and ranked by a window. Ranking every row this way took twice
    as long on 5 M staged readings (decision 0031).
    """
    hashed = staged.withColumn("_key_hash", F.xxhash64(*READING_KEY))
    # Shuffled on the hash before counting: nearly every hash is unique, so the partial count Spark runs
    # before its own shuffle reduces nothing and doubled the count's time. The number of partitions is
    # explicit, or adaptive execution coalesces the ~80 MB of hashes of 10 M readings into one task
    # (decision 0038).
    repeated = (
        hashed.select("_key_hash")
        .repartition(shuffle_partitions(staged.sparkSession), "_key_hash")
        .groupBy("_key_hash")
        .count()
        .where(F.col("count") > 1)
        .select("_key_hash")
    )
    unique = hashed.join(repeated, "_key_hash", "left_anti")
    ranked = Window.partitionBy(*READING_KEY).orderBy(reading_priority().desc())
    best_of_repeats = (
        hashed.join(repeated, "_key_hash", "left_semi")
        .select("*", F.row_number().over(ranked).alias("_rank"))
        .where(F.col("_rank") == 1)
        .drop("_rank")
    )
    return (
        unique.unionByName(best_of_repeats)
        .drop("_key_hash")
        .withColumn("reading_date", F.to_date("interval_start"))
        # Received readings are not estimates of VEE's (vee.run writes those).
        .withColumn("estimation_method", F.lit(None).cast("string"))
        .withColumn("vee_rule", F.lit(None).cast("string"))
    )


def reading_wins_condition() -> str:
    """MERGE condition: the source reading ``s`` beats the stored one ``t``."""

    def struct_sql(alias: str) -> str:
        return (
            f"struct(-(CASE {alias}.quality "
            + " ".join(f"WHEN '{q}' THEN {i}" for i, q in enumerate(QUALITY_PRECEDENCE))
            + f" ELSE {len(QUALITY_PRECEDENCE)} END), {alias}.ingested_at, {alias}.ingest_instance_id, "
            f"{alias}.source_line)"
        )

    return f"{struct_sql('s')} > {struct_sql('t')}"


def record_hash(columns: Sequence[str]) -> Column:
    """SHA-256 over the business columns (null-safe), to tell a changed version from a re-delivery."""
    return F.sha2(F.to_json(F.struct(*(F.col(c) for c in columns))), 256)


def _latest_per_version(rows: DataFrame, key: str, version: str) -> DataFrame:
    others = [c for c in rows.columns if c not in (key, version)]
    ordered = F.struct(
        F.col("ingested_at").alias("at"),
        F.col("ingest_instance_id").alias("by"),
        F.col("source_line").alias("l"),
    )
    best = rows.groupBy(key, version).agg(F.max(F.struct(ordered.alias("o"), *others)).alias("b"))
    return best.select(key, version, *(F.col(f"b.{c}").alias(c) for c in others))


def scd2(
    incoming: DataFrame,
    existing: DataFrame,
    *,
    key: str,
    version: str,
    business_columns: Sequence[str],
    end_column: str | None = None,
) -> DataFrame:
    """SCD type 2 rows for every key in ``incoming``, recomputed over its stored and new versions.

    ``version`` orders the versions of one ``key`` and becomes ``valid_from``. ``valid_to`` is the next
    version's start or, when ``end_column`` is given (contracts carry their own end), the earlier of the
    two. ``is_current`` marks the version with no successor. Re-delivering a version with a later ingestion
    replaces it (latest ingestion wins); re-delivering it unchanged gives back the same row and record hash.
    ``existing`` is the silver table (any columns beyond the incoming ones are ignored).
    """
    columns = incoming.columns
    stored = existing.join(incoming.select(key).distinct(), key, "left_semi").select(*columns)
    versions = _latest_per_version(incoming.unionByName(stored), key, version)
    window = Window.partitionBy(key).orderBy(version)
    next_start = F.lead(version).over(window)
    valid_to = next_start if end_column is None else F.least(F.col(end_column), next_start)
    out = (
        versions.withColumn("valid_from", F.col(version))
        .withColumn("valid_to", valid_to)
        .withColumn("is_current", next_start.isNull())
        .withColumn("record_hash", record_hash(business_columns))
    )
    return out


def changed_windows(
    versions: DataFrame, existing: DataFrame, *, key: str, compare: Sequence[str]
) -> DataFrame:
    """The SCD2 ``versions`` that change something, each with the time window it changes (``w_from`` to
    ``w_to``, null: open-ended).

    A new version changes its whole validity; a stored version whose ``compare`` columns differ changes its
    validity before and after; one whose content is the same but whose ``valid_to`` moved (a contract's end
    corrected, or closed by a newer version) changes only the time between the two ends. A re-sent
    snapshot gives none.
    """
    names = [key, "valid_from", "valid_to", *compare]
    stored = existing.select(*(F.col(c).alias(f"_stored_{c}") for c in names))
    joined = versions.join(
        stored,
        (F.col(key) == F.col(f"_stored_{key}")) & (F.col("valid_from") == F.col("_stored_valid_from")),
        "left",
    )
    new = F.col(f"_stored_{key}").isNull()
    same_content = F.lit(True)
    for c in compare:
        same_content = same_content & F.col(c).eqNullSafe(F.col(f"_stored_{c}"))
    ends = (F.col("valid_to"), F.col("_stored_valid_to"))
    later_end = F.when(ends[0].isNull() | ends[1].isNull(), F.lit(None)).otherwise(F.greatest(*ends))
    moved_end = ~F.col("valid_to").eqNullSafe(F.col("_stored_valid_to"))
    return (
        joined.where(new | ~same_content | moved_end)
        .withColumn("w_from", F.when(new | ~same_content, F.col("valid_from")).otherwise(F.least(*ends)))
        .withColumn("w_to", F.when(new, F.col("valid_to")).otherwise(later_end))
        .select(*versions.columns, "w_from", "w_to")
    )


SCD2_CHANGED = (
    "t.record_hash <> s.record_hash OR NOT (t.valid_to <=> s.valid_to) OR t.is_current <> s.is_current"
)


def customer_business_columns(columns: Sequence[str]) -> list[str]:
    return [c for c in columns if c not in LINEAGE_COLUMNS]


def latest_prices(staged: DataFrame) -> DataFrame:
    """One price per key ``(bidding_zone, interval_start, resolution_minutes)``: latest publication wins."""
    others = [c for c in staged.columns if c not in PRICE_KEY]
    best = staged.groupBy(*PRICE_KEY).agg(F.max(F.struct(price_priority().alias("p"), *others)).alias("b"))
    return best.select(*PRICE_KEY, *(F.col(f"b.{c}").alias(c) for c in others))


def price_priority() -> Column:
    return F.struct(
        F.coalesce(F.col("published_at"), F.col("ingested_at")).alias("pub"),
        F.col("ingested_at").alias("at"),
        F.col("ingest_instance_id").alias("by"),
        F.col("source_line").alias("l"),
    )


def price_wins_condition() -> str:
    def s(alias: str) -> str:
        return (
            f"struct(coalesce({alias}.published_at, {alias}.ingested_at), {alias}.ingested_at, "
            f"{alias}.ingest_instance_id, {alias}.source_line)"
        )

    return f"{s('s')} > {s('t')}"


def report_rows(raw: DataFrame, loaded_at: Column | None = None) -> DataFrame:
    """Validation reports (``_report.json``) as ``silver.validation_reports`` rows."""
    return raw.select(
        F.col("instanceId").alias("instance_id"),
        F.col("contract.dataset").alias("dataset"),
        F.col("contract.source").alias("source_system"),
        F.col("file.path").alias("file_path"),
        F.col("file.etag").alias("file_etag"),
        F.col("file.sha256").alias("file_sha256"),
        F.col("counts.rowsRead").alias("rows_read"),
        F.col("counts.rowsValid").alias("rows_valid"),
        F.col("counts.rowsRejected").alias("rows_rejected"),
        F.col("counts.duplicatesDropped").alias("duplicates_dropped"),
        F.col("rejectedShare").alias("rejected_share"),
        F.col("ruleFailures").alias("rule_failures"),
        F.transform("affectedDates", lambda d: F.to_date(d)).alias("affected_dates"),
        F.col("verdict"),
        F.to_timestamp("startedAt").alias("started_at"),
        (loaded_at if loaded_at is not None else F.current_timestamp()).alias("loaded_at"),
    )
