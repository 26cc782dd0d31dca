"""Debezium preset: envelopes with and without schemas, the flattened form, deletes, tombstones, NUMERIC, DATE."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import orjson
import pytest

from healthmon.ingest.formats import AccountRemoval, Ignored, LinkUpdate
from healthmon.ingest.formats.debezium_values import decode_decimal
from tests.ingest.formats.examples.debezium import (
    ENVELOPE_CREATE,
    ENVELOPE_DELETE,
    FLAT_ROW,
    KEY,
    NO_SCHEMA_UPDATE,
    base64_decimal,
)
from tests.ingest.formats.helpers import map_doc, map_raw, spec, the_event, the_rejection

#: the issue's example input
CRM = spec("account", "debezium",
           fields={"account_id": "id", "name": "name", "tier": "plan", "seats": "seats", "arr": "arr",
                   "csm": "owner_email", "contract_start": "contract_start", "renewal_date": "renewal_date"},
           values={"tier": {"enterprise": "strategic", "growth": "key", "starter": "standard"}},
           links={"zendesk_org": "zendesk_org_id"})


def _profile(doc, input_spec=CRM):
    out = map_doc(input_spec, doc)
    return the_event(out), out


def test_a_create_with_schema_is_the_whole_profile_with_numeric_and_date_decoded():
    profile, out = _profile(ENVELOPE_CREATE)
    assert (profile.account_id, profile.name, profile.tier, profile.seats, profile.csm) == (
        "1004", "Initech", "strategic", 329, "annek@noanswer.org")
    assert profile.arr == 1234567.89  # base64 NUMERIC with the schema's scale 2
    assert (profile.contract_start, profile.renewal_date) == (date(2025, 1, 6), date(2026, 1, 6))  # days since 1970
    assert profile.updated_at == 1736150400000  # source.ts_ms
    assert out.links == [LinkUpdate("zendesk_org", "8447346622462", "1004")]


@pytest.mark.parametrize("op", ["c", "r", "u"])
def test_create_snapshot_read_and_update_are_upserts(op):
    doc = copy.deepcopy(ENVELOPE_CREATE)
    doc["payload"]["op"] = op
    assert _profile(doc)[0].account_id == "1004"


def test_an_envelope_without_schema_and_numeric_as_text():
    profile, _ = _profile(NO_SCHEMA_UPDATE)
    assert (profile.seats, profile.arr, profile.updated_at) == (340, 1250000.0, 1736323200000)
    assert profile.contract_start == date(2025, 1, 6)


def test_without_schema_a_base64_numeric_cannot_be_read_and_says_why():
    doc = copy.deepcopy(NO_SCHEMA_UPDATE)
    doc["after"]["arr"] = base64_decimal("1234567.89", 2)
    reason, error = the_rejection(map_doc(CRM, doc))
    assert reason == "unmapped" and error.startswith("arr: `arr` found")
    assert "decimal.handling.mode=string" in error


def test_the_flattened_form_is_an_upsert_and_a_rewritten_delete_a_removal():
    profile, _ = _profile(FLAT_ROW)
    assert (profile.account_id, profile.arr, profile.updated_at) == ("1004", 1234567.89, 1736150400000)
    out = map_doc(CRM, {**FLAT_ROW, "__deleted": "true"})
    assert out.removals == [AccountRemoval("1004", "deleted", 1736150400000)] and not out.events
    assert map_doc(CRM, {**FLAT_ROW, "__op": "d"}).removals == [AccountRemoval("1004", "deleted", 1736150400000)]
    without_time = {k: v for k, v in FLAT_ROW.items() if k != "__source_ts_ms"}
    assert map_doc(CRM, {**without_time, "__op": "d"}).removals == [AccountRemoval("1004", "deleted")]


def test_a_delete_removes_the_account_and_unlinks_its_keys():
    out = map_doc(CRM, ENVELOPE_DELETE)
    # at the change's time (`source.ts_ms`), where a backtest places it among the events
    assert out.removals == [AccountRemoval("1004", "deleted", 1736236800000)]
    assert out.links == [LinkUpdate("zendesk_org", "8447346622462", None)]
    assert not out.events and not out.rejections


def test_a_delete_without_its_before_row_is_left_to_the_tombstone():
    doc = copy.deepcopy(ENVELOPE_DELETE)
    doc["payload"]["before"] = None
    assert map_doc(CRM, doc).ignored == [Ignored(None, "debezium delete without its before row")]


def test_a_tombstone_removes_the_account_its_key_names():
    out = map_raw(CRM, None, key=orjson.dumps(KEY))
    assert out.removals == [AccountRemoval("1004", "tombstone")] and not out.rejections
    assert map_raw(CRM, None, key=b'{"id": 7}').removals == [AccountRemoval("7", "tombstone")]


@pytest.mark.parametrize("key", [None, b"", b"not json", b'{"other": 1}', b"[1]"])
def test_a_tombstone_whose_key_names_no_account_is_ignored(key):
    out = map_raw(CRM, None, key=key)
    assert out.ignored == [Ignored(None, "debezium tombstone whose key names no account")]
    assert not out.rejections and not out.removals


@pytest.mark.parametrize("op, reason", [("t", "debezium truncate event"), ("m", "debezium message event")])
def test_truncate_and_message_events_are_ignored(op, reason):
    doc = copy.deepcopy(NO_SCHEMA_UPDATE)
    doc["op"] = op
    assert map_doc(CRM, doc).ignored == [Ignored(None, reason)]


@pytest.mark.parametrize("change, reason, fragment", [
    ({"op": "x"}, "unknown_enum", "op: unknown Debezium operation 'x'"),
    ({"after": None}, "bad_envelope", "after: op 'u' needs the row"),
    ({"after": {"id": None, "name": "x"}}, "unknown_account", "account_id: `id` found nothing"),
    ({"after": {**NO_SCHEMA_UPDATE["after"], "plan": "platinum"}}, "unknown_enum", "tier"),
    ({"after": {**NO_SCHEMA_UPDATE["after"], "seats": 0}}, "schema_violation", "seats"),
    ({"after": {**NO_SCHEMA_UPDATE["after"], "seats": "12.5"}}, "unmapped", "not a whole number"),
    ({"after": {**NO_SCHEMA_UPDATE["after"], "contract_start": "Jan 6"}}, "unmapped", "not a date"),
    ({"after": {**NO_SCHEMA_UPDATE["after"], "name": None}}, "unmapped", "name: `name` found nothing"),
], ids=["unknown-op", "no-after", "no-id", "unknown-tier", "zero-seats", "fractional-seats", "bad-date", "no-name"])
def test_bad_change_events(change, reason, fragment):
    doc = {**copy.deepcopy(NO_SCHEMA_UPDATE), **change}
    got, error = the_rejection(map_doc(CRM, doc))
    assert (got, fragment in error) == (reason, True), error


def test_columns_are_read_by_their_own_names_by_default():
    row = {"account_id": "acc-1", "name": "Acme", "tier": "KEY", "seats": 12, "arr": "1000", "csm": "Mei",
           "contract_start": "2025-01-06", "renewal_date": 20459}
    profile = the_event(map_doc(spec("account", "debezium"), {"before": None, "after": row, "op": "r"}))
    assert (profile.account_id, profile.tier, profile.arr, profile.renewal_date) == ("acc-1", "key", 1000.0,
                                                                                     date(2026, 1, 6))


@pytest.mark.parametrize("value, scale, expected", [
    ("1234567.89", 2, "1234567.89"), ("-5.5", 1, "-5.5"), ("0", 0, "0"), ("127", 0, "127"), ("128", 0, "128"),
    ("-129.000", 3, "-129.000"), ("99999999999.99", 2, "99999999999.99"),
])
def test_decimal_base64_round_trip(value, scale, expected):
    assert decode_decimal(base64_decimal(value, scale), scale) == Decimal(expected)


def test_the_documented_variable_scale_decimal_is_read_without_a_schema():
    doc = copy.deepcopy(NO_SCHEMA_UPDATE)
    doc["after"]["arr"] = {"scale": 2, "value": base64_decimal("1000.25", 2)}
    assert _profile(doc)[0].arr == 1000.25
