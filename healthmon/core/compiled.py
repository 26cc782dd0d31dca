"""Which build of the core runs: modules compiled by mypyc, or the pure-Python source.

An install compiles `COMPILED_MODULES` when a C compiler is present (setup.py); Python then imports the
extension modules beside the sources. `HEALTHMON_PURE_CORE=1` in the environment makes the core import
the sources anyway (`use_pure_source`, called first thing by `healthmon.core`): that is how `make test`
runs the core's tests in both modes from one checkout.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

__all__ = ["COMPILED_MODULES", "PURE_ENV", "core_mode", "stale_modules", "use_pure_source"]

#: the core modules an install compiles when a C compiler is present (the rest always run as Python)
COMPILED_MODULES = ("alerts", "codec", "engine", "apply", "lifecycle", "measures", "pipeline", "quiet", "rounding",
                    "scoring", "state", "users", "windows")
#: set (to anything but 0) to run the core from its Python source even where compiled modules exist
PURE_ENV = "HEALTHMON_PURE_CORE"
_PACKAGE = __name__.rpartition(".")[0]


class _SourceFinder:
    """Find the core's compiled modules as their Python source files."""

    def __init__(self, directory: Path) -> None:
        self._loader = importlib.machinery.FileFinder(
            str(directory), (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES))

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        package, _, module = name.rpartition(".")
        if package != _PACKAGE or module not in COMPILED_MODULES:
            return None
        return self._loader.find_spec(name)


def stale_modules(directory: Path | None = None) -> list[str]:
    """Return the compiled modules whose Python source changed after they were compiled."""
    directory = directory or Path(__file__).parent
    stale = []
    for name in COMPILED_MODULES:
        source = directory / f"{name}.py"
        # `name` is a shim that a rebuild may leave alone; the code is in `name__mypyc`.
        built = [directory / f"{stem}{suffix}" for stem in (name, f"{name}__mypyc")
                 for suffix in importlib.machinery.EXTENSION_SUFFIXES]
        times = [path.stat().st_mtime for path in built if path.exists()]
        if times and source.exists() and max(times) < source.stat().st_mtime:
            stale.append(name)
    return stale


def use_pure_source() -> None:
    """Import the core's modules from source when `HEALTHMON_PURE_CORE` is set or a compiled one is stale.

    Called once, before any of them loads. An edited (or checked-out) source newer than its compiled
    module must not be shadowed by it: the whole core then runs as Python until `make compile`.
    """
    if any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        return
    directory = Path(__file__).parent
    if os.environ.get(PURE_ENV, "") in ("", "0"):
        stale = stale_modules(directory)
        if not stale:
            return
        print(f"healthmon: the compiled core is older than its source ({', '.join(stale)}): running it as "
              "Python; `make compile` compiles it again", file=sys.stderr)
    sys.meta_path.insert(0, _SourceFinder(directory))


def core_mode() -> str:
    """Return "compiled" when the core's modules were loaded from mypyc extensions, else "pure"."""
    from healthmon.core import engine

    origin = getattr(engine, "__file__", "") or ""
    return "compiled" if origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)) else "pure"
