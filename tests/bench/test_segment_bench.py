"""The bench's `segment` workload: the dense workload's events as Segment calls, keyed by account_id."""

from __future__ import annotations

import orjson

from healthmon.bench.segment import segment_messages
from healthmon.bench.workload import single_messages, workload_records
from healthmon.ingest.formats import InputMapper
from healthmon.ingest.formats.spec import InputSpec
from schemas.events import parse_epoch_ms

NOW_MS = 4_000_000_000_000


def test_the_segment_workload_maps_to_the_native_events_each_keyed_by_its_account():
    native = list(single_messages(workload_records(6_000, 2, 42, "dense")))
    segment = list(segment_messages(6_000, 2, 42))
    tracks = InputMapper(InputSpec(topic="segment-tracks", kind="usage", format="segment"))
    usage: dict[str, tuple[str, str, str, int]] = {}
    linked = direct = 0
    for kind, key, partition, body, _ in segment:
        assert partition is None and key is not None
        if kind != "usage":
            continue
        out = tracks.map(body, key, now_ms=NOW_MS, max_bytes=1 << 20, max_future_skew_ms=0)
        assert not out.rejections, out.rejections
        pending = [(e.event, e.key) for e in out.linked] + [(e, None) for _, e in out.events]
        [(event, user)] = pending
        linked += user is not None
        direct += user is None
        usage[event.event_id] = (key.decode(), event.user_id, event.feature, event.occurred_at)
    want = {}
    for kind, key, _, body, _ in native:
        if kind == "usage":
            doc = orjson.loads(body)
            want[doc["event_id"]] = (key.decode(), doc["user_id"], doc["feature"], doc["occurred_at"])
    assert {k: (a, u, f, parse_epoch_ms(t)) for k, (a, u, f, t) in want.items()} == usage
    # half the users take their account from a `group` call's link: a fair share of tracks on each side
    assert linked > len(usage) // 5 and direct > len(usage) // 5
    assert sum(n for *_, n in segment) == sum(n for *_, n in native) - 2  # the profiles are group calls
    assert {k for kind, k, *_ in native if kind == "ticket"} <= {k for kind, k, *_ in segment}


def test_the_unkeyed_segment_workload_is_the_same_calls_without_keys():
    keyed = list(segment_messages(3_000, 2, 42))
    unkeyed = list(segment_messages(3_000, 2, 42, keyed=False))
    assert all(key is None for _, key, *_ in unkeyed)
    assert [(kind, body) for kind, _, _, body, _ in unkeyed] == [(kind, body) for kind, _, _, body, _ in keyed]
