"""The core stays pure: no Faust, Kafka or Redis, and no pydantic in the engine modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import healthmon.core as core

CORE = Path(core.__file__).parent
FORBIDDEN = ("faust", "aiokafka", "kafka", "redis", "mode", "streams", "agents", "pydantic")


@pytest.mark.parametrize("path", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_core_module_imports_nothing_impure(path: Path) -> None:
    tree = ast.parse(path.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {m for m in imported if m.split(".")[0] in FORBIDDEN}


def test_public_api() -> None:
    assert set(core.__all__) >= {"Engine", "EngineConfig", "load_policy", "PolicyError", "PipelineClock",
                                 "state_from_bytes", "state_to_bytes", "check_policy_file", "parse_policy"}
    for name in core.__all__:
        assert getattr(core, name) is not None
