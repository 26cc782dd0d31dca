"""Read the contract fields of one input's items: its effective field table, compiled once.

The table is the preset's, with the file's `fields` over it; each expression is compiled once
(`paths.compile_path`), `values` are applied to what it finds, then the value is converted to the
contract's type. `emit` turns the values of one item into an event for its account, or for the link
that will name its account.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from healthmon.core.vocabulary import InputKind
from healthmon.ingest.formats import contract
from healthmon.ingest.formats.contract import Failure
from healthmon.ingest.formats.convert import TIME_UNITS, to_id, to_time_ms
from healthmon.ingest.formats.mapped import LinkedEvent, LinkUpdate, Mapped
from healthmon.ingest.formats.paths import FieldPath, compile_path
from healthmon.ingest.formats.preset import Preset
from healthmon.ingest.formats.spec import InputSpec
from schemas.deadletter import DeadLetterReason
from schemas.events import MIN_OCCURRED_AT_MS

__all__ = ["Reader", "effective_table"]

_TIMES = frozenset({"occurred_at", "updated_at"})
#: `emit` reads the account itself
_UNREAD: Any = object()
#: a field's plan: (search, values map, lower-case values map, conversion, expression text)
_Plan = tuple[Callable[[Any], Any], Mapping[Any, Any] | None, Mapping[str, Any] | None, Callable[[Any], Any], str]


def effective_table(preset: Preset, spec: InputSpec) -> dict[str, str]:
    """Return contract field -> expression read for `spec`: the preset's table with the file's `fields` over it."""
    table = {name: d.expr for name, d in preset.tables[spec.kind].items() if d.expr is not None}
    table.update(spec.fields)
    return table


class Reader:
    """One input's compiled field table and the settings that shape its events."""

    def __init__(self, spec: InputSpec, preset: Preset, *, now_ms: int = 0, max_future_skew_ms: int = 0) -> None:
        self.spec = spec
        self.kind: InputKind = spec.kind
        self.preset = preset
        self.link = spec.account_link
        self.unit_ms = TIME_UNITS[spec.time_unit or preset.time_unit]
        self.paths: dict[str, FieldPath] = {name: compile_path(expr)
                                            for name, expr in effective_table(preset, spec).items()}
        #: the contract fields of its kind but the account, which `emit` and `profile` read themselves
        self.fields = tuple(name for name in contract.CONTRACT_FIELDS[spec.kind] if name != "account_id")
        #: expression text of each field, for error messages
        self.sources = {name: path.expr for name, path in self.paths.items()}
        self.links: dict[str, FieldPath] = {name: compile_path(expr) for name, expr in spec.links.items()}
        self._plans: dict[str, _Plan] = {name: self._plan(name, path) for name, path in self.paths.items()}
        #: what a preset builds once per input (the Segment traits reader of a usage input)
        self.aux: dict[str, object] = {}
        #: the wall clock of the message being mapped, and the future-skew limit (set by the mapper)
        self.now_ms = now_ms
        self.max_future_skew_ms = max_future_skew_ms
        #: the earliest event time accepted (`HEALTHMON_MIN_OCCURRED_AT`, set by the mapper)
        self.min_ms = MIN_OCCURRED_AT_MS

    def _plan(self, name: str, path: FieldPath) -> _Plan:
        values = self.spec.values.get(name)
        lower = {k.lower(): v for k, v in values.items() if isinstance(k, str)} if values else None
        conv: Callable[[Any], Any] = contract.CONVERTERS.get(name, _same)
        if name in _TIMES:
            unit = self.unit_ms

            def conv(value: Any) -> Any:
                return to_time_ms(value, unit, self.min_ms)
        return path.search, values or None, lower, conv, path.expr

    def has(self, name: str) -> bool:
        """Return whether the field is read by an expression (the preset's or the file's)."""
        return name in self._plans

    def found(self, name: str, item: Any) -> Any:
        """Return what the field's expression finds in `item`, `values` applied, unconverted (None if nothing)."""
        plan = self._plans.get(name)
        if plan is None:
            return None
        try:
            value = plan[0](item)
        except ValueError as exc:
            raise Failure(DeadLetterReason.UNMAPPED, f"{name}: `{plan[4]}` {exc}") from None
        if plan[1] is not None and value is not None:
            value = _lookup(value, plan[1], plan[2])
        return value

    def get(self, name: str, item: Any, *, required: bool = True) -> Any:
        """Return the field's contract value in `item`; raise `Failure` (`unmapped`) when it cannot be read."""
        plan = self._plans.get(name)
        if plan is None:
            if required:
                raise Failure(DeadLetterReason.UNMAPPED, f"{name}: no expression reads it")
            return None
        search, values, lower, conv, expr = plan
        try:
            value = search(item)
        except ValueError as exc:  # a JMESPath function met a value it cannot take
            raise Failure(DeadLetterReason.UNMAPPED, f"{name}: `{expr}` {exc}") from None
        if values is not None and value is not None:
            value = _lookup(value, values, lower)
        if value is None or value == "":
            if required:
                raise Failure(DeadLetterReason.UNMAPPED, f"{name}: `{expr}` found nothing")
            return None
        try:
            return conv(value)
        except ValueError as exc:
            raise Failure(DeadLetterReason.UNMAPPED, f"{name}: `{expr}` {exc}") from None

    def read(self, item: Any, names: tuple[str, ...], values: dict[str, Any]) -> dict[str, Any]:
        """Add to `values` each named field the table reads (required ones must be found) and return it."""
        required = contract.REQUIRED_FIELDS[self.kind]
        for name in names:
            if name in self._plans:
                value = self.get(name, item, required=name in required)
                if value is not None:
                    values[name] = value
        return values

    def emit(self, index: int | None, item: Any, values: dict[str, Any], out: Mapped, *, account: Any = _UNREAD,
             user_key: str | None = None, user_link: str | None = None, replaces: bool = False) -> None:
        """Add the event of `values` to `out`, for its account or for the link that will name it.

        The account is `account_id` as read (`account` when the preset read it already). With
        `account_link`, that value is the key in the link. With no account value and a `user_key`, the
        account is whatever `user_link` maps the user to (a Segment track without a group).
        """
        if account is _UNREAD:
            account = self.get("account_id", item, required=False)
        link, key = self.link, account
        if account is None:
            if user_key is None or user_link is None:
                raise Failure(DeadLetterReason.UNKNOWN_ACCOUNT, f"account_id: {self._nothing('account_id')}")
            link, key = user_link, user_key
        if link is None:
            values["account_id"] = account
            event = contract.build_event(self.kind, values, self.sources, now_ms=self.now_ms,
                                         max_future_skew_ms=self.max_future_skew_ms)
            out.add_replacement(index, event) if replaces else out.events.append((index, event))
            return
        values["account_id"] = "?"  # validated with a stand-in; the link names the real account later
        event = contract.build_event(self.kind, values, self.sources, now_ms=self.now_ms,
                                     max_future_skew_ms=self.max_future_skew_ms)
        event.account_id = ""
        out.add_linked(LinkedEvent(index, link, key, event, replaces))


    def profile(self, index: int | None, item: Any, out: Mapped, *, extra: dict[str, Any] | None = None) -> str:
        """Add the whole profile `item` holds to `out` (a `schemas.events.AccountProfile`) and its links; return
        its account id. `extra` holds fields the preset derived (`updated_at` from an envelope)."""
        account = self.get("account_id", item, required=False)
        if account is None:
            raise Failure(DeadLetterReason.UNKNOWN_ACCOUNT, f"account_id: {self._nothing('account_id')}")
        values = self.read(item, self.fields, {"account_id": account, **(extra or {})})
        profile = contract.build_profile(values, self.sources)
        out.events.append((index, profile))
        self.add_links(item, profile.account_id, out)
        return profile.account_id

    def add_links(self, item: Any, account_id: str | None, out: Mapped, occurred_at: int | None = None) -> None:
        """Add the links whose value `item` holds (`links` of the file) as naming `account_id` (None: unlinked)."""
        for name, path in self.links.items():
            try:
                value = path.search(item)
                if value is None or value == "":
                    continue
                key = to_id(value)
            except ValueError as exc:
                raise Failure(DeadLetterReason.UNMAPPED, f"links.{name}: `{path.expr}` {exc}") from None
            out.add_link(LinkUpdate(name, key, account_id, occurred_at))


    def _nothing(self, name: str) -> str:
        expr = self.sources.get(name)
        return f"`{expr}` found nothing" if expr else "no expression reads it"


def _same(value: Any) -> Any:
    return value


def _lookup(value: Any, values: Mapping[Any, Any], lower: Mapping[str, Any] | None) -> Any:
    try:
        if value in values:
            return values[value]
    except TypeError:  # an unhashable value (an object or a list) maps to nothing
        return value
    if lower and type(value) is str:
        return lower.get(value.lower(), value)
    return value
