"""Which shape each kind takes in `generate --format`, and the example inputs file's topics."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthmon.generator.formats import EXAMPLE_TOPICS, GENERATED_FORMATS, check_topics, plan_formats, topics_of
from healthmon.ingest.inputs import load_inputs

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_inputs_file_names_the_generators_topics():
    assert topics_of(load_inputs(ROOT / "deploy" / "inputs.example.yaml")) == EXAMPLE_TOPICS


@pytest.mark.parametrize("formats, shapes, links", [
    (["healthmon"], {"usage": "healthmon", "ticket": "healthmon", "nps": "healthmon", "account": "healthmon"}, None),
    (["segment"], {"usage": "segment", "ticket": "healthmon", "nps": "healthmon", "account": "segment"}, "segment"),
    (["zendesk"], {"usage": "healthmon", "ticket": "zendesk", "nps": "healthmon", "account": "debezium"}, None),
    (["segment", "zendesk", "delighted", "debezium"],
     {"usage": "segment", "ticket": "zendesk", "nps": "delighted", "account": "debezium"}, "segment"),
    (["debezium", "rudderstack"],
     {"usage": "rudderstack", "ticket": "healthmon", "nps": "healthmon", "account": "debezium"}, "rudderstack"),
    (["snowplow", "intercom"], {"usage": "snowplow", "ticket": "intercom", "nps": "healthmon", "account": "healthmon"},
     None),
])
def test_plans(formats, shapes, links):
    plan = plan_formats(formats)
    assert (plan.shapes, plan.links) == (shapes, links)
    assert not check_topics(plan, EXAMPLE_TOPICS)


@pytest.mark.parametrize("formats, error", [
    (["segmnt"], "unknown format 'segmnt'"),
    (["segment", "snowplow"], "segment and snowplow both shape usage: pick one"),
    (["zendesk", "intercom"], "zendesk and intercom both shape ticket"),
])
def test_bad_plans(formats, error):
    with pytest.raises(ValueError, match=error):
        plan_formats(formats)


def test_every_format_is_one_the_inputs_file_reads():
    from healthmon.ingest.formats import FORMATS

    assert set(GENERATED_FORMATS) <= set(FORMATS)


def test_missing_topics_are_named():
    assert check_topics(plan_formats(["segment", "delighted"]), {("segment", "usage"): "t"}) == [
        "delighted nps", "segment account"]
