"""A dead broker or Alertmanager is said once, then once a minute with a count."""

from __future__ import annotations

import logging

import pytest

from healthmon.alerting.quiet import QuietFilter, RepeatLog


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_repeat_log_says_it_once_then_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    rep = RepeatLog(logging.getLogger("healthmon.test"), "Kafka", clock=clock)
    with caplog.at_level(logging.WARNING):
        for second in range(0, 150):
            clock.now = float(second)
            rep.failure("refused")
        rep.success()
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["Kafka: refused (retrying; further failures are logged once a minute)",
                        "Kafka: still failing after 61 attempts: refused",
                        "Kafka: still failing after 121 attempts: refused",
                        "Kafka: recovered after 150 failed attempts"]


def test_quiet_filter_passes_own_logs_and_thins_library_ones() -> None:
    clock = Clock()
    quiet = QuietFilter(clock=clock)

    def record(name: str) -> logging.LogRecord:
        return logging.LogRecord(name, logging.ERROR, __file__, 1, "Unable connect to node %s", ("b1",), None)

    passed = []
    for second in range(0, 130):
        clock.now = float(second)
        for name in ("aiokafka.conn", "healthmon.alerting"):
            r = record(name)
            if quiet.filter(r):
                passed.append((name, r.getMessage()))
    ours = [p for p in passed if p[0] == "healthmon.alerting"]
    assert ours == [("healthmon.alerting", "Unable connect to node b1")] * 130
    assert [p[1] for p in passed if p[0] == "aiokafka.conn"] == [
        "Unable connect to node b1",
        "Unable connect to node b1 (59 similar messages in the last 60 s)",
        "Unable connect to node b1 (59 similar messages in the last 60 s)"]
