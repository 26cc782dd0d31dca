"""Decoding messages: single events, batch envelopes, and a table of malformed inputs."""

from __future__ import annotations

import orjson
import pytest

from healthmon.ingest import decode_message
from schemas.events import EVENT_MODELS, SupportTicket, UsageEvent
from tests.ingest.malformed import GOOD_TICKET, GOOD_USAGE, MALFORMED, NOW_MS

LIMITS = dict(now_ms=NOW_MS, max_bytes=4096, max_future_skew_ms=300_000)


@pytest.mark.parametrize(("kind", "raw", "reason", "fragment"),
                         [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_message_is_rejected_with_reason_and_raw_bytes(kind, raw, reason, fragment):
    decoded = decode_message(kind, raw, **LIMITS)
    assert decoded.events == []
    assert len(decoded.rejections) == 1
    rejection = decoded.rejections[0]
    assert rejection.reason.value == reason
    assert fragment in rejection.error
    assert rejection.raw == raw
    assert rejection.index is None


def test_malformed_table_is_large_enough():
    assert len(MALFORMED) >= 15
    assert len({m[3] for m in MALFORMED}) >= 6


def test_single_event_decodes_with_epoch_millis():
    decoded = decode_message("usage", orjson.dumps(GOOD_USAGE), **LIMITS)
    assert decoded.rejections == [] and not decoded.is_batch
    [(index, event)] = decoded.events
    assert index is None and event.kind == "usage"
    assert event.occurred_at == 1_794_992_400_000
    detailed = decode_message("usage", orjson.dumps(GOOD_USAGE), **LIMITS, fast=False)
    assert isinstance(detailed.events[0][1], UsageEvent)
    assert detailed.events[0][1].model_dump(mode="json") == event.model_dump(mode="json")


@pytest.mark.parametrize("value, expected", [
    ("2026-11-18T09:00:00Z", 1_794_992_400_000),
    ("2026-11-18T10:00:00+01:00", 1_794_992_400_000),
    ("2026-11-18T09:00:00.250Z", 1_794_992_400_000 + 250),
    (1_795_000_000_000, 1_795_000_000_000),
])
def test_occurred_at_accepts_rfc3339_and_epoch_millis(value, expected):
    decoded = decode_message("usage", orjson.dumps({**GOOD_USAGE, "occurred_at": value}), **LIMITS)
    assert decoded.events[0][1].occurred_at == expected


@pytest.mark.parametrize("envelope", ["array", "events-object"])
def test_batch_mixing_good_and_bad_events_keeps_good_and_rejects_each_bad(envelope):
    items = [GOOD_USAGE, {**GOOD_USAGE, "event_id": "e2", "account_id": None}, "junk",
             {**GOOD_USAGE, "event_id": "e3"}, {**GOOD_USAGE, "event_id": "e4", "occurred_at": NOW_MS + 10**8}]
    body = orjson.dumps(items if envelope == "array" else {"events": items})
    decoded = decode_message("usage", body, **LIMITS)
    assert decoded.is_batch
    assert [(i, e.event_id) for i, e in decoded.events] == [(0, "e-good"), (3, "e3")]
    assert [(r.index, r.reason.value) for r in decoded.rejections] == [
        (1, "schema_violation"), (2, "schema_violation"), (4, "future_timestamp")]
    # Each rejected event keeps its own bytes, not the whole batch.
    assert orjson.loads(decoded.rejections[0].raw)["event_id"] == "e2"
    assert decoded.rejections[1].raw == b'"junk"'


def test_ticket_batch_keeps_types():
    decoded = decode_message("ticket", orjson.dumps([GOOD_TICKET, {**GOOD_TICKET, "csat": 4}]), **LIMITS)
    assert all(e.kind == "ticket" for _, e in decoded.events)
    assert decoded.events[1][1].csat == 4
    detailed = decode_message("ticket", orjson.dumps([GOOD_TICKET, {**GOOD_TICKET, "csat": 4}]), **LIMITS, fast=False)
    assert all(isinstance(e, SupportTicket) for _, e in detailed.events)


def test_unknown_fields_are_ignored_not_rejected():
    decoded = decode_message("usage", orjson.dumps({**GOOD_USAGE, "sdk": "segment"}), **LIMITS)
    assert len(decoded.events) == 1 and decoded.rejections == []


@pytest.mark.parametrize("value", [
    "1970-01-01T00:00:00Z", 0, "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", -62_135_596_800_000,
    "1999-12-31T23:59:59.999Z", 946_684_799_999, "2000-01-01T00:59:59+01:00", "9999-12-31T23:59:59Z",
    100_000_000_000_000,
])
@pytest.mark.parametrize("kind", ["usage", "ticket"])
def test_occurred_at_outside_the_accepted_range_is_a_schema_violation(kind, value):
    good = GOOD_USAGE if kind == "usage" else GOOD_TICKET
    decoded = decode_message(kind, orjson.dumps({**good, "occurred_at": value}), **LIMITS)
    assert decoded.events == []
    [rejection] = decoded.rejections
    assert rejection.reason.value == "schema_violation"
    assert rejection.error.startswith("occurred_at: ")
    assert any(at in rejection.error for at in ("2000-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "5138-11-16"))


@pytest.mark.parametrize("value", ["2000-01-01T00:00:00Z", "2000-01-01T01:00:00+01:00", 946_684_800_000,
                                   "2026-11-18T09:00:00.250Z"])
@pytest.mark.parametrize("kind", ["usage", "ticket"])
def test_an_accepted_occurred_at_validates_again_after_its_epoch_millis_round_trip(kind, value):
    good = GOOD_USAGE if kind == "usage" else GOOD_TICKET
    [(_, event)] = decode_message(kind, orjson.dumps({**good, "occurred_at": value}), **LIMITS).events
    dumped = orjson.loads(orjson.dumps(event.model_dump(mode="json")))
    assert EVENT_MODELS[kind].model_validate(dumped).model_dump() == event.model_dump()
