"""The layers run one way: `healthmon.worker` and the CLI wire `agents`, which use `streams`, never back up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import agents
import streams

ROOT = Path(streams.__file__).parent.parent
#: package directory -> top-level modules it must not import (the layers above it)
ABOVE = {
    "streams": ("agents", "healthmon.worker", "healthmon.cli"),
    "agents": ("healthmon.worker", "healthmon.cli"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return names


@pytest.mark.parametrize("path", sorted([*Path(streams.__file__).parent.glob("*.py"),
                                         *Path(agents.__file__).parent.glob("*.py")]),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    forbidden = ABOVE[path.parent.name]
    upward = {m for m in _imports(path) if any(m == f or m.startswith(f + ".") for f in forbidden)}
    assert not upward, f"{path.relative_to(ROOT)} imports {sorted(upward)}"
