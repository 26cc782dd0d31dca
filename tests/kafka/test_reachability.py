"""Broker reachability as the worker's own Kafka clients see it: the rule, then real aiokafka clients."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaProducer

from healthmon.kafka.reachability import BrokerContact, install


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _contact(timeout_s: float = 5.0) -> tuple[BrokerContact, Clock]:
    clock = Clock()
    return BrokerContact(timeout_s, clock=clock, wall=lambda: 1.7e9 + clock.now), clock


# Each step: ("answer" | "fail" | "send" | "send_join" | "wait", seconds to advance after it)
@pytest.mark.parametrize("steps, reachable, reason_part", [
    ([], True, None),
    ([("answer", 60)], True, None),  # an idle client is not an unreachable broker
    ([("answer", 1), ("fail", 3)], True, None),  # a failure, but an answer came less than 5 s ago
    ([("answer", 1), ("fail", 4)], False, "cannot reach Kafka: refused"),
    ([("answer", 1), ("fail", 4), ("answer", 0)], True, None),  # back with the first answer
    ([("fail", 5)], False, "never reached since start"),
    ([("answer", 0), ("send", 4.9)], True, None),
    ([("answer", 0), ("send", 5)], False, "has not answered a request for 5 s"),  # paused broker
    ([("answer", 0), ("send_join", 30)], True, None),  # a broker may hold a JoinGroup on purpose
    ([("answer", 0), ("send", 2), ("answer", 4)], True, None),  # answered meanwhile: the wait is one slow call
])
def test_the_broker_is_unreachable_only_after_a_failure_or_a_long_wait_without_answers(steps, reachable,
                                                                                      reason_part) -> None:
    contact, clock = _contact()
    for action, advance in steps:
        if action == "answer":
            contact.answered()
        elif action == "fail":
            contact.failed("refused")
        elif action == "send":
            contact.sent()
        elif action == "send_join":
            contact.sent(held_on_purpose=True)
        clock.now += advance
    status = contact.status()
    assert status.reachable is reachable, status
    if reason_part is None:
        assert status.reason is None
    else:
        assert reason_part in status.reason


def test_an_answered_or_abandoned_request_no_longer_counts_as_waiting() -> None:
    contact, clock = _contact()
    contact.answered()
    answered, abandoned = contact.sent(), contact.sent()
    clock.now += 1
    contact.answered(answered)
    contact.abandoned(abandoned)
    clock.now += 10
    assert contact.status().reachable
    assert contact.status().last_contact_unix == pytest.approx(1.7e9 + 1001)


@pytest.mark.integration
async def test_every_answer_a_real_client_gets_counts_as_contact(broker_url: str) -> None:
    contact = install(BrokerContact(5.0))  # process-wide: an earlier install wins, and is returned
    before = contact.status().last_contact_unix or 0.0
    producer = AIOKafkaProducer(bootstrap_servers=broker_url.removeprefix("kafka://"), enable_idempotence=False)
    await producer.start()
    try:
        await asyncio.sleep(0.01)
        await producer.client.fetch_all_metadata()
    finally:
        await producer.stop()
    status = contact.status()
    assert status.reachable and status.answered_since_failure
    assert (status.last_contact_unix or 0.0) > before
