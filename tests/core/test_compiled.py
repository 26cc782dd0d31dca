"""The compiled core never shadows a newer source, and HEALTHMON_PURE_CORE runs the source."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from healthmon.core.compiled import COMPILED_MODULES, PURE_ENV, stale_modules


def test_a_compiled_module_older_than_its_source_is_stale(tmp_path: Path) -> None:
    for name in ("engine", "windows"):
        (tmp_path / f"{name}.py").write_text("")
        (tmp_path / f"{name}{EXTENSION_SUFFIXES[0]}").write_bytes(b"")
    os.utime(tmp_path / f"windows{EXTENSION_SUFFIXES[0]}", (1_000_000, 1_000_000))
    assert stale_modules(tmp_path) == ["windows"]
    assert stale_modules(tmp_path.parent) == []  # nothing compiled there at all


def test_the_pure_switch_loads_every_compiled_module_from_its_source() -> None:
    code = ("import healthmon.core, sys; from healthmon.core.compiled import COMPILED_MODULES, core_mode; "
            "import importlib; mods = [importlib.import_module('healthmon.core.' + m) for m in COMPILED_MODULES]; "
            "print(core_mode(), all(m.__file__.endswith('.py') for m in mods))")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, PURE_ENV: "1"}, capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["pure", "True"]
    assert len(COMPILED_MODULES) >= 5
