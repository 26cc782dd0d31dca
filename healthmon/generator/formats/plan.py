"""Which source shape each input kind takes in `generate --format`, and the topics each shape goes to.

A format shapes the kinds it can carry (`FORMAT_KINDS`); each kind takes the first listed format that
carries it, and the kinds no listed format carries stay in healthmon's own shape. Two rules come from how
the sources name accounts:
- Zendesk tickets name Zendesk organizations, which Debezium account rows link to accounts
  (`zendesk_org_id`): with `zendesk`, the accounts are Debezium rows.
- Debezium rows are the CRM, the profile's source of truth: with `debezium`, Segment and RudderStack
  `group` calls only link users to accounts and carry no traits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from healthmon.core.vocabulary import INPUT_KINDS

__all__ = ["EXAMPLE_TOPICS", "FORMAT_KINDS", "GENERATED_FORMATS", "NATIVE", "Plan", "check_topics", "plan_formats",
           "topics_of"]

NATIVE = "healthmon"
#: format -> the input kinds it carries (healthmon's kind names)
FORMAT_KINDS: dict[str, tuple[str, ...]] = {
    NATIVE: INPUT_KINDS,
    "segment": ("usage", "account"), "rudderstack": ("usage", "account"), "snowplow": ("usage",),
    "cloudevents": ("usage",), "zendesk": ("ticket",), "intercom": ("ticket",), "delighted": ("nps",),
    "debezium": ("account",),
}
GENERATED_FORMATS = tuple(FORMAT_KINDS)
#: (format, kind) -> its topic in deploy/inputs.example.yaml (tests hold the two together)
EXAMPLE_TOPICS: dict[tuple[str, str], str] = {
    ("segment", "usage"): "segment-tracks", ("segment", "account"): "segment-groups",
    ("rudderstack", "usage"): "rudderstack-tracks", ("rudderstack", "account"): "rudderstack-groups",
    ("snowplow", "usage"): "snowplow-enriched", ("cloudevents", "usage"): "cloudevents-usage",
    ("zendesk", "ticket"): "zendesk-ticket-events", ("intercom", "ticket"): "intercom-conversations",
    ("delighted", "nps"): "delighted-responses", ("debezium", "account"): "crm.public.accounts",
}
_LINKERS = ("segment", "rudderstack")


@dataclass(frozen=True)
class Plan:
    """The shape of each input kind, and who writes the `user` links."""

    #: input kind -> format
    shapes: dict[str, str]
    #: the Segment-family format whose `group` calls link half the users to their accounts, if any
    links: str | None = None

    @property
    def formats(self) -> list[str]:
        """Return the formats used, in kind order."""
        return list(dict.fromkeys(self.shapes.values()))


def plan_formats(formats: Sequence[str]) -> Plan:
    """Return the plan of `formats` (`generate --format a,b`); raise `ValueError` naming a bad choice."""
    unknown = [f for f in formats if f not in FORMAT_KINDS]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r} (choose from {', '.join(GENERATED_FORMATS)})")
    chosen = list(dict.fromkeys(formats))
    if "zendesk" in chosen and "debezium" not in chosen:
        chosen.append("debezium")
    shapes: dict[str, str] = {}
    for kind in FORMAT_KINDS[NATIVE]:
        carriers = [f for f in chosen if f != NATIVE and kind in FORMAT_KINDS[f]]
        if kind == "account" and "debezium" in carriers:
            carriers = ["debezium"]
        elif kind != "account" and len(carriers) > 1:
            raise ValueError(f"{' and '.join(carriers)} both shape {kind}: pick one")
        shapes[kind] = carriers[0] if carriers else NATIVE
    links = shapes["usage"] if shapes["usage"] in _LINKERS else None
    if shapes["account"] in _LINKERS and shapes["account"] != shapes["usage"]:
        raise ValueError(f"{shapes['account']} groups need {shapes['account']} tracks: list it for usage too")
    return Plan(shapes, links)


def topics_of(inputs: object) -> dict[tuple[str, str], str]:
    """Return (format, kind) -> topic of an `InputsFile`: the first input of each format and kind."""
    out: dict[tuple[str, str], str] = {}
    for spec in getattr(inputs, "inputs", ()):
        out.setdefault((spec.format, spec.kind), spec.topic)
    return out


def check_topics(plan: Plan, topics: Mapping[tuple[str, str], str]) -> list[str]:
    """Return what the topics lack for `plan` (`segment usage`), empty when every shaped kind has a topic."""
    needed = [(fmt, kind) for kind, fmt in plan.shapes.items() if fmt != NATIVE]
    if plan.links is not None:
        needed.append((plan.links, "account"))
    return [f"{fmt} {kind}" for fmt, kind in dict.fromkeys(needed) if (fmt, kind) not in topics]
