"""Snowplow and CloudEvents presets on their published payloads (tests/ingest/formats/examples/events.py)."""

from __future__ import annotations

import copy

import orjson
import pytest

from schemas.events import parse_epoch_ms
from tests.ingest.formats.examples.events import CE_BINARY_HEADERS, CE_BINARY_VALUE, CE_STRUCTURED, SNOWPLOW
from tests.ingest.formats.helpers import map_doc, map_raw, spec, the_event, the_rejection

SNOW = spec("usage", "snowplow", fields={"account_id": "contexts_com_acme_account_1[0].id"})
CE = spec("usage", "cloudevents", fields={"account_id": "data.account_id", "user_id": "data.user"})


def test_snowplow_enriched_json_with_the_account_from_a_named_context():
    event = the_event(map_doc(SNOW, SNOWPLOW))
    assert (event.event_id, event.account_id, event.user_id, event.feature) == (
        "c6ef3124-b53a-4b13-a233-0088f79dcbcb", "acc-00007", "jon.doe@email.com", "link_click")
    assert event.occurred_at == parse_epoch_ms("2013-11-26T00:03:57.886Z")  # derived_tstamp


def test_snowplow_falls_back_to_domain_userid_event_and_collector_tstamp():
    doc = {**copy.deepcopy(SNOWPLOW), "user_id": None, "event_name": None, "derived_tstamp": None}
    event = the_event(map_doc(SNOW, doc))
    assert (event.user_id, event.feature) == ("bc2e92ec6c204a14", "page_view")
    assert event.occurred_at == parse_epoch_ms("2013-11-26T00:02:05Z")


def test_snowplow_without_the_account_context_is_unknown_account():
    doc = {k: v for k, v in SNOWPLOW.items() if k != "contexts_com_acme_account_1"}
    reason, error = the_rejection(map_doc(SNOW, doc))
    assert reason == "unknown_account" and "`contexts_com_acme_account_1[0].id` found nothing" in error


def test_snowplow_tsv_is_not_json():
    reason, error = the_rejection(map_raw(SNOW, b"angry-birds\tweb\t2017-01-26 00:01:25.292"))
    assert reason == "not_json"


def test_cloudevents_structured_mode():
    event = the_event(map_doc(CE, CE_STRUCTURED))
    assert (event.event_id, event.account_id, event.user_id, event.feature) == (
        "/mycontext C234-1234-1234", "acc-00009", "u-17", "com.example.someevent")
    assert event.occurred_at == parse_epoch_ms("2018-04-05T17:31:00Z")


def test_cloudevents_binary_mode_reads_the_ce_headers():
    event = the_event(map_raw(CE, CE_BINARY_VALUE, headers=CE_BINARY_HEADERS))
    assert (event.event_id, event.account_id, event.user_id, event.feature) == (
        "/mycontext/subcontext 1234-1234-1234", "acc-00009", "u-18", "com.example.someevent")
    assert event.occurred_at == parse_epoch_ms("2018-04-05T03:56:24Z")


def test_cloudevents_batch_mode_is_a_json_array():
    second = {**CE_STRUCTURED, "id": "C234-2", "data": {**CE_STRUCTURED["data"], "account_id": "acc-00010"}}
    out = map_raw(CE, orjson.dumps([CE_STRUCTURED, second]))
    assert out.is_batch and [(i, e.account_id) for i, e in out.events] == [(0, "acc-00009"), (1, "acc-00010")]


def test_cloudevents_subject_is_the_default_user():
    doc = {**copy.deepcopy(CE_STRUCTURED), "subject": "user-1"}
    assert the_event(map_doc(spec("usage", "cloudevents", fields={"account_id": "data.account_id"}), doc)) \
        .user_id == "user-1"


@pytest.mark.parametrize("changes, reason, fragment", [
    ({"id": None}, "unmapped", "event_id: `id` found nothing"),
    ({"source": ""}, "unmapped", "event_id: `source` found nothing"),
    ({"time": None}, "unmapped", "occurred_at: `time` found nothing"),
    ({"type": None}, "unmapped", "feature: `type` found nothing"),
    ({"data": {"user": "u"}}, "unknown_account", "`data.account_id` found nothing"),
], ids=["no-id", "no-source", "no-time", "no-type", "no-account"])
def test_cloudevents_bad_shapes(changes, reason, fragment):
    got, error = the_rejection(map_doc(CE, {**copy.deepcopy(CE_STRUCTURED), **changes}))
    assert (got, fragment in error) == (reason, True), error


def test_cloudevents_binary_data_that_is_not_json():
    reason, error = the_rejection(map_raw(CE, b"\x00avro", headers=CE_BINARY_HEADERS))
    assert reason == "not_json" and "data (application/json) is not JSON" in error


def test_cloudevents_tickets_read_their_fields_from_data():
    tickets = spec("ticket", "cloudevents", fields={
        "account_id": "data.account_id", "ticket_id": "data.ticket", "status": "data.state",
        "priority": "data.priority"})
    doc = {**copy.deepcopy(CE_STRUCTURED), "data": {"account_id": "a", "ticket": 7, "state": "OPENED",
                                                    "priority": "Low"}}
    event = the_event(map_doc(tickets, doc))
    assert (event.ticket_id, event.status, event.priority) == ("7", "opened", "low")
