"""Gold transforms: pure functions from silver (and bronze) DataFrames to gold rows.

Time: silver holds UTC instants. Gold days are local days in the supply point's time zone (the contract's
``tariff_timezone``, else the job's default), so a daylight-saving day has 23 or 25 hours, and the
time-of-use peak window is read on the local clock. ``data_quality_daily`` is per UTC data day, the days
the validation reports list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class AnomalyRules:
    """Thresholds of the anomaly detectors (documented in docs/spark-jobs.md)."""

    baseline_days: int = 28  # trailing same-hour baseline
    min_baseline_points: int = 7
    spike_z: float = 6.0  # robust z-score above which an hour is a spike
    min_scale_kwh: float = 0.05  # floor of the robust scale, so a flat baseline does not flag noise
    zero_streak_minutes: int = 12 * 60
    # Largest plausible average power in an interval, kW, by customer segment.
    implausible_kw: Mapping[str, float] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.implausible_kw is None:
            object.__setattr__(
                self, "implausible_kw", {"residential": 50.0, "sme": 500.0, "industrial": 20000.0}
            )


DEFAULT_RULES = AnomalyRules()
UNKNOWN_SEGMENT_KW = 20000.0


def date_list(dates: Iterable[dt.date]) -> Column:
    return F.array(*(F.lit(d) for d in sorted(set(dates))))


def in_dates(column: str, dates: Iterable[dt.date]) -> Column:
    return F.col(column).isin(sorted(set(dates)))


# -------------------------------------------------------------------------------------- reference data


def contract_periods(contracts: DataFrame) -> DataFrame:
    """Non-overlapping supply periods per meter: ``[eff_from, eff_to)`` with the contract version's terms.

    Versions of different contracts on one meter may overlap in bad data; a later start then ends the
    earlier period, so every reading belongs to at most one contract version.
    """
    w = Window.partitionBy("meter_id").orderBy("valid_from", "contract_id")
    return contracts.select(
        "*",
        F.col("valid_from").alias("eff_from"),
        F.least(F.col("valid_to"), F.lead("valid_from").over(w)).alias("eff_to"),
    )


def customer_periods(customers: DataFrame) -> DataFrame:
    """Customer versions as-of periods; the first version also covers the time before it was recorded."""
    w = Window.partitionBy("customer_id").orderBy("valid_from")
    return customers.select(
        "customer_id",
        F.when(F.lag("valid_from").over(w).isNotNull(), F.col("valid_from")).alias("c_from"),
        F.col("valid_to").alias("c_to"),
        "region",
        "segment",
    )


def enrich_readings(readings: DataFrame, contracts: DataFrame, default_timezone: str) -> DataFrame:
    """Readings with their contract version, customer, time zone, local time and local date.

    The contract side is small and broadcast; the range condition is a filter after the hash join on meter.
    """
    periods = contract_periods(contracts).select(
        F.col("meter_id").alias("c_meter"),
        "eff_from",
        "eff_to",
        "contract_id",
        F.col("valid_from").alias("contract_valid_from"),
        "customer_id",
        "tariff_timezone",
    )
    joined = readings.join(
        F.broadcast(periods),
        (readings.meter_id == periods.c_meter)
        & (readings.interval_start >= periods.eff_from)
        & (periods.eff_to.isNull() | (readings.interval_start < periods.eff_to)),
        "left",
    )
    tz = F.coalesce(F.col("tariff_timezone"), F.lit(default_timezone))
    local = F.from_utc_timestamp("interval_start", tz)
    return joined.select(
        "meter_id",
        "channel",
        "interval_start",
        "interval_minutes",
        "kwh",
        "quality",
        "contract_id",
        "contract_valid_from",
        "customer_id",
        tz.alias("timezone"),
        local.alias("local_ts"),
        F.to_date(local).alias("date"),
    )


def local_day_minutes(date: Column, timezone: Column) -> Column:
    """Length of a local day in minutes: 1440, or 1380 / 1500 on daylight-saving days."""
    start = F.to_utc_timestamp(date.cast("timestamp"), timezone)
    end = F.to_utc_timestamp(F.date_add(date, 1).cast("timestamp"), timezone)
    return ((F.unix_timestamp(end) - F.unix_timestamp(start)) / 60).cast("long")


def _usable(channel: str) -> Column:
    return (F.col("channel") == channel) & (F.col("quality") != "missing")


# ----------------------------------------------------------------------------------- daily consumption


def daily_consumption(enriched: DataFrame, dates: Sequence[dt.date]) -> DataFrame:
    rows = enriched.where(in_dates("date", dates))
    imp = _usable("import")
    daily = rows.groupBy("date", "meter_id", "customer_id", "timezone").agg(
        F.sum(F.when(imp, F.col("kwh")).otherwise(0.0)).alias("import_kwh"),
        F.sum(F.when(_usable("export"), F.col("kwh")).otherwise(0.0)).alias("export_kwh"),
        F.count(F.lit(1)).alias("readings_count"),
        F.count(F.when(imp, True)).alias("import_readings"),
        F.count(F.when(imp & F.col("quality").isin("estimated", "substituted"), True)).alias("estimated"),
        F.min("interval_minutes").alias("interval_minutes"),
    )
    expected = (local_day_minutes(F.col("date"), F.col("timezone")) / F.col("interval_minutes")).cast("long")
    return daily.select(
        "date",
        "meter_id",
        "customer_id",
        "timezone",
        F.round("import_kwh", 6).alias("import_kwh"),
        F.round("export_kwh", 6).alias("export_kwh"),
        "readings_count",
        "import_readings",
        expected.alias("expected_readings"),
        F.least(F.lit(1.0), F.col("import_readings") / expected).alias("completeness"),
        F.when(F.col("import_readings") > 0, F.col("estimated") / F.col("import_readings")).alias(
            "estimated_share"
        ),
    )


# ------------------------------------------------------------------------------------------------ cost


def price_buckets(prices: DataFrame) -> DataFrame:
    """Spot price per ``(bidding_zone, bucket_minutes, bucket_start)`` for every reading interval length.

    Where a zone has both hourly and 15-minute prices for an hour, the 15-minute ones are used. A reading
    interval longer than the price resolution gets the mean of the prices it spans (energy spread evenly),
    a shorter one the price of the interval containing it. Small table: broadcast to the readings.
    """
    hour = F.date_trunc("hour", "interval_start")
    finest = Window.partitionBy("bidding_zone", hour)
    p = (
        prices.select("bidding_zone", "interval_start", "resolution_minutes", "price_eur_per_mwh")
        .withColumn("finest", F.min("resolution_minutes").over(finest))
        .where(F.col("resolution_minutes") == F.col("finest"))
    )
    parts = []
    for bucket in (5, 15, 30, 60):
        # Price intervals at least as long as the bucket: one row per bucket they cover.
        covering = p.where(F.col("resolution_minutes") >= bucket).select(
            "bidding_zone",
            F.lit(bucket).alias("bucket_minutes"),
            F.explode(
                F.sequence(
                    F.col("interval_start"),
                    F.col("interval_start") + F.make_dt_interval(mins=F.col("resolution_minutes") - bucket),
                    F.make_dt_interval(mins=F.lit(bucket)),
                )
            ).alias("bucket_start"),
            "price_eur_per_mwh",
        )
        # Shorter price intervals: the mean over the bucket.
        seconds = bucket * 60
        start_s = F.unix_seconds("interval_start")
        spanned = (
            p.where(F.col("resolution_minutes") < bucket)
            .groupBy("bidding_zone", F.timestamp_seconds(start_s - start_s % seconds).alias("bucket_start"))
            .agg(F.avg("price_eur_per_mwh").alias("price_eur_per_mwh"))
            .select(
                "bidding_zone", F.lit(bucket).alias("bucket_minutes"), "bucket_start", "price_eur_per_mwh"
            )
        )
        parts.extend([covering, spanned])
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out


def _minute_of(hhmm: Column) -> Column:
    return F.substring(hhmm, 1, 2).cast("int") * 60 + F.substring(hhmm, 4, 2).cast("int")


def customer_daily_cost(
    enriched: DataFrame,
    contracts: DataFrame,
    prices: DataFrame,
    dates: Sequence[dt.date],
    default_timezone: str,
) -> DataFrame:
    """Energy cost per reading under its contract version's tariff, per day, plus standing charges.

    fixed: kWh x unit rate. time_of_use: peak rate when the local clock time of the interval start is in
    ``[peak_start, peak_end)`` (a window may wrap midnight), off-peak rate otherwise. dynamic: kWh x (spot
    EUR/MWh / 1000 + markup), the spot price of the reading's interval; kWh with no price count as unpriced.
    Standing charge: the contract version valid at local midnight is charged for the day, whether or not
    readings arrived.
    """
    terms = contracts.select(
        F.col("contract_id").alias("k_contract"),
        F.col("valid_from").alias("k_valid_from"),
        "tariff_type",
        "unit_rate_eur_per_kwh",
        "peak_rate_eur_per_kwh",
        "offpeak_rate_eur_per_kwh",
        "peak_start_local",
        "peak_end_local",
        "spot_markup_eur_per_kwh",
        "bidding_zone",
    )
    rows = enriched.where(in_dates("date", dates) & _usable("import") & F.col("contract_id").isNotNull())
    rows = rows.join(
        F.broadcast(terms),
        (rows.contract_id == terms.k_contract) & (rows.contract_valid_from == terms.k_valid_from),
    )
    buckets = price_buckets(prices)
    rows = rows.join(
        F.broadcast(buckets),
        (rows.bidding_zone == buckets.bidding_zone)
        & (rows.interval_minutes == buckets.bucket_minutes)
        & (rows.interval_start == buckets.bucket_start)
        & (rows.tariff_type == "dynamic"),
        "left",
    ).drop(buckets.bidding_zone)
    minute = F.hour("local_ts") * 60 + F.minute("local_ts")
    start, end = _minute_of(F.col("peak_start_local")), _minute_of(F.col("peak_end_local"))
    in_peak = F.when(start <= end, (minute >= start) & (minute < end)).otherwise(
        (minute >= start) | (minute < end)
    )
    rate = (
        F.when(F.col("tariff_type") == "fixed", F.col("unit_rate_eur_per_kwh"))
        .when(
            F.col("tariff_type") == "time_of_use",
            F.when(in_peak, F.col("peak_rate_eur_per_kwh")).otherwise(F.col("offpeak_rate_eur_per_kwh")),
        )
        .when(
            F.col("tariff_type") == "dynamic",
            F.col("price_eur_per_mwh") / 1000.0 + F.coalesce(F.col("spot_markup_eur_per_kwh"), F.lit(0.0)),
        )
    )
    # Two steps: sums per contract version first (numeric buffers: a hash aggregate over every reading), then
    # the few version rows of a day folded into one, taking the latest version's tariff and zone (max_by over
    # strings is sort-based, so it only sees the small pre-aggregated rows).
    version_keys = ["date", "customer_id", "meter_id", "contract_id", "contract_valid_from"]
    per_version = rows.groupBy(*version_keys, "tariff_type", "bidding_zone").agg(
        F.sum("kwh").alias("import_kwh"),
        F.sum(F.coalesce(F.col("kwh") * rate, F.lit(0.0))).alias("energy_cost_eur"),
        F.sum(F.when(rate.isNull(), F.col("kwh")).otherwise(0.0)).alias("unpriced_kwh"),
    )
    energy = per_version.groupBy("date", "customer_id", "meter_id", "contract_id").agg(
        F.sum("import_kwh").alias("import_kwh"),
        F.sum("energy_cost_eur").alias("energy_cost_eur"),
        F.sum("unpriced_kwh").alias("unpriced_kwh"),
        F.max_by("tariff_type", "contract_valid_from").alias("e_tariff"),
        F.max_by("bidding_zone", "contract_valid_from").alias("e_zone"),
    )
    # Standing charge: the version valid at local midnight of each day.
    tz = F.coalesce(F.col("tariff_timezone"), F.lit(default_timezone))
    days = F.explode(date_list(dates)).alias("date")
    standing = (
        contracts.select("*", days)
        .withColumn("midnight", F.to_utc_timestamp(F.col("date").cast("timestamp"), tz))
        .where(
            (F.col("valid_from") <= F.col("midnight"))
            & (F.col("valid_to").isNull() | (F.col("midnight") < F.col("valid_to")))
        )
        .groupBy("date", "customer_id", "meter_id", "contract_id")
        .agg(
            F.sum("standing_charge_eur_per_day").alias("standing_charge_eur"),
            F.max_by("tariff_type", "valid_from").alias("s_tariff"),
            F.max_by("bidding_zone", "valid_from").alias("s_zone"),
        )
    )
    both = energy.join(standing, ["date", "customer_id", "meter_id", "contract_id"], "full")
    cost = F.round(F.coalesce(F.col("energy_cost_eur"), F.lit(0.0)), 6)
    charge = F.coalesce(F.col("standing_charge_eur"), F.lit(0.0))
    return both.select(
        "date",
        "customer_id",
        "meter_id",
        "contract_id",
        F.coalesce("e_tariff", "s_tariff").alias("tariff_type"),
        F.coalesce("e_zone", "s_zone").alias("bidding_zone"),
        F.round(F.coalesce(F.col("import_kwh"), F.lit(0.0)), 6).alias("import_kwh"),
        cost.alias("energy_cost_eur"),
        charge.alias("standing_charge_eur"),
        F.round(cost + charge, 6).alias("total_cost_eur"),
        F.round(F.coalesce(F.col("unpriced_kwh"), F.lit(0.0)), 6).alias("unpriced_kwh"),
    )


# --------------------------------------------------------------------------------------- hourly series


def hourly_import(enriched: DataFrame) -> DataFrame:
    """Import kWh per meter and UTC hour, with local date, local hour and time zone."""
    usable = enriched.where(_usable("import"))
    hourly = usable.groupBy("meter_id", F.date_trunc("hour", "interval_start").alias("hour_start")).agg(
        F.sum("kwh").alias("kwh"),
        F.max("timezone").alias("timezone"),
        F.max("customer_id").alias("customer_id"),
    )
    local = F.from_utc_timestamp("hour_start", F.col("timezone"))
    return hourly.select(
        "*",
        F.to_date(local).alias("date"),
        F.hour(local).alias("local_hour"),
        local.alias("local_hour_start"),
        (F.unix_seconds("hour_start") / 3600).cast("long").alias("epoch_hour"),
        F.datediff(F.to_date(local), F.lit(dt.date(1970, 1, 1))).alias("day_number"),
    )


def load_profile_hourly(enriched: DataFrame, customers: DataFrame, dates: Sequence[dt.date]) -> DataFrame:
    rows = enriched.where(in_dates("date", dates) & (F.col("quality") != "missing"))
    per_meter = rows.groupBy("date", F.hour("local_ts").alias("hour"), "meter_id", "customer_id").agg(
        F.sum(F.when(F.col("channel") == "import", F.col("kwh")).otherwise(0.0)).alias("import_kwh"),
        F.sum(F.when(F.col("channel") == "export", F.col("kwh")).otherwise(0.0)).alias("export_kwh"),
        F.min("interval_start").alias("at"),
    )
    people = customer_periods(customers)
    joined = per_meter.join(
        F.broadcast(people),
        (per_meter.customer_id == people.customer_id)
        & (people.c_from.isNull() | (per_meter.at >= people.c_from))
        & (people.c_to.isNull() | (per_meter.at < people.c_to)),
        "left",
    )
    profile = joined.groupBy(
        "date",
        F.coalesce(F.col("region"), F.lit("unknown")).alias("region"),
        F.coalesce(F.col("segment"), F.lit("unknown")).alias("segment"),
        "hour",
    ).agg(
        F.sum("import_kwh").alias("import_kwh"),
        F.sum("export_kwh").alias("export_kwh"),
        F.countDistinct("meter_id").alias("meters"),
    )
    return profile.select(
        "date",
        "region",
        "segment",
        "hour",
        F.round("import_kwh", 6).alias("import_kwh"),
        F.round("export_kwh", 6).alias("export_kwh"),
        "meters",
        F.round(F.col("import_kwh") / F.col("meters"), 6).alias("avg_import_kwh_per_meter"),
    )


# ------------------------------------------------------------------------------------------- anomalies


def _same_hour_window(days_back: int, days_to: int) -> Window:
    # One partitioning (meter) for every window of the job, so Spark shuffles the hourly series once; the
    # composite order key keeps a range frame inside one local hour of day.
    return (
        Window.partitionBy("meter_id")
        .orderBy(F.col("local_hour") * 100000 + F.col("day_number"))
        .rangeBetween(days_back, days_to)
    )


def spikes(hourly: DataFrame, dates: Sequence[dt.date], rules: AnomalyRules = DEFAULT_RULES) -> DataFrame:
    """Hours whose kWh is far above the meter's trailing same-hour baseline (robust z-score).

    Baseline: the same local hour of the previous ``baseline_days`` days. z = (kWh - median) / scale with
    scale = IQR / 1.349 (the normal-consistent robust scale), floored at 10 % of the median and at
    ``min_scale_kwh``. One window pass: the quartiles come from one ``percentile`` over the frame.
    """
    frame = _same_hour_window(-rules.baseline_days, -1)
    q = F.percentile("kwh", F.array(F.lit(0.25), F.lit(0.5), F.lit(0.75))).over(frame)
    scored = hourly.select("*", q.alias("q"), F.count("kwh").over(frame).alias("n"))
    median = F.col("q")[1]
    scale = F.greatest((F.col("q")[2] - F.col("q")[0]) / 1.349, median * 0.1, F.lit(rules.min_scale_kwh))
    z = (F.col("kwh") - median) / scale
    return (
        scored.where(in_dates("date", dates) & (F.col("n") >= rules.min_baseline_points))
        .select(
            "date",
            "meter_id",
            F.lit("spike").alias("anomaly_type"),
            F.col("hour_start").alias("period_start"),
            (F.col("hour_start") + F.expr("INTERVAL 1 HOUR")).alias("period_end"),
            F.round("kwh", 6).alias("kwh"),
            F.round(median, 6).alias("baseline_kwh"),
            F.round(z, 3).alias("score"),
            F.concat(F.lit("baseline of "), F.col("n").cast("string"), F.lit(" same-hour values")).alias(
                "detail"
            ),
        )
        .where(F.col("score") > rules.spike_z)
    )


def zero_streaks(
    enriched: DataFrame, dates: Sequence[dt.date], rules: AnomalyRules = DEFAULT_RULES
) -> DataFrame:
    """Runs of consecutive zero import readings lasting at least ``zero_streak_minutes``.

    Gaps-and-islands on the zero readings only: consecutive intervals keep ``slot - row_number`` constant,
    and a non-zero or absent interval starts a new island. A streak belongs to the local date it starts on.
    """
    zeros = enriched.where(_usable("import") & (F.col("kwh") == 0))
    order = Window.partitionBy("meter_id", "interval_minutes").orderBy("interval_start")
    slot = (F.unix_seconds("interval_start") / (F.col("interval_minutes") * 60)).cast("long")
    islands = zeros.select("*", (slot - F.row_number().over(order)).alias("island"))
    streaks = islands.groupBy("meter_id", "interval_minutes", "island").agg(
        F.min("interval_start").alias("period_start"),
        F.max("interval_start").alias("last_start"),
        F.count(F.lit(1)).alias("n"),
        F.min_by("date", "interval_start").alias("date"),
    )
    long_enough = streaks.where(F.col("n") * F.col("interval_minutes") >= rules.zero_streak_minutes)
    return long_enough.where(in_dates("date", dates)).select(
        "date",
        "meter_id",
        F.lit("zero_streak").alias("anomaly_type"),
        "period_start",
        (F.col("last_start") + F.make_dt_interval(mins=F.col("interval_minutes"))).alias("period_end"),
        F.lit(0.0).alias("kwh"),
        F.lit(None).cast("double").alias("baseline_kwh"),
        (F.col("n") * F.col("interval_minutes") / 60.0).alias("score"),
        F.concat(F.col("n").cast("string"), F.lit(" consecutive zero readings")).alias("detail"),
    )


def implausible(
    enriched: DataFrame, customers: DataFrame, dates: Sequence[dt.date], rules: AnomalyRules = DEFAULT_RULES
) -> DataFrame:
    """Readings whose average power exceeds what the customer's segment can draw."""
    limits = F.create_map(*(x for seg, kw in rules.implausible_kw.items() for x in (F.lit(seg), F.lit(kw))))
    current = customers.where("is_current").select(F.col("customer_id").alias("cid"), "segment")
    rows = enriched.where(in_dates("date", dates) & _usable("import"))
    rows = rows.join(F.broadcast(current), rows.customer_id == current.cid, "left")
    limit = F.coalesce(F.element_at(limits, F.col("segment")), F.lit(UNKNOWN_SEGMENT_KW))
    power = F.col("kwh") * 60.0 / F.col("interval_minutes")
    return rows.where(power > limit).select(
        "date",
        "meter_id",
        F.lit("implausible").alias("anomaly_type"),
        F.col("interval_start").alias("period_start"),
        (F.col("interval_start") + F.make_dt_interval(mins=F.col("interval_minutes"))).alias("period_end"),
        F.round("kwh", 6).alias("kwh"),
        F.lit(None).cast("double").alias("baseline_kwh"),
        F.round(power / limit, 3).alias("score"),
        F.concat(F.lit("average power "), F.round(power, 1).cast("string"), F.lit(" kW")).alias("detail"),
    )


def consumption_anomalies(
    enriched: DataFrame,
    hourly: DataFrame,
    customers: DataFrame,
    dates: Sequence[dt.date],
    rules: AnomalyRules = DEFAULT_RULES,
) -> DataFrame:
    return (
        spikes(hourly, dates, rules)
        .unionByName(zero_streaks(enriched, dates, rules))
        .unionByName(implausible(enriched, customers, dates, rules))
    )


# ----------------------------------------------------------------------------------- forecast features


def hourly_prices(prices: DataFrame) -> DataFrame:
    """Mean day-ahead price per zone and UTC hour (finest resolution available)."""
    buckets = price_buckets(prices).where(F.col("bucket_minutes") == 60)
    return buckets.select(
        F.col("bidding_zone").alias("p_zone"),
        F.col("bucket_start").alias("p_hour"),
        F.col("price_eur_per_mwh").alias("p_price"),
    )


def forecast_features(
    hourly: DataFrame, contracts: DataFrame, prices: DataFrame, dates: Sequence[dt.date]
) -> DataFrame:
    by_hour = Window.partitionBy("meter_id").orderBy("epoch_hour")
    features = hourly.select(
        "*",
        F.max("kwh").over(by_hour.rangeBetween(-24, -24)).alias("lag_24h_kwh"),
        F.max("kwh").over(by_hour.rangeBetween(-168, -168)).alias("lag_168h_kwh"),
        F.avg("kwh").over(by_hour.rangeBetween(-24, -1)).alias("rolling_mean_24h_kwh"),
        F.avg("kwh").over(_same_hour_window(-7, -1)).alias("rolling_mean_7d_same_hour_kwh"),
    ).where(in_dates("date", dates))
    zones = contract_periods(contracts).select(
        F.col("meter_id").alias("z_meter"), "eff_from", "eff_to", F.col("bidding_zone").alias("z_zone")
    )
    features = features.join(
        F.broadcast(zones),
        (features.meter_id == zones.z_meter)
        & (features.hour_start >= zones.eff_from)
        & (zones.eff_to.isNull() | (features.hour_start < zones.eff_to)),
        "left",
    )
    hp = hourly_prices(prices)
    lagged = hp.select(
        F.col("p_zone").alias("l_zone"),
        (F.col("p_hour") + F.expr("INTERVAL 24 HOURS")).alias("l_hour"),
        F.col("p_price").alias("l_price"),
    )
    features = features.join(
        F.broadcast(hp), (features.z_zone == hp.p_zone) & (features.hour_start == hp.p_hour), "left"
    ).join(
        F.broadcast(lagged),
        (features.z_zone == lagged.l_zone) & (features.hour_start == lagged.l_hour),
        "left",
    )
    iso_dow = ((F.dayofweek("local_hour_start") + 5) % 7) + 1
    return features.select(
        "date",
        "meter_id",
        "hour_start",
        "local_hour",
        iso_dow.alias("day_of_week"),
        (iso_dow >= 6).alias("is_weekend"),
        F.month("local_hour_start").alias("month"),
        ((F.unix_seconds("local_hour_start") - F.unix_seconds("hour_start")) / 3600.0).alias(
            "utc_offset_hours"
        ),
        F.round("kwh", 6).alias("import_kwh"),
        F.round("lag_24h_kwh", 6).alias("lag_24h_kwh"),
        F.round("lag_168h_kwh", 6).alias("lag_168h_kwh"),
        F.round("rolling_mean_24h_kwh", 6).alias("rolling_mean_24h_kwh"),
        F.round("rolling_mean_7d_same_hour_kwh", 6).alias("rolling_mean_7d_same_hour_kwh"),
        F.col("z_zone").alias("bidding_zone"),
        F.col("p_price").alias("price_eur_per_mwh"),
        F.col("l_price").alias("price_lag_24h_eur_per_mwh"),
    )


# ---------------------------------------------------------------------------------------- data quality

DATA_DATE_COLUMN = {
    "meter_readings": "interval_start",
    "prices": "interval_start",
    "customers": "updated_at",
    "contracts": "valid_from",
}
DATASET_KEYS = {
    "meter_readings": ("meter_id", "channel", "interval_start"),
    "prices": ("bidding_zone", "interval_start", "resolution_minutes"),
    "customers": ("customer_id", "updated_at"),
    "contracts": ("contract_id", "valid_from"),
}
LANDING_DATE = r"/(\d{4})/(\d{2})/(\d{2})/[^/]+$"


def landing_date(source_file: Column) -> Column:
    """The delivery day in a bronze path ``.../{yyyy}/{mm}/{dd}/{file}`` (null if the path has none)."""
    parts = [F.regexp_extract(source_file, LANDING_DATE, i) for i in (1, 2, 3)]
    return F.when(parts[0] != "", F.make_date(*(p.cast("int") for p in parts)))


def staged_quality(bronze: DataFrame, dataset: str, dates: Sequence[dt.date]) -> DataFrame:
    """Per UTC data day and source: rows, files, re-delivered duplicates, late rows, completeness."""
    key = F.struct(*DATASET_KEYS[dataset])
    day = F.to_date(F.col(DATA_DATE_COLUMN[dataset]))
    rows = bronze.select("*", day.alias("date")).where(in_dates("date", dates))
    late = landing_date(F.col("source_file")) > F.date_add(F.col("date"), 1)
    has_value = F.col("quality") != "missing" if dataset == "meter_readings" else F.lit(True)
    return rows.groupBy("date", "source_system").agg(
        F.lit(dataset).alias("dataset"),
        F.countDistinct("source_file").alias("files"),
        F.count(F.lit(1)).alias("rows_staged"),
        (F.count(F.lit(1)) - F.countDistinct(key)).alias("duplicate_rows"),
        F.count(F.when(late, True)).alias("late_rows"),
        (F.count(F.when(has_value, True)) / F.count(F.lit(1))).alias("completeness"),
    )


def rows_per_instance_day(bronze: DataFrame, dataset: str, dates: Sequence[dt.date]) -> DataFrame:
    day = F.to_date(F.col(DATA_DATE_COLUMN[dataset]))
    return (
        bronze.select("ingest_instance_id", day.alias("date"))
        .where(in_dates("date", dates))
        .groupBy("ingest_instance_id", "date")
        .agg(F.count(F.lit(1)).alias("n"))
    )


def data_quality_daily(
    bronze: Mapping[str, DataFrame], reports: DataFrame, dates: Sequence[dt.date]
) -> DataFrame:
    """``staged_quality`` of every dataset plus rejected rows and rule failures from the validation reports.

    A file's rejected rows are spread over its data days in proportion to its staged rows on each day (the
    rejected rows themselves have no trustworthy date); its rule failures count on every day it touches.
    """
    staged = None
    shares = None
    for dataset, table in bronze.items():
        q = staged_quality(table, dataset, dates)
        s = rows_per_instance_day(table, dataset, dates)
        staged = q if staged is None else staged.unionByName(q)
        shares = s if shares is None else shares.unionByName(s)
    if staged is None or shares is None:
        raise ValueError("no bronze tables given")
    r = reports.select(
        "instance_id", "dataset", "source_system", "rows_valid", "rows_rejected", "rule_failures"
    ).join(shares, reports.instance_id == shares.ingest_instance_id)
    allocated = r.groupBy("date", "dataset", "source_system").agg(
        F.sum(
            F.when(
                F.col("rows_valid") > 0, F.col("rows_rejected") * F.col("n") / F.col("rows_valid")
            ).otherwise(F.col("rows_rejected").cast("double"))
        ).alias("rows_rejected")
    )
    rules = (
        r.select("date", "dataset", "source_system", F.explode("rule_failures").alias("rule", "failures"))
        .groupBy("date", "dataset", "source_system", "rule")
        .agg(F.sum("failures").alias("failures"))
        .groupBy("date", "dataset", "source_system")
        .agg(F.map_from_entries(F.collect_list(F.struct("rule", "failures"))).alias("rule_failures"))
    )
    keys = ["date", "dataset", "source_system"]
    out = staged.join(allocated, keys, "left").join(rules, keys, "left")
    rejected = F.round(F.coalesce(F.col("rows_rejected"), F.lit(0.0)), 3)
    return out.select(
        "date",
        "dataset",
        "source_system",
        "files",
        "rows_staged",
        rejected.alias("rows_rejected"),
        F.round(rejected / (F.col("rows_staged") + rejected), 6).alias("rejected_share"),
        "duplicate_rows",
        "late_rows",
        F.round("completeness", 6).alias("completeness"),
        "rule_failures",
    )


def with_run_columns(df: DataFrame, computed_by: str) -> DataFrame:
    return df.withColumn("computed_at", F.current_timestamp()).withColumn("computed_by", F.lit(computed_by))
