"""The backtest's figures are pure: report and truth import no Faust, Kafka, Redis, I/O layer or engine glue.

The pure core (`healthmon.core`, which itself imports none of them) is allowed: its vocabulary names the statuses.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import healthmon.backtest.report as report
import healthmon.backtest.truth as truth

FORBIDDEN = ("faust", "aiokafka", "kafka", "redis", "mode", "streams", "agents", "pydantic", "healthmon",
             "os", "io", "pathlib", "time", "asyncio")


@pytest.mark.parametrize("path", [Path(report.__file__), Path(truth.__file__)], ids=lambda p: p.name)
def test_report_module_imports_nothing_impure(path: Path) -> None:
    tree = ast.parse(path.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    allowed = ("healthmon.core.", "healthmon.backtest.report")  # the pure core, and the report's pure figures
    assert not {m for m in imported if m.split(".")[0] in FORBIDDEN and not m.startswith(allowed)}
