"""The drills' sizes: the input, the faults, and how the traffic is sent."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DrillConfig"]


@dataclass(frozen=True)
class DrillConfig:
    """The input and the faults' sizes (the defaults are the issue's figures)."""

    accounts: int = 60
    days: int = 42
    seed: int = 7
    #: the traffic ends here (event time), so every run sends byte-identical events
    until_ms: int = 0
    #: the fault hits once this share of the input has been processed
    trigger_ratio: float = 0.3
    pause_seconds: float = 32.0
    #: a second worker leaves by SIGTERM this long after it is ready
    leave_after_seconds: float = 8.0
    kills: int = 20
    outage_days: int = 3
    #: the chaos drill: workers, how long its input takes to send, the gap between two faults
    chaos_workers: int = 3
    chaos_seconds: float = 240.0
    chaos_gap_seconds: tuple[float, float] = (15.0, 25.0)
    #: send the traffic in these sources' shapes, read through an inputs file (`generate --format`'s names)
    formats: tuple[str, ...] = ()
    #: with `formats`, key the messages a source sends without a key (Segment's tracks) by their account
    keyed: bool = False
    #: the most faults the chaos drill strikes (None: as many as its input's time allows; 0: a calm run)
    chaos_faults: int | None = None
