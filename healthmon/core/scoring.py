"""Turn metric values into measure scores, a weighted health score and a band (with hysteresis)."""

from __future__ import annotations

from typing import Final, NamedTuple

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


class Scorecard(NamedTuple):
    """A health score (None when no measure has data), its plain band and the measures behind it."""

    score: float | None
    band: Band | None
    measures: tuple[MeasureResult, ...]


def measure_score(value: float, bad: float, good: float) -> float:
    """Score a value 0-100: 0 at or beyond `bad`, 100 at or beyond `good`, linear in between."""
    fraction = (value - bad) / (good - bad)
    return round_to(100.0 * (1.0 if fraction > 1.0 else 0.0 if fraction < 0.0 else fraction), 1)


def quick_score(metrics: dict[str, float | None], tier: TierPolicy) -> Scorecard:
    """Return the score and band only (no per-measure breakdown): the evaluation's hot path."""
    get = metrics.get
    total = total_weight = 0.0
    for metric, bad, span, weight in tier.score_terms:
        value = get(metric)
        if value is not None:
            fraction = (value - bad) / span
            # `measure_score`, with the rounding skipped where it cannot change the sum.
            if fraction >= 1.0:
                s = 100.0
            elif fraction <= 0.0:
                s = 0.0
            else:
                s = round_to(100.0 * fraction, 1)
            total += s * weight
            total_weight += weight
    if not total_weight:
        return Scorecard(None, None, ())
    final = round_to(total / total_weight, 1)
    return Scorecard(final, tier.bands.band_of(final), ())


def score(metrics: dict[str, float | None], tier: TierPolicy) -> Scorecard:
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
