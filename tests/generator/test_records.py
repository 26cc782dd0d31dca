"""Record encoding and batching."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

import healthmon.generator as generator
from healthmon.generator import Record, to_batches
from healthmon.generator.records import TimestampFormatter
from schemas.events import parse_epoch_ms


def test_public_api():
    assert set(generator.__all__) == {
        "DEFAULT_START_MS", "Record", "Traffic", "generate", "scenario_names", "standard_workload", "to_batches",
    }


def test_record_is_frozen():
    rec = Record("usage", "acc-00001", {}, 1)
    with pytest.raises(AttributeError):
        rec.key = "acc-00002"  # type: ignore[misc]


def test_default_start_is_a_monday_midnight_utc():
    start = datetime.fromtimestamp(generator.DEFAULT_START_MS / 1000, tz=UTC)
    assert (start.weekday(), start.hour, start.minute) == (0, 0, 0)


def test_timestamps_are_rfc3339():
    fmt = TimestampFormatter()
    rng = random.Random(3)
    assert fmt(1_767_571_200_000) == "2026-01-05T00:00:00.000Z"
    assert fmt(1_767_657_599_999) == "2026-01-05T23:59:59.999Z"
    for _ in range(5_000):
        ms = rng.randrange(1_000_000_000_000, 4_000_000_000_000)
        whole = datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
        assert fmt(ms) == f"{whole}.{ms % 1000:03d}Z"


def test_timestamps_round_trip_through_the_contract_parser():
    # 2020-2030 only: schemas.events.parse_epoch_ms goes through float seconds and truncates, so
    # some later instants (from the mid-2030s) come back one millisecond early.
    fmt = TimestampFormatter()
    rng = random.Random(4)
    for _ in range(5_000):
        ms = rng.randrange(1_577_836_800_000, 1_893_456_000_000)
        assert parse_epoch_ms(fmt(ms)) == ms


def _recs(spec: str) -> list[Record]:
    """'uA uA tB' -> records of kind u/t and key A/B, numbered in order."""
    kinds = {"u": "usage", "t": "ticket", "n": "nps"}
    return [Record(kinds[tok[0]], tok[1:], {"n": i}, 1_000 * i) for i, tok in enumerate(spec.split())]


@pytest.mark.parametrize(
    ("spec", "size", "expected"),
    [
        ("", 3, []),
        ("uA", 3, [("usage", "A", [0])]),
        ("uA uA uA", 3, [("usage", "A", [0, 1, 2])]),
        ("uA uA uA uA", 3, [("usage", "A", [0, 1, 2]), ("usage", "A", [3])]),
        ("uA uA uB uA", 5, [("usage", "A", [0, 1]), ("usage", "B", [2]), ("usage", "A", [3])]),
        ("uA tA uA", 5, [("usage", "A", [0]), ("ticket", "A", [1]), ("usage", "A", [2])]),
        ("uA uA uA", 1, [("usage", "A", [0]), ("usage", "A", [1]), ("usage", "A", [2])]),
    ],
)
def test_consecutive_batches(spec, size, expected):
    got = [(k, key, [v["n"] for v in values]) for k, key, values in to_batches(_recs(spec), size)]
    assert got == expected


def test_consecutive_batches_keep_the_exact_order():
    rng = random.Random(1)
    spec = " ".join(rng.choice(["uA", "uB", "tA", "nB"]) for _ in range(500))
    records = _recs(spec)
    flat = [v["n"] for _, _, values in to_batches(records, 4) for v in values]
    assert flat == list(range(500))


@pytest.mark.parametrize(
    ("spec", "size", "window_s", "expected"),
    [
        # Interleaved keys still batch per key within the window.
        ("uA uB uA uB", 10, 60, [("usage", "A", [0, 2]), ("usage", "B", [1, 3])]),
        # A buffer is flushed once the stream moves `window` past its first record.
        ("uA uB uA uB", 10, 2, [("usage", "A", [0]), ("usage", "B", [1]), ("usage", "A", [2]), ("usage", "B", [3])]),
        # A full buffer goes out at once.
        ("uA uA uB uA", 2, 60, [("usage", "A", [0, 1]), ("usage", "B", [2]), ("usage", "A", [3])]),
    ],
)
def test_windowed_batches(spec, size, window_s, expected):
    batches = to_batches(_recs(spec), size, window_ms=window_s * 1000)
    got = [(k, key, [v["n"] for v in values]) for k, key, values in batches]
    assert sorted(got) == sorted(expected)


def test_windowed_batches_keep_per_key_order_and_lose_nothing():
    rng = random.Random(2)
    spec = " ".join(rng.choice(["uA", "uB", "uC", "tA", "nB"]) for _ in range(2_000))
    records = _recs(spec)
    batches = list(to_batches(records, 16, window_ms=30_000))
    assert all(1 <= len(values) <= 16 for _, _, values in batches)
    assert len(batches) < len(records) / 3
    per_group: dict[tuple[str, str], list[int]] = {}
    for kind, key, values in batches:
        per_group.setdefault((kind, key), []).extend(v["n"] for v in values)
    for (kind, key), ns in per_group.items():
        assert ns == [i for i, r in enumerate(records) if (r.kind, r.key) == (kind, key)]
    assert sum(len(ns) for ns in per_group.values()) == len(records)


@pytest.mark.parametrize(("size", "window_ms"), [(0, 0), (3, -1)])
def test_bad_batch_arguments(size, window_ms):
    with pytest.raises(ValueError):
        list(to_batches(_recs("uA"), size, window_ms=window_ms))
