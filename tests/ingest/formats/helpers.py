"""Map example payloads in tests: one call builds the input and maps one message."""

from __future__ import annotations

from typing import Any

import orjson

from healthmon.ingest.formats import InputMapper, Mapped
from healthmon.ingest.formats.spec import InputSpec

__all__ = ["NOW_MS", "map_doc", "map_raw", "spec", "the_event", "the_rejection"]

#: 2027-01-15: after every example, so none is in the future
NOW_MS = 1_800_000_000_000


def spec(kind: str, fmt: str, **options: Any) -> InputSpec:
    """Return an input spec (kinds as healthmon names them: usage, ticket, nps, account)."""
    return InputSpec(topic="t", kind=kind, format=fmt, **options)  # type: ignore[arg-type]


def map_raw(input_spec: InputSpec, value: bytes | None, *, key: bytes | None = None,
            headers: list[tuple[str, bytes]] | None = None, now_ms: int = NOW_MS) -> Mapped:
    """Map one message of `input_spec`."""
    return InputMapper(input_spec).map(value, key, headers, now_ms=now_ms, max_bytes=1_000_000,
                                       max_future_skew_ms=300_000)


def map_doc(input_spec: InputSpec, doc: Any, **kwargs: Any) -> Mapped:
    """Map one message holding `doc` as JSON."""
    return map_raw(input_spec, orjson.dumps(doc), **kwargs)


def the_event(out: Mapped) -> Any:
    """Return the one event `out` holds (resolved), failing with what it holds instead."""
    assert not out.rejections, out.rejections
    assert len(out.events) == 1, out
    return out.events[0][1]


def the_rejection(out: Mapped) -> tuple[str, str]:
    """Return (reason, error) of the one rejection `out` holds."""
    assert len(out.rejections) == 1, out
    rejection = out.rejections[0]
    return rejection.reason.value, rejection.error
