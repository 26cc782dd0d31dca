"""Generated traffic in the shapes of real sources (`healthmon generate --format`).

The same accounts, users and events as `healthmon.generator.generate`, as Segment or RudderStack calls,
Snowplow enriched events, CloudEvents, Zendesk ticket events, Intercom conversation webhooks, Delighted
survey responses and Debezium rows of a CRM, to the topics of deploy/inputs.example.yaml (or of any inputs
file). Pure, like the rest of the generator: messages out, nothing sent.
"""

from .message import Message, zendesk_org_id
from .plan import EXAMPLE_TOPICS, FORMAT_KINDS, GENERATED_FORMATS, NATIVE, Plan, check_topics, plan_formats, topics_of
from .shaper import SHAPES, RecordShaper, shape_traffic

__all__ = [
    "EXAMPLE_TOPICS", "FORMAT_KINDS", "GENERATED_FORMATS", "NATIVE", "SHAPES", "Message", "Plan", "RecordShaper",
    "check_topics", "plan_formats", "shape_traffic", "topics_of", "zendesk_org_id",
]
