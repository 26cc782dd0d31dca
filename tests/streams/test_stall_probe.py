"""`ingest_stalled` fires only when an input topic itself stopped growing, not when a consumer of ours lags."""

from __future__ import annotations

from types import SimpleNamespace
from typing import NamedTuple

from healthmon.config import Settings
from healthmon.core import PipelineClock, parse_policy
from healthmon.kafka.input_growth import InputGrowth
from streams.consumer_probes import source_backlog_probe
from tests.core.builders import policy_doc

DAY_MS = 86_400_000


class _TP(NamedTuple):
    topic: str
    partition: int


class _CaughtUpConsumer:
    """Faust's consumer fields the probe reads: every owned partition read to its (last fetched) end."""

    def __init__(self, topics: list[str]) -> None:
        self.tps = [_TP(t, 0) for t in topics]
        self._read_offset = {tp: 9 for tp in self.tps}

    def assignment(self) -> list[_TP]:
        return self.tps

    def highwater(self, tp: _TP) -> int:
        return 10


def _clock(growth: InputGrowth, wall: list[int]) -> tuple[PipelineClock, dict[str, str]]:
    topics = Settings(kafka={"broker_url": "kafka://127.0.0.1:9"}).topics
    app = SimpleNamespace(consumer=_CaughtUpConsumer(list(topics.input_names.values())))
    by_kind = {kind: [name] for kind, name in topics.input_names.items()}
    probe = source_backlog_probe(app, by_kind, growth.stopped)  # type: ignore[arg-type]
    config = SimpleNamespace(stall_idle_seconds=10)
    policy = parse_policy(policy_doc(pipeline={"sources": {"ticket": {"stale_after_seconds": 1800}}}))
    return PipelineClock(policy, config, clock=lambda: wall[0], backlog=probe), topics.input_names


def _run(ticket_topic_grows: bool) -> list[dict]:
    """Usage flows for a minute; tickets stop arriving here. Return the pipeline alerts sent."""
    wall = [1_000_000]
    growth = InputGrowth(10_000, lambda: wall[0])
    clock, names = _clock(growth, wall)
    t0 = 1_780_000_000_000
    clock.observe("ticket", t0)
    alerts = []
    for n in range(60):
        wall[0] += 1_000
        clock.observe("usage", t0 + n * DAY_MS // 4)
        # The broker: usage grows; the ticket topic grows too (a frozen consumer of ours) or stood still.
        growth.record({names["usage"]: 100 + n, names["ticket"]: 50 + (n if ticket_topic_grows else 0),
                       names["nps"]: 5, names["account"]: 5}, {})
        alerts += clock.update()
    return alerts


def test_a_ticket_topic_that_grows_while_our_consumer_lags_is_no_stall():
    assert _run(ticket_topic_grows=True) == []


def test_a_ticket_topic_that_stopped_growing_while_usage_flows_is_a_stall():
    alerts = _run(ticket_topic_grows=False)
    assert [(a["kind"], a["status"]) for a in alerts] == [("ingest_stalled", "firing")]
