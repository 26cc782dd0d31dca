"""Read the events a company already has: one preset per source family, and `fields` for the rest.

Pure (no Kafka, Faust or Redis): an `InputMapper` turns one message's value, key and headers into a
`Mapped`: contract events, rejections, links, profile patches, removals and ignored items.

- `paths`: JMESPath field expressions, compiled once, with a fast path for plain paths;
- `convert`, `contract`: found values into contract values and events, judged as the native path judges;
- `reader`: one input's effective field table; `mapping`: one message, end to end;
- `native`, `generic`, `segment`, `snowplow`, `cloudevents`, `zendesk`, `intercom`, `delighted`,
  `debezium` (with `debezium_values`): the presets; `presets`: all of them by name.
"""

from healthmon.ingest.formats.mapped import (
    USER_LINK,
    AccountRemoval,
    Ignored,
    LinkedEvent,
    LinkUpdate,
    Mapped,
    ProfilePatch,
)
from healthmon.ingest.formats.mapping import InputMapper
from healthmon.ingest.formats.paths import FieldPath, PathError, compile_path
from healthmon.ingest.formats.preset import Default, Preset
from healthmon.ingest.formats.presets import FORMATS, PRESETS

__all__ = [
    "FORMATS", "PRESETS", "USER_LINK", "AccountRemoval", "Default", "FieldPath", "Ignored", "InputMapper",
    "LinkUpdate", "LinkedEvent", "Mapped", "PathError", "Preset", "ProfilePatch", "compile_path",
]
