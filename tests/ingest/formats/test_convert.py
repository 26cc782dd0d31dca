"""Conversions of found values: ids, RFC 3339 and epoch times, dates, numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from healthmon.ingest.formats.convert import to_date, to_float, to_id, to_int, to_text, to_time_ms


@pytest.mark.parametrize("value, expected", [
    ("2026-01-05T10:00:00Z", 1_767_607_200_000), ("2026-01-05T10:00:00.123Z", 1_767_607_200_123),
    ("2026-01-05T11:00:00+01:00", 1_767_607_200_000), ("2025-01-08T12:15:45.789012345Z", 1_736_338_545_789),
    (1_767_607_200_123, 1_767_607_200_123), (1_767_607_200_123.0, 1_767_607_200_123),
])
def test_times_in_milliseconds(value, expected):
    assert to_time_ms(value) == expected


@pytest.mark.parametrize("value, expected", [
    (1_767_607_200, 1_767_607_200_000), (1_767_607_200.5, 1_767_607_200_500),
    (Decimal("1767607200"), 1_767_607_200_000),
    ("2026-01-05T10:00:00Z", 1_767_607_200_000),  # text is RFC 3339 whatever the unit
])
def test_times_in_seconds(value, expected):
    assert to_time_ms(value, 1000) == expected


@pytest.mark.parametrize("value, unit, fragment", [
    ("2015-2-02T00:30:08.276Z", 1, "found '2015-2-02T00:30:08.276Z'"),
    ("2026-01-05T10:00:00", 1, "needs an offset"),
    ("yesterday", 1, "RFC 3339"),
    (1_767_607_200, 1, "epoch seconds? set time_unit: s"),
    (1_767_607_200_000, 1000, "epoch milliseconds? set time_unit: ms"),
    (0, 1, "before 2000-01-01"),
    (True, 1, "found true, not a time"),
    ([1], 1, "found a list, not a time"),
    (float("nan"), 1, "not a time"),
])
def test_bad_times(value, unit, fragment):
    with pytest.raises(ValueError) as info:
        to_time_ms(value, unit)
    assert fragment in str(info.value)


@pytest.mark.parametrize("value, expected", [
    ("2025-01-06", date(2025, 1, 6)), (20094, date(2025, 1, 6)), (0, date(1970, 1, 1)),
    ("2025-01-06T23:30:00-02:00", date(2025, 1, 7)), (date(2024, 2, 29), date(2024, 2, 29)),
])
def test_dates(value, expected):
    assert to_date(value) == expected


@pytest.mark.parametrize("value", ["Jan 6", "2025-13-01", 1.5, True, None, 10**12])
def test_bad_dates(value):
    with pytest.raises(ValueError):
        to_date(value)


@pytest.mark.parametrize("value, expected", [("a", "a"), (42, "42"), (42.0, "42"), (Decimal("7"), "7")])
def test_ids(value, expected):
    assert to_id(value) == expected


@pytest.mark.parametrize("value", [True, 1.5, [1], {"a": 1}, float("nan")])
def test_bad_ids(value):
    with pytest.raises(ValueError):
        to_id(value)


@pytest.mark.parametrize("value, as_int, as_float", [
    (3, 3, 3.0), ("329", 329, 329.0), (" 12 ", 12, 12.0), (Decimal("12.00"), 12, 12.0), (12.0, 12, 12.0),
    ("1234.56", None, 1234.56),
])
def test_numbers(value, as_int, as_float):
    assert to_float(value) == as_float
    if as_int is None:
        with pytest.raises(ValueError, match="not a whole number"):
            to_int(value)
    else:
        assert to_int(value) == as_int


@pytest.mark.parametrize("value, fragment", [
    ("AeJA", "base64 Debezium NUMERIC"), ("twelve", "not a number"), (True, "not a number"), ("inf", "not a number"),
])
def test_bad_numbers(value, fragment):
    with pytest.raises(ValueError) as info:
        to_float(value)
    assert fragment in str(info.value)


def test_text_takes_numbers_but_not_structures():
    assert to_text(5) == "5" and to_text(2.5) == "2.5"
    with pytest.raises(ValueError, match="found an object"):
        to_text({"a": 1})
