"""The scoring policy: typed, validated with precise errors, and stamped with a content hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from healthmon.core.measures import METRICS
from healthmon.core.validation import normalise
from healthmon.core.vocabulary import TIERS, Band, Severity

__all__ = [
    "BandPolicy",
    "MeasureSpec",
    "Policy",
    "PolicyError",
    "TierPolicy",
    "WarningLine",
    "check_policy_file",
    "load_policy",
    "parse_policy",
]


class PolicyError(ValueError):
    """The policy is invalid; `errors` lists every problem as `path: message`."""

    def __init__(self, errors: list[str], source: str = "policy") -> None:
        self.errors = list(errors)
        super().__init__(f"{source}: {len(self.errors)} error(s):\n" + "\n".join(f"  {e}" for e in self.errors))


@dataclass(frozen=True)
class MeasureSpec:
    """One weighted measure: a metric scored 0-100, linearly from `bad` (0) to `good` (100)."""

    metric: str
    weight: float
    bad: float
    good: float

    @property
    def source(self) -> str:
        """Return the input kind this measure depends on."""
        return METRICS[self.metric].source


@dataclass(frozen=True)
class WarningLine:
    """An activity line: absolute (`metric < below`, or `metric > above` where higher is worse), relative
    (`metric` down `drop` vs its baseline) or rhythm (days of silence above a line set by the account's own
    history)."""

    name: str
    metric: str
    kind: str
    for_seconds: int
    cooldown_seconds: int
    enabled: bool = True
    below: float | None = None
    exit_above: float | None = None
    above: float | None = None
    exit_below: float | None = None
    drop: float | None = None
    exit_drop: float | None = None
    min_baseline: float | None = None
    #: rhythm lines: (active days so far, line in days), ascending; the entry of the most days reached applies
    above_by_active_days: tuple[tuple[int, float], ...] | None = None
    #: rhythm lines: from 2 active days on, the line is this times the average gap between active days ...
    gap_multiple: float | None = None
    #: ... clamped to [min_above, max_above]
    min_above: float | None = None
    max_above: float | None = None

    @property
    def source(self) -> str:
        """Return the input kind this line depends on."""
        return METRICS[self.metric].source


@dataclass(frozen=True)
class BandPolicy:
    """Band cut-offs: green at or above `green`, yellow at or above `yellow`, red below."""

    green: float
    yellow: float
    hysteresis_points: float

    def band_of(self, score: float) -> Band:
        """Return the band of a score, without hysteresis."""
        return "green" if score >= self.green else "yellow" if score >= self.yellow else "red"


@dataclass(frozen=True)
class TierPolicy:
    """The policy as it applies to one tier, overrides merged in."""

    tier: str
    severity: Severity
    bands: BandPolicy
    measures: tuple[MeasureSpec, ...]
    warning_lines: tuple[WarningLine, ...]
    #: input kinds feeding a weighted measure: a stall of any of them holds back health changes
    measure_sources: frozenset[str]
    #: (metric, bad, good - bad, weight) per measure, the scoring hot path's view of `measures`
    score_terms: tuple[tuple[str, float, float, float], ...] = field(init=False, repr=False, compare=False)
    #: metric -> (low, high): where its measure's score moves (a later measure of one metric wins), for `quiet`
    score_ranges: dict[str, tuple[float, float]] = field(init=False, repr=False, compare=False)
    #: the names of `warning_lines`
    line_names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "score_terms", tuple((m.metric, m.bad, m.good - m.bad, m.weight)
                                                      for m in self.measures))
        object.__setattr__(self, "score_ranges", {metric: (min(bad, bad + span), max(bad, bad + span))
                                                  for metric, bad, span, _ in self.score_terms})
        object.__setattr__(self, "line_names", frozenset(line.name for line in self.warning_lines))


@dataclass(frozen=True)
class Policy:
    """A validated policy. `version` is `sha256:` + 12 hex digits of its canonical JSON."""

    version: str
    core_features: frozenset[str]
    evaluation_interval_seconds: int
    warmup_seconds: int
    min_dwell_seconds: int
    health_cooldown_seconds: int
    tiers: dict[str, TierPolicy]
    pipeline_severity: Severity
    stale_after_seconds: dict[str, int]
    #: after a stall resolves, activity alerts stay held back this long (the gap is still in the windows)
    hold_after_seconds: dict[str, int]
    document: dict[str, Any]

    def for_tier(self, tier: str | None) -> TierPolicy:
        """Return the policy of a tier; accounts without a profile are scored as `standard`."""
        return self.tiers.get(tier or "standard") or self.tiers["standard"]


#: numeric policy fields held as floats, whether the file wrote `20` or `20.0`
_FLOAT_FIELDS = frozenset({"weight", "bad", "good", "green", "yellow", "hysteresis_points", "below", "exit_above",
                           "above", "exit_below", "drop", "exit_drop", "min_baseline", "gap_multiple",
                           "min_above", "max_above"})


def _floats(spec: dict[str, Any]) -> dict[str, Any]:
    """Return `spec` with its float-typed numbers as floats.

    A compiled core (mypyc) stores a float-annotated value as a C double, so an integer written in the
    policy would come out of it as `20.0` while the pure-Python core kept `20`; with floats from the
    start, both render every alert byte for byte alike.
    """
    return {k: float(v) if k in _FLOAT_FIELDS and isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in spec.items()}


def _line(spec: dict[str, Any]) -> WarningLine:
    values = _floats(spec)
    table = values.get("above_by_active_days")
    if table is not None:
        values["above_by_active_days"] = tuple(sorted((int(n), float(days)) for n, days in table.items()))
    return WarningLine(**values)


def _tier(name: str, spec: dict[str, Any]) -> TierPolicy:
    measures = tuple(MeasureSpec(**_floats(m)) for m in spec["measures"])
    return TierPolicy(
        tier=name, severity=spec["severity"], bands=BandPolicy(**_floats(spec["bands"])), measures=measures,
        warning_lines=tuple(_line(ln) for ln in spec["warning_lines"] if ln["enabled"]),
        measure_sources=frozenset(m.source for m in measures),
    )


def parse_policy(doc: dict[str, Any] | str, source: str = "policy") -> Policy:
    """Validate a policy given as a mapping or YAML text; raise `PolicyError` listing every problem."""
    if isinstance(doc, str):
        doc = _load_yaml(doc, source)
    data, errors = normalise(doc)
    if errors:
        raise PolicyError(errors, source)
    canonical = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    return Policy(
        version="sha256:" + hashlib.sha256(canonical).hexdigest()[:12],
        core_features=frozenset(data["core_features"]),
        evaluation_interval_seconds=data["evaluation_interval_seconds"],
        warmup_seconds=data["warmup_seconds"],
        min_dwell_seconds=data["health"]["min_dwell_seconds"],
        health_cooldown_seconds=data["health"]["cooldown_seconds"],
        tiers={name: _tier(name, data["tiers"][name]) for name in TIERS},
        pipeline_severity=data["pipeline"]["severity"],
        stale_after_seconds={s: v["stale_after_seconds"] for s, v in data["pipeline"]["sources"].items()},
        hold_after_seconds={s: v["hold_after_seconds"] for s, v in data["pipeline"]["sources"].items()},
        document=data,
    )


def load_policy(path: str | Path) -> Policy:
    """Read and validate a YAML policy file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([f"file: cannot read: {exc}"], str(path)) from None
    return parse_policy(text, str(path))


def check_policy_file(path: str | Path) -> tuple[bool, list[str]]:
    """Validate a policy file for `healthmon policy check`: (ok, error lines or a one-line summary)."""
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        return False, exc.errors
    measures = len(policy.tiers["standard"].measures)
    lines = len(policy.document["warning_lines"])
    return True, [f"{path}: ok, version {policy.version}, {measures} measures, {lines} warning lines"]


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects duplicate keys instead of keeping the last one."""


def _mapping_no_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_no_duplicates)


def _load_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise PolicyError([f"yaml: {where}: {exc.problem or exc.context}"], source) from None
    except yaml.YAMLError as exc:
        raise PolicyError([f"yaml: {exc}"], source) from None
