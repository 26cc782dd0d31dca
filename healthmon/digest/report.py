"""The digest's decisions: pure, from each account's snapshot and score history (no I/O, no clock).

The days are event time: they end at the latest day the view's history has ended for any account (the
day before the latest event time the view holds), so a digest of a replayed history reads as a live one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from healthmon.core.csm import csm_matches
from healthmon.core.history import DayPoint
from healthmon.core.measures import METRICS, format_value
from healthmon.core.state import DAY_MS
from healthmon.core.vocabulary import BANDS

__all__ = ["AccountDays", "CsmDigest", "Move", "build_digests", "end_day", "NO_CSM"]

#: the section of accounts without a CSM
NO_CSM = "(no CSM)"
_RANK: dict[str, int] = {band: n for n, band in enumerate(BANDS)}  # green 0, yellow 1, red 2


@dataclass(frozen=True)
class AccountDays:
    """What the view holds of one account: its snapshot and its daily points, oldest first."""

    snapshot: dict[str, Any]
    points: list[DayPoint]


@dataclass(frozen=True)
class Move:
    """One account over the digest's days."""

    account_id: str
    name: str
    tier: str | None
    score: float | None
    band: str | None
    score_before: float | None
    band_before: str | None
    reasons: list[str]

    @property
    def change(self) -> float | None:
        """Return the change of the score over the days (negative: down), or None when unknown."""
        if self.score is None or self.score_before is None:
            return None
        return round(self.score - self.score_before, 1)

    def as_dict(self) -> dict[str, Any]:
        """Return the move as JSON-ready data."""
        return {"account_id": self.account_id, "name": self.name, "tier": self.tier, "score": self.score,
                "band": self.band, "score_before": self.score_before, "band_before": self.band_before,
                "change": self.change, "reasons": self.reasons}


@dataclass
class CsmDigest:
    """One CSM's digest over `days` event-time days ending with `last_day` (days since 1970-01-01)."""

    csm: str
    days: int
    last_day: int
    down: list[Move] = field(default_factory=list)
    at_risk: list[Move] = field(default_factory=list)
    recovered: list[Move] = field(default_factory=list)


def end_day(accounts: list[AccountDays]) -> int | None:
    """Return the newest ended day of the view: the day before the latest event time it holds."""
    latest = max((a.snapshot.get("updated_at") or 0 for a in accounts), default=0)
    return None if not latest else latest // DAY_MS - 1


def _reasons(account: AccountDays, point: DayPoint) -> list[str]:
    """Describe the measures that cost the most on `point`'s day, with their current values."""
    values = {m["name"]: m.get("value") for m in account.snapshot.get("measures") or []}
    out = []
    for name in point.top:
        label = METRICS[name].label if name in METRICS else name
        out.append(f"{label} {format_value(name, values.get(name))}" if name in METRICS else label)
    return out


def _at(points: list[DayPoint], day: int) -> DayPoint | None:
    """Return the newest point on or before `day` with a score."""
    found = None
    for p in points:
        if p.day > day:
            break
        if p.score is not None:
            found = p
    return found


def _move(account: AccountDays, first_day: int, last_day: int) -> Move | None:
    snap = account.snapshot
    now = _at(account.points, last_day)
    if now is None:
        return None
    before = _at(account.points, first_day)
    if before is not None and before.day < first_day - 7:
        before = None  # the account had no point near the start of the days: its move is unknown
    return Move(snap["account_id"], snap.get("name") or snap["account_id"], snap.get("tier"), now.score, now.band,
                None if before is None else before.score, None if before is None else before.band,
                _reasons(account, now))


def build_digests(accounts: list[AccountDays], days: int, *, csm: str | None = None,
                  top: int = 10) -> list[CsmDigest]:
    """Return one digest per CSM (only `csm`, a name or its slug, `none` for nobody, when given), CSMs in name order.

    Moved down: the biggest falls of the score over the days, at most `top`. At risk: the accounts in
    yellow or red at the end, lowest score first. Recovered: a better band at the end than at the start.
    """
    last = end_day(accounts)
    if last is None:
        return []
    first = last - days
    by_csm: dict[str, list[Move]] = {}
    for account in accounts:
        if csm is not None and not csm_matches(csm, account.snapshot.get("csm")):
            continue
        owner = account.snapshot.get("csm") or NO_CSM
        move = _move(account, first, last)
        if move is not None:
            by_csm.setdefault(owner, []).append(move)
    digests = []
    for owner in sorted(by_csm):
        moves = by_csm[owner]
        digest = CsmDigest(owner, days, last)
        falls = [m for m in moves if m.change is not None and m.change < 0]
        digest.down = sorted(falls, key=lambda m: (m.change, m.account_id))[:top]
        digest.at_risk = sorted((m for m in moves if m.band in ("yellow", "red")),
                                key=lambda m: (m.score if m.score is not None else 0.0, m.account_id))
        digest.recovered = sorted((m for m in moves if m.band is not None and m.band_before is not None
                                   and _RANK[m.band] < _RANK[m.band_before]),
                                  key=lambda m: (-(m.change or 0.0), m.account_id))
        digests.append(digest)
    return digests
