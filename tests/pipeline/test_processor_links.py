"""The processor reads the inputs file's topics through the mapping layer, and resolves linked accounts.

Broker-free: a shared dict stands for the link table every worker reads. The link wait is judged by
the processor's wall clock, which the tests move by hand.
"""

from __future__ import annotations

import orjson

from healthmon.config import Settings
from healthmon.ingest import partition_for
from healthmon.ingest.inputs import parse_inputs
from healthmon.pipeline.processor import Processor
from tests.fixtures import metric_value
from tests.pipeline.mapped import mapped_processor

PARTITIONS = 4
NOW_MS = 1_788_220_800_000
INPUTS = parse_inputs({"inputs": [
    {"topic": "segment-tracks", "kind": "usage", "format": "segment"},
    {"topic": "segment-groups", "kind": "accounts", "format": "segment"},
]}, "inputs.yaml")
HOME = partition_for("acc-1", PARTITIONS)


class Wall:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.ms = NOW_MS

    def __call__(self) -> int:
        return self.ms


def _processor(links: dict[bytes, bytes], wall: Wall, wait_s: float = 30.0, inputs=INPUTS) -> Processor:
    return mapped_processor(inputs, PARTITIONS, wall, links=links, wait_s=wait_s)


def track(message_id: str, user: str, group: str | None = None) -> bytes:
    call = {"type": "track", "messageId": message_id, "userId": user, "event": "reports",
            "timestamp": "2026-08-31T12:00:00Z", "properties": {}}
    if group:
        call["context"] = {"groupId": group}
    return orjson.dumps(call)


def group(user: str, account: str) -> bytes:
    return orjson.dumps({"type": "group", "messageId": f"g-{user}", "userId": user, "groupId": account,
                         "timestamp": "2026-08-30T12:00:00Z"})


def ok_usage(processor: Processor) -> float:
    return metric_value(_metrics(processor), "healthmon_events_total", topic="product-usage", outcome="ok")


def _metrics(processor: Processor) -> str:
    from prometheus_client import generate_latest

    return generate_latest(processor.metrics.registry).decode()


def acked(processor: Processor) -> list:
    done: list = []

    async def on_done(inbound) -> None:
        done.append(inbound.offset)

    processor.on_done = on_done
    return done


async def test_a_track_with_its_group_is_applied_and_page_calls_are_ignored() -> None:
    processor = _processor({}, Wall())
    await processor.on_message("segment-tracks", HOME, 0, None, track("m1", "u1", "acc-1"))
    await processor.on_message("segment-tracks", HOME, 1, None, orjson.dumps({"type": "page", "messageId": "p"}))
    assert ok_usage(processor) == 1
    assert metric_value(_metrics(processor), "healthmon_events_total", topic="product-usage", outcome="ignored") == 1
    assert processor.state_of("acc-1") is not None


async def test_link_before_the_track_resolves_at_once() -> None:
    processor = _processor({}, Wall())
    await processor.on_message("segment-groups", HOME, 0, None, group("u1", "acc-1"))
    inbound = processor.decode("segment-tracks", HOME, 0, None, track("m1", "u1"))
    await processor.process(inbound)
    assert inbound.holds == 0 and ok_usage(processor) == 1


async def test_link_after_the_track_releases_the_held_event_and_acks_its_message() -> None:
    wall = Wall()
    processor = _processor({}, wall)
    done = acked(processor)
    inbound = processor.decode("segment-tracks", HOME, 7, None, track("m1", "u1"))
    await processor.process(inbound)
    assert inbound.holds == 1 and ok_usage(processor) == 0 and done == []
    assert metric_value(_metrics(processor), "healthmon_link_wait_events") == 1
    wall.ms += 10_000
    await processor.on_message("segment-groups", HOME, 0, None, group("u1", "acc-1"))
    assert ok_usage(processor) == 1 and done == [7] and inbound.holds == 0
    assert metric_value(_metrics(processor), "healthmon_link_waits_total", outcome="resolved") == 1
    assert processor.topics.deadletter.sent == []


async def test_a_link_another_worker_wrote_is_found_by_the_check() -> None:
    shared: dict[bytes, bytes] = {}
    wall = Wall()
    here, there = _processor(shared, wall), _processor(shared, wall)
    done = acked(here)
    await here.on_message("segment-tracks", HOME, 3, None, track("m1", "u1"))
    await there.on_message("segment-groups", HOME, 0, None, group("u1", "acc-1"))
    await here.check_links()
    assert ok_usage(here) == 1 and done == [3]


async def test_link_never_dead_letters_unknown_account_naming_the_link_after_the_wait() -> None:
    wall = Wall()
    processor = _processor({}, wall, wait_s=30)
    done = acked(processor)
    raw = track("m1", "u9")
    await processor.on_message("segment-tracks", 2, 5, None, raw)
    wall.ms += 29_000
    await processor.check_links()
    assert processor.topics.deadletter.sent == [] and done == []
    wall.ms += 1_000
    await processor.check_links()
    [(_, body)] = processor.topics.deadletter.sent
    letter = orjson.loads(body)
    assert letter["reason"] == "unknown_account"
    assert letter["error"] == "account_id: link 'user' names no account for 'u9' (waited 30 s)"
    assert (letter["source_topic"], letter["source_partition"], letter["source_offset"]) == ("segment-tracks", 2, 5)
    assert done == [5] and ok_usage(processor) == 0
    assert metric_value(_metrics(processor), "healthmon_link_waits_total", outcome="expired") == 1


async def test_the_wait_is_bounded_in_events() -> None:
    wall = Wall()
    processor = _processor({}, wall)
    processor.mapped.wait.max_events = 2
    for n in range(3):
        await processor.on_message("segment-tracks", HOME, n, None, track(f"m{n}", f"u{n}"))
    [(_, body)] = processor.topics.deadletter.sent
    assert "'u0' (the link wait was full)" in orjson.loads(body)["error"]
    assert len(processor.mapped.wait) == 2


async def test_a_message_read_again_is_not_held_twice() -> None:
    processor = _processor({}, Wall())
    for _ in range(2):
        await processor.on_message("segment-tracks", HOME, 4, None, track("m1", "u1"))
    assert len(processor.mapped.wait) == 1


async def test_without_an_inputs_file_nothing_is_mapped() -> None:
    settings = Settings(redis={"url": ""}, topics={"partitions": PARTITIONS})
    from tests.pipeline.test_processor import _processor as native_processor

    processor = native_processor(settings, {})
    assert processor.mapped.mappers == {}
    assert set(processor.position_key.values()) == {"usage", "ticket", "nps", "account"}


NAMED = parse_inputs({"inputs": [
    {"topic": "zendesk", "kind": "tickets", "format": "zendesk", "account_link": "zendesk_org"},
    {"topic": "crm", "kind": "accounts", "format": "mapping", "links": {"zendesk_org": "org"},
     "fields": {"account_id": "id", "name": "name", "tier": "tier", "seats": "seats", "arr": "arr", "csm": "csm",
                "contract_start": "start", "renewal_date": "renewal"}},
]}, "named.yaml")


def _named_processor(wall: Wall) -> Processor:
    return _processor({}, wall, inputs=NAMED)


def ticket(org: int) -> bytes:
    return orjson.dumps({"type": "zen:event-type:ticket.created", "id": "ev-1", "time": "2026-08-31T12:00:00Z",
                         "detail": {"id": "35436", "organization_id": str(org), "status": "NEW",
                                    "priority": "HIGH"}})


def crm_row(org: int) -> bytes:
    return orjson.dumps({"id": "acc-1", "name": "Acme", "tier": "key", "seats": 10, "arr": 5.0, "csm": "a@b.c",
                         "start": "2025-01-01", "renewal": "2027-01-01", "org": org})


def ok_tickets(processor: Processor) -> float:
    return metric_value(_metrics(processor), "healthmon_events_total", topic="support-tickets", outcome="ok")


async def test_a_named_link_that_arrives_after_the_ticket_releases_it() -> None:
    wall = Wall()
    processor = _named_processor(wall)
    await processor.on_message("zendesk", HOME, 0, None, ticket(77))
    assert ok_tickets(processor) == 0 and len(processor.mapped.wait) == 1
    await processor.on_message("crm", HOME, 0, None, crm_row(77))
    assert ok_tickets(processor) == 1 and len(processor.mapped.wait) == 0


async def test_a_named_link_that_never_arrives_names_the_link_in_the_dead_letter() -> None:
    wall = Wall()
    processor = _named_processor(wall)
    await processor.on_message("crm", HOME, 0, None, crm_row(77))
    await processor.on_message("zendesk", HOME, 1, None, ticket(78))
    wall.ms += 30_000
    await processor.check_links()
    [(_, body)] = processor.topics.deadletter.sent
    assert orjson.loads(body)["error"] == "account_id: link 'zendesk_org' names no account for '78' (waited 30 s)"
