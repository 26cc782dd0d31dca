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


def _alert_1_1() -> dict:
    return {"schema_version": 1, "schema_minor": 1, "alert_id": "a" * 32, "dedup_key": "acme/health",
            "episode_id": "e" * 24, "kind": "health_changed", "status": "firing", "severity": "warning",
            "account_id": "acme", "account_name": "Acme", "tier": "standard", "csm": "ann", "rule": "health",
            "score_before": 60.0, "score_after": 41.0, "score_7d_ago": 59.0, "score_30d_ago": None,
            "band_before": "yellow", "band_after": "red", "measures": [], "summary": "Acme (standard) turned red",
            "details": {}, "episode_start": 1, "event_time": 2, "processed_at": 3, "policy_version": "sha256:x"}


@pytest.mark.parametrize("alert", [
    pytest.param(_alert_1_1(), id="1.1"),
    pytest.param({k: v for k, v in _alert_1_1().items() if k not in ("schema_minor", "score_7d_ago", "score_30d_ago")},
                 id="1.0-written-before-the-step"),
    pytest.param({**_alert_1_1(), "schema_minor": None, "score_12d_ago": 50.0}, id="a-later-minor-adds-a-field"),
])
def test_a_reader_of_1_1_takes_any_1_x_alert(alert):
    from schemas.alert import Alert

    validator = jsonschema.Draft202012Validator(orjson.loads(render("health-alert", CONTRACTS["health-alert"])))
    assert validator.is_valid(alert)
    Alert.model_validate(alert)
    assert not validator.is_valid({**alert, "schema_version": 2})  # a new major is another contract
