"""Read and validate an inputs file (`HEALTHMON_INPUTS_FILE`): every error named by its path, or the inputs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from healthmon.core.policy import PolicyError, _load_yaml
from healthmon.ingest.formats.spec import InputsFile, default_inputs
from healthmon.ingest.inputs.checks import check_inputs

__all__ = ["InputsError", "inputs_or_default", "load_inputs", "parse_inputs"]


class InputsError(ValueError):
    """The inputs file is invalid; `errors` lists every problem as `path: message`."""

    def __init__(self, errors: list[str], source: str = "inputs") -> None:
        self.errors = list(errors)
        super().__init__(f"{source}: {len(self.errors)} error(s):\n" + "\n".join(f"  {e}" for e in self.errors))


def parse_inputs(doc: Mapping[str, Any] | str, source: str = "inputs") -> InputsFile:
    """Validate an inputs document given as a mapping or YAML text; raise `InputsError` listing every problem."""
    if isinstance(doc, str):
        try:
            # The policy's YAML loader: safe, and a duplicate key is an error rather than the last one winning.
            doc = _load_yaml(doc, source)
        except PolicyError as exc:
            raise InputsError(exc.errors, source) from None
    specs, errors = check_inputs(doc)
    if errors:
        raise InputsError(errors, source)
    return InputsFile(tuple(specs), source)


def load_inputs(path: str | Path) -> InputsFile:
    """Read and validate a YAML inputs file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputsError([f"file: cannot read: {exc}"], str(path)) from None
    return parse_inputs(text, str(path))


def inputs_or_default(path: str | Path | None, topics: Mapping[str, str]) -> InputsFile:
    """Return the inputs of the file at `path`, or without one today's four topics (`topics`: kind -> topic)."""
    return default_inputs(topics) if path is None or str(path) == "" else load_inputs(path)
