"""Small modules with one job: no Python module of the project, tests included, is over 300 lines."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("healthmon", "streams", "agents", "schemas", "tests")
MAX_LINES = 300
MODULES = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_the_project_has_modules():
    assert len(MODULES) > 100


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_at_most_300_lines(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it by what it holds"
