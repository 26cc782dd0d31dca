"""The mapping micro-benchmark runs every preset over generated traffic (its figures are for BENCHMARKS.md)."""

from __future__ import annotations

from healthmon.bench.mapping import render_mapping, run_mapping_bench, summary


def test_every_preset_is_timed_on_what_it_maps():
    rows = run_mapping_bench(accounts=10, days=10, repeat=1)
    names = {(r.name, r.kind) for r in rows}
    assert {("healthmon", "usage"), ("segment", "usage"), ("segment (preset path)", "usage"), ("snowplow", "usage"),
            ("cloudevents", "usage"), ("zendesk", "ticket"), ("intercom", "ticket"), ("debezium", "account"),
            ("rudderstack", "usage"), ("segment", "account")} <= names
    assert all(r.messages > 0 and r.events > 0 and r.seconds > 0 for r in rows)
    usage = [r for r in rows if r.kind == "usage"]
    assert len({r.events for r in usage}) == 1  # every usage input maps the same events
    figures = summary(rows)
    assert figures["us_per_event_mapping"] == figures["us_per_message"]["segment usage"] > 0
    assert "segment (preset path)" in render_mapping(rows)
