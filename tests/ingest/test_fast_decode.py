"""The msgspec hot path and the detailed pydantic path give the same outcome for every message of a corpus."""

from __future__ import annotations

from itertools import islice
from typing import Any

import orjson
import pytest

from healthmon.generator import standard_workload
from healthmon.ingest.decode import MAX_BATCH_EVENTS, decode_message
from healthmon.ingest.fastdecode import FastNps, FastTicket, FastUsage, decode_fast
from schemas.events import MAX_OCCURRED_AT_MS, MIN_OCCURRED_AT_MS, NpsResponse, SupportTicket, UsageEvent

from .malformed import GOOD_TICKET, GOOD_USAGE, MALFORMED, NOW_MS

LIMITS = {"now_ms": NOW_MS, "max_bytes": 4096, "max_future_skew_ms": 300_000}
GOOD_NPS = {"event_id": "n-1", "account_id": "acc-1", "user_id": "u-1", "score": 9, "occurred_at": NOW_MS - 1}
GOOD = {"usage": GOOD_USAGE, "ticket": GOOD_TICKET, "nps": GOOD_NPS}

TIMES: list[Any] = [
    "2026-11-18T09:00:00Z", "2026-11-18T09:00:00z", "2026-11-18t09:00:00Z", "2026-11-18 09:00:00Z",
    "2026-11-18T09:00:00.5Z", "2026-11-18T09:00:00.25Z", "2026-11-18T09:00:00.123Z", "2026-11-18T09:00:00.123456Z",
    "2026-11-18T09:00:00.1234567Z", "2026-11-18T09:00:00.0009995Z", "2026-11-18T09:00:00.9999995Z",
    "2026-11-18T09:00:00.0009994999Z", "2026-11-18T09:00:00.0009985Z", "2026-11-18T09:00:00.123456789123Z",
    "2026-11-18T09:00:00+23:59", "2026-11-18T09:00:00.Z", "0001-01-01T00:30:00+01:00", "2026-11-18T10:00:00+01:00",
    "2026-11-18T09:00:00-00:00",
    "2026-11-18T09:00:00+0100", " 2026-11-18T09:00:00Z", "2026-11-18T09:00:00Z ", "2026-11-18T09:00Z",
    "2026-11-18T09:00:60Z", "2026-11-18T24:00:00Z", "2026-02-30T09:00:00Z", "2026-11-18", "2026-11-18T09:00:00",
    "1999-12-31T23:59:59.999Z", "2000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "2026-11-18T09:00:00.000Z", "2026-11-18T09:00:59.999Z", "２０２６-11-18T09:00:00Z",
    MIN_OCCURRED_AT_MS, MIN_OCCURRED_AT_MS - 1, MAX_OCCURRED_AT_MS, MAX_OCCURRED_AT_MS + 1, NOW_MS,
    NOW_MS + 300_000, NOW_MS + 300_001, 1_795_000_000, 0, -1, 2**63 - 1, -(2**63), 1.7e12, 1_795_000_000_000.0, True,
    None, "", [], {},
]

VARIANTS: list[dict[str, Any]] = [
    {"event_id": "x" * 200}, {"event_id": "x" * 201}, {"event_id": "é" * 200}, {"event_id": "😀" * 200},
    {"event_id": "😀" * 201}, {"account_id": ""}, {"account_id": 7}, {"account_id": None}, {"user_id": True},
    {"feature": "f" * 201}, {"properties": {"a": [1, {"b": None}], "events": 3}}, {"properties": []},
    {"properties": None}, {"extra": 1}, {"status": "closed", "csat": 5}, {"csat": 1}, {"csat": 0}, {"csat": 6},
    {"csat": True}, {"csat": 5.0}, {"csat": "5"}, {"csat": None}, {"status": "Opened"}, {"priority": "URGENT"},
    {"score": 0}, {"score": 10}, {"score": -1}, {"score": 11}, {"score": 9.0}, {"score": False},
    {"ticket_id": ""}, {"ticket_id": 12},
]


def _messages() -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = [(kind, raw) for _, kind, raw, _, _ in MALFORMED]
    for kind, good in GOOD.items():
        out.append((kind, orjson.dumps(good)))
        for t in TIMES:
            out.append((kind, orjson.dumps({**good, "occurred_at": t})))
        for change in VARIANTS:
            out.append((kind, orjson.dumps({**good, **change})))
        missing = [{k: v for k, v in good.items() if k != drop} for drop in good]
        out += [(kind, orjson.dumps(doc)) for doc in missing]
        two = [good, {**good, "event_id": "second"}]
        out += [
            (kind, orjson.dumps(two)), (kind, orjson.dumps({"events": two})),
            (kind, orjson.dumps({"events": two, "sent_at": "2026-11-18T09:00:00Z"})),
            (kind, orjson.dumps({"events": two, "sent_at": 1, "other": 2})), (kind, orjson.dumps({"events": []})),
            (kind, orjson.dumps({"events": "no"})), (kind, orjson.dumps([good, "junk", None, 5])),
            (kind, orjson.dumps([two])), (kind, b"  \\n " + orjson.dumps(good)), (kind, b"\\t" + orjson.dumps(two)),
            (kind, orjson.dumps(good) + b" x"), (kind, b'{"event_id": "a", "event_id": "b"}'),
            (kind, orjson.dumps({**good, "events": 1})), (kind, orjson.dumps([good] * MAX_BATCH_EVENTS)),
            (kind, orjson.dumps([good] * (MAX_BATCH_EVENTS + 1))), (kind, b"null"), (kind, b"true"),
            (kind, orjson.dumps([{**good, "occurred_at": t} for t in TIMES])),
            (kind, orjson.dumps(good).replace(b'"event_id"', b'"occurred_at":' + str(2**64).encode() + b',"event_id"')),
        ]
    for rec in islice(standard_workload(events=3000, accounts=50, days=3).records(), 3050):
        out.append((rec.kind, orjson.dumps(rec.value)))
    return out


def _outcome(decoded: Any) -> tuple[Any, ...]:
    events = [(i, e.kind, orjson.dumps(e.model_dump(mode="json"))) for i, e in decoded.events]
    rejections = [(r.index, r.reason, r.error, r.raw) for r in decoded.rejections]
    return decoded.is_batch, events, rejections


CORPUS = _messages()


def test_the_corpus_holds_good_and_bad_messages_of_every_kind() -> None:
    outcomes = [_outcome(decode_message(k, raw, **{**LIMITS, "max_bytes": 10**9}, fast=False)) for k, raw in CORPUS]
    assert len(CORPUS) > 3300
    assert sum(1 for _, events, rejections in outcomes if events and not rejections) > 3000
    assert sum(1 for _, events, rejections in outcomes if rejections) > 150
    assert {k for k, _ in CORPUS} == {"usage", "ticket", "nps", "account"}


@pytest.mark.parametrize("max_bytes", [4096, 10**9])
def test_both_paths_give_the_same_events_rejections_reasons_and_errors(max_bytes: int) -> None:
    limits = {**LIMITS, "max_bytes": max_bytes}
    fast_taken = 0
    for kind, raw in CORPUS:
        fast = decode_message(kind, raw, **limits)
        detailed = decode_message(kind, raw, **limits, fast=False)
        assert _outcome(fast) == _outcome(detailed), (kind, raw[:300])
        if kind in GOOD and len(raw) <= max_bytes:
            fast_taken += decode_fast(kind, raw, now_ms=NOW_MS, max_future_skew_ms=300_000,
                                      max_batch_events=MAX_BATCH_EVENTS) is not None
    assert fast_taken > 3000  # the hot path did take the good messages


@pytest.mark.parametrize("fast, model", [(FastUsage, UsageEvent), (FastTicket, SupportTicket), (FastNps, NpsResponse)])
def test_each_struct_mirrors_its_model_field_for_field(fast: Any, model: Any) -> None:
    assert fast.__struct_fields__ == tuple(model.model_fields)
    assert fast.kind == model.kind
    optional = {name for name, f in model.model_fields.items() if not f.is_required()}
    assert set(fast.__struct_fields__[len(fast.__struct_fields__) - len(fast.__struct_defaults__):]) == optional


_TIMES = ["2026-01-05T10:00:00.123Z", "2026-01-05T10:00:59.999Z", "2026-01-05T10:00:60.000Z", "2026-01-05T10:00:00Z",
          "2026-01-05T10:00:0a.123Z", "2026-01-05T10:00:00.12aZ", "2026-01-05T10:00:00,123Z",
          "2026-01-05T10:00:00.123z", "2026-01-05T10:00:00.123+00:00", "2026-01-05T10:00:\u0660\u0660.123Z",
          "2026-01-05T10:00:00.\u066123Z", "2026-01-05 10:00:00.123Z", "2026-13-05T10:00:00.123Z",
          "2026-01-05T10:00:00.1234Z", "1999-12-31T23:59:59.999Z", "5138-11-16T09:46:40.000Z",
          "5138-11-16T09:46:39.999Z"]


@pytest.mark.parametrize("text", _TIMES)
def test_epoch_ms_refuses_what_the_models_refuse_and_reads_the_rest_alike(text):
    from healthmon.ingest.fastdecode import epoch_ms
    from schemas.events import parse_epoch_ms

    try:
        expected = parse_epoch_ms(text)
    except ValueError:
        expected = None
    for _ in range(2):  # the second time through the cached minute
        assert epoch_ms(text) == expected
