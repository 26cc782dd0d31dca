"""The generator's output unit, timestamp encoding, and batch grouping."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["DAY_MS", "HOUR_MS", "MINUTE_MS", "Record", "TimestampFormatter", "to_batches"]

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True, slots=True)
class Record:
    """One message to send: kind (EVENT_MODELS key), message key (account_id), JSON-ready value."""

    kind: str
    key: str
    value: dict
    occurred_at: int


_SECONDS_PARTS: list[str] = []


class TimestampFormatter:
    """Render epoch ms as RFC 3339 `YYYY-MM-DDTHH:MM:SS.sssZ`.

    The generators format millions of timestamps, so this is two lookups and one concatenation:
    a cached `YYYY-MM-DDTHH:MM:` per minute and a shared table of the 60,000 `SS.sssZ` endings.
    """

    __slots__ = ("minutes", "seconds")

    def __init__(self) -> None:
        if not _SECONDS_PARTS:
            _SECONDS_PARTS.extend(f"{x // 1000:02d}.{x % 1000:03d}Z" for x in range(MINUTE_MS))
        #: epoch minute -> `YYYY-MM-DDTHH:MM:`; read directly by hot loops
        self.minutes: dict[int, str] = {}
        #: ms within the minute -> `SS.sssZ`
        self.seconds = _SECONDS_PARTS

    def __call__(self, ms: int) -> str:
        prefix = self.minutes.get(ms // MINUTE_MS) or self.minute_prefix(ms // MINUTE_MS)
        return prefix + self.seconds[ms % MINUTE_MS]

    def minute_prefix(self, minute: int) -> str:
        """Return (and cache) `YYYY-MM-DDTHH:MM:` for epoch minute `minute`."""
        prefix = datetime.fromtimestamp(minute * 60, tz=UTC).strftime("%Y-%m-%dT%H:%M:")
        self.minutes[minute] = prefix
        return prefix


def to_batches(
    records: Iterable[Record], size: int, *, window_ms: int = 0
) -> Iterator[tuple[str, str, list[dict]]]:
    """Group records into (kind, key, values) batches of at most `size`, one kind and key each.

    With `window_ms=0` a batch holds *consecutive* records only, so flattening the batches gives
    back the input order exactly. With `window_ms>0` records of one (kind, key) are held back for
    up to `window_ms` of event time, as an SDK with a flush interval would: order is kept per
    (kind, key), and across keys only to within `window_ms`.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    if window_ms < 0:
        raise ValueError("window_ms must not be negative")
    if window_ms == 0:
        yield from _consecutive_batches(records, size)
    else:
        yield from _windowed_batches(records, size, window_ms)


def _consecutive_batches(records: Iterable[Record], size: int) -> Iterator[tuple[str, str, list[dict]]]:
    kind = key = None
    values: list[dict] = []
    for rec in records:
        if values and (rec.kind != kind or rec.key != key or len(values) >= size):
            yield kind, key, values  # type: ignore[misc]
            values = []
        kind, key = rec.kind, rec.key
        values.append(rec.value)
    if values:
        yield kind, key, values  # type: ignore[misc]


def _windowed_batches(
    records: Iterable[Record], size: int, window_ms: int
) -> Iterator[tuple[str, str, list[dict]]]:
    # Open buffers in the order they were opened (dicts keep insertion order), so the oldest
    # buffer is always first and flushing by age is a scan from the front.
    open_: dict[tuple[str, str], tuple[int, list[dict]]] = {}
    for rec in records:
        while open_:
            first_key = next(iter(open_))
            first_ms, values = open_[first_key]
            if rec.occurred_at - first_ms < window_ms:
                break
            del open_[first_key]
            yield first_key[0], first_key[1], values
        group = (rec.kind, rec.key)
        entry = open_.get(group)
        if entry is None:
            open_[group] = (rec.occurred_at, [rec.value])
            continue
        entry[1].append(rec.value)
        if len(entry[1]) >= size:
            del open_[group]
            yield rec.kind, rec.key, entry[1]
    for (kind, key), (_, values) in open_.items():
        yield kind, key, values
