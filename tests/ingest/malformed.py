"""A table of malformed input messages, each with the dead-letter reason it must get."""

from __future__ import annotations

import orjson

NOW_MS = 1_795_000_000_000  # 2026-11-18
GOOD_USAGE = {"event_id": "e-good", "account_id": "acc-1", "user_id": "u-1", "feature": "reports",
              "occurred_at": "2026-11-18T09:00:00Z"}
GOOD_TICKET = {"event_id": "t-good", "ticket_id": "T-1", "account_id": "acc-1", "status": "opened",
               "priority": "high", "occurred_at": NOW_MS - 60_000}


def _usage(**changes: object) -> bytes:
    doc = {**GOOD_USAGE, **changes}
    return orjson.dumps({k: v for k, v in doc.items() if v is not ...})


def _ticket(**changes: object) -> bytes:
    doc = {**GOOD_TICKET, **changes}
    return orjson.dumps({k: v for k, v in doc.items() if v is not ...})


# (id, input kind, raw bytes, reason, a fragment the error must contain)
MALFORMED = [
    ("not-json", "usage", b"this is not json", "not_json", "not JSON"),
    ("truncated-json", "usage", b'{"event_id": "e1", "account_id": ', "not_json", "not JSON"),
    ("invalid-utf8", "usage", b'{"event_id": "\xff\xfe"}', "not_json", "not JSON"),
    ("empty", "usage", b"", "not_json", "empty message"),
    ("json-scalar", "usage", b"42", "bad_envelope", "JSON object or array"),
    ("json-string", "usage", b'"hello"', "bad_envelope", "JSON object or array"),
    ("empty-batch", "usage", b"[]", "bad_envelope", "no events"),
    ("events-not-list", "usage", b'{"events": {"a": 1}}', "bad_envelope", "events: must be a JSON array"),
    ("missing-account", "usage", _usage(account_id=...), "schema_violation", "account_id: required field is missing"),
    ("missing-occurred-at", "usage", _usage(occurred_at=...), "schema_violation", "occurred_at: required field"),
    ("account-id-number", "usage", _usage(account_id=42), "schema_violation",
     "account_id: Input should be a valid string"),
    ("empty-account-id", "usage", _usage(account_id=""), "schema_violation",
     "account_id: String should have at least 1"),
    ("occurred-at-garbage", "usage", _usage(occurred_at="yesterday"), "schema_violation", "occurred_at"),
    ("occurred-at-no-offset", "usage", _usage(occurred_at="2026-11-18T09:00:00"), "schema_violation", "offset"),
    ("occurred-at-seconds", "usage", _usage(occurred_at=1_795_000_000), "schema_violation", "did you send seconds"),
    ("occurred-at-bool", "usage", _usage(occurred_at=True), "schema_violation", "boolean"),
    ("unknown-status", "ticket", _ticket(status="frozen"), "unknown_enum", "status: unknown value 'frozen'"),
    ("unknown-priority", "ticket", _ticket(priority="p0"), "unknown_enum", "priority: unknown value 'p0'"),
    ("csat-out-of-range", "ticket", _ticket(csat=9), "schema_violation", "csat"),
    ("nps-out-of-range", "nps", orjson.dumps({"event_id": "n1", "account_id": "a", "user_id": "u", "score": 11,
                                              "occurred_at": NOW_MS}), "schema_violation", "score"),
    ("nps-score-string", "nps", orjson.dumps({"event_id": "n1", "account_id": "a", "user_id": "u", "score": "9",
                                              "occurred_at": NOW_MS}), "schema_violation", "score"),
    ("unknown-tier", "account", orjson.dumps({"account_id": "a", "name": "A", "tier": "platinum", "seats": 5,
                                              "arr": 1000, "csm": "x", "contract_start": "2026-01-01",
                                              "renewal_date": "2027-01-01"}), "unknown_enum", "tier"),
    ("future", "usage", _usage(occurred_at=NOW_MS + 3_600_000), "future_timestamp", "in the future"),
    ("too-large", "usage", _usage(properties={"blob": "x" * 5000}), "too_large", "limit"),
]
