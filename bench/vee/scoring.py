"""Scores VEE against the simulator's hidden truth. Pure: records in, numbers out (no Spark, no I/O but
``load_truth``).

Every interval is a key ``(meter_id, channel, interval_start)`` with ``interval_start`` a naive UTC datetime
(what Spark's ``collect()`` returns in a UTC process). Scoring is at interval level.

Truth per rule (``truth_sets``):

- ``gap``: the intervals that never reached silver as a received reading: truth rows of kind ``gap``, of the
  row kinds validation rejects (``malformed_row``, ``bad_timestamp``, ``negative_value``,
  ``implausible_value``), and ``late_fill`` rows whose fill never arrived; minus any of those silver holds
  as received (not a VEE estimate) at the end. Plus the readings of a data file validation rejected whole
  (``rejected_file_intervals``): the truth file does not list those.
- ``spike``, ``zero_run``, ``frozen_value``: the truth rows of that kind, i.e. the intervals written with
  another value than the meter measured (``zero_run``: on the import channel, the one its rule judges; the
  simulator zeroes export too).
- ``high_day``, ``low_day`` are scored by meter-day: the simulator scales one meter's import over a file's
  day (UTC for the long sources), and VEE judges local days, so the truth day is the meter's local day that
  holds most of the scaled intervals (``day_truth_sets``); a finding names its local day.

Matching semantics (``neutral_zones``): a zero run or frozen run is an injected span (the manifest's defect
record: first interval and count). The truth lists only the span's intervals whose written value differs
from the true one: where the true import was already 0.000 or equal to the stuck value, the interval is in
the span but not in the truth. A frozen run also repeats the interval before the span (the *anchor*: its
value, written correctly, is the one the register sticks at; it is not in the truth), so the observed run of
identical values is anchor + span and a rule can only tell where it starts by the values. Flagging those
intervals (span intervals written correctly, and the anchor) is neither a true nor a false positive: they
are *neutral*, counted apart and left out of precision. Everything else a rule flags outside the truth is a
false positive. (VEE's ``frozen_value`` flags the repeats after the first occurrence, i.e. the truth.)

Predicted intervals outside the simulated window (``Windows``: a source's first data day to its last, in
UTC for the long sources, London local days for the wide one) are never real readings (a local day of a
Berlin meter starts two hours before the first UTC day the simulator writes); they are counted as
``outside`` and left out.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

Key = tuple[str, str, dt.datetime]
UTC = dt.UTC

MISSING_KINDS = frozenset({"gap", "malformed_row", "bad_timestamp", "negative_value", "implausible_value"})
VALUE_RULES = ("spike", "zero_run", "frozen_value")
SCORED_RULES = ("gap", *VALUE_RULES)
# Rules about a whole local day, scored by meter-day (``day_truth_sets``), not by interval.
DAY_RULES = ("high_day", "low_day")
# The simulator's reading sources whose files cover local days (the rest cover UTC days).
LOCAL_DAY_SOURCES = {"uk_hh_wide": "Europe/London"}


def parse_utc(text: str) -> dt.datetime:
    """``2025-09-28T21:30:00Z`` -> naive UTC datetime."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Truth:
    kind: str
    meter_id: str
    channel: str
    start: dt.datetime
    minutes: int
    true_kwh: float
    written_kwh: float | None
    file: str

    @property
    def key(self) -> Key:
        return (self.meter_id, self.channel, self.start)


def load_truth(path: Path) -> list[Truth]:
    """``simulation-truth.csv.gz`` as records."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return [
            Truth(
                kind=row["kind"],
                meter_id=row["meter_id"],
                channel=row["channel"],
                start=parse_utc(row["interval_start"]),
                minutes=int(row["interval_minutes"]),
                true_kwh=float(row["true_kwh"]),
                written_kwh=float(row["written_kwh"]) if row["written_kwh"] else None,
                file=row["file"],
            )
            for row in csv.DictReader(handle)
        ]


# File defects of the simulator's extra files (not a data day's regular file): rejecting them loses nothing.
EXTRA_FILE_KINDS = frozenset({"empty_file", "html_as_csv", "truncated_gzip", "wrong_header"})


def rejected_file_intervals(
    missing: set[Key], rejected: Iterable[Mapping], defects: Iterable[Mapping], windows: Windows
) -> set[Key]:
    """The missing intervals a rejected data file would have carried: the truth lists the readings of
    rejected rows, not those of a file rejected whole (its rejected share above the contract's maximum, e.g.
    one malformed row among ten in the wide layout). ``rejected``: the manifest's entries of the files
    validation rejected; extra files (``EXTRA_FILE_KINDS``) are skipped."""
    extra = {d["file"] for d in defects if d["kind"] in EXTRA_FILE_KINDS}
    days: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for f in rejected:
        if f["path"] in extra or f["dataset"] != "meter_readings":
            continue
        day, zone = dt.date.fromisoformat(f["data_date"]), LOCAL_DAY_SOURCES.get(f["source"])
        days[f["source"]].append(
            (local_midnight(day, zone), local_midnight(day + dt.timedelta(days=1), zone))
        )
    return {
        k for k in missing if any(lo <= k[2] < hi for lo, hi in days.get(windows.source_of.get(k[0], ""), ()))
    }


def truth_sets(truth: Iterable[Truth], received: set[Key]) -> dict[str, set[Key]]:
    """The truth intervals of each scored rule (see the module doc); ``received``: keys silver holds as
    received readings at the end (VEE estimates excluded)."""
    sets: dict[str, set[Key]] = {rule: set() for rule in SCORED_RULES}
    for t in truth:
        if t.kind in MISSING_KINDS or t.kind == "late_fill":
            if t.key not in received:
                sets["gap"].add(t.key)
        elif t.kind in VALUE_RULES and (t.kind != "zero_run" or t.channel == "import"):
            sets[t.kind].add(t.key)  # a zero run also zeroes export, which only import's rule judges
    return sets


def day_key(meter: str, day: dt.date) -> Key:
    """A meter-day as a key: the import channel and the day's date at midnight (not an instant)."""
    return (meter, "import", dt.datetime(day.year, day.month, day.day))


def day_truth_sets(truth: Iterable[Truth], zone_of: Mapping[str, str]) -> dict[str, set[Key]]:
    """Per day rule, the meter-days it should flag: for each injected day (the truth rows of one kind, meter
    and file), the meter's local day (its zone, UTC when unknown) holding most of the scaled intervals."""
    injected: dict[tuple[str, str, str], Counter] = defaultdict(Counter)
    for t in truth:
        if t.kind in DAY_RULES:
            injected[(t.kind, t.meter_id, t.file)][local_date(t.start, zone_of.get(t.meter_id, "UTC"))] += 1
    sets: dict[str, set[Key]] = {rule: set() for rule in DAY_RULES}
    for (kind, meter, _), days in injected.items():
        sets[kind].add(day_key(meter, days.most_common(1)[0][0]))
    return sets


def day_findings(findings: Iterable[Finding], zone_of: Mapping[str, str]) -> dict[str, set[Key]]:
    """The meter-days the day rules flagged (a finding's period is its local day)."""
    out: dict[str, set[Key]] = {rule: set() for rule in DAY_RULES}
    for f in findings:
        if f.rule in DAY_RULES and f.channel == "import":
            out[f.rule].add(day_key(f.meter_id, local_date(f.period_start, zone_of.get(f.meter_id, "UTC"))))
    return out


def intervals(meter: str, channel: str, start: dt.datetime, end: dt.datetime, minutes: int) -> list[Key]:
    """Keys of ``[start, end)`` by ``minutes``."""
    step = dt.timedelta(minutes=minutes)
    out, t = [], start
    while t < end:
        out.append((meter, channel, t))
        t += step
    return out


def neutral_zones(defects: Iterable[Mapping]) -> dict[str, set[Key]]:
    """Per value rule, every interval of each injected span, plus the anchor before a frozen span (from the
    manifest's defect records; see the module doc)."""
    zones: dict[str, set[Key]] = {rule: set() for rule in SCORED_RULES}
    for d in defects:
        if d["kind"] not in ("zero_run", "frozen_value"):
            continue
        key, minutes = d["key"], int(d["interval_minutes"])
        first = parse_utc(key["interval_start"])
        channel = key.get("channel", "import")
        step = dt.timedelta(minutes=minutes)
        begin = first - step if d["kind"] == "frozen_value" else first
        zones[d["kind"]].update(
            intervals(key["meter_id"], channel, begin, first + step * int(d["intervals"]), minutes)
        )
    return zones


@dataclass(frozen=True)
class Finding:
    meter_id: str
    channel: str
    rule: str
    period_start: dt.datetime
    period_end: dt.datetime
    intervals: int | None


def expand_findings(
    findings: Iterable[Finding], minutes_of: Mapping[tuple[str, str], int]
) -> dict[str, set[Key]]:
    """Each finding's intervals (``period_start`` .. exclusive ``period_end`` by the series' interval,
    or by ``(end - start) / intervals`` when the series is unknown), per rule."""
    out: dict[str, set[Key]] = defaultdict(set)
    for f in findings:
        minutes = minutes_of.get((f.meter_id, f.channel))
        if minutes is None:
            span = (f.period_end - f.period_start).total_seconds() / 60
            minutes = round(span / f.intervals) if f.intervals else 30
        out[f.rule].update(intervals(f.meter_id, f.channel, f.period_start, f.period_end, minutes))
    return out


class Windows:
    """The simulated UTC range of each meter's readings: its source's first to last data day."""

    def __init__(self, start: dt.date, days: int, source_of: Mapping[str, str]):
        self.source_of = dict(source_of)
        self.by_source: dict[str, tuple[dt.datetime, dt.datetime]] = {}
        for source in set(source_of.values()):
            zone = LOCAL_DAY_SOURCES.get(source)
            self.by_source[source] = (
                local_midnight(start, zone),
                local_midnight(start + dt.timedelta(days=days), zone),
            )

    def of(self, meter: str) -> tuple[dt.datetime, dt.datetime] | None:
        source = self.source_of.get(meter)
        return self.by_source.get(source) if source else None

    def inside(self, key: Key) -> bool:
        window = self.of(key[0])
        return window is not None and window[0] <= key[2] < window[1]


def local_midnight(day: dt.date, zone: str | None) -> dt.datetime:
    """Naive UTC instant of ``day``'s midnight in ``zone`` (UTC when None)."""
    if zone is None:
        return dt.datetime(day.year, day.month, day.day)
    local = dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC).replace(tzinfo=None)


def local_date(instant: dt.datetime, zone: str) -> dt.date:
    return instant.replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()


@dataclass
class RuleScore:
    rule: str
    truth: int
    predicted: int
    tp: int
    fp: int
    fn: int
    neutral: int
    outside: int
    precision: float | None
    recall: float | None
    fn_by_kind: dict[str, int] = field(default_factory=dict)
    fp_examples: list[str] = field(default_factory=list)
    fn_examples: list[str] = field(default_factory=list)
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)


def _fmt(key: Key) -> str:
    return f"{key[0]}/{key[1]}/{key[2]:%Y-%m-%dT%H:%MZ}"


def score_rule(
    rule: str,
    predicted: set[Key],
    truth: set[Key],
    *,
    neutral: set[Key] | None = None,
    inside: Callable[[Key], bool] = lambda _: True,
    kind_of: Mapping[Key, str] | None = None,
    examples: int = 10,
) -> RuleScore:
    """Interval-level precision and recall of one rule (``None`` when undefined: nothing predicted, or no
    truth)."""
    within = {k for k in predicted if inside(k)}
    tp = within & truth
    rest = within - truth
    neutral_hits = rest & (neutral or set())
    fp = rest - neutral_hits
    fn = truth - within
    kinds = kind_of or {}
    by_channel: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    for name, keys in (("tp", tp), ("fp", fp), ("fn", fn)):
        for k in keys:
            by_channel[k[1]][name] += 1
    return RuleScore(
        rule=rule,
        truth=len(truth),
        predicted=len(predicted),
        tp=len(tp),
        fp=len(fp),
        fn=len(fn),
        neutral=len(neutral_hits),
        outside=len(predicted) - len(within),
        precision=len(tp) / (len(tp) + len(fp)) if tp or fp else None,
        recall=len(tp) / len(truth) if truth else None,
        fn_by_kind=dict(Counter(kinds.get(k, "?") for k in fn)),
        fp_examples=[_fmt(k) for k in sorted(fp)[:examples]],
        fn_examples=[_fmt(k) for k in sorted(fn)[:examples]],
        by_channel={c: dict(v) for c, v in sorted(by_channel.items())},
    )


def kind_index(truth: Iterable[Truth]) -> dict[Key, str]:
    return {t.key: t.kind for t in truth}


# ---- the oracle: what silver misses vs the gap truth (needs no VEE) ----------------------------------------


def expected_grid(series_minutes: Mapping[tuple[str, str], int], windows: Windows) -> set[Key]:
    """Every interval each known series (meter, channel) should have inside its window."""
    grid: set[Key] = set()
    for (meter, channel), minutes in series_minutes.items():
        window = windows.of(meter)
        if window is not None:
            grid.update(intervals(meter, channel, window[0], window[1], minutes))
    return grid


def oracle_gaps(
    grid: set[Key], received: set[Key], gap_truth: set[Key], kind_of: Mapping[Key, str], examples: int = 10
) -> dict:
    """The intervals missing from silver (grid minus received) against the gap truth set."""
    missing = grid - received
    both = missing & gap_truth
    only_missing = missing - gap_truth
    only_truth = gap_truth - missing
    return {
        "missing_in_silver": len(missing),
        "gap_truth": len(gap_truth),
        "agree": len(both),
        "missing_not_in_truth": len(only_missing),
        "truth_not_missing": len(only_truth),
        "agreement": len(both) / len(missing | gap_truth) if missing | gap_truth else 1.0,
        "truth_not_missing_by_kind": dict(Counter(kind_of.get(k, "?") for k in only_truth)),
        "missing_not_in_truth_examples": [_fmt(k) for k in sorted(only_missing)[:examples]],
        "truth_not_missing_examples": [_fmt(k) for k in sorted(only_truth)[:examples]],
    }


# ---- estimation error --------------------------------------------------------------------------------------


def error_metrics(pairs: Iterable[tuple[float, float]]) -> dict:
    """``pairs`` of (estimate, true): n, MAPE over true != 0, WAPE = sum |err| / sum true, mean |err| kWh,
    bias (mean err)."""
    pairs = list(pairs)
    if not pairs:
        return {"n": 0}
    errors = [e - t for e, t in pairs]
    nonzero = [(e, t) for e, t in pairs if t != 0]
    total_true = sum(abs(t) for _, t in pairs)
    return {
        "n": len(pairs),
        "mape": round(sum(abs(e - t) / abs(t) for e, t in nonzero) / len(nonzero), 4) if nonzero else None,
        "mape_n": len(nonzero),
        "wape": round(sum(abs(x) for x in errors) / total_true, 4) if total_true else None,
        "mae_kwh": round(sum(abs(x) for x in errors) / len(errors), 4),
        "bias_kwh": round(sum(errors) / len(errors), 4),
    }


@dataclass(frozen=True)
class Estimate:
    key: Key
    method: str
    rule: str | None
    kwh: float


def estimation_errors(
    estimates: Iterable[Estimate], truth: Iterable[Truth], gap_minutes: Mapping[Key, int] | None = None
) -> dict:
    """Final VEE estimates of intervals in the truth, vs the true value: per method, per method and truth
    kind, per method and gap length (``gap_minutes``: the length of the gap each missing key is in); plus
    how many estimates hit no truth interval."""
    true_of = {t.key: t for t in truth}
    lengths = gap_minutes or {}
    by_method: dict[str, list] = defaultdict(list)
    by_method_kind: dict[str, list] = defaultdict(list)
    by_method_length: dict[str, list] = defaultdict(list)
    untracked: Counter = Counter()
    for e in estimates:
        t = true_of.get(e.key)
        if t is None:
            untracked[e.method] += 1
            continue
        by_method[e.method].append((e.kwh, t.true_kwh))
        by_method_kind[f"{e.method}/{t.kind}"].append((e.kwh, t.true_kwh))
        if e.key in lengths:
            by_method_length[f"{e.method}/{length_bucket(lengths[e.key])}"].append((e.kwh, t.true_kwh))
    return {
        "by_method": {m: error_metrics(p) for m, p in sorted(by_method.items())},
        "by_method_and_truth_kind": {m: error_metrics(p) for m, p in sorted(by_method_kind.items())},
        "by_method_and_gap_length": {m: error_metrics(p) for m, p in sorted(by_method_length.items())},
        "estimates_without_truth": dict(untracked),
    }


@dataclass(frozen=True)
class Edit:
    key: Key
    method: str
    edited_kwh: float | None
    edited_quality: str | None
    edited_at: dt.datetime

    @property
    def is_estimate(self) -> bool:
        """An estimate VEE wrote (else a received reading replacing one)."""
        return self.edited_quality == "estimated"


def run_lengths(keys: Iterable[Key], minutes_of: Callable[[Key], int]) -> dict[Key, int]:
    """For each key, the minutes of the run of consecutive ``keys`` of its series that it belongs to."""
    by_series: dict[tuple[str, str], list[dt.datetime]] = defaultdict(list)
    for k in keys:
        by_series[(k[0], k[1])].append(k[2])
    out: dict[Key, int] = {}
    for (meter, channel), starts in by_series.items():
        starts.sort()
        run: list[dt.datetime] = []
        for t in [*starts, None]:
            step = dt.timedelta(minutes=minutes_of((meter, channel, run[-1]))) if run else None
            if run and (t is None or t - run[-1] != step):
                length = len(run) * minutes_of((meter, channel, run[0]))
                out.update({(meter, channel, r): length for r in run})
                run = []
            if t is not None:
                run.append(t)
    return out


def length_bucket(minutes: int) -> str:
    """``<=2h``, ``<=12h`` or ``>12h`` (the default linear and like-day limits)."""
    return "<=2h" if minutes <= 120 else "<=12h" if minutes <= 720 else ">12h"


def late_fill_estimates(edits: Iterable[Edit], truth: Iterable[Truth]) -> dict:
    """For each late-filled interval, the last estimate ``reading_edits`` recorded before a received reading
    replaced it, vs the true value, per method; and how many late fills had no estimate or no replacement."""
    late_rows = [t for t in truth if t.kind == "late_fill"]
    late = {t.key: t.true_kwh for t in late_rows}
    minutes = {t.key: t.minutes for t in late_rows}
    lengths = run_lengths(late, lambda k: minutes[k])
    not_estimated: Counter = Counter()
    per_key: dict[Key, list[Edit]] = defaultdict(list)
    for e in edits:
        if e.key in late:
            per_key[e.key].append(e)
    pairs: dict[str, list] = defaultdict(list)
    never_estimated = replaced = 0
    for key, true_kwh in late.items():
        history = sorted(per_key.get(key, []), key=lambda e: e.edited_at)
        replaced_at = next((e.edited_at for e in history if not e.is_estimate), None)
        if replaced_at is not None:
            replaced += 1
        before = [e for e in history if e.is_estimate and (replaced_at is None or e.edited_at <= replaced_at)]
        if not before or before[-1].edited_kwh is None:
            never_estimated += 1
            not_estimated[length_bucket(lengths[key])] += 1
            continue
        pairs[before[-1].method].append((before[-1].edited_kwh, true_kwh))
    return {
        "late_fill_intervals": len(late),
        "estimated_before_fill": sum(len(p) for p in pairs.values()),
        "never_estimated": never_estimated,
        "never_estimated_by_gap_length": dict(not_estimated),
        "replaced_by_actual": replaced,
        "by_method": {m: error_metrics(p) for m, p in sorted(pairs.items())},
    }


# ---- daily totals ------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def daily_totals(
    *,
    series: Mapping[Key, float],
    received: set[Key],
    truth: Iterable[Truth],
    gap_truth: set[Key],
    zone_of: Mapping[str, str],
    windows: Windows,
    minutes_of: Mapping[tuple[str, str], int],
    max_missing_minutes: int = 120,
    tolerance: float = 0.03,
    examples: int = 10,
) -> dict:
    """Import meter-days (local days wholly inside the window) with 0 < missing <= ``max_missing_minutes``
    before estimation and no spike, zero-run, frozen or high/low-day truth:
    |sum(final series) - true total| / true total, where the true total is the received values plus the true
    value of each missing interval.

    ``series``: the final import series (estimates included); ``received``: its non-estimated keys;
    ``gap_truth``: the intervals that never arrived (``truth_sets()['gap']``)."""
    true_of = {t.key: t.true_kwh for t in truth if t.key in gap_truth}
    tainted: set[tuple[str, dt.date]] = set()
    for t in truth:
        if (t.kind in VALUE_RULES or t.kind in DAY_RULES) and t.channel == "import" and t.meter_id in zone_of:
            tainted.add((t.meter_id, local_date(t.start, zone_of[t.meter_id])))
    counts: Counter = Counter()
    errors: list[tuple[float, str]] = []
    for (meter, channel), minutes in sorted(minutes_of.items()):
        if channel != "import" or meter not in zone_of or windows.of(meter) is None:
            continue
        zone = zone_of[meter]
        lo, hi = windows.of(meter)
        day = local_date(lo, zone)
        while True:
            day_lo, day_hi = local_midnight(day, zone), local_midnight(day + dt.timedelta(days=1), zone)
            if day_hi > hi:
                break
            if day_lo >= lo:
                keys = intervals(meter, "import", day_lo, day_hi, minutes)
                missing = [k for k in keys if k in gap_truth]
                if not missing:
                    counts["days_without_missing"] += 1
                elif len(missing) * minutes > max_missing_minutes:
                    counts["days_over_limit"] += 1
                elif (meter, day) in tainted:
                    counts["days_with_value_defects"] += 1
                elif any(k not in gap_truth and k not in received for k in keys):
                    counts["days_with_unexplained_missing"] += 1
                elif any(k not in true_of for k in missing):
                    counts["days_with_unknown_true_values"] += 1  # a rejected file's readings
                else:
                    true_total = sum(true_of[k] if k in gap_truth else series[k] for k in keys)
                    total = sum(series.get(k, 0.0) for k in keys)
                    if any(k not in series for k in missing):
                        counts["days_with_unestimated_missing"] += 1
                    if true_total <= 0:
                        counts["days_with_zero_true_total"] += 1
                    else:
                        errors.append((abs(total - true_total) / true_total, f"{meter}/{day}"))
            day += dt.timedelta(days=1)
    values = [e for e, _ in errors]
    worst = sorted(errors, reverse=True)[:examples]
    return {
        "days_scored": len(values),
        "mean_error": round(sum(values) / len(values), 5) if values else None,
        "p95_error": round(percentile(values, 95), 5) if values else None,
        "max_error": round(max(values), 5) if values else None,
        "share_within_tolerance": (
            round(sum(v <= tolerance for v in values) / len(values), 4) if values else None
        ),
        "tolerance": tolerance,
        "max_missing_minutes": max_missing_minutes,
        "worst": [{"meter_day": where, "error": round(e, 4)} for e, where in worst],
        **dict(counts),
    }


# ---- everything at once ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    meter_id: str
    channel: str
    start: dt.datetime
    minutes: int
    kwh: float | None
    quality: str
    source: str
    estimation_method: str | None = None
    vee_rule: str | None = None

    @property
    def key(self) -> Key:
        return (self.meter_id, self.channel, self.start)


@dataclass
class LakeState:
    """The final tables, as records. ``findings``/``edits`` are None before VEE exists."""

    readings: list[Reading]
    zone_of: dict[str, str]
    findings: list[Finding] | None = None
    edits: list[Edit] | None = None
    completeness_days: int | None = None


def _mode(values: Iterable) -> object:
    return Counter(values).most_common(1)[0][0]


def evaluate(manifest: Mapping, truth: list[Truth], state: LakeState, rejected: Iterable[str] = ()) -> dict:
    """Every score of one simulated run from its final tables (see the module doc); ``rejected``: paths of
    the files validation rejected (their data days' missing intervals join the gap truth)."""
    opts = manifest["options"]
    sources: dict[str, list[str]] = defaultdict(list)
    minutes: dict[tuple[str, str], list[int]] = defaultdict(list)
    for r in state.readings:
        sources[r.meter_id].append(r.source)
        minutes[(r.meter_id, r.channel)].append(r.minutes)
    source_of = {m: str(_mode(v)) for m, v in sources.items()}
    minutes_of = {k: int(_mode(v)) for k, v in minutes.items()}
    windows = Windows(dt.date.fromisoformat(opts["start"]), int(opts["days"]), source_of)
    received = {r.key for r in state.readings if r.estimation_method is None and r.kwh is not None}
    sets = truth_sets(truth, received)
    kind_of = kind_index(truth)
    grid = expected_grid(minutes_of, windows)
    result: dict = {
        "truth_rows_by_kind": dict(Counter(t.kind for t in truth)),
        # Before the rejected files' intervals join the truth: how complete the truth file is on its own.
        "oracle_gaps_truth_file_only": oracle_gaps(grid, received, sets["gap"], kind_of),
    }
    paths = set(rejected)
    whole_files = rejected_file_intervals(
        grid - received - sets["gap"],
        [f for f in manifest["files"] if f["path"] in paths],
        manifest["defects"],
        windows,
    )
    sets["gap"] |= whole_files
    kind_of.update(dict.fromkeys(whole_files, "file_rejected"))
    result["truth_intervals"] = {rule: len(keys) for rule, keys in sets.items()}
    result["gap_truth_from_rejected_files"] = len(whole_files)
    result["oracle_gaps"] = oracle_gaps(grid, received, sets["gap"], kind_of)
    series = {r.key: r.kwh for r in state.readings if r.channel == "import" and r.kwh is not None}
    result["daily_totals"] = daily_totals(
        series=series,
        received=received,
        truth=truth,
        gap_truth=sets["gap"],
        zone_of=state.zone_of,
        windows=windows,
        minutes_of=minutes_of,
    )
    if state.findings is None:
        return result
    predicted = expand_findings(state.findings, minutes_of)
    zones = neutral_zones(manifest["defects"])
    result["rules"] = {
        rule: score_rule(
            rule,
            predicted.get(rule, set()),
            sets[rule],
            neutral=zones[rule],
            inside=windows.inside,
            kind_of=kind_of,
        ).__dict__
        for rule in SCORED_RULES
    }
    truth_days = day_truth_sets(truth, state.zone_of)
    flagged_days = day_findings(state.findings, state.zone_of)
    result["truth_days"] = {rule: len(days) for rule, days in truth_days.items()}
    for rule in DAY_RULES:
        result["rules"][rule] = score_rule(rule, flagged_days[rule], truth_days[rule]).__dict__
    result["findings_by_rule"] = dict(Counter(f.rule for f in state.findings))
    estimates = [
        Estimate(r.key, r.estimation_method, r.vee_rule, r.kwh)
        for r in state.readings
        if r.estimation_method is not None and r.kwh is not None
    ]
    gap_minutes = run_lengths(sets["gap"], lambda k: minutes_of.get((k[0], k[1]), 30))
    result["estimation"] = estimation_errors(estimates, truth, gap_minutes)
    result["estimation"]["estimated_intervals"] = len(estimates)
    estimated = {e.key for e in estimates}
    result["estimation"]["gap_truth_estimated"] = len(sets["gap"] & estimated)
    result["estimation"]["gap_truth_not_estimated_by_length"] = dict(
        Counter(length_bucket(gap_minutes[k]) for k in sets["gap"] - estimated)
    )
    if state.edits is not None:
        result["late_fill_estimates"] = late_fill_estimates(state.edits, truth)
        result["edits_by_method"] = dict(Counter(e.method for e in state.edits))
    return result
