"""What the presets need of the pipeline and the core: a later Delighted answer replaces the earlier score,
Segment group traits merge over earlier ones, a Debezium delete or tombstone removes the account."""

from __future__ import annotations

import copy

import orjson

from healthmon.core import state_from_bytes, state_to_bytes
from healthmon.core.state import RuleState
from healthmon.ingest import partition_for
from healthmon.ingest.inputs import parse_inputs
from healthmon.pipeline.processor import Processor
from tests.ingest.formats.examples.debezium import ENVELOPE_CREATE, ENVELOPE_DELETE
from tests.pipeline.mapped import mapped_processor

PARTITIONS = 1
NOW_MS = 1_788_220_800_000
CRM_FIELDS = {"account_id": "id", "name": "name", "tier": "plan", "seats": "seats", "arr": "arr",
              "csm": "owner_email", "contract_start": "contract_start", "renewal_date": "renewal_date"}
INPUTS = parse_inputs({"inputs": [
    {"topic": "delighted", "kind": "nps", "format": "delighted",
     "fields": {"account_id": "event_data.person_properties.account_id"}},
    {"topic": "groups", "kind": "accounts", "format": "segment"},
    {"topic": "crm", "kind": "accounts", "format": "debezium", "fields": CRM_FIELDS,
     "values": {"tier": {"enterprise": "strategic", "growth": "key", "starter": "standard"}}},
]}, "inputs.yaml")


def _processor(table: dict[bytes, bytes] | None = None) -> Processor:
    return mapped_processor(INPUTS, PARTITIONS, lambda: NOW_MS, table=table)


def delighted(event_type: str, score: int, response: str = "r1") -> bytes:
    return orjson.dumps({"event_type": event_type, "event_data": {
        "id": response, "person": {"id": "p1"}, "survey_type": "nps", "score": score, "created_at": 1_788_000_000,
        "person_properties": {"account_id": "acc-1"}}})


async def test_a_later_delighted_answer_replaces_the_earlier_score() -> None:
    processor = _processor()
    await processor.on_message("delighted", 0, 0, None, delighted("survey_response.created", 3))
    assert list(processor.state_of("acc-1").nps.values()) == [[0, 0, 1]]
    await processor.on_message("delighted", 0, 1, None, delighted("survey_response.updated", 10))
    assert list(processor.state_of("acc-1").nps.values()) == [[1, 0, 0]]
    # the same update read again changes nothing; a second response counts on its own
    await processor.on_message("delighted", 0, 1, None, delighted("survey_response.updated", 10))
    await processor.on_message("delighted", 0, 2, None, delighted("survey_response.created", 8, "r2"))
    assert list(processor.state_of("acc-1").nps.values()) == [[1, 1, 0]]
    # the kept answers survive a save and a load
    state = state_from_bytes(state_to_bytes(processor.state_of("acc-1")))
    assert state.answers == processor.state_of("acc-1").answers and len(state.answers) == 2


async def test_an_update_of_an_unknown_response_counts_as_its_answer() -> None:
    processor = _processor()
    await processor.on_message("delighted", 0, 0, None, delighted("survey_response.updated", 0))
    assert list(processor.state_of("acc-1").nps.values()) == [[0, 0, 1]]


def group(traits: dict, message_id: str) -> bytes:
    return orjson.dumps({"type": "group", "messageId": message_id, "userId": "u1", "groupId": "acc-9",
                         "timestamp": "2026-08-30T12:00:00Z", "traits": traits})


async def test_segment_group_traits_merge_over_earlier_ones() -> None:
    processor = _processor()
    await processor.on_message("groups", 0, 0, None, group({"name": "Acme", "tier": "key"}, "g1"))
    assert processor.state_of("acc-9") is None  # a partial profile is kept, not applied
    rest = {"seats": 40, "arr": 1200.5, "csm": "ann@example.com", "contract_start": "2025-01-01",
            "renewal_date": "2027-01-01"}
    await processor.on_message("groups", 0, 1, None, group(rest, "g2"))
    state = processor.state_of("acc-9")
    assert (state.name, state.tier, state.seats, state.csm) == ("Acme", "key", 40, "ann@example.com")
    await processor.on_message("groups", 0, 2, None, group({"seats": 55}, "g3"))
    assert (state.name, state.tier, state.seats) == ("Acme", "key", 55)


async def test_a_debezium_delete_forgets_the_account_and_resolves_its_open_alerts() -> None:
    table: dict[bytes, bytes] = {}
    processor = _processor(table)
    await processor.on_message("crm", 0, 0, b"k", orjson.dumps(ENVELOPE_CREATE))
    account = ENVELOPE_CREATE["payload"]["after"]["id"]
    account = str(account)
    state = processor.state_of(account)
    assert state is not None
    # an open episode of the health rule and of a warning line
    state.clock_ms = state.last_eval_ms = NOW_MS
    state.life.health.fired, state.life.health.episode_start, state.life.health.band = True, NOW_MS - 5, "red"
    line = state.life.line("usage_drop")
    line.status, line.episode_start = RuleState.FIRING, NOW_MS - 9
    processor.flush_states()
    delete = copy.deepcopy(ENVELOPE_DELETE)
    await processor.on_message("crm", 0, 1, b"k", orjson.dumps(delete))
    alerts = [orjson.loads(v) for _, v in processor.topics.alerts.sent]
    assert [(a["rule"], a["status"], a["details"]) for a in alerts] == [
        ("health", "resolved", {"reason": "account_removed", "removal": "deleted"}),
        ("usage_drop", "resolved", {"reason": "account_removed", "removal": "deleted"})]
    assert all(a["event_time"] == NOW_MS and "removed from its source (deleted)" in a["summary"] for a in alerts)
    assert processor.state_of(account) is None
    processor.flush_states()
    assert account.encode() not in table


async def test_a_removal_of_another_partitions_account_is_repartitioned_and_applied_there() -> None:
    from healthmon.ingest.repartition import REMOVAL, decode_repartitioned

    processor = _processor()
    processor.partitions = 4
    home = partition_for("acc-7", 4)
    await processor._remove("acc-7", "tombstone", ("crm", (home + 1) % 4, 3), (home + 1) % 4)
    [(key, body)] = processor.topics.repartition.sent
    kind, source, items, _ = decode_repartitioned(body)
    assert (key, kind, tuple(source), items[0][1]) == (b"acc-7", REMOVAL, ("crm", (home + 1) % 4, 3),
                                                       ("acc-7", "tombstone"))
