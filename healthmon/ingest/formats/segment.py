"""`segment` and `rudderstack`: Segment-spec calls (track, group, identify, page, screen, alias), one or a batch.

- `track` is a usage event. Its account is `context.groupId`, else `properties.account_id`, else whatever
  the `user` link maps its user (`userId`, else `anonymousId`) to.
- `group` links its user to `groupId` and carries some traits of the account: a partial profile, merged
  over earlier ones (the traits table below reads them; on an accounts input the file's `fields` and
  `values` apply to it).
- `identify` with `traits.company.id` links its user to that account.
- `page`, `screen` and `alias` say nothing about health: they are ignored (counted, not dead-lettered),
  as are `track` calls on an accounts input and `identify` calls without a company.
- A batch (`{"batch": [...]}`, as the HTTP API's `/v1/batch` takes it) is several calls; its `context`
  is merged under each call's own.
"""

from __future__ import annotations

from typing import Any, ClassVar

from healthmon.core.vocabulary import InputKind
from healthmon.ingest.formats import contract
from healthmon.ingest.formats.contract import Failure
from healthmon.ingest.formats.convert import describe, to_id, to_time_ms
from healthmon.ingest.formats.mapped import USER_LINK, Ignored, LinkUpdate, Mapped, ProfilePatch
from healthmon.ingest.formats.paths import compile_path
from healthmon.ingest.formats.preset import Default, Headers, Item, Preset, json_items, load_json
from healthmon.ingest.formats.reader import Reader
from healthmon.ingest.formats.segment_fast import FastMap, track_fast
from healthmon.ingest.formats.spec import InputSpec
from schemas.deadletter import DeadLetterReason

__all__ = ["RudderStackPreset", "SegmentPreset"]

_USER = compile_path("userId || anonymousId").search
_COMPANY = compile_path("traits.company.id").search
_SILENT = frozenset({"page", "screen", "alias"})
_TRAITS = {name: Default(f"traits.{name}") for name in
           ("name", "tier", "seats", "arr", "csm", "contract_start", "renewal_date")}


def _tables(occurred_at: str) -> dict[InputKind, dict[str, Default]]:
    return {
        "usage": {
            "event_id": Default("messageId"),
            "account_id": Default("context.groupId || properties.account_id",
                                  "else the `user` link of `userId || anonymousId`"),
            "user_id": Default("userId || anonymousId"),
            "feature": Default("event"),
            "occurred_at": Default(occurred_at),
            "properties": Default("properties"),
        },
        "account": {"account_id": Default("groupId", "`group` calls; each is a partial profile"), **_TRAITS},
    }


class SegmentPreset(Preset):
    """Segment's Spec, as its Kafka destination and HTTP API send it."""

    name = "segment"
    reference = "https://segment.com/docs/connections/spec/"
    tables = _tables("timestamp")
    #: whether `originalTimestamp` stands in for a missing `timestamp`
    original_timestamp: ClassVar[bool] = False

    def items(self, value: bytes, headers: Headers | None) -> list[Item]:
        doc = load_json(value)
        items = json_items(doc, batch_key="batch")
        shared = doc.get("context") if isinstance(doc, dict) and "batch" in doc else None
        if isinstance(shared, dict):
            for _, item in items:
                if type(item) is dict:
                    own = item.get("context")
                    item["context"] = {**shared, **own} if type(own) is dict else shared
        return items

    def fast(self, reader: Reader) -> FastMap | None:
        # an `account_link` makes the account a key in a link: the preset path's `emit` does that
        if reader.kind != "usage" or reader.spec.fields or reader.spec.values or reader.link is not None:
            return None
        return track_fast(original_timestamp=self.original_timestamp)

    def map_item(self, index: int | None, item: Any, reader: Reader, out: Mapped) -> None:
        call = item.get("type")
        if call is not None and not isinstance(call, str):
            raise Failure(DeadLetterReason.UNMAPPED, f"type: `type` found {describe(call)}, not a call type")
        if call == "track":
            if reader.kind != "usage":
                out.add_ignored(Ignored(index, f"{self.name} track call on an accounts input"))
                return
            self._track(index, item, reader, out)
        elif call == "group":
            self._group(index, item, reader, out)
        elif call == "identify":
            self._identify(index, item, reader, out)
        elif call in _SILENT:
            out.add_ignored(Ignored(index, f"{self.name} {call} call"))
        elif call is None:
            raise Failure(DeadLetterReason.UNMAPPED, "type: `type` found nothing (a call is track, group, ...)")
        else:
            raise Failure(DeadLetterReason.UNKNOWN_ENUM, f"type: unknown {self.name} call {call!r}")

    def _track(self, index: int | None, item: Any, reader: Reader, out: Mapped) -> None:
        values = reader.read(item, reader.fields, {})
        user = _user(item)
        reader.emit(index, item, values, out, user_key=user, user_link=USER_LINK if user else None)

    def _group(self, index: int | None, item: Any, reader: Reader, out: Mapped) -> None:
        traits = reader if reader.kind == "account" else self._traits_reader(reader)
        account = traits.get("account_id", item, required=False)
        if account is None:
            raise Failure(DeadLetterReason.UNKNOWN_ACCOUNT, f"account_id: `{traits.sources['account_id']}` found "
                                                            "nothing")
        at = _time(item, traits)
        user = _user(item)
        if user:
            out.add_link(LinkUpdate(USER_LINK, user, account, at))
        found = {name: value for name in traits.fields
                 if (value := traits.get(name, item, required=False)) is not None}
        if found:  # a group call without traits only says who is in the group
            out.add_patch(ProfilePatch(account, contract.check_patch(found, traits.sources), at))

    def _identify(self, index: int | None, item: Any, reader: Reader, out: Mapped) -> None:
        company, user = _COMPANY(item), _user(item)
        if company is None or company == "" or not user:
            out.add_ignored(Ignored(index, f"{self.name} identify call without traits.company.id"))
            return
        try:
            account = to_id(company)
        except ValueError as exc:
            raise Failure(DeadLetterReason.UNMAPPED, f"account_id: `traits.company.id` {exc}") from None
        out.add_link(LinkUpdate(USER_LINK, user, account, _time(item, reader)))

    def _traits_reader(self, reader: Reader) -> Reader:
        """Return the reader of `group` traits for a usage input: the preset's own traits table."""
        traits = reader.aux.get("traits")
        if traits is None:
            spec = InputSpec(topic=reader.spec.topic, kind="account", format=self.name,
                             time_unit=reader.spec.time_unit)
            traits = reader.aux["traits"] = Reader(spec, self)
        assert isinstance(traits, Reader)
        return traits


class RudderStackPreset(SegmentPreset):
    """RudderStack's event spec: Segment's, with `originalTimestamp` when RudderStack set no `timestamp`."""

    name = "rudderstack"
    reference = "https://www.rudderstack.com/docs/event-spec/standard-events/"
    tables = _tables("timestamp || originalTimestamp")
    original_timestamp = True


def _user(item: Any) -> str | None:
    value = _USER(item)
    if value is None or value == "":
        return None
    try:
        return to_id(value)
    except ValueError as exc:
        raise Failure(DeadLetterReason.UNMAPPED, f"user_id: `userId || anonymousId` {exc}") from None


def _time(item: Any, reader: Reader) -> int | None:
    """Return the call's event time for a link or a patch, or None when it has none that reads."""
    try:
        return to_time_ms(item.get("timestamp") or item.get("originalTimestamp"), reader.unit_ms, reader.min_ms)
    except ValueError:
        return None
