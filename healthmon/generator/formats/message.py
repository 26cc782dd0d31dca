"""One generated message in a source's shape, and what shaping functions share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..accounts import Account
from ..records import Record, TimestampFormatter

__all__ = ["Message", "Shaping", "ShapeFn", "json_bytes", "zendesk_org_id"]

#: the first Zendesk organization id: the generator's accounts are its organizations in order
ZENDESK_ORG_BASE = 360_000_000_000


@dataclass(frozen=True, slots=True)
class Message:
    """A message to send or write: topic, key, value and headers, the input kind it feeds, its event time."""

    topic: str
    key: bytes | None
    value: bytes | None
    kind: str
    occurred_at: int
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass
class Shaping:
    """What the shaping functions share: topics, time rendering, the accounts, and options."""

    #: (format, kind) -> topic
    topics: dict[tuple[str, str], str]
    accounts: dict[str, Account]
    fmt: TimestampFormatter = field(default_factory=TimestampFormatter)
    #: CloudEvents alternate structured and binary mode (False: structured only, as files hold no headers)
    binary: bool = True
    #: the Segment-family format whose group calls link users (None: tracks name their group)
    links: str | None = None
    #: per-shape counters (alternation, update choices)
    counters: dict[str, int] = field(default_factory=dict)

    def topic(self, fmt: str, kind: str) -> str:
        """Return the topic of a format's kind."""
        return self.topics[(fmt, kind)]

    def count(self, name: str) -> int:
        """Return and advance the counter `name`."""
        n = self.counters.get(name, 0)
        self.counters[name] = n + 1
        return n


#: (shaping, native record, its account) -> the messages of the record in a source's shape
ShapeFn = Callable[[Shaping, Record, Account], list[Message]]


def json_bytes(doc: Any) -> bytes:
    """Return the JSON bytes of a payload."""
    return orjson.dumps(doc)


def zendesk_org_id(account: Account) -> int:
    """Return the Zendesk organization of an account (the Debezium rows link it to the account)."""
    return ZENDESK_ORG_BASE + account.index + 1
