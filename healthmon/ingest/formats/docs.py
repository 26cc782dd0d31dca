"""The field table of every preset, as README.md shows it (`python -m healthmon.ingest.formats.docs` prints it).

A test holds the README to this rendering, so the tables cannot drift from the presets' own definitions.
"""

from __future__ import annotations

from healthmon.ingest.formats.presets import PRESETS
from healthmon.ingest.formats.spec import KIND_NAMES

__all__ = ["DOCUMENTED", "preset_tables"]

#: the presets the README documents, in its order (`healthmon` and `mapping` are described in prose)
DOCUMENTED = ("segment", "rudderstack", "snowplow", "cloudevents", "zendesk", "intercom", "delighted", "debezium")


def preset_tables() -> str:
    """Return one Markdown table per preset: each kind's contract fields, what reads them, and notes."""
    parts = []
    for name in DOCUMENTED:
        preset = PRESETS[name]
        unit = f" Numeric times are epoch {'seconds' if preset.time_unit == 's' else 'milliseconds'}" \
               " unless `time_unit` says otherwise."
        lines = [f"**`{name}`** ([spec]({preset.reference})).{unit}", "",
                 "| kind | field | read from | notes |", "|---|---|---|---|"]
        for kind, table in preset.tables.items():
            for field, default in table.items():
                source = f"`{default.expr}`" if default.expr else ("derived" if default.derived else "(from `fields`)")
                cells = (KIND_NAMES[kind], f"`{field}`", source, default.note)
                lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    print(preset_tables(), end="")
