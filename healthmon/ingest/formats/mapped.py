"""What mapping one message yields, beyond today's events and rejections: links, profile patches, removals.

`Mapped` extends `healthmon.ingest.Decoded` (events as (batch index, event) pairs, rejections), so a
processor that knows only `Decoded` still handles what it knows. Everything else a message can say is
a list of its own, each item a small named record. What the pipeline does with each is in
docs/inputs.md ("What the pipeline does with a mapped message").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from healthmon.ingest.decode import Decoded

__all__ = ["USER_LINK", "AccountRemoval", "Ignored", "LinkUpdate", "LinkedEvent", "Mapped", "ProfilePatch"]

#: The built-in link from a user id to its account (Segment and RudderStack `group` and `identify` calls).
USER_LINK = "user"


@dataclass(slots=True)
class LinkedEvent:
    """An event whose account is whatever link `link` maps `key` to; its `account_id` is "" until resolved.

    The pipeline resolves it before routing it to the account's partition, or holds it until the link is
    known, or dead-letters it as `unknown_account` naming the link and the key.
    """

    index: int | None
    link: str
    key: str
    event: Any
    #: a later answer to the same response: it replaces the earlier event of this `event_id` (Delighted)
    replaces: bool = False


@dataclass(slots=True)
class LinkUpdate:
    """A link learned from a message: `key` in link `link` names `account_id` (None: the key is unlinked)."""

    link: str
    key: str
    account_id: str | None
    #: the event time of the message that said so, when it has one (Segment calls); None for table rows
    occurred_at: int | None = None


@dataclass(slots=True)
class ProfilePatch:
    """Some fields of an account's profile, validated, to merge over what is known (Segment `group` traits).

    `fields` holds contract field names (those of `schemas.events.AccountProfile`) and their values, as
    the model holds them (`contract_start` a `date`, `seats` an `int`). A profile is complete, and can be
    applied, once every required field has arrived in some patch.
    """

    account_id: str
    fields: dict[str, Any]
    occurred_at: int | None = None


@dataclass(slots=True)
class AccountRemoval:
    """The account is gone from the source (a Debezium delete or tombstone): forget its state."""

    account_id: str
    #: why, for the resolve reason of its open alerts and for logs: `deleted` or `tombstone`
    reason: str
    #: when the source removed it (epoch ms: a Debezium delete's `source.ts_ms`), if the message says
    occurred_at: int | None = None


@dataclass(slots=True)
class Ignored:
    """A message (or batch item) the input legitimately carries that holds nothing for healthmon."""

    index: int | None
    #: a short fixed phrase (`segment page call`), the same for every message of its sort
    reason: str


@dataclass(slots=True)
class Mapped(Decoded):
    """What one message of a mapped input yielded (see the module docstring).

    The lists beyond `events` and `rejections` stay an empty tuple until something is added (by the
    `add_*` methods): most messages hold one event and nothing else, and this is the hot path.
    """

    #: events resolved once their link is known
    linked: Sequence[LinkedEvent] = ()
    #: events (with their account) that replace an earlier event of the same `event_id`
    replacements: Sequence[tuple[int | None, Any]] = ()
    links: Sequence[LinkUpdate] = ()
    patches: Sequence[ProfilePatch] = ()
    removals: Sequence[AccountRemoval] = ()
    ignored: Sequence[Ignored] = ()

    def add_linked(self, item: LinkedEvent) -> None:
        """Add an event that waits for its link."""
        _grown(self, "linked").append(item)

    def add_replacement(self, index: int | None, event: Any) -> None:
        """Add an event that replaces the earlier event of its `event_id`."""
        _grown(self, "replacements").append((index, event))

    def add_link(self, item: LinkUpdate) -> None:
        """Add a link learned from the message."""
        _grown(self, "links").append(item)

    def add_patch(self, item: ProfilePatch) -> None:
        """Add a partial profile."""
        _grown(self, "patches").append(item)

    def add_removal(self, item: AccountRemoval) -> None:
        """Add an account removal."""
        _grown(self, "removals").append(item)

    def add_ignored(self, item: Ignored) -> None:
        """Add an item ignored on purpose."""
        _grown(self, "ignored").append(item)


def _grown(out: Mapped, name: str) -> list[Any]:
    """Return the list `name` of `out`, made a list the first time something is added."""
    items = getattr(out, name)
    if type(items) is not list:
        items = list(items)
        setattr(out, name, items)
    return items
