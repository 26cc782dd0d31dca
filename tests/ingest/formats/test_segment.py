"""Segment and RudderStack presets on the calls of their published specs (tests/ingest/formats/examples/segment.py)."""

from __future__ import annotations

from datetime import date

import pytest

from healthmon.ingest.formats import USER_LINK, Ignored, LinkUpdate
from schemas.events import parse_epoch_ms
from tests.ingest.formats.examples.segment import BATCH, GROUP, IDENTIFY, PAGE, RUDDER_TRACK, TRACK, fresh
from tests.ingest.formats.helpers import map_doc, spec, the_event, the_rejection

USAGE = spec("usage", "segment")
ACCOUNTS = spec("account", "segment")


def test_a_track_with_a_group_is_a_usage_event_of_that_account():
    doc = fresh(TRACK)
    doc["context"]["groupId"] = "acc-00001"
    event = the_event(map_doc(USAGE, doc))
    assert (event.event_id, event.account_id, event.user_id, event.feature) == (
        "ajs-f8ca1e4de5024d9430b3928bd8ac6b96", "acc-00001", "AiUGstSDIg", "Course Clicked")
    assert event.occurred_at == parse_epoch_ms("2015-12-12T19:11:01.249Z")  # `timestamp`, not the others
    assert event.properties == {"title": "Intro to Analytics"}


def test_without_a_group_the_account_is_properties_account_id():
    doc = fresh(TRACK, properties={"account_id": "acc-00002", "title": "x"})
    assert the_event(map_doc(USAGE, doc)).account_id == "acc-00002"


def test_the_group_wins_over_properties_account_id():
    doc = fresh(TRACK, properties={"account_id": "acc-00002"})
    doc["context"]["groupId"] = "acc-00001"
    assert the_event(map_doc(USAGE, doc)).account_id == "acc-00001"


@pytest.mark.parametrize("group", [None, ""], ids=["null", "empty"])
def test_a_track_with_no_account_waits_for_the_user_link(group):
    doc = fresh(TRACK)  # the spec's own example names no group
    if group is not None:
        doc["context"]["groupId"] = group
    out = map_doc(USAGE, doc)
    assert not out.events and not out.rejections
    [linked] = out.linked
    assert (linked.index, linked.link, linked.key) == (None, USER_LINK, "AiUGstSDIg")
    assert linked.event.account_id == "" and linked.event.feature == "Course Clicked"


def test_an_anonymous_track_is_keyed_by_its_anonymous_id():
    out = map_doc(USAGE, fresh(TRACK, userId=...))
    assert out.linked[0].key == "23adfd82-aa0f-45a7-a756-24f2a7a4c895"
    assert out.linked[0].event.user_id == "23adfd82-aa0f-45a7-a756-24f2a7a4c895"


def test_a_track_with_no_user_and_no_account_is_unknown_account():
    reason, error = the_rejection(map_doc(USAGE, fresh(TRACK, userId=..., anonymousId=...)))
    assert reason == "unmapped" and "user_id: `userId || anonymousId` found nothing" in error


def test_a_group_links_its_user_and_carries_a_partial_profile():
    out = map_doc(ACCOUNTS, GROUP)
    at = parse_epoch_ms("2015-02-23T22:28:55.111Z")
    assert out.links == [LinkUpdate(USER_LINK, "97980cfea0067", "0e8c78ea9d97a7b8185e8632", at)]
    [patch] = out.patches
    assert (patch.account_id, patch.fields, patch.occurred_at) == ("0e8c78ea9d97a7b8185e8632", {"name": "Initech"}, at)
    assert not out.events and not out.rejections


def test_a_group_without_traits_only_links():
    out = map_doc(ACCOUNTS, fresh(GROUP, traits=...))
    assert [link.account_id for link in out.links] == ["0e8c78ea9d97a7b8185e8632"] and not out.patches


def test_the_file_reads_more_traits_with_fields_and_values():
    accounts = spec("account", "segment", fields={"tier": "traits.plan", "seats": "traits.employees"},
                    values={"tier": {"enterprise": "strategic"}})
    patch = map_doc(accounts, GROUP).patches[0]
    assert patch.fields == {"name": "Initech", "tier": "strategic", "seats": 329}


def test_a_group_on_a_usage_topic_links_and_patches_too():
    out = map_doc(USAGE, fresh(GROUP, traits={"name": "Initech", "seats": "40", "contract_start": "2025-01-06"}))
    assert out.links[0].account_id == "0e8c78ea9d97a7b8185e8632"
    assert out.patches[0].fields == {"name": "Initech", "seats": 40, "contract_start": date(2025, 1, 6)}


def test_a_bad_trait_is_a_dead_letter_naming_it():
    reason, error = the_rejection(map_doc(ACCOUNTS, fresh(GROUP, traits={"tier": "gold"})))
    assert reason == "unknown_enum" and "tier" in error and "gold" in error and "`traits.tier`" in error


def test_a_group_without_group_id_is_unknown_account():
    reason, error = the_rejection(map_doc(ACCOUNTS, fresh(GROUP, groupId=...)))
    assert reason == "unknown_account" and "`groupId` found nothing" in error


def test_identify_with_a_company_links_the_user():
    doc = fresh(IDENTIFY)
    doc["traits"]["company"] = {"id": 42, "name": "Initech"}
    out = map_doc(USAGE, doc)
    assert out.links == [LinkUpdate(USER_LINK, "97980cfea0067", "42", parse_epoch_ms("2015-02-23T22:28:55.111Z"))]


def test_identify_without_a_company_is_ignored():
    out = map_doc(USAGE, IDENTIFY)
    assert out.ignored == [Ignored(None, "segment identify call without traits.company.id")]
    assert not out.links and not out.rejections


@pytest.mark.parametrize("call", ["page", "screen", "alias"])
def test_page_screen_and_alias_are_ignored_not_dead_letters(call):
    out = map_doc(USAGE, fresh(PAGE, type=call))
    assert out.ignored == [Ignored(None, f"segment {call} call")]
    assert not out.rejections and not out.events


def test_a_track_on_an_accounts_input_is_ignored():
    assert map_doc(ACCOUNTS, TRACK).ignored == [Ignored(None, "segment track call on an accounts input")]


def test_the_batch_request_example_lacks_message_ids():
    # The HTTP API's example is a request body: Segment adds `messageId` to each call it receives, and
    # without one a call cannot be deduplicated.
    out = map_doc(USAGE, BATCH)
    assert [(r.index, r.reason.value, r.error) for r in out.rejections] == [
        (1, "unmapped", "event_id: `messageId` found nothing"), (3, "unmapped", "event_id: `messageId` found nothing")]


def test_the_batch_example_maps_call_by_call_and_names_its_bad_timestamps():
    doc = fresh(BATCH, batch=[fresh(call, messageId=f"m-{n}") for n, call in enumerate(BATCH["batch"])])
    out = map_doc(USAGE, doc)
    assert out.is_batch
    assert [i.index for i in out.ignored] == [0, 2]  # identify calls without a company
    [linked] = out.linked
    assert linked.index == 1 and linked.key == "019mr8mf4r"
    [rejection] = out.rejections
    assert rejection.index == 3 and rejection.reason.value == "unmapped"
    assert "occurred_at: `timestamp` found '2015-2-02T00:30:12.984Z'" in rejection.error
    assert b"Jennifer Lopez" in rejection.raw and b"Dierks" not in rejection.raw  # that call's bytes only


def test_the_batch_context_is_merged_under_each_call():
    doc = fresh(BATCH, batch=[fresh(TRACK), fresh(TRACK, messageId="m2", context={"groupId": "acc-7"})])
    doc["context"] = {"groupId": "acc-1", "ip": "1.2.3.4"}
    out = map_doc(USAGE, doc)
    assert [e.account_id for _, e in out.events] == ["acc-1", "acc-7"]


@pytest.mark.parametrize("doc, reason, fragment", [
    (fresh(TRACK, type=...), "unmapped", "type: `type` found nothing"),
    (fresh(TRACK, type="screenview"), "unknown_enum", "unknown segment call 'screenview'"),
    (fresh(TRACK, messageId=..., context={"groupId": "a"}), "unmapped", "event_id: `messageId` found nothing"),
    (fresh(TRACK, event=..., context={"groupId": "a"}), "unmapped", "feature: `event` found nothing"),
    (fresh(TRACK, event={"name": "x"}, context={"groupId": "a"}), "unmapped", "found an object, not a string"),
    (fresh(TRACK, timestamp=1449947461, context={"groupId": "a"}), "unmapped", "set time_unit: s"),
    (fresh(TRACK, timestamp="2031-01-01T00:00:00Z", context={"groupId": "a"}), "future_timestamp", "in the future"),
    (fresh(TRACK, properties=["a"], context={"groupId": "a"}), "unmapped", "properties: `properties` found a list"),
    (fresh(TRACK, context={"groupId": ["a"]}), "unmapped", "account_id: `context.groupId || properties.account_id`"),
], ids=["no-type", "unknown-type", "no-message-id", "no-event", "event-object", "seconds", "future",
        "properties-list", "group-list"])
def test_bad_shapes_are_dead_letters_naming_field_and_expression(doc, reason, fragment):
    got, error = the_rejection(map_doc(USAGE, doc))
    assert (got, fragment in error) == (reason, True), error


def test_epoch_milliseconds_and_seconds_by_time_unit():
    ms = 1_767_607_200_123
    assert the_event(map_doc(USAGE, fresh(TRACK, timestamp=ms, context={"groupId": "a"}))).occurred_at == ms
    seconds = spec("usage", "segment", time_unit="s")
    assert the_event(map_doc(seconds, fresh(TRACK, timestamp=ms // 1000, context={"groupId": "a"}))).occurred_at \
        == ms // 1000 * 1000


def test_fields_override_the_preset_and_values_rename_features():
    usage = spec("usage", "segment", fields={"account_id": "properties.org", "feature": "properties.feature"},
                 values={"feature": {"Dashboard Viewed": "dashboards"}})
    doc = fresh(TRACK, properties={"org": "acc-9", "feature": "Dashboard Viewed"})
    doc["context"]["groupId"] = "ignored-now"
    event = the_event(map_doc(usage, doc))
    assert (event.account_id, event.feature) == ("acc-9", "dashboards")


def test_rudderstack_reads_original_timestamp_when_it_set_no_timestamp():
    rudder = spec("usage", "rudderstack", fields={"account_id": "properties.product_id"})
    event = the_event(map_doc(rudder, RUDDER_TRACK))
    assert event.occurred_at == parse_epoch_ms("2022-02-01T19:14:18.381Z")
    assert (event.account_id, event.user_id, event.feature) == ("123", "1hKOmRA4GRlm", "Product Reviewed")
    with_timestamp = fresh(RUDDER_TRACK, timestamp="2022-02-01T19:14:19.000Z")
    assert the_event(map_doc(rudder, with_timestamp)).occurred_at == parse_epoch_ms("2022-02-01T19:14:19Z")


def test_rudderstack_ignores_its_own_page_calls():
    out = map_doc(spec("usage", "rudderstack"), fresh(PAGE))
    assert out.ignored == [Ignored(None, "rudderstack page call")]


def test_a_linked_event_is_validated_like_any_other():
    reason, error = the_rejection(map_doc(USAGE, fresh(TRACK, event="x" * 201)))
    assert reason == "schema_violation" and error.startswith("feature:")
