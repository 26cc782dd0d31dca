"""What `healthmon bench` runs: its options and the constants every run shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["LATENESS_S", "PARTITIONS", "BenchOptions"]

PARTITIONS = 4
#: Faust does not align its fetches of the four input topics by time, so a backfill of 30 days can
#: reach an account's tickets weeks before its usage; the runs accept that lateness so every event counts.
LATENESS_S = 40 * 86_400


@dataclass(frozen=True)
class BenchOptions:
    """What to run."""

    events: int = 1_000_000
    accounts: int = 10_000
    seed: int = 42
    batch_size: int = 100
    workers: int = 2
    #: accounts of the dense workload (0: 300 at a million events, proportionally fewer below)
    dense_accounts: int = 0
    #: a speed-up of several workers measured over less than this is measured again on more events (0: never)
    workers_min_seconds: float = 10.0
    latency_seconds: float = 25.0
    latency_rate: float = 5000.0
    #: send the latency run's background load as per-partition envelopes (else one event per message)
    latency_envelopes: bool = True
    #: rounds of the repartitioned and the segment runs (each times both of its sides once, in turns)
    repartitioned_rounds: int = 2
    #: the segment run's Segment calls keyed by account_id (False: unkeyed, as Segment's destination sends them)
    segment_keyed: bool = True
    #: run only this part ("repartitioned", "segment" or "single"), or everything (None)
    only: str | None = None
    profile: bool = False
    workdir: Path | None = None
