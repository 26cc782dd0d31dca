"""Exported JSON Schemas are current, versioned, and agree with the models."""

from __future__ import annotations

import jsonschema
import orjson
import pytest

from schemas.export import CONTRACTS, JSON_DIR, render
from tests.ingest.malformed import GOOD_TICKET, GOOD_USAGE


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_exported_schema_is_up_to_date(name):
    path = JSON_DIR / f"{name}.schema.json"
    assert path.exists(), f"{path} missing: run `make schemas`"
    assert path.read_bytes() == render(name, CONTRACTS[name]), f"{path} is stale: run `make schemas`"


@pytest.mark.parametrize("name", sorted(CONTRACTS))
def test_schema_has_versioned_id_and_is_valid(name):
    doc = orjson.loads(render(name, CONTRACTS[name]))
    assert doc["$id"].endswith(f"/v1/{name}.schema.json")
    jsonschema.Draft202012Validator.check_schema(doc)


@pytest.mark.parametrize("name, good, bad", [
    ("product-usage", GOOD_USAGE, {**GOOD_USAGE, "user_id": 7}),
    ("support-ticket", GOOD_TICKET, {**GOOD_TICKET, "status": "frozen"}),
])
def test_schema_accepts_and_rejects_like_the_model(name, good, bad):
    validator = jsonschema.Draft202012Validator(orjson.loads(render(name, CONTRACTS[name])))
    assert validator.is_valid(good)
    assert not validator.is_valid(bad)
