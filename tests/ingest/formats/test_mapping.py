"""The mapper end to end: native inputs unchanged, `mapping`, envelopes, sizes and per-item dead letters."""

from __future__ import annotations

import orjson
import pytest

from healthmon.ingest import decode_message
from healthmon.ingest.formats import AccountRemoval, Ignored
from tests.ingest.formats.helpers import NOW_MS, map_doc, map_raw, spec, the_event, the_rejection
from tests.ingest.malformed import GOOD_TICKET, GOOD_USAGE, MALFORMED

ORDER = spec("usage", "mapping", fields={"event_id": "id", "account_id": "org.id", "user_id": "actor",
                                         "feature": "action", "occurred_at": "at"})
ORDER_DOC = {"id": "o-1", "org": {"id": "acc-1"}, "actor": 42, "action": "export", "at": "2026-01-05T10:00:00Z"}


@pytest.mark.parametrize("name, kind, raw, reason, fragment", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_native_input_is_decoded_exactly_as_before(name, kind, raw, reason, fragment):
    native = spec(kind, "healthmon")
    mapped = map_raw(native, raw)
    decoded = decode_message(kind, raw, now_ms=NOW_MS, max_bytes=1_000_000, max_future_skew_ms=300_000)
    assert [(r.index, r.reason, r.error, r.raw) for r in mapped.rejections] == \
        [(r.index, r.reason, r.error, r.raw) for r in decoded.rejections]
    assert mapped.events == decoded.events and mapped.is_batch == decoded.is_batch


def test_a_native_accounts_tombstone_is_ignored_as_the_worker_always_did():
    assert map_raw(spec("account", "healthmon"), None).ignored == [Ignored(None, "accounts tombstone")]


def test_native_fields_override_one_field_and_keep_the_others():
    native = spec("ticket", "healthmon", fields={"account_id": "org"}, values={"priority": {"P1": "urgent"}})
    event = the_event(map_doc(native, {**GOOD_TICKET, "org": "acc-77", "priority": "P1"}))
    assert (event.account_id, event.priority, event.ticket_id) == ("acc-77", "urgent", "T-1")


def test_a_native_input_with_an_account_link_reads_the_account_through_it():
    native = spec("ticket", "healthmon", account_link="crm")
    out = map_doc(native, GOOD_TICKET)
    assert not out.events and [(m.link, m.key) for m in out.linked] == [("crm", "acc-1")]


def test_native_with_fields_reads_batches_too():
    native = spec("usage", "healthmon", fields={"feature": "what"})
    items = [{**GOOD_USAGE, "what": "a"}, {**GOOD_USAGE, "event_id": "e2", "what": "b"}]
    out = map_doc(native, {"events": items, "sent_at": 1})
    assert out.is_batch and [(i, e.feature) for i, e in out.events] == [(0, "a"), (1, "b")]


def test_mapping_reads_every_field_from_fields():
    event = the_event(map_doc(ORDER, ORDER_DOC))
    assert (event.event_id, event.account_id, event.user_id, event.feature) == ("o-1", "acc-1", "42", "export")


def test_mapping_with_jmespath_beyond_plain_paths():
    usage = spec("usage", "mapping", fields={**ORDER.fields, "feature": "join('.', [action, 'v2'])",
                                             "account_id": "orgs[?primary].id | [0]"})
    doc = {**ORDER_DOC, "orgs": [{"id": "x", "primary": False}, {"id": "acc-2", "primary": True}]}
    event = the_event(map_doc(usage, doc))
    assert (event.feature, event.account_id) == ("export.v2", "acc-2")


def test_mapping_an_unmappable_field_names_field_and_expression():
    reason, error = the_rejection(map_doc(ORDER, {**ORDER_DOC, "action": ["a", "b"]}))
    assert (reason, error) == ("unmapped", "feature: `action` found a list, not a string")


def test_mapping_accounts_tombstone_removes_the_key():
    accounts = spec("account", "mapping", fields={n: n for n in (
        "account_id", "name", "tier", "seats", "arr", "csm", "contract_start", "renewal_date")})
    assert map_raw(accounts, None, key=b"acc-1").removals == [AccountRemoval("acc-1", "tombstone")]
    reason, _ = the_rejection(map_raw(accounts, None))
    assert reason == "not_json"


@pytest.mark.parametrize("raw, reason, fragment", [
    (b"", "not_json", "empty message"),
    (b"{not json", "not_json", "not JSON"),
    (b"42", "bad_envelope", "JSON object or array"),
    (b"[]", "bad_envelope", "batch holds no events"),
    (b'{"events": 3}', "bad_envelope", "events: must be a JSON array"),
    (b"[1]", "schema_violation", "event must be a JSON object, got int"),
    (b"x" * 2_000_001, "too_large", "limit 1000000"),
], ids=["empty", "not-json", "scalar", "empty-batch", "events-not-list", "item-not-object", "too-large"])
def test_bad_messages_are_dead_letters(raw, reason, fragment):
    native = spec("usage", "healthmon", fields={"feature": "feature"})
    got, error = the_rejection(map_raw(native, raw))
    assert (got, fragment in error) == (reason, True), error


def test_a_segment_batch_over_the_limit_is_rejected_whole():
    reason, error = the_rejection(map_doc(spec("usage", "segment"), {"batch": [{"type": "page"}] * 10_001}))
    assert reason == "bad_envelope" and "limit 10000" in error


def test_each_bad_item_of_a_batch_is_its_own_dead_letter_with_its_own_bytes():
    bad = {**ORDER_DOC, "id": None}
    out = map_raw(ORDER, orjson.dumps([ORDER_DOC, bad, {**ORDER_DOC, "id": "o-3"}]))
    assert [i for i, _ in out.events] == [0, 2]
    [rejection] = out.rejections
    assert rejection.index == 1 and orjson.loads(rejection.raw) == bad


def test_a_message_with_one_item_keeps_its_raw_bytes():
    raw = orjson.dumps({**ORDER_DOC, "at": "yesterday"})
    out = map_raw(ORDER, raw)
    assert out.rejections[0].raw == raw and out.rejections[0].index is None
