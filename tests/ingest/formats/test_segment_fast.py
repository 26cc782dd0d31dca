"""The Segment hot path gives what the preset's own path gives, or declines: on many variants of a track."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest

from healthmon.ingest.formats import InputMapper
from tests.ingest.formats.examples.segment import RUDDER_TRACK, TRACK, fresh
from tests.ingest.formats.helpers import NOW_MS, spec

SMALL = {"type": "track", "messageId": "m-1", "userId": "user-acc-00001-3", "event": "dashboards",
         "timestamp": "2026-01-05T10:00:00.123Z", "context": {"groupId": "acc-00001"}, "properties": {"source": "web"}}
VALUES: list[Any] = [..., None, "", 0, 7, "x" * 201, "acc-1", [], {}, {"a": 1}, "2026-01-05T10:00:00Z",
                     "2026-01-05T11:00:00+01:00", "2026-1-5T10:00:00Z", 1_767_607_200_123, "2031-01-01T00:00:00Z",
                     "1999-12-31T23:59:59Z", True, "2026-01-05T10:00:00.0009995Z", "2026-01-05T10:00:00.1239994Z",
                     "2026-01-05T10:00:00"]
FIELDS = ["type", "messageId", "userId", "anonymousId", "event", "timestamp", "originalTimestamp", "properties"]
CONTEXTS: list[Any] = [..., None, "web", {}, {"groupId": None}, {"groupId": ""}, {"groupId": "acc-9"},
                       {"groupId": 12}, {"groupId": ["a"]}, {"groupId": "g" * 201}]
PROPERTIES: list[Any] = [None, {}, {"account_id": "acc-5"}, {"account_id": 5}, {"account_id": ""}, []]


def _variants() -> list[dict[str, Any]]:
    out = []
    for base in (SMALL, TRACK, RUDDER_TRACK):
        for field, value in itertools.product(FIELDS, VALUES):
            out.append(fresh(base, **{field: value}))
        for context, properties in itertools.product(CONTEXTS, PROPERTIES):
            out.append(fresh(base, context=context, properties=properties))
    return out


VARIANTS = _variants()


def _key(mapped) -> tuple:
    return (mapped.events, [(m.index, m.link, m.key, m.event, m.replaces) for m in mapped.linked],
            [(r.index, r.reason, r.error) for r in mapped.rejections], list(mapped.ignored), list(mapped.links),
            list(mapped.patches), mapped.is_batch)


@pytest.mark.parametrize("fmt", ["segment", "rudderstack"])
def test_the_hot_path_agrees_with_the_preset_path(fmt):
    mapper = InputMapper(spec("usage", fmt))
    assert mapper.fast is not None
    taken = 0
    for doc in VARIANTS:
        raw = orjson.dumps(doc)
        fast = mapper.fast(raw, NOW_MS, 300_000)
        mapper.fast, saved = None, mapper.fast
        try:
            slow = mapper.map(raw, now_ms=NOW_MS, max_bytes=1_000_000, max_future_skew_ms=300_000)
        finally:
            mapper.fast = saved
        if fast is not None:
            taken += 1
            assert _key(fast) == _key(slow), doc
    assert len(VARIANTS) > 500 and taken > 150  # it takes the common tracks, and declines the rest


def test_an_input_with_fields_or_values_has_no_hot_path():
    assert InputMapper(spec("usage", "segment", fields={"feature": "properties.f"})).fast is None
    assert InputMapper(spec("usage", "segment", values={"feature": {"a": "b"}})).fast is None
    assert InputMapper(spec("account", "segment")).fast is None
