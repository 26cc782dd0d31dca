"""The Segment hot path gives what the preset's own path gives, or declines: on many variants of a track."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import orjson
import pytest

from healthmon.ingest.formats import InputMapper, Mapped
from schemas.events import MIN_OCCURRED_AT_MS
from tests.ingest.formats.examples.segment import RUDDER_TRACK, TRACK, fresh
from tests.ingest.formats.helpers import NOW_MS, map_doc, spec

SMALL = {"type": "track", "messageId": "m-1", "userId": "user-acc-00001-3", "event": "dashboards",
         "timestamp": "2026-01-05T10:00:00.123Z", "context": {"groupId": "acc-00001"}, "properties": {"source": "web"}}
VALUES: list[Any] = [..., None, "", 0, 7, "x" * 201, "acc-1", [], {}, {"a": 1}, "2026-01-05T10:00:00Z",
                     "2026-01-05T11:00:00+01:00", "2026-1-5T10:00:00Z", 1_767_607_200_123, "2031-01-01T00:00:00Z",
                     "1999-12-31T23:59:59Z", True, "2026-01-05T10:00:00.0009995Z", "2026-01-05T10:00:00.1239994Z",
                     "2026-01-05T10:00:00"]
FIELDS = ["type", "messageId", "userId", "anonymousId", "event", "timestamp", "originalTimestamp", "properties"]
CONTEXTS: list[Any] = [..., None, "web", {}, {"groupId": None}, {"groupId": ""}, {"groupId": "acc-9"},
                       {"groupId": 12}, {"groupId": ["a"]}, {"groupId": "g" * 201}]
# [], {} and false are JMESPath's false, but `||` still yields them, and `Reader.get` refuses them as ids
PROPERTIES: list[Any] = [None, {}, {"account_id": "acc-5"}, {"account_id": 5}, {"account_id": ""}, [],
                         {"account_id": []}, {"account_id": {}}, {"account_id": False}, {"account_id": None},
                         {"account_id": "a" * 201}]


# The time of Segment's track example (`2015-12-12T19:11:01.249Z`) as RFC 3339 lets a source write it: other
# offsets, 0-9 digits of fraction (msgspec rounds past 6 where `parse_epoch_ms` truncates), leap days and
# seconds, the floor (2000-01-01) and texts that are not RFC 3339 at all
TIMES = ["2015-12-12T19:11:01.249Z", "2015-12-12T19:11:01.249+00:00", "2015-12-12T19:11:01.249-00:00",
         "2015-12-12T11:11:01.249-08:00", "2015-12-13T00:41:01.249+05:30", "2015-12-12T19:11:01.249z",
         "2015-12-12t19:11:01.249Z", "2015-12-12 19:11:01.249Z", "2015-12-12T19:11:01.249+0000",
         "2015-12-12T19:11:01.249+00", "2015-12-12T19:11:01Z", "2015-12-12T19:11:01.Z",
         *(f"2015-12-12T19:11:01.{'249123456'[:n]}Z" for n in range(1, 10)),
         "2015-12-12T19:11:01.2499995Z", "2015-12-12T19:11:01.9999995Z", "2015-12-12T19:11:01.999999999Z",
         "2015-12-12T19:11:01.2489995+01:00", "2015-12-12T19:11:01.2499994Z", "2015-12-12T19:11:01.0000005Z",
         "2016-02-29T19:11:01.249Z", "2015-02-29T19:11:01.249Z", "2100-02-29T19:11:01.249Z", "2000-02-29T00:00:00Z",
         "2016-12-31T23:59:60Z", "2016-12-31T23:59:60.5Z", "2015-12-12T24:00:00Z", "2000-01-01T00:00:00Z",
         "1999-12-31T23:59:59.999Z", "2000-01-01T00:00:00+00:01", "1999-12-31T19:00:00-05:00",
         "2015-12-12T19:11:01.249+24:00", "2015-12-12T19:11:01.249+23:59", "2015-12-12T19:11:01.249 Z",
         " 2015-12-12T19:11:01.249Z", "2015-12-12T19:11:01.249Z ", "2015-12-12T19:11:01,249Z",
         "2015-W50-6T19:11:01.249Z", "2015-12-12T19:11:01.249+00:00:00.5", "2015-12-12T19:11:01.249+05:30:00.25",
         "+2015-12-12T19:11:01.249Z", "2015-12-12",
         # RFC 3339's own examples (section 5.8): under the default floor, taken with a floor of 0
         "1985-04-12T23:20:50.52Z", "1996-12-19T16:39:57-08:00", "1990-12-31T23:59:60Z", "1990-12-31T15:59:60-08:00",
         "1937-01-01T12:00:27.87+00:20", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999Z"]


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
        fast = mapper.fast(raw, NOW_MS, 300_000, MIN_OCCURRED_AT_MS)
        mapper.fast, saved = None, mapper.fast
        try:
            slow = mapper.map(raw, now_ms=NOW_MS, max_bytes=1_000_000, max_future_skew_ms=300_000)
        finally:
            mapper.fast = saved
        if fast is not None:
            taken += 1
            assert _key(fast) == _key(slow), doc
            # every field, those a track never fills too (the hot path builds its result without `__init__`)
            assert all(getattr(fast, f.name) == getattr(Mapped(events=slow.events, linked=slow.linked), f.name)
                       for f in dataclasses.fields(Mapped)), doc
    assert len(VARIANTS) > 500 and taken > 150  # it takes the common tracks, and declines the rest


@pytest.mark.parametrize("fmt", ["segment", "rudderstack"])
@pytest.mark.parametrize("field", ["timestamp", "originalTimestamp"])
def test_the_hot_path_reads_every_time_as_the_preset_path(fmt, field):
    mapper = InputMapper(spec("usage", fmt))
    taken = set()
    for base, text, floor in itertools.product((SMALL, TRACK, RUDDER_TRACK), TIMES, (MIN_OCCURRED_AT_MS, 0)):
        doc = fresh(base, **{field: text, **({"timestamp": ...} if field != "timestamp" else {})})
        raw = orjson.dumps(doc)
        fast = mapper.fast(raw, NOW_MS, 300_000, floor)
        mapper.fast, saved = None, mapper.fast
        try:
            slow = mapper.map(raw, now_ms=NOW_MS, max_bytes=1_000_000, max_future_skew_ms=300_000,
                              min_occurred_at_ms=floor)
        finally:
            mapper.fast = saved
        if fast is not None:
            taken.add(text)
            assert _key(fast) == _key(slow), (doc, floor)
    if field == "timestamp" or fmt == "rudderstack":  # Segment reads no `originalTimestamp`
        # the shapes sources send are taken: Z or an offset, and fractions of any length, also those that a
        # rounding parse (msgspec's datetime) would read as the next millisecond
        assert {TIMES[0], TIMES[1], TIMES[3], TIMES[4], "2015-12-12T19:11:01Z", "2015-12-12T19:11:01.249123456Z",
                "2016-02-29T19:11:01.249Z", "1996-12-19T16:39:57-08:00", "1970-01-01T00:00:00Z",
                "2015-12-12T19:11:01.2499995Z", "2015-12-12T19:11:01.999999999Z",
                "2015-12-12T19:11:01.2489995+01:00"} <= taken
    else:
        assert not taken


def test_the_floor_is_the_one_the_mapper_is_given():
    mapper = InputMapper(spec("usage", "segment"))
    at = 1_449_947_461_249  # 2015-12-12T19:11:01.249Z
    raw = orjson.dumps(fresh(SMALL, timestamp="2015-12-12T19:11:01.249Z"))
    for floor in (at - 1, at, at + 1):
        out = mapper.map(raw, now_ms=NOW_MS, max_bytes=1_000_000, max_future_skew_ms=300_000, min_occurred_at_ms=floor)
        assert [e.occurred_at for _, e in out.events] == ([at] if floor <= at else [])
        assert len(out.rejections) == (floor > at)


def test_an_input_with_fields_or_values_has_no_hot_path():
    assert InputMapper(spec("usage", "segment", fields={"feature": "properties.f"})).fast is None
    assert InputMapper(spec("usage", "segment", values={"feature": {"a": "b"}})).fast is None
    assert InputMapper(spec("account", "segment")).fast is None


@pytest.mark.parametrize("fmt", ["segment", "rudderstack"])
def test_with_an_account_link_the_group_is_a_key_in_that_link(fmt):
    track = fresh(TRACK, context={"groupId": "crm-77"})
    out = map_doc(spec("usage", fmt, account_link="crm"), track)
    assert not out.events and not out.rejections
    [linked] = out.linked
    assert (linked.link, linked.key, linked.event.account_id) == ("crm", "crm-77", "")
