"""Field expressions of the inputs file: JMESPath, compiled once, with a fast path for plain paths.

A search gives the value found, or None; only an expression with functions can fail on a document
(`length(a)` where `a` is a number), and then it raises `ValueError` saying why.

`fields` in the inputs file maps a contract field to a JMESPath expression over the message. Most are
plain paths (`context.groupId`, `contacts[0].id`) or alternatives of them (`userId || anonymousId`):
for those, `compile_path` builds a closure of dict and list look-ups that gives exactly what
`jmespath` gives (tests/ingest/formats/test_paths.py compares both on many documents), about thirty
times faster. Anything else (filters, functions, projections) runs on `jmespath` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jmespath
from jmespath.exceptions import IncompleteExpressionError, JMESPathError

__all__ = ["FieldPath", "PathError", "compile_path", "is_false"]

Getter = Callable[[Any], Any]


class PathError(ValueError):
    """The text is not a JMESPath expression."""


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A compiled expression: `search(doc)` gives its value in `doc` (None when nothing is there)."""

    expr: str
    search: Getter
    #: whether `search` is the plain-Python fast path (else it is `jmespath`'s own, which may raise `ValueError`)
    fast: bool


def is_false(value: Any) -> bool:
    """Return whether JMESPath counts `value` as false (`||` then tries its right side)."""
    return value is None or value is False or value == "" or value == [] or value == {}


def compile_path(expr: str) -> FieldPath:
    """Compile a JMESPath expression; raise `PathError` naming the problem when it is not one."""
    if not isinstance(expr, str) or not expr.strip():
        raise PathError("not a JMESPath expression (empty)")
    try:
        parsed = jmespath.compile(expr)
    except JMESPathError as exc:
        raise PathError(f"not a JMESPath expression ({_problem(exc)})") from None
    getter = _fast(dict(parsed.parsed))
    if getter is not None:
        return FieldPath(expr, getter, True)
    return FieldPath(expr, _searching(parsed.search), False)


def _searching(search: Getter) -> Getter:
    """Return jmespath's search, raising `ValueError` where a function meets a value it cannot take."""
    def get(doc: Any) -> Any:
        try:
            return search(doc)
        except JMESPathError as exc:
            raise ValueError(f"failed: {exc}") from None
    return get


def _problem(exc: JMESPathError) -> str:
    if isinstance(exc, IncompleteExpressionError):
        return "it ends too early"
    message = getattr(exc, "message", None) or getattr(exc, "msg", None) or type(exc).__name__
    position = getattr(exc, "lex_position", None)
    return f"{message} at character {position + 1}" if isinstance(position, int) else str(message)


# -- the fast path: field, index, subexpression and `||` nodes only -------------------------------------

Step = tuple[bool, Any]  # (is an index, field name or index)


def _steps(node: dict[str, Any]) -> list[Step] | None:
    """Return the look-ups of a plain path node (`a.b[0].c`), or None if the node is anything else."""
    kind = node["type"]
    if kind == "field":
        return [(False, node["value"])]
    if kind == "index":
        return [(True, node["value"])]
    if kind in ("subexpression", "index_expression"):
        out: list[Step] = []
        for child in node["children"]:
            steps = _steps(child)
            if steps is None:
                return None
            out.extend(steps)
        return out
    return None


def _fast(node: dict[str, Any]) -> Getter | None:
    if node["type"] == "or_expression":
        left, right = (_fast(child) for child in node["children"])
        if left is None or right is None:
            return None
        return _either(left, right)
    steps = _steps(node)
    if steps is None or not steps:
        return None
    if all(not is_index for is_index, _ in steps):
        names = [name for _, name in steps]
        if len(names) == 1:
            return _one(names[0])
        if len(names) == 2:
            return _two(names[0], names[1])
    return _walk(tuple(steps))


def _either(left: Getter, right: Getter) -> Getter:
    def get(doc: Any) -> Any:
        value = left(doc)
        return right(doc) if is_false(value) else value
    return get


def _one(name: str) -> Getter:
    def get(doc: Any) -> Any:
        return doc.get(name) if type(doc) is dict else None
    return get


def _two(first: str, second: str) -> Getter:
    def get(doc: Any) -> Any:
        value = doc.get(first) if type(doc) is dict else None
        return value.get(second) if type(value) is dict else None
    return get


def _walk(steps: tuple[Step, ...]) -> Getter:
    def get(doc: Any) -> Any:
        value = doc
        for is_index, key in steps:
            if is_index:
                if type(value) is not list:
                    return None
                try:
                    value = value[key]
                except IndexError:
                    return None
            elif type(value) is dict:
                value = value.get(key)
            else:
                return None
        return value
    return get
