"""Delivering a dead letter: retried when refused or lost, and never dropped without an error in the log."""

from __future__ import annotations

import asyncio
import logging

import pytest

from healthmon.pipeline.deadletters import DeadLetterNotDelivered, deliver_dead_letter, retries_settled


class FlakyTopic:
    """An output topic whose first `failures` sends fail, at hand-over or at delivery."""

    def __init__(self, failures: int, at_delivery: bool) -> None:
        self.failures = failures
        self.at_delivery = at_delivery
        self.delivered: list[bytes] = []

    async def send(self, key: bytes | None, value: bytes) -> asyncio.Future:
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        if self.failures:
            self.failures -= 1
            if not self.at_delivery:
                raise RuntimeError("MessageSizeTooLargeError: The message is 2796562 bytes")
            fut.set_exception(RuntimeError("KafkaTimeoutError"))
            return fut
        self.delivered.append(value)
        fut.set_result(None)
        return fut


@pytest.mark.parametrize("at_delivery", [False, True])
async def test_a_failed_send_is_retried_until_delivered(at_delivery, caplog):
    topic = FlakyTopic(failures=2, at_delivery=at_delivery)
    with caplog.at_level(logging.WARNING, logger="healthmon.pipeline.deadletters"):
        await deliver_dead_letter(topic, b"k", b"record", where="usage[0]@5", backoff_s=0)
        await retries_settled()
    assert topic.delivered == [b"record"]
    assert [r.levelname for r in caplog.records] == ["WARNING", "WARNING"]
    assert all("usage[0]@5" in r.getMessage() for r in caplog.records)


async def test_a_send_the_producer_keeps_refusing_is_logged_as_an_error_and_raised(caplog):
    topic = FlakyTopic(failures=10, at_delivery=False)
    logger = "healthmon.pipeline.deadletters"
    with caplog.at_level(logging.WARNING, logger=logger), pytest.raises(DeadLetterNotDelivered):
        await deliver_dead_letter(topic, b"k", b"record", where="usage[0]@5", attempts=3, backoff_s=0)
    assert topic.delivered == []
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "usage[0]@5 NOT written after 3 attempts" in errors[0].getMessage()


async def test_a_delivery_that_keeps_failing_is_retried_then_logged_as_an_error(caplog):
    topic = FlakyTopic(failures=10, at_delivery=True)
    with caplog.at_level(logging.WARNING, logger="healthmon.pipeline.deadletters"):
        await deliver_dead_letter(topic, b"k", b"record", where="usage[0]@5", attempts=3, backoff_s=0)
        await retries_settled()
    assert topic.delivered == [] and topic.failures == 7
    assert [r.levelname for r in caplog.records] == ["WARNING", "WARNING", "ERROR"]
    assert "usage[0]@5 NOT written after 3 attempts" in caplog.records[-1].getMessage()
