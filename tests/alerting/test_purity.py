"""The bridge's decisions stay pure: mapping and firing set import no Kafka, HTTP, Faust or Redis."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import healthmon.alerting as alerting

PACKAGE = Path(alerting.__file__).parent
PURE = ("mapping.py", "firing.py", "quiet.py")
FORBIDDEN = ("faust", "aiokafka", "kafka", "aiohttp", "urllib", "http", "socket", "redis", "streams", "agents")


@pytest.mark.parametrize("name", PURE)
def test_pure_modules_import_no_io(name: str) -> None:
    tree = ast.parse((PACKAGE / name).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {m for m in imported if m.split(".")[0] in FORBIDDEN}
    assert all(m.split(".")[0] != "healthmon" or m.startswith(("healthmon.core", "healthmon.alerting"))
               for m in imported)
