"""Validate HTTP responses against the component schemas of docs/openapi.yaml (JSON Schema 2020-12)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["OPENAPI_PATH", "openapi", "validate"]

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_PATH = ROOT / "docs" / "openapi.yaml"
ALERT_SCHEMA_PATH = ROOT / "schemas" / "json" / "health-alert.schema.json"


@cache
def openapi() -> dict[str, Any]:
    """Return docs/openapi.yaml as a dict."""
    return yaml.safe_load(OPENAPI_PATH.read_text())


@cache
def _registry() -> Registry:
    alert = json.loads(ALERT_SCHEMA_PATH.read_text())
    alert_resource = Resource.from_contents(alert)
    return Registry().with_resources([
        (OPENAPI_PATH.as_uri(), Resource.from_contents(openapi(), default_specification=DRAFT202012)),
        (ALERT_SCHEMA_PATH.as_uri(), alert_resource),
        (alert["$id"], alert_resource),
    ])


@cache
def validator(component: str) -> Draft202012Validator:
    """Return a validator for `#/components/schemas/<component>` of the OpenAPI file."""
    assert component in openapi()["components"]["schemas"], component
    return Draft202012Validator({"$ref": f"{OPENAPI_PATH.as_uri()}#/components/schemas/{component}"},
                                registry=_registry())


def validate(instance: Any, component: str) -> None:
    """Raise AssertionError listing every way `instance` violates the component schema."""
    errors = sorted(validator(component).iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
