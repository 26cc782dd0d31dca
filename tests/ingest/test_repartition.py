"""The repartition message carries one account's events and the input position they came from."""

from __future__ import annotations

import pytest

from healthmon.ingest.repartition import Source, decode_repartitioned, encode_repartitioned, repartition_source
from tests.core.builders import T0, ticket, usage


def test_events_and_their_source_survive_the_round_trip():
    items = [(0, usage(T0, "u1")), (3, usage(T0 + 1, "u2")), (None, usage(T0 + 2, "u3"))]
    body = encode_repartitioned("usage", Source("product-usage", 2, 41), items)
    decoded = decode_repartitioned(body)
    assert decoded.kind == "usage" and decoded.source == Source("product-usage", 2, 41)
    assert decoded.items == items
    assert repartition_source(body) == Source("product-usage", 2, 41)


def test_each_kind_is_decoded_with_its_own_model():
    items = [(None, ticket(T0, "t-1", "opened", "urgent"))]
    assert decode_repartitioned(encode_repartitioned("ticket", Source("support-tickets", 0, 0), items)).items == items


@pytest.mark.parametrize("value", [None, b"", b"not json", b"{}", b'{"source": ["t", "0", 1]}',
                                   b'{"source": [1, 0, 1]}'])
def test_a_message_naming_no_valid_source_gives_none(value):
    assert repartition_source(value) is None
