"""The engine's deployment knobs, what one of its calls returns, and its evaluation counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from healthmon.core.records import AlertRecord, ScoreRecord
from healthmon.core.state import AccountState

__all__ = ["DEFAULT_STALL_IDLE_SECONDS", "ApplyResult", "EngineConfig", "EvaluationStats"]

DEFAULT_STALL_IDLE_SECONDS = 10.0


class EvaluationStats:
    """Counts (and, when `timed`, nanoseconds) of evaluations: full ones and fast-path ones."""

    def __init__(self, timed: bool = True) -> None:
        self.timed = timed
        self.full = 0
        self.fast = 0
        self.full_ns = 0
        self.fast_ns = 0


@dataclass(frozen=True)
class EngineConfig:
    """Engine knobs that are deployment settings rather than scoring policy."""

    #: an event more than this behind the account's latest event of the same input is `too_late`
    lateness_seconds: int = 172_800
    #: accepted event ids remembered per account (32-bit fingerprints) for dedupe
    dedupe_capacity: int = 128
    #: tickets tracked per account; beyond it the oldest closed, then the oldest open, are forgotten
    max_tickets: int = 64
    #: processing time a source must go without any event before its event-time lag counts as a stall
    stall_idle_seconds: float = 10.0
    #: let unchanged pending accounts take the evaluation's fast path until a timer runs out (off: the
    #: reference behaviour that tests compare against)
    fast_pending: bool = True
    #: tick an account that got no input only at the first instant a measure, a band or a line can move
    #: (`healthmon.core.quiet`; off: every known account at least once a day, the reference behaviour)
    skip_quiet: bool = True
    #: days of score history kept per account (one point per ended event-time day)
    history_days: int = 180
    #: build the health-scores records (one per account per ended day, one per band change) into the results
    score_records: bool = False

    def __post_init__(self) -> None:
        if self.lateness_seconds < 0 or not 1 <= self.dedupe_capacity <= 65_535 \
                or not 1 <= self.max_tickets <= 65_535 or not 1 <= self.history_days <= 3650:
            raise ValueError(f"invalid engine config: {self}")

    @classmethod
    def from_settings(cls, settings: Any, *, score_records: bool = False) -> EngineConfig:
        """Build the config from the engine's settings section (`healthmon.config.EngineSettings`)."""
        return cls(lateness_seconds=settings.lateness_seconds,
                   stall_idle_seconds=getattr(settings, "stall_idle_seconds", DEFAULT_STALL_IDLE_SECONDS),
                   history_days=getattr(settings, "history_days", 180), score_records=score_records)


@dataclass
class ApplyResult:
    """The outcome of `Engine.apply` or `Engine.tick`."""

    state: AccountState
    alerts: list[AlertRecord] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    #: whether the state must be written back (events accepted or the alert lifecycle moved)
    changed: bool = False
    #: health-scores records, when the engine's config asks for them
    scores: list[ScoreRecord] = field(default_factory=list)
