"""Which build of the core runs: modules compiled by mypyc, or the pure-Python source."""

from __future__ import annotations

import importlib.machinery

__all__ = ["COMPILED_MODULES", "core_mode"]

#: the core modules an install compiles when a C compiler is present (the rest always run as Python)
COMPILED_MODULES = ("engine", "ingest", "lifecycle", "measures", "scoring", "state", "windows")


def core_mode() -> str:
    """Return "compiled" when the core's modules were loaded from mypyc extensions, else "pure"."""
    from healthmon.core import engine

    origin = getattr(engine, "__file__", "") or ""
    return "compiled" if origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)) else "pure"
