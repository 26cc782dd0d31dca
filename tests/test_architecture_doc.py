"""docs/architecture.md names real things: every module path exists, every `Class.method` is defined there."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text()
PATHS = sorted(set(re.findall(r"\b(?:healthmon|streams|agents|schemas|tests)(?:/[a-z_]+)*(?:\.py|/)", DOC)))
CALLS = sorted(set(re.findall(r"\b([A-Z][A-Za-z]+)\.([a-z_]+)\(", DOC)))


def _module_name(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/").replace("/", ".")


def _classes() -> dict[str, type]:
    found: dict[str, type] = {}
    for path in PATHS:
        if not (ROOT / path).exists():
            continue  # reported by test_every_module_path_exists
        module = importlib.import_module(_module_name(path))
        found.update({name: obj for name, obj in vars(module).items()
                      if inspect.isclass(obj) and obj.__module__ == module.__name__})
    return found


def test_the_doc_names_modules_and_calls():
    assert len(PATHS) >= 20 and len(CALLS) >= 10


@pytest.mark.parametrize("path", PATHS)
def test_every_module_path_exists(path: str) -> None:
    assert (ROOT / path).exists(), f"docs/architecture.md names {path}, which does not exist"


@pytest.mark.parametrize(("cls", "attr"), CALLS, ids=[f"{c}.{a}" for c, a in CALLS])
def test_every_class_and_method_is_defined_in_a_named_module(cls: str, attr: str) -> None:
    classes = _classes()
    assert cls in classes, f"{cls} is defined in none of the modules docs/architecture.md names"
    assert callable(getattr(classes[cls], attr, None)), f"{cls}.{attr} does not exist"
