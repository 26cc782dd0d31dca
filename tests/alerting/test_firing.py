"""The firing set: what to push for each alert, in order, out of order, duplicated, superseded."""

from __future__ import annotations

from typing import Any

import pytest

from healthmon.alerting.firing import FiringSet
from tests.alerting.builders import MIN, T0, customer_alert, stall_alert

A_FIRE = customer_alert("acme")
A_YELLOW = customer_alert("acme", band_after="yellow", score_after=60.0)
A_RED = customer_alert("acme", at_ms=T0 + 10 * MIN)
A_RESOLVE = customer_alert("acme", "resolved", at_ms=T0 + 60 * MIN)
A_REFIRE = customer_alert("acme", episode_start=T0 + 120 * MIN)
A_RETIERED = customer_alert("acme", tier="key", severity="error", at_ms=T0 + 20 * MIN)
B_FIRE = customer_alert("beta")
STALL = stall_alert()
STALL_END = stall_alert("resolved", at_ms=T0 + 30 * MIN)


def _ids(alerts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(a["alert_id"], a["status"]) for a in alerts]


@pytest.mark.parametrize(("sequence", "last_pushed", "firing"), [
    pytest.param([A_FIRE], [A_FIRE], [A_FIRE], id="fires"),
    pytest.param([A_FIRE, A_RESOLVE], [A_RESOLVE], [], id="resolves"),
    pytest.param([A_FIRE, A_FIRE], [], [A_FIRE], id="redelivered firing pushes nothing"),
    pytest.param([A_FIRE, A_RESOLVE, A_RESOLVE], [], [], id="redelivered resolve pushes nothing"),
    pytest.param([A_FIRE, A_RESOLVE, A_FIRE], [], [], id="late firing never resurrects"),
    pytest.param([A_RESOLVE, A_FIRE], [], [], id="resolve before its firing (two partitions)"),
    pytest.param([A_YELLOW, A_RED], [A_RED], [A_RED], id="yellow superseded by red"),
    pytest.param([A_FIRE, A_RESOLVE, A_REFIRE], [A_REFIRE], [A_REFIRE], id="a new episode fires again"),
    pytest.param([A_FIRE, B_FIRE], [B_FIRE], [A_FIRE, B_FIRE], id="accounts are independent"),
    pytest.param([STALL, STALL_END, STALL], [], [], id="pipeline alerts keep order by event time"),
    pytest.param([STALL_END, STALL], [], [], id="pipeline resolve first"),
    pytest.param([STALL, A_FIRE], [A_FIRE], [STALL, A_FIRE], id="pipeline and customer alerts coexist"),
])
def test_sequences(sequence: list[dict[str, Any]], last_pushed: list[dict[str, Any]],
                   firing: list[dict[str, Any]]) -> None:
    fs = FiringSet()
    pushed: list[dict[str, Any]] = []
    for alert in sequence:
        pushed = fs.apply(alert)
    assert _ids(pushed) == _ids(last_pushed)
    assert sorted(_ids(fs.firing())) == sorted(_ids(firing))
    assert len(fs) == len(firing)


def test_a_label_change_ends_the_old_label_set() -> None:
    fs = FiringSet()
    fs.apply(A_FIRE)
    pushed = fs.apply(A_RETIERED)
    assert [(a["tier"], a["status"]) for a in pushed] == [("strategic", "resolved"), ("key", "firing")]
    assert pushed[0]["event_time"] == A_RETIERED["event_time"]
    assert _ids(fs.firing()) == _ids([A_RETIERED])
    pushed = fs.apply(customer_alert("acme", "resolved", tier="key", severity="error", at_ms=T0 + 60 * MIN))
    assert [(a["tier"], a["status"]) for a in pushed] == [("key", "resolved")]
    assert fs.is_firing("acme/health") is False
