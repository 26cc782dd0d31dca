"""Each word list is defined once, in `healthmon.core.vocabulary`: no other module spells one out again."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import agents
import healthmon
import schemas
import streams
from healthmon.core import vocabulary

SETS = {name: frozenset(value) for name, value in vars(vocabulary).items()
        if name.isupper() and isinstance(value, tuple)}
MODULES = sorted(p for package in (healthmon, streams, agents, schemas)
                 for p in Path(package.__file__).parent.rglob("*.py") if p.name != "vocabulary.py")


def _string_sets(tree: ast.AST) -> list[tuple[int, frozenset[str]]]:
    """Return every tuple, list or set display of two or more string constants, and every Literal[...] of them."""
    found = []
    for node in ast.walk(tree):
        elts = None
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            elts = node.elts
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Literal":
            elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if elts and len(elts) >= 2 and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in elts):
            found.append((node.lineno, frozenset(e.value for e in elts)))  # type: ignore[union-attr]
    return found


def test_the_vocabulary_has_word_lists():
    assert {"INPUT_KINDS", "TIERS", "BANDS", "SEVERITIES", "ALERT_KINDS", "ALERT_STATUSES", "OUTCOMES"} <= set(SETS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(Path(healthmon.__file__).parent.parent)))
def test_no_module_spells_out_a_word_list_of_the_vocabulary(path: Path) -> None:
    again = [(line, name) for line, words in _string_sets(ast.parse(path.read_text()))
             for name, values in SETS.items() if words == values]
    assert not again, f"{path.name} defines again: {again} (import them from healthmon.core.vocabulary)"
