"""The inputs file: the issue's example loads; every mistake is an error named by its path."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthmon.ingest.inputs import InputsError, InputSpec, default_inputs, inputs_or_default, load_inputs, parse_inputs

ROOT = Path(__file__).resolve().parents[2]
ISSUE_EXAMPLE = """
inputs:
  - topic: segment-tracks          # any number of topics per kind
    kind: usage                    # usage | tickets | nps | accounts
    format: segment                # a preset, or `mapping` (below)
  - topic: segment-groups
    kind: accounts
    format: segment                # group calls: account traits, and the user -> account link
  - topic: zendesk-ticket-events
    kind: tickets
    format: zendesk
    account_link: zendesk_org      # resolve detail.organization_id through the link below
  - topic: delighted-responses
    kind: nps
    format: delighted
    fields: {account_id: event_data.person_properties.account_id}
  - topic: crm.public.accounts
    kind: accounts
    format: debezium
    fields: {account_id: id, name: name, tier: plan, seats: seats, arr: arr, csm: owner_email,
             contract_start: contract_start, renewal_date: renewal_date}
    values: {tier: {enterprise: strategic, growth: key, starter: standard}}
    links: {zendesk_org: zendesk_org_id}   # this value names this account for `account_link`
"""
TOPICS = {"usage": "product-usage", "ticket": "support-tickets", "nps": "nps-responses", "account": "accounts"}


def test_the_issue_example_loads():
    inputs = parse_inputs(ISSUE_EXAMPLE)
    assert [(s.topic, s.kind, s.format) for s in inputs.inputs] == [
        ("segment-tracks", "usage", "segment"), ("segment-groups", "account", "segment"),
        ("zendesk-ticket-events", "ticket", "zendesk"), ("delighted-responses", "nps", "delighted"),
        ("crm.public.accounts", "account", "debezium")]
    zendesk, crm = inputs.inputs[2], inputs.inputs[4]
    assert zendesk.account_link == "zendesk_org" and crm.links == {"zendesk_org": "zendesk_org_id"}
    assert crm.values == {"tier": {"enterprise": "strategic", "growth": "key", "starter": "standard"}}
    assert not inputs.native


def test_the_example_file_of_deploy_loads_and_covers_every_preset():
    from healthmon.ingest.formats import FORMATS

    inputs = load_inputs(ROOT / "deploy" / "inputs.example.yaml")
    assert {spec.format for spec in inputs.inputs} == set(FORMATS) - {"healthmon", "mapping"}


def test_without_a_file_the_four_native_topics():
    inputs = inputs_or_default(None, TOPICS)
    assert inputs == default_inputs(TOPICS) and inputs.native and inputs.source == "defaults"
    assert [(s.topic, s.kind) for s in inputs.inputs] == [
        ("product-usage", "usage"), ("support-tickets", "ticket"), ("nps-responses", "nps"), ("accounts", "account")]
    assert inputs.of_kind("ticket") == (InputSpec("support-tickets", "ticket"),)


def _errors(text: str) -> list[str]:
    with pytest.raises(InputsError) as info:
        parse_inputs(text)
    return info.value.errors


def _one(body: str, *more: str) -> str:
    return "inputs:\n" + "".join(f"  - {{{item}}}\n" for item in (body, *more))


@pytest.mark.parametrize("text, error", [
    ("", "<root>: must be a mapping"),
    ("inputs: []", "inputs: must be a non-empty list of inputs"),
    ("inputs: {a: 1}", "inputs: must be a non-empty list of inputs"),
    ("topics: []", "topics: unknown key"),
    (_one("topic: a, kind: usage, colour: red"), "inputs[0].colour: unknown key"),
    (_one("kind: usage"), "inputs[0].topic: required"),
    (_one("topic: a"), "inputs[0].kind: required"),
    (_one("topic: 'a b', kind: usage"), "inputs[0].topic: must be a Kafka topic name"),
    (_one("topic: a, kind: ticket"), "inputs[0].kind: must be one of usage, tickets, nps, accounts"),
    (_one("topic: a, kind: usage, format: segmnt"), "inputs[0].format: unknown format 'segmnt' (expected one of "
                                                    "healthmon, segment, rudderstack"),
    (_one("topic: a, kind: usage, format: zendesk"), "inputs[0].format: zendesk reads tickets, not usage"),
    (_one("topic: a, kind: accounts, format: delighted"), "inputs[0].format: delighted reads nps, not accounts"),
    (_one("topic: a, kind: usage", "topic: a, kind: nps"), "inputs[1].topic: 'a' is also inputs[0]"),
    (_one("topic: a, kind: usage, time_unit: h"), "inputs[0].time_unit: must be one of ms, s"),
    (_one("topic: a, kind: usage, format: segment, fields: {account_id: 'foo['}"),
     "inputs[0].fields.account_id: not a JMESPath expression (it ends too early)"),
    (_one("topic: a, kind: usage, format: segment, fields: {account_id: ''}"),
     "inputs[0].fields.account_id: not a JMESPath expression (empty)"),
    (_one("topic: a, kind: usage, format: segment, fields: {score: x}"),
     "inputs[0].fields.score: not a field of usage (expected one of event_id, account_id"),
    (_one("topic: a, kind: usage, format: segment, fields: [a]"), "inputs[0].fields: must be a mapping"),
    (_one("topic: a, kind: usage, format: snowplow"), "inputs[0].fields.account_id: required (snowplow does not "
                                                      "read it: name the context that holds it"),
    (_one("topic: a, kind: nps, format: delighted"), "inputs[0].fields.account_id: required (delighted does not"),
    (_one("topic: a, kind: tickets, format: intercom"), "inputs[0].fields.account_id: required (intercom"),
    (_one("topic: a, kind: usage, format: cloudevents"), "inputs[0].fields.account_id: required (cloudevents"),
    (_one("topic: a, kind: tickets, format: cloudevents, fields: {account_id: x}"),
     "inputs[0].fields.priority: required (cloudevents does not read it)"),
    (_one("topic: a, kind: usage, format: mapping, fields: {event_id: id}"),
     "inputs[0].fields.user_id: required (every field comes from `fields`)"),
    (_one("topic: a, kind: tickets, format: zendesk, values: {status: {pending: updated}}"),
     "inputs[0].values.status: no expression reads status: zendesk derives it"),
    (_one("topic: a, kind: tickets, format: zendesk, values: {csat: {good: 5}}"),
     "inputs[0].values.csat: no expression reads csat: give fields.csat to read a source value"),
    (_one("topic: a, kind: tickets, format: zendesk, values: {priority: {p1: critical}}"),
     "inputs[0].values.priority.p1: 'critical' is not a priority (expected one of low, normal, high, urgent)"),
    (_one("topic: a, kind: accounts, format: segment, values: {tier: {gold: platinum}}"),
     "inputs[0].values.tier.gold: 'platinum' is not a tier (expected one of strategic, key, standard)"),
    (_one("topic: a, kind: nps, format: delighted, fields: {account_id: x}, values: {score: {great: 11}}"),
     "inputs[0].values.score.great: 11 is not a score (a whole number 0-10)"),
    (_one("topic: a, kind: usage, format: segment, values: {feature: {a: [1]}}"),
     "inputs[0].values.feature.a: [1] is not a value of feature"),
    (_one("topic: a, kind: usage, format: segment, values: {feature: []}"),
     "inputs[0].values.feature: must be a non-empty mapping"),
    (_one("topic: a, kind: usage, format: segment, values: {colour: {a: b}}"),
     "inputs[0].values.colour: not a field of usage"),
    (_one("topic: a, kind: usage, format: segment, values: [1]"), "inputs[0].values: must be a mapping"),
    (_one("topic: a, kind: tickets, format: zendesk, account_link: nowhere"),
     "inputs[0].account_link: no input declares link 'nowhere' (declare it under `links` of an accounts input)"),
    (_one("topic: a, kind: tickets, format: zendesk, account_link: 'Bad-Name'"),
     "inputs[0].account_link: must be a link name"),
    (_one("topic: a, kind: usage, format: snowplow, fields: {account_id: x}, account_link: user"),
     "inputs[0].account_link: link 'user' comes from segment or rudderstack inputs, and there is none"),
    (_one("topic: a, kind: accounts, format: debezium, account_link: crm"),
     "inputs[0].account_link: an accounts input names its accounts itself"),
    (_one("topic: a, kind: usage, format: segment, links: {org: x}"),
     "inputs[0].links: only accounts inputs declare links"),
    (_one("topic: a, kind: accounts, format: debezium, links: {user: x}"),
     "inputs[0].links.user: is the link segment and rudderstack calls fill"),
    (_one("topic: a, kind: accounts, format: debezium, links: {'Org-Id': x}"),
     "inputs[0].links.Org-Id: must be a link name"),
    (_one("topic: a, kind: accounts, format: debezium, links: {org: 'a[?'}"),
     "inputs[0].links.org: not a JMESPath expression"),
    ("inputs:\n  - topic: a\n    topic: b\n    kind: usage\n", "yaml: line 3, column 5: duplicate key 'topic'"),
    ("inputs: [", "yaml: line 1"),
])
def test_each_mistake_is_named_by_its_path(text, error):
    errors = _errors(text)
    assert any(e.startswith(error) for e in errors), errors


def test_every_error_is_reported_at_once():
    errors = _errors(_one("topic: a, kind: usage, format: segmnt", "topic: b, kind: nps, format: delighted",
                          "topic: c, kind: tickets, format: zendesk, account_link: org"))
    assert [e.split(":")[0] for e in errors] == ["inputs[0].format", "inputs[1].fields.account_id",
                                                 "inputs[2].account_link"]


def test_a_link_declared_by_an_accounts_input_is_known_to_the_others():
    inputs = parse_inputs(_one("topic: z, kind: tickets, format: zendesk, account_link: org",
                               "topic: c, kind: accounts, format: debezium, links: {org: org_id}"))
    assert inputs.inputs[0].account_link == "org"


def test_the_user_link_is_known_once_a_segment_input_exists():
    inputs = parse_inputs(_one("topic: s, kind: usage, format: segment",
                               "topic: i, kind: tickets, format: intercom, account_link: user, "
                               "fields: {account_id: 'data.item.contacts.contacts[0].external_id'}"))
    assert inputs.inputs[1].account_link == "user"


def test_an_unreadable_file_is_an_error(tmp_path):
    with pytest.raises(InputsError) as info:
        load_inputs(tmp_path / "missing.yaml")
    assert info.value.errors[0].startswith("file: cannot read:")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(InputsError, match="cannot read"):
        load_inputs(bad)
