"""Every format the inputs file may name, by its `format` word."""

from __future__ import annotations

from healthmon.ingest.formats.cloudevents import CloudEventsPreset
from healthmon.ingest.formats.debezium import DebeziumPreset
from healthmon.ingest.formats.delighted import DelightedPreset
from healthmon.ingest.formats.generic import MappingPreset
from healthmon.ingest.formats.intercom import IntercomPreset
from healthmon.ingest.formats.native import NativePreset
from healthmon.ingest.formats.preset import Preset
from healthmon.ingest.formats.segment import RudderStackPreset, SegmentPreset
from healthmon.ingest.formats.snowplow import SnowplowPreset
from healthmon.ingest.formats.zendesk import ZendeskPreset

__all__ = ["FORMATS", "PRESETS"]

PRESETS: dict[str, Preset] = {preset.name: preset for preset in (
    NativePreset(), SegmentPreset(), RudderStackPreset(), SnowplowPreset(), CloudEventsPreset(), ZendeskPreset(),
    IntercomPreset(), DelightedPreset(), DebeziumPreset(), MappingPreset())}
#: the `format` words, in the order the docs list them
FORMATS: tuple[str, ...] = tuple(PRESETS)
