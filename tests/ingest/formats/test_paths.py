"""Field expressions: the plain-path fast path gives what jmespath gives, on many documents and expressions."""

from __future__ import annotations

import random
from typing import Any

import jmespath
import pytest

from healthmon.ingest.formats.paths import PathError, compile_path, is_false

KEYS = ["a", "b", "c", "groupId", "total billed"]
LEAVES: list[Any] = [None, 0, 1, -1, 2.5, "", "x", "0", True, False, [], {}, [0], {"a": None}]


def _doc(rng: random.Random, depth: int) -> Any:
    """Return a random JSON value: nested objects and lists over the keys, with every falsy value JMESPath has."""
    roll = rng.random()
    if depth == 0 or roll < 0.3:
        return rng.choice(LEAVES)
    if roll < 0.65:
        return {k: _doc(rng, depth - 1) for k in rng.sample(KEYS, rng.randint(0, len(KEYS)))}
    return [_doc(rng, depth - 1) for _ in range(rng.randint(0, 3))]


def _name(key: str) -> str:
    return f'"{key}"' if " " in key else key


def _path(rng: random.Random) -> str:
    out = _name(rng.choice(KEYS))
    for _ in range(rng.randint(0, 3)):
        out += f"[{rng.randint(-2, 2)}]" if rng.random() < 0.35 else f".{_name(rng.choice(KEYS))}"
    return out


def _expression(rng: random.Random) -> str:
    return " || ".join(_path(rng) for _ in range(rng.randint(1, 3)))


EXPRESSIONS = sorted({_expression(random.Random(n)) for n in range(300)})
DOCS = [_doc(random.Random(1000 + n), 4) for n in range(400)]


def test_every_generated_expression_takes_the_fast_path():
    assert len(EXPRESSIONS) > 200
    assert all(compile_path(expr).fast for expr in EXPRESSIONS)


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_the_fast_path_agrees_with_jmespath(expr):
    fast = compile_path(expr).search
    reference = jmespath.compile(expr).search
    for doc in DOCS:
        expected = reference(doc)
        got = fast(doc)
        assert got == expected and type(got) is type(expected), (expr, doc)


@pytest.mark.parametrize("expr", ["a[*].b", "a[?b == `1`]", "length(a)", "a.*", "a | b", "[a, b]", "{x: a}",
                                  "a && b", "!a", "@", "a[0:2]", "`1`", "'lit'"])
def test_other_expressions_run_on_jmespath_itself(expr):
    path = compile_path(expr)
    assert not path.fast
    for doc in DOCS[:50]:
        try:
            expected = jmespath.search(expr, doc)
        except jmespath.exceptions.JMESPathError as exc:
            with pytest.raises(ValueError, match="failed: "):
                path.search(doc)
            assert "length" in str(exc)
        else:
            assert path.search(doc) == expected


def test_a_function_that_fails_on_a_document_is_unmapped_not_a_crash():
    from tests.ingest.formats.helpers import map_doc, spec, the_rejection

    usage = spec("usage", "mapping", fields={"event_id": "id", "account_id": "to_string(length(org))",
                                             "user_id": "u", "feature": "f", "occurred_at": "t"})
    doc = {"id": "e", "org": 5, "u": "u", "f": "f", "t": "2026-01-05T10:00:00Z"}
    reason, error = the_rejection(map_doc(usage, doc))
    assert reason == "unmapped" and error.startswith("account_id: `to_string(length(org))` failed: ")


@pytest.mark.parametrize("expr, fragment", [
    ("", "empty"), ("   ", "empty"), ("a[", "ends too early"), ("a..b", "at character 3"),
    ("`x", "Unclosed ` delimiter"), ("a b", "Unexpected token: b"),
])
def test_not_an_expression(expr, fragment):
    with pytest.raises(PathError, match="not a JMESPath expression") as info:
        compile_path(expr)
    assert fragment in str(info.value)


@pytest.mark.parametrize("value, false", [(None, True), (False, True), ("", True), ([], True), ({}, True),
                                          (0, False), (0.0, False), ("0", False), ([0], False), (True, False)])
def test_falsy_values_are_those_of_jmespath(value, false):
    assert is_false(value) is false
    assert (jmespath.search("a || `\"right\"`", {"a": value}) == "right") is false
