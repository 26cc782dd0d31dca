"""The inputs file as typed values: which topics healthmon reads, of which kind, in which shape.

Without a file, `default_inputs` gives today's four topics in healthmon's own shape. `load_inputs` reads and
validates a file (`healthmon.ingest.inputs`) into the same `InputsFile`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from healthmon.core.vocabulary import InputKind

__all__ = ["FILE_KINDS", "KIND_NAMES", "NATIVE", "InputSpec", "InputsFile", "default_inputs"]

#: The `kind` words of the file -> healthmon's input kinds.
FILE_KINDS: dict[str, InputKind] = {"usage": "usage", "tickets": "ticket", "nps": "nps", "accounts": "account"}
#: healthmon's input kinds -> the `kind` words of the file.
KIND_NAMES: dict[InputKind, str] = {kind: name for name, kind in FILE_KINDS.items()}
#: The native format: today's four JSON shapes (`schemas/events.py`).
NATIVE = "healthmon"


@dataclass(frozen=True)
class InputSpec:
    """One input of the file: a topic, the kind of records on it, and how to read them."""

    topic: str
    kind: InputKind
    format: str = NATIVE
    #: contract field -> JMESPath expression, as given in the file (over the preset's own table)
    fields: Mapping[str, str] = field(default_factory=dict)
    #: contract field -> {source value: contract value}
    values: Mapping[str, Mapping[Any, Any]] = field(default_factory=dict)
    #: link name -> JMESPath expression whose value names this account (accounts inputs only)
    links: Mapping[str, str] = field(default_factory=dict)
    #: the link that turns the account value read into an account id (None: the value is the account id)
    account_link: str | None = None
    #: unit of numeric times: `ms` or `s` (None: the format's own, seconds for Intercom and Delighted)
    time_unit: str | None = None

    @property
    def kind_name(self) -> str:
        """Return the kind as the file spells it (`tickets`)."""
        return KIND_NAMES[self.kind]


@dataclass(frozen=True)
class InputsFile:
    """Every input healthmon reads, from a file or the defaults."""

    inputs: tuple[InputSpec, ...]
    #: where it came from: a path, or `defaults` when no file is set
    source: str = "defaults"

    def of_kind(self, kind: InputKind) -> tuple[InputSpec, ...]:
        """Return the inputs of one kind, in file order."""
        return tuple(spec for spec in self.inputs if spec.kind == kind)

    def by_topic(self) -> dict[str, InputSpec]:
        """Return each input by its topic name."""
        return {spec.topic: spec for spec in self.inputs}

    @property
    def native(self) -> bool:
        """Return whether every input is in healthmon's own shape, as without a file."""
        return all(spec.format == NATIVE and not spec.fields and not spec.values and spec.account_link is None
                   for spec in self.inputs)


def default_inputs(topics: Mapping[str, str]) -> InputsFile:
    """Return today's inputs: `topics` maps each input kind (`usage`, `ticket`, `nps`, `account`) to its topic."""
    return InputsFile(tuple(InputSpec(topic=topics[kind], kind=kind) for kind in FILE_KINDS.values()))
