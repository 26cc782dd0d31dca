"""A broker outage costs a few log lines: the first error, one summary a minute, one line at the end."""

from __future__ import annotations

import logging

import pytest

from healthmon.kafka.brokerlog import BrokerErrorLimiter, attach


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _record(message: str, name: str = "aiokafka.client", level: int = logging.ERROR,
            *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, args or None, None)


def test_an_outage_logs_its_first_error_then_one_summary_per_interval() -> None:
    clock = Clock()
    limiter = BrokerErrorLimiter(60.0, clock=clock)
    passed = []
    for i in range(24 * 150):  # 150 s of aiokafka's 24 errors a second
        clock.now = i / 24
        record = _record("Unable connect to node with id %s: %s", "aiokafka.client", logging.ERROR, 111, "refused")
        if limiter.filter(record):
            passed.append(record.getMessage())
    assert len(passed) == 3, passed  # t=0, t=60, t=120
    assert passed[0].startswith("Kafka broker unreachable: Unable connect to node with id 111: refused")
    assert "still unreachable after 60 s: 1440 connection errors in the last 60 s" in passed[1]
    assert "still unreachable after 120 s" in passed[2]
    clock.now = 200
    assert limiter.recovered() == "Kafka broker reachable again after 200 s (3600 connection errors in all)"
    assert limiter.recovered() is None  # one line per outage
    assert limiter.filter(_record("Unable to update metadata from [111]"))  # a new outage starts afresh


@pytest.mark.parametrize("record", [
    _record("Unable connect to node with id 1", level=logging.INFO),  # below warning: not ours to judge
    _record("Unable connect to node with id 1", name="healthmon.processor"),
    _record("MessageSizeTooLargeError: The message is 2796562 bytes", name="aiokafka.producer"),
])
def test_other_records_pass_untouched(record: logging.LogRecord) -> None:
    limiter = BrokerErrorLimiter(60.0, clock=Clock())
    for _ in range(3):
        assert limiter.filter(record)
    assert limiter.recovered() is None


def test_attached_limiter_holds_back_the_aiokafka_flood(caplog: pytest.LogCaptureFixture) -> None:
    limiter = attach(BrokerErrorLimiter(60.0))
    assert attach(BrokerErrorLimiter(60.0)) is limiter  # a second worker in one process shares it
    try:
        with caplog.at_level(logging.WARNING):
            for _ in range(50):
                logging.getLogger("aiokafka.consumer.group_coordinator").error(
                    "Group Coordinator Request failed: %s", "NodeNotReadyError")
        assert len(caplog.records) == 1
        assert "Group Coordinator Request failed: NodeNotReadyError" in caplog.records[0].getMessage()
    finally:
        for name in list(logging.Logger.manager.loggerDict) + ["aiokafka", "faust"]:
            logger = logging.getLogger(name)
            if limiter in logger.filters:
                logger.removeFilter(limiter)
