"""Zendesk, Intercom and Delighted presets on their published payloads (tests/ingest/formats/examples/support.py)."""

from __future__ import annotations

import copy

import pytest

from healthmon.ingest.formats import Ignored
from schemas.events import parse_epoch_ms
from tests.ingest.formats.examples.support import (
    DELIGHTED_UPDATED,
    INTERCOM_CLOSED,
    INTERCOM_PING,
    ZENDESK_ASSIGNED,
    ZENDESK_CREATED,
    ZENDESK_STATUS_CHANGED,
    ZENDESK_USER_EVENT,
)
from tests.ingest.formats.helpers import map_doc, spec, the_event, the_rejection

ZENDESK = spec("ticket", "zendesk")
ZENDESK_LINKED = spec("ticket", "zendesk", account_link="zendesk_org")
INTERCOM = spec("ticket", "intercom", fields={"account_id": "data.item.custom_attributes.account_id"})
DELIGHTED = spec("nps", "delighted", fields={"account_id": "event_data.person_properties.account_id"})


def _with(doc, **changes):
    out = copy.deepcopy(doc)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = out
        for part in parents:
            target = target[part]
        if value is ...:
            target.pop(last, None)
        else:
            target[last] = value
    return out


# -- Zendesk -------------------------------------------------------------------------------------------

def test_zendesk_ticket_created_is_opened_in_either_case():
    event = the_event(map_doc(ZENDESK, ZENDESK_CREATED))
    assert (event.event_id, event.ticket_id, event.status, event.priority) == (
        "01HNXXXX-CTEXAMPLE", "35436", "opened", "high")  # `High` read as high
    assert event.occurred_at == parse_epoch_ms("2024-04-17T17:18:10Z")


def test_zendesk_account_is_the_organization_never_the_tenant():
    event = the_event(map_doc(ZENDESK, ZENDESK_STATUS_CHANGED))
    assert event.account_id == "8447346622462"  # detail.organization_id
    assert event.account_id != str(ZENDESK_STATUS_CHANGED["account_id"])  # 22129848, the Zendesk tenant


def test_zendesk_organization_goes_through_the_link_when_set():
    out = map_doc(ZENDESK_LINKED, ZENDESK_STATUS_CHANGED)
    [linked] = out.linked
    assert (linked.link, linked.key, linked.event.account_id) == ("zendesk_org", "8447346622462", "")
    assert linked.event.status == "closed"


@pytest.mark.parametrize("previous, current, status", [
    ("OPEN", "SOLVED", "closed"), ("open", "solved", "closed"), ("PENDING", "CLOSED", "closed"),
    ("SOLVED", "CLOSED", "closed"), ("SOLVED", "OPEN", "reopened"), ("closed", "open", "reopened"),
    ("Solved", "Pending", "reopened"), ("NEW", "OPEN", "updated"), ("OPEN", "PENDING", "updated"),
    ("HOLD", "OPEN", "updated"), (None, "OPEN", "updated"), (None, "SOLVED", "closed"),
])
def test_zendesk_status_changes(previous, current, status):
    doc = _with(ZENDESK_STATUS_CHANGED, event={"previous": previous, "current": current})
    assert the_event(map_doc(ZENDESK, doc)).status == status


@pytest.mark.parametrize("kind", ["agent_assignment_changed", "priority_changed", "comment_added", "tags_changed"])
def test_other_zendesk_ticket_events_are_updated(kind):
    doc = _with(ZENDESK_ASSIGNED, type=f"zen:event-type:ticket.{kind}")
    event = the_event(map_doc(ZENDESK, doc))
    assert (event.status, event.priority) == ("updated", "urgent")
    assert event.occurred_at == parse_epoch_ms("2025-01-08T12:15:45.789Z")  # nanoseconds cut to ms


@pytest.mark.parametrize("priority, expected", [("LOW", "low"), ("normal", "normal"), ("Urgent", "urgent"),
                                                (None, "normal")])
def test_zendesk_priority_in_either_case_and_none_is_normal(priority, expected):
    doc = _with(ZENDESK_ASSIGNED, detail__priority=priority)
    assert the_event(map_doc(ZENDESK, doc)).priority == expected


def test_zendesk_binary_satisfaction_is_never_a_csat():
    doc = _with(ZENDESK_STATUS_CHANGED, detail__satisfaction_rating={"score": "good", "comment": "thanks"})
    assert the_event(map_doc(ZENDESK, doc)).csat is None


def test_zendesk_events_other_than_tickets_are_ignored():
    out = map_doc(ZENDESK, ZENDESK_USER_EVENT)
    assert out.ignored == [Ignored(None, "zendesk event other than a ticket event")] and not out.rejections


@pytest.mark.parametrize("changes, reason, fragment", [
    ({"detail__organization_id": None}, "unknown_account", "account_id: `detail.organization_id` found nothing"),
    ({"detail__priority": "P1"}, "unknown_enum", "priority: unknown value 'p1'"),
    ({"id": ...}, "unmapped", "event_id: `id` found nothing"),
    ({"detail__id": ...}, "unmapped", "ticket_id: `detail.id` found nothing"),
    ({"time": "not a time"}, "unmapped", "occurred_at: `time` found 'not a time'"),
], ids=["no-organization", "unknown-priority", "no-id", "no-ticket", "bad-time"])
def test_zendesk_bad_shapes(changes, reason, fragment):
    got, error = the_rejection(map_doc(ZENDESK, _with(ZENDESK_STATUS_CHANGED, **changes)))
    assert (got, fragment in error) == (reason, True), error


def test_zendesk_status_may_be_read_from_a_field_instead():
    tickets = spec("ticket", "zendesk", fields={"status": "detail.custom_status"},
                   values={"status": {"8447320465790": "reopened"}})
    assert the_event(map_doc(tickets, ZENDESK_ASSIGNED)).status == "reopened"


# -- Intercom ------------------------------------------------------------------------------------------

def test_intercom_closed_conversation_with_its_rating_as_csat():
    event = the_event(map_doc(INTERCOM, INTERCOM_CLOSED))
    assert (event.event_id, event.ticket_id, event.account_id, event.status, event.priority, event.csat) == (
        "notif_ccd8a4d2-c8bd-4f0e-9d5d-1e4b1a1f1c1c", "1295", "acc-00042", "closed", "normal", 5)
    assert event.occurred_at == 1671028899 * 1000  # epoch seconds


@pytest.mark.parametrize("topic, status", [
    ("conversation.user.created", "opened"), ("conversation.admin.single.created", "opened"),
    ("conversation.admin.closed", "closed"), ("conversation.admin.opened", "reopened"),
    ("conversation.user.replied", "updated"), ("conversation.admin.snoozed", "updated"),
    ("conversation.admin.assigned", "updated"),
])
def test_intercom_topics(topic, status):
    assert the_event(map_doc(INTERCOM, _with(INTERCOM_CLOSED, topic=topic))).status == status


@pytest.mark.parametrize("priority, expected", [("priority", "high"), ("not_priority", "normal"), (None, "normal")])
def test_intercom_priority(priority, expected):
    doc = _with(INTERCOM_CLOSED, data__item__priority=priority)
    assert the_event(map_doc(INTERCOM, doc)).priority == expected


def test_intercom_without_a_rating_has_no_csat_and_a_bad_rating_is_a_dead_letter():
    assert the_event(map_doc(INTERCOM, _with(INTERCOM_CLOSED, data__item__conversation_rating=None))).csat is None
    reason, error = the_rejection(map_doc(INTERCOM, _with(INTERCOM_CLOSED, data__item__conversation_rating={
        "rating": 7})))
    assert reason == "schema_violation" and error.startswith("csat:")


def test_intercom_pings_and_other_topics_are_ignored():
    assert map_doc(INTERCOM, INTERCOM_PING).ignored == [Ignored(None, "intercom notification other than a "
                                                                      "conversation's")]


def test_intercom_seconds_read_as_milliseconds_would_be_named():
    ms_input = spec("ticket", "intercom", time_unit="ms", fields=INTERCOM.fields)
    reason, error = the_rejection(map_doc(ms_input, INTERCOM_CLOSED))
    assert reason == "unmapped" and "epoch seconds? set time_unit: s" in error


# -- Delighted -----------------------------------------------------------------------------------------

def _delighted(event_type="survey_response.updated", **data):
    doc = _with(DELIGHTED_UPDATED, event_type=event_type, event_data__person_properties={"account_id": "acc-3"})
    doc["event_data"].update(data)
    return doc


def test_delighted_created_is_an_nps_event_in_epoch_seconds():
    out = map_doc(DELIGHTED, _delighted("survey_response.created"))
    event = the_event(out)
    assert (event.event_id, event.account_id, event.user_id, event.score) == ("5435", "acc-3", "5975", 9)
    assert event.occurred_at == 1737526976 * 1000 and not out.replacements


def test_delighted_updated_replaces_the_earlier_answer_of_the_same_response():
    out = map_doc(DELIGHTED, _delighted(score=4))
    assert not out.events
    [(index, event)] = out.replacements
    assert (index, event.event_id, event.score) == (None, "5435", 4)
    assert event.occurred_at == 1737526976 * 1000  # the response's own time, not the update's


def test_delighted_updated_through_a_link_keeps_replaces():
    linked = spec("nps", "delighted", fields={"account_id": "event_data.person.id"}, account_link="person")
    [item] = map_doc(linked, _delighted()).linked
    assert item.replaces and item.key == "5975"


@pytest.mark.parametrize("survey", ["csat", "ces", "smileys", "thumbs", "enps"])
def test_delighted_surveys_other_than_nps_are_ignored(survey):
    out = map_doc(DELIGHTED, _delighted(survey_type=survey))
    assert out.ignored == [Ignored(None, "delighted survey other than nps")] and not out.rejections


def test_delighted_unsubscribes_are_ignored():
    out = map_doc(DELIGHTED, _delighted("unsubscribe.created"))
    assert out.ignored == [Ignored(None, "delighted event other than a survey response")]


@pytest.mark.parametrize("data, reason, fragment", [
    ({"score": 11}, "schema_violation", "score:"),
    ({"score": "nine"}, "unmapped", "score: `event_data.score` found 'nine', not a number"),
    ({"person_properties": None}, "unknown_account", "`event_data.person_properties.account_id` found nothing"),
    ({"created_at": 1737526976000}, "unmapped", "epoch milliseconds? set time_unit: ms"),
], ids=["score-11", "score-text", "no-account", "milliseconds"])
def test_delighted_bad_shapes(data, reason, fragment):
    got, error = the_rejection(map_doc(DELIGHTED, _delighted(**data)))
    assert (got, fragment in error) == (reason, True), error
