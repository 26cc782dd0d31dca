"""Build hook: compile the pure core with mypyc when a C compiler is present (black ships this way).

The Python modules in `healthmon/core` stay the source of truth. An install compiles the ones named in
`healthmon/core/compiled.py` into extension modules beside them, which Python then imports instead;
without a C compiler, Python headers or mypyc, or with `HEALTHMON_PURE_CORE=1` set at install time,
nothing is compiled and the same modules run as Python. `make compile` and `make pure` switch a
checkout; at run time `HEALTHMON_PURE_CORE=1` makes the core import its Python source even when
compiled modules are there.
"""

from __future__ import annotations

import ast
import os
import shutil
import sys
import sysconfig
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent


def _compiled_modules() -> tuple[str, ...]:
    # Read without importing the package (its dependencies may not be installed yet).
    tree = ast.parse((HERE / "healthmon" / "core" / "compiled.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "COMPILED_MODULES" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise RuntimeError("healthmon/core/compiled.py names no COMPILED_MODULES")


def _why_not_compile() -> str | None:
    if os.environ.get("HEALTHMON_PURE_CORE", "") not in ("", "0"):
        return "HEALTHMON_PURE_CORE is set"
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if not shutil.which(os.environ.get("CC", compiler).split()[0]):
        return f"no C compiler ({compiler})"
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        return "no Python headers (Python.h)"
    try:
        import mypyc.build  # noqa: F401
    except ImportError:
        return "mypyc is not installed"
    return None


def _ext_modules() -> list[object]:
    why = _why_not_compile()
    if why:
        print(f"healthmon: core stays pure Python: {why}", file=sys.stderr)
        return []
    from mypyc.build import mypycify

    paths = [f"healthmon/core/{name}.py" for name in _compiled_modules()]
    print(f"healthmon: compiling the core with mypyc: {', '.join(paths)}", file=sys.stderr)
    # One extension per module (separate=True): each lands beside its source, inside the package. The
    # project's mypy configuration is for `make lint` (its pydantic plugin is not in the build
    # environment, nor are orjson's and PyYAML's types, which the core's code does not need compiled).
    return mypycify(["--config-file=", "--ignore-missing-imports", *paths], opt_level="3", separate=True)


setup(ext_modules=_ext_modules())
