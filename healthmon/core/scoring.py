"""Turn metric values into measure scores, a weighted health score and a band (with hysteresis)."""

from __future__ import annotations

from typing import Final, NamedTuple

from healthmon.core.measures import METRIC_INDEX, Metrics
from healthmon.core.policy import BandPolicy, MeasureSpec, TierPolicy
from healthmon.core.records import MeasureRecord
from healthmon.core.rounding import round_to
from healthmon.core.vocabulary import BANDS, Band

__all__ = ["MeasureResult", "Scorecard", "band_with_hysteresis", "measure_score", "quick_score", "score",
           "worse"]

_RANK: Final[dict[str, int]] = {b: i for i, b in enumerate(BANDS)}


class MeasureResult(NamedTuple):
    """One measure of one evaluation; `score` and `contribution` are None when it has no data."""

    name: str
    value: float | None
    score: float | None
    weight: float
    contribution: float | None

    def as_dict(self) -> MeasureRecord:
        """Return the measure as it appears in alerts and snapshots."""
        return {"name": self.name, "value": self.value, "score": self.score, "weight": self.weight,
                "contribution": self.contribution}


class Scorecard:
    """A health score (None when no measure has data), its plain band and the measures behind it."""

    __slots__ = ("score", "band", "measures")

    def __init__(self, score: float | None, band: Band | None, measures: tuple[MeasureResult, ...]) -> None:
        self.score = score
        self.band = band
        self.measures = measures

    def __repr__(self) -> str:
        return f"Scorecard(score={self.score!r}, band={self.band!r}, measures={self.measures!r})"


class _Terms:
    """What `quick_score` reads of a tier, worked out once per tier: its measures by metric index, its cut-offs."""

    def __init__(self, tier: TierPolicy) -> None:
        self.tier = tier
        terms = tier.score_terms
        self.indexes = [METRIC_INDEX[metric] for metric, _, _, _ in terms]
        self.bads = [bad for _, bad, _, _ in terms]
        self.spans = [span for _, _, span, _ in terms]
        self.weights = [weight for _, _, _, weight in terms]
        self.green = tier.bands.green
        self.yellow = tier.bands.yellow


_TERMS: dict[int, _Terms] = {}
_TERMS_MAX: Final = 256


def _terms(tier: TierPolicy) -> _Terms:
    """Return the tier's terms (cached by identity; they hold the tier, so the identity stays its own)."""
    terms = _TERMS.get(id(tier))
    if terms is not None and terms.tier is tier:
        return terms
    terms = _Terms(tier)
    if len(_TERMS) >= _TERMS_MAX:
        _TERMS.clear()
    _TERMS[id(tier)] = terms
    return terms


def measure_score(value: float, bad: float, good: float) -> float:
    """Score a value 0-100: 0 at or beyond `bad`, 100 at or beyond `good`, linear in between."""
    fraction = (value - bad) / (good - bad)
    return round_to(100.0 * (1.0 if fraction > 1.0 else 0.0 if fraction < 0.0 else fraction), 1)


def quick_score(metrics: Metrics, tier: TierPolicy) -> Scorecard:
    """Return the score and band only (no per-measure breakdown): the evaluation's hot path."""
    terms = _terms(tier)
    values, bads, spans, weights = metrics.values, terms.bads, terms.spans, terms.weights
    total = total_weight = 0.0
    for i, index in enumerate(terms.indexes):
        value = values[index]
        if value is not None:
            fraction = (value - bads[i]) / spans[i]
            # `measure_score`, with the rounding skipped where it cannot change the sum.
            if fraction >= 1.0:
                s = 100.0
            elif fraction <= 0.0:
                s = 0.0
            else:
                s = round_to(100.0 * fraction, 1)
            weight = weights[i]
            total += s * weight
            total_weight += weight
    if not total_weight:
        return Scorecard(None, None, ())
    final = round_to(total / total_weight, 1)
    # `BandPolicy.band_of`
    return Scorecard(final, "green" if final >= terms.green else "yellow" if final >= terms.yellow else "red", ())


def score(metrics: Metrics, tier: TierPolicy) -> Scorecard:
    """Score an account: the weighted average of its measures that have data."""
    scored: list[tuple[MeasureSpec, float | None, float | None]] = []
    total = total_weight = 0.0
    for spec in tier.measures:
        value = metrics.get(spec.metric)
        if value is None:
            scored.append((spec, None, None))
            continue
        s = measure_score(value, spec.bad, spec.good)
        # A float in both builds: compiled code holds a float-typed value as a C double (8 -> 8.0).
        scored.append((spec, float(value), s))
        total += s * spec.weight
        total_weight += spec.weight
    if not total_weight:
        return Scorecard(None, None, tuple(MeasureResult(m.metric, None, None, m.weight, None) for m, _, _ in scored))
    results = tuple(
        MeasureResult(spec.metric, value, s, spec.weight,
                      None if s is None else round_to(s * spec.weight / total_weight, 2))
        for spec, value, s in scored
    )
    final = round_to(total / total_weight, 1)
    return Scorecard(final, tier.bands.band_of(final), results)


def band_with_hysteresis(score_: float, current: Band | None, bands: BandPolicy) -> Band:
    """Return the band to move to: leaving `current` needs the score past the cut-off by the margin."""
    plain = bands.band_of(score_)
    if current is None or plain == current:
        return plain
    if _RANK[plain] > _RANK[current]:  # worse: the score must be below the cut-off by the margin
        return bands.band_of(score_ + bands.hysteresis_points)
    return bands.band_of(score_ - bands.hysteresis_points)


def worse(a: Band, b: Band) -> bool:
    """Return whether band `a` is worse than band `b`."""
    return _RANK[a] > _RANK[b]
