"""The mapping layer is pure: no Faust, Kafka or Redis, and nothing of the stream glue or the agents."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import healthmon.ingest.formats as formats
import healthmon.ingest.inputs as inputs

FORBIDDEN = ("faust", "aiokafka", "kafka", "redis", "mode", "streams", "agents", "healthmon.worker", "healthmon.cli")
MODULES = sorted([*Path(formats.__file__).parent.glob("*.py"), *Path(inputs.__file__).parent.glob("*.py")])


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_module_imports_nothing_impure(path: Path) -> None:
    tree = ast.parse(path.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {m for m in imported if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)}


def test_public_api() -> None:
    for module in (formats, inputs):
        assert module.__all__
        for name in module.__all__:
            assert getattr(module, name) is not None
