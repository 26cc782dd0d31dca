"""Validate a raw inputs document, collecting every error with its path (as the policy is validated)."""

from __future__ import annotations

import re
from typing import Any

from healthmon.core.checker import Checker
from healthmon.core.vocabulary import TICKET_PRIORITIES, TICKET_STATUSES, TIERS, InputKind
from healthmon.ingest.formats.contract import CONTRACT_FIELDS, REQUIRED_FIELDS
from healthmon.ingest.formats.convert import TIME_UNITS
from healthmon.ingest.formats.mapped import USER_LINK
from healthmon.ingest.formats.paths import PathError, compile_path
from healthmon.ingest.formats.presets import FORMATS, PRESETS
from healthmon.ingest.formats.spec import FILE_KINDS, KIND_NAMES, NATIVE, InputSpec

__all__ = ["check_inputs"]

_KEYS = ("topic", "kind", "format", "fields", "values", "links", "account_link", "time_unit")
#: Kafka's own rule for topic names
_TOPIC = re.compile(r"[a-zA-Z0-9._-]{1,249}\Z")
_LINK = re.compile(r"[a-z][a-z0-9_]{0,49}\Z")
#: presets whose calls fill the `user` link
_USER_LINKERS = ("segment", "rudderstack")
_WORDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "status": ("ticket status", TICKET_STATUSES), "priority": ("priority", TICKET_PRIORITIES), "tier": ("tier", TIERS)}
_RANGES = {"score": (0, 10), "csat": (1, 5)}


def check_inputs(doc: Any) -> tuple[list[InputSpec], list[str]]:
    """Return the inputs of a raw document and every error in it (`inputs[2].fields.account_id: ...`)."""
    c = Checker()
    top = c.mapping(doc, "<root>", ("inputs",), ("inputs",))
    raw = top.get("inputs", [])
    if "inputs" in top and (not isinstance(raw, list) or not raw):
        c.error("inputs", "must be a non-empty list of inputs")
        raw = []
    specs: list[tuple[str, InputSpec]] = []
    topics: dict[str, str] = {}
    for i, item in enumerate(raw):
        path = f"inputs[{i}]"
        spec = _input(c, item, path)
        if spec is None:
            continue
        if spec.topic in topics:
            c.error(f"{path}.topic", f"{spec.topic!r} is also {topics[spec.topic]} (a topic is read in one way)")
        topics.setdefault(spec.topic, path)
        specs.append((path, spec))
    _check_links(c, specs)
    return [spec for _, spec in specs], c.errors


def _input(c: Checker, item: Any, path: str) -> InputSpec | None:
    data = c.mapping(item, path, _KEYS, ("topic", "kind"))
    topic = data.get("topic")
    if "topic" in data and (not isinstance(topic, str) or not _TOPIC.match(topic)):
        c.error(f"{path}.topic", "must be a Kafka topic name: 1-249 characters of a-z, A-Z, 0-9, '.', '_' and '-'")
    kind_word = c.choice(data, "kind", path, tuple(FILE_KINDS))
    fmt = data.get("format", NATIVE)
    if fmt not in PRESETS:
        c.error(f"{path}.format", f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
        fmt = None
    kind: InputKind | None = FILE_KINDS.get(kind_word) if isinstance(kind_word, str) else None
    if kind is not None and fmt is not None and kind not in PRESETS[fmt].tables:
        reads = ", ".join(KIND_NAMES[k] for k in PRESETS[fmt].tables)
        c.error(f"{path}.format", f"{fmt} reads {reads}, not {kind_word}")
        fmt = None
    time_unit = c.choice(data, "time_unit", path, tuple(TIME_UNITS))
    account_link = data.get("account_link")
    if "account_link" in data:
        if kind == "account":
            c.error(f"{path}.account_link", "an accounts input names its accounts itself (declare `links` instead)")
            account_link = None
        elif not isinstance(account_link, str) or not _LINK.match(account_link):
            c.error(f"{path}.account_link", "must be a link name: 1-50 characters of a-z, 0-9 and _")
            account_link = None
    if kind is None or fmt is None or not isinstance(topic, str):
        _expressions(c, data.get("fields", {}), f"{path}.fields", None)
        return None
    fields = _fields(c, data.get("fields", {}), path, kind, fmt)
    values = _values(c, data.get("values", {}), path, kind, fmt, fields)
    links = _links(c, data, path, kind)
    return InputSpec(topic=topic, kind=kind, format=fmt, fields=fields, values=values, links=links,
                     account_link=account_link if isinstance(account_link, str) else None, time_unit=time_unit)


def _expressions(c: Checker, raw: Any, path: str, allowed: tuple[str, ...] | None) -> dict[str, str]:
    if not isinstance(raw, dict):
        c.error(path, "must be a mapping of names to JMESPath expressions")
        return {}
    out: dict[str, str] = {}
    for name, expr in raw.items():
        if allowed is not None and name not in allowed:
            continue
        try:
            out[str(name)] = compile_path(expr).expr
        except PathError as exc:
            c.error(f"{path}.{name}", str(exc))
    return out


def _fields(c: Checker, raw: Any, path: str, kind: InputKind, fmt: str) -> dict[str, str]:
    names = CONTRACT_FIELDS[kind]
    if isinstance(raw, dict):
        for name in raw:
            if name not in names:
                c.error(f"{path}.fields.{name}", f"not a field of {KIND_NAMES[kind]} (expected one of "
                                                 f"{', '.join(names)})")
    fields = _expressions(c, raw, f"{path}.fields", names)
    preset = PRESETS[fmt]
    table = preset.tables[kind]
    for name in dict.fromkeys((*sorted(REQUIRED_FIELDS[kind]), *preset.needs.get(kind, ()))):
        default = table.get(name)
        if name in fields or (isinstance(raw, dict) and name in raw) or \
                (default is not None and (default.expr is not None or default.derived)):
            continue
        why = "every field comes from `fields`" if fmt == "mapping" else f"{fmt} does not read it"
        hint = f": {default.note}" if default is not None and default.note else ""
        c.error(f"{path}.fields.{name}", f"required ({why}{hint})")
    return fields


def _values(c: Checker, raw: Any, path: str, kind: InputKind, fmt: str, fields: dict[str, str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        c.error(f"{path}.values", "must be a mapping of fields to {source value: contract value}")
        return {}
    table = PRESETS[fmt].tables[kind]
    out: dict[str, Any] = {}
    for name, mapping in raw.items():
        where = f"{path}.values.{name}"
        if name not in CONTRACT_FIELDS[kind]:
            c.error(where, f"not a field of {KIND_NAMES[kind]}")
            continue
        default = table.get(name)
        if name not in fields and (default is None or default.expr is None):
            rule = f"{fmt} derives it ({default.note}); " if default is not None and default.derived else ""
            c.error(where, f"no expression reads {name}: {rule}give fields.{name} to read a source value")
            continue
        if not isinstance(mapping, dict) or not mapping:
            c.error(where, "must be a non-empty mapping of source values to contract values")
            continue
        for source, target in mapping.items():
            problem = _target_problem(name, target)
            if problem:
                c.error(f"{where}.{source}", problem)
        out[name] = dict(mapping)
    return out


def _target_problem(name: str, target: Any) -> str | None:
    if name in _WORDS:
        what, allowed = _WORDS[name]
        if target not in allowed:
            return f"{target!r} is not a {what} (expected one of {', '.join(allowed)})"
    elif name in _RANGES:
        low, high = _RANGES[name]
        if isinstance(target, bool) or not isinstance(target, int) or not low <= target <= high:
            return f"{target!r} is not a {name} (a whole number {low}-{high})"
    elif isinstance(target, (dict, list)) or target is None:
        return f"{target!r} is not a value of {name}"
    return None


def _links(c: Checker, data: dict[str, Any], path: str, kind: InputKind) -> dict[str, str]:
    if "links" not in data:
        return {}
    if kind != "account":
        c.error(f"{path}.links", "only accounts inputs declare links (others use them with account_link)")
        return {}
    raw = data["links"]
    if isinstance(raw, dict):
        for name in raw:
            if not isinstance(name, str) or not _LINK.match(name):
                c.error(f"{path}.links.{name}", "must be a link name: 1-50 characters of a-z, 0-9 and _")
            elif name == USER_LINK:
                c.error(f"{path}.links.{name}", "is the link segment and rudderstack calls fill; pick another name")
    links = _expressions(c, raw, f"{path}.links", None)
    return {name: expr for name, expr in links.items() if _LINK.match(name) and name != USER_LINK}


def _check_links(c: Checker, specs: list[tuple[str, InputSpec]]) -> None:
    declared = {name for _, spec in specs for name in spec.links}
    if any(spec.format in _USER_LINKERS for _, spec in specs):
        declared.add(USER_LINK)
    for path, spec in specs:
        link = spec.account_link
        if link is None or link in declared:
            continue
        if link == USER_LINK:
            c.error(f"{path}.account_link", "link 'user' comes from segment or rudderstack inputs, and there is none")
        else:
            c.error(f"{path}.account_link", f"no input declares link {link!r} (declare it under `links` of an "
                                            "accounts input)")
