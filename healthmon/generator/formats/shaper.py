"""Shape generated traffic: each native record in the format the plan gives its kind, in the same order."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import partial

from ..records import Record
from ..traffic import Traffic
from .debezium import account_row
from .events import cloudevent, snowplow_event
from .message import Message, ShapeFn, Shaping, json_bytes
from .plan import NATIVE, Plan
from .segment import group_calls, track
from .support import delighted_response, intercom_conversation, zendesk_ticket

__all__ = ["SHAPES", "RecordShaper", "shape_records", "shape_traffic"]

#: (format, kind) -> the function shaping a record of that kind (Segment-family profiles are handled apart)
SHAPES: dict[tuple[str, str], ShapeFn] = {
    ("segment", "usage"): partial(track, "segment"), ("rudderstack", "usage"): partial(track, "rudderstack"),
    ("snowplow", "usage"): snowplow_event, ("cloudevents", "usage"): cloudevent,
    ("zendesk", "ticket"): zendesk_ticket, ("intercom", "ticket"): intercom_conversation,
    ("delighted", "nps"): delighted_response, ("debezium", "account"): account_row,
}


def shape_traffic(traffic: Traffic, plan: Plan, topics: Mapping[tuple[str, str], str],
                  native_topics: Mapping[str, str], *, binary: bool = True) -> Iterator[Message]:
    """Yield `traffic` in the shapes of `plan`: to `topics` ((format, kind) -> topic), native kinds to
    `native_topics` (kind -> topic). `binary` lets CloudEvents use binary mode (files cannot: no headers)."""
    shaper = RecordShaper(traffic, plan, topics, native_topics, binary=binary)
    for record in traffic.records():
        yield from shaper(record)


class RecordShaper:
    """Shape `traffic`'s records one call at a time (a sender of parts of it), as `shape_traffic` shapes them:
    records shaped in the same order give the same messages."""

    def __init__(self, traffic: Traffic, plan: Plan, topics: Mapping[tuple[str, str], str],
                 native_topics: Mapping[str, str], *, binary: bool = True) -> None:
        self.plan = plan
        self.native_topics = native_topics
        self.shaping = Shaping(topics=dict(topics), accounts={a.account_id: a for a in traffic.accounts},
                               binary=binary, links=plan.links)

    def __call__(self, record: Record) -> list[Message]:
        """Return the messages of one record."""
        return _shape(self.shaping, self.plan, self.native_topics, record)


def shape_records(traffic: Traffic, plan: Plan, topics: Mapping[tuple[str, str], str],
                  native_topics: Mapping[str, str], *, binary: bool = True) -> Iterator[tuple[Record, list[Message]]]:
    """Yield each record of `traffic` with its messages, as `shape_traffic` shapes them."""
    shaper = RecordShaper(traffic, plan, topics, native_topics, binary=binary)
    for record in traffic.records():
        yield record, shaper(record)


def _shape(shaping: Shaping, plan: Plan, native_topics: Mapping[str, str], record: Record) -> list[Message]:
    account = shaping.accounts[record.key]
    fmt = plan.shapes[record.kind]
    out: list[Message] = []
    if record.kind == "account" and plan.links is not None:
        # The group calls of a Segment-family source: the profile's traits when it carries profiles,
        # and the links of half the users either way.
        out += group_calls(plan.links, shaping, record, account, traits=fmt == plan.links)
        if fmt == plan.links:
            return out
    if fmt == NATIVE:
        out.append(Message(native_topics[record.kind], record.key.encode(), json_bytes(record.value), record.kind,
                           record.occurred_at))
    else:
        out += SHAPES[(fmt, record.kind)](shaping, record, account)
    return out
