"""Map sample messages of one input and count what became of them: `healthmon inputs check --sample`.

Pure: messages in (value, key, headers and where they came from), a report out. A rejection counts
under its field (the part of its error before the first colon, `(message)` for a whole-message one such
as `not_json`) and its reason, with the first example kept.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from healthmon.ingest.formats import InputMapper, Mapped
from healthmon.ingest.formats.preset import Headers
from healthmon.ingest.formats.spec import InputSpec

__all__ = ["Example", "SampleReport"]

#: the contract field a rejection names, when it names none
WHOLE_MESSAGE = "(message)"


@dataclass
class Example:
    """The first rejection of one (field, reason): where it was and what it said."""

    position: str
    error: str
    count: int = 0


@dataclass
class SampleReport:
    """What a sample of one input mapped to."""

    spec: InputSpec
    now_ms: int
    max_bytes: int = 1_048_576
    max_future_skew_ms: int = 300_000
    messages: int = 0
    #: items mapped by what they became: events, linked, replacements, links, patches, removals, ignored
    outcomes: Counter[str] = field(default_factory=Counter)
    #: (field, reason) -> its first example and its count
    failures: dict[tuple[str, str], Example] = field(default_factory=dict)
    #: ignored items by reason
    ignored: Counter[str] = field(default_factory=Counter)
    _mapper: InputMapper | None = None

    def add(self, position: str, value: bytes | None, key: bytes | None = None, headers: Headers | None = None) -> None:
        """Map one message (`position` names it: `line 12`, `partition 0 offset 41`) and count it."""
        if self._mapper is None:
            self._mapper = InputMapper(self.spec)
        self.messages += 1
        out = self._mapper.map(value, key, headers, now_ms=self.now_ms, max_bytes=self.max_bytes,
                               max_future_skew_ms=self.max_future_skew_ms)
        self._count(position, out)

    def _count(self, position: str, out: Mapped) -> None:
        for name, items in (("events", out.events), ("linked", out.linked), ("replacements", out.replacements),
                            ("links", out.links), ("patches", out.patches), ("removals", out.removals)):
            if items:
                self.outcomes[name] += len(items)
        for item in out.ignored:
            self.outcomes["ignored"] += 1
            self.ignored[item.reason] += 1
        for rejection in out.rejections:
            self.outcomes["rejected"] += 1
            head, sep, _ = rejection.error.partition(":")
            name = head if sep and head and " " not in head else WHOLE_MESSAGE
            where = position if rejection.index is None else f"{position} item {rejection.index}"
            example = self.failures.setdefault((name, rejection.reason.value), Example(where, rejection.error))
            example.count += 1

    @property
    def mapped(self) -> int:
        """Return how many items mapped to something healthmon uses (all but the ignored and rejected)."""
        return sum(n for name, n in self.outcomes.items() if name not in ("ignored", "rejected"))

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON-ready values."""
        return {
            "topic": self.spec.topic, "kind": self.spec.kind_name, "format": self.spec.format,
            "messages": self.messages, "mapped": self.mapped, "outcomes": dict(sorted(self.outcomes.items())),
            "ignored": dict(sorted(self.ignored.items())),
            "failures": [{"field": name, "reason": reason, "count": ex.count, "example": {"position": ex.position,
                                                                                         "error": ex.error}}
                         for (name, reason), ex in sorted(self.failures.items())],
        }

    def render(self) -> str:
        """Return the report as text lines."""
        counts = ", ".join(f"{n:,} {name}" for name, n in sorted(self.outcomes.items())) or "nothing"
        lines = [f"{self.spec.topic} ({self.spec.kind_name}, {self.spec.format}): {self.messages:,} messages, "
                 f"{self.mapped:,} mapped ({counts})"]
        for reason, n in sorted(self.ignored.items()):
            lines.append(f"  {'ignored':<17} {n:>7,}  {reason}")
        for (name, reason), ex in sorted(self.failures.items()):
            lines.append(f"  {reason:<17} {ex.count:>7,}  {name}; e.g. {ex.position}: {ex.error}")
        return "\n".join(lines)
