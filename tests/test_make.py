"""`make test` runs the linters first, so CI enforces them; every phony target has a rule."""

from __future__ import annotations

import re
from pathlib import Path

MAKEFILE = (Path(__file__).parent.parent / "Makefile").read_text()


def _rule(target: str) -> tuple[list[str], list[str]]:
    match = re.search(rf"^{re.escape(target)}:([^#\n]*)(?:##[^\n]*)?\n((?:\t[^\n]*\n)*)", MAKEFILE, re.M)
    assert match, f"no rule for {target}"
    return match.group(1).split(), [line.strip() for line in match.group(2).splitlines()]


def test_make_test_runs_lint_before_the_suite():
    prerequisites, _ = _rule("test")
    assert "lint" in prerequisites


def test_lint_runs_ruff_and_mypy_with_the_core_strict():
    _, commands = _rule("lint")
    assert any(c.endswith("ruff check .") for c in commands)
    assert any("mypy --strict" in c and c.endswith("healthmon/core") for c in commands)
    assert any(c.endswith("/mypy") for c in commands)  # the rest, as configured in pyproject.toml


def test_lint_checks_the_layer_contracts():
    _, commands = _rule("lint")
    assert any(c.endswith("/lint-imports") for c in commands)  # [tool.importlinter] in pyproject.toml


def test_every_phony_target_has_a_rule():
    phony = re.search(r"^\.PHONY:(.*)$", MAKEFILE, re.M)
    assert phony
    for target in phony.group(1).split():
        _rule(target)
