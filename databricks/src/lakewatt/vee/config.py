"""VEE configuration: the rule catalogue's parameters, defaults, per-source overrides, validated once.

A configuration file (JSON) holds ``defaults`` (any subset of the per-source parameters), ``sources`` (per
``source_system``, any subset again) and the run-wide settings (``enabled``, ``history_days``,
``spike_profile_days``, ``spike_window_minutes``). Every key is checked at start-up; an unknown key or a
value of the wrong type or range fails with a message naming it. docs/vee.md lists every parameter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

SEVERITIES = ("info", "warning", "error")
RULES = ("gap", "spike", "zero_run", "frozen_value", "high_day", "low_day")


class VeeConfigError(ValueError):
    """A VEE configuration key is unknown or its value is out of range."""


@dataclass(frozen=True)
class RuleParameters:
    """The thresholds of the rules and estimation methods; each source may override any of them."""

    # Estimation: linear interpolation up to this gap length, like-day average beyond, nothing past the limit.
    linear_max_minutes: int = 120
    like_day_max_minutes: int = 720
    like_day_weeks: int = 4  # same weekday of the previous N weeks
    recent_days: int = 7  # fallback when none of those weeks has the interval: the previous N days
    like_day_scale_min: float = 0.5  # the like-day profile is scaled to the day's own readings, within these
    like_day_scale_max: float = 2.0
    # spike: robust z-score against the meter's own profile at that time of day
    spike_z: float = 6.0
    spike_min_points: int = 6
    spike_neighbour_ratio: float = 2.0  # and above this many times both neighbours (a spike stands alone)
    spike_min_scale_kwh: float = 0.05
    # zero_run: consecutive zero import while the meter exports nothing
    zero_run_minutes: int = 180
    # frozen_value: the same non-zero value repeated (the repeats, after the first occurrence)
    frozen_minutes: int = 90
    # high_day / low_day: the day's total against the median of the meter's complete days before it
    high_day_ratio: float = 3.0
    low_day_ratio: float = 0.2
    day_min_history: int = 7
    day_min_difference_kwh: float = 2.0
    severity_gap: str = "warning"
    severity_spike: str = "error"
    severity_zero_run: str = "error"
    severity_frozen_value: str = "error"
    severity_high_day: str = "warning"
    severity_low_day: str = "warning"

    def severity(self, rule: str) -> str:
        return getattr(self, f"severity_{rule}")


_POSITIVE_INT = ("like_day_weeks", "recent_days", "spike_min_points", "day_min_history")
_NON_NEGATIVE_INT = ("linear_max_minutes", "like_day_max_minutes", "zero_run_minutes", "frozen_minutes")


@dataclass(frozen=True)
class VeeConfig:
    enabled: bool = True
    history_days: int = 28  # days of the meter's series before the run's days that rules and estimates read
    spike_profile_days: int = 14  # days before the run's days in the spike profile (plus the days themselves)
    spike_window_minutes: int = 60  # the profile at a time of day pools the hours this close to it
    defaults: RuleParameters = field(default_factory=RuleParameters)
    sources: Mapping[str, RuleParameters] = field(default_factory=dict)

    def for_source(self, source: str | None) -> RuleParameters:
        return self.sources.get(source or "", self.defaults)


DEFAULT_CONFIG = VeeConfig()
_RUN_WIDE = ("enabled", "history_days", "spike_profile_days", "spike_window_minutes")


def _parameters(base: RuleParameters, values: Any, where: str) -> RuleParameters:
    if not isinstance(values, Mapping):
        raise VeeConfigError(f"{where} must be an object of rule parameters")
    known = {f.name: f for f in fields(RuleParameters)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise VeeConfigError(f"{where}.{key} is not a VEE parameter (see docs/vee.md)")
        kind = type(getattr(base, key))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise VeeConfigError(f"{where}.{key} must be a {kind.__name__}, got {value!r}")
        if key.startswith("severity_") and value not in SEVERITIES:
            raise VeeConfigError(f"{where}.{key} must be one of {', '.join(SEVERITIES)}, got {value!r}")
        if key in _POSITIVE_INT and value < 1:
            raise VeeConfigError(f"{where}.{key} must be at least 1, got {value}")
        if (key in _NON_NEGATIVE_INT or kind is float) and value < 0:
            raise VeeConfigError(f"{where}.{key} must not be negative, got {value}")
        changes[key] = value
    merged = replace(base, **changes)
    if merged.like_day_scale_min > merged.like_day_scale_max:
        raise VeeConfigError(f"{where}.like_day_scale_min must not exceed like_day_scale_max")
    return merged


def parse_config(document: Any) -> VeeConfig:
    """A ``VeeConfig`` from a parsed JSON document (missing keys keep their defaults)."""
    if not isinstance(document, Mapping):
        raise VeeConfigError("the VEE configuration must be a JSON object")
    allowed = {*_RUN_WIDE, "defaults", "sources"}
    for key in document:
        if key not in allowed:
            raise VeeConfigError(f"{key} is not a VEE setting; expected one of {', '.join(sorted(allowed))}")
    run_wide: dict[str, Any] = {}
    for key in _RUN_WIDE:
        if key not in document:
            continue
        value, default = document[key], getattr(DEFAULT_CONFIG, key)
        if type(value) is not type(default):
            raise VeeConfigError(f"{key} must be a {type(default).__name__}, got {value!r}")
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise VeeConfigError(f"{key} must be at least 1, got {value}")
        run_wide[key] = value
    defaults = _parameters(RuleParameters(), document.get("defaults", {}), "defaults")
    sources_doc = document.get("sources", {})
    if not isinstance(sources_doc, Mapping):
        raise VeeConfigError("sources must be an object keyed by source system")
    sources = {name: _parameters(defaults, values, f"sources.{name}") for name, values in sources_doc.items()}
    return VeeConfig(**run_wide, defaults=defaults, sources=sources)


def load_config(text: str | None) -> VeeConfig:
    """The configuration in ``text`` (JSON); the defaults when ``text`` is empty or None."""
    if not text or not text.strip():
        return DEFAULT_CONFIG
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise VeeConfigError(f"the VEE configuration is not valid JSON: {error}") from error
    return parse_config(document)
