"""docs/openapi.yaml is a well-formed contract: valid schemas, every route and error documented."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from healthmon.core.vocabulary import BANDS
from healthmon.serving.http import MAX_LIMIT, RETRY_AFTER_SECONDS, SORTS
from healthmon.serving.metrics import TIER_LABELS
from tests.serving.contract import OPENAPI_PATH, openapi, validate

ROUTES = {"/healthz", "/readyz", "/metrics", "/accounts", "/accounts/{account_id}", "/accounts/{account_id}/history"}


def test_documents_every_route_with_get_only():
    doc = openapi()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == ROUTES
    assert all(set(ops) == {"get"} for ops in doc["paths"].values())


@pytest.mark.parametrize("name", sorted(openapi()["components"]["schemas"]))
def test_component_schemas_are_valid_json_schema(name):
    Draft202012Validator.check_schema(openapi()["components"]["schemas"][name])


def test_every_example_matches_its_schema():
    doc = openapi()
    checked = 0

    def schema_name(content):
        ref = content["schema"].get("$ref", "")
        return ref.rsplit("/", 1)[-1] if ref.startswith("#/components/schemas/") else None

    responses = [r for ops in doc["paths"].values() for r in ops["get"]["responses"].values()]
    responses += list(doc["components"]["responses"].values())
    for response in responses:
        if "$ref" in response:
            continue
        for content in response.get("content", {}).values():
            name = schema_name(content)
            examples = [content["example"]] if "example" in content else []
            examples += [e["value"] for e in content.get("examples", {}).values()]
            for example in examples:
                if name:
                    validate(example, name)
                    checked += 1
    assert checked >= 10


def test_query_parameters_match_the_code():
    params = {p["name"]: p["schema"] for p in openapi()["paths"]["/accounts"]["get"]["parameters"]}
    assert params["band"] == {"$ref": "#/components/schemas/Band"}
    assert openapi()["components"]["schemas"]["Band"]["enum"] == list(BANDS)
    assert params["tier"]["enum"] == list(TIER_LABELS)
    assert (params["limit"]["minimum"], params["limit"]["maximum"]) == (1, MAX_LIMIT)
    assert params["sort"]["enum"] == list(SORTS)


def test_error_responses_are_documented_per_route():
    paths = openapi()["paths"]
    assert set(paths["/accounts"]["get"]["responses"]) == {"200", "400", "401", "429", "503"}
    assert set(paths["/accounts/{account_id}"]["get"]["responses"]) == {"200", "400", "401", "404", "429", "503"}
    assert set(paths["/accounts/{account_id}/history"]["get"]["responses"]) == {"200", "400", "401", "404", "429",
                                                                                 "503"}
    assert set(paths["/readyz"]["get"]["responses"]) == {"200", "503"}


def test_the_api_token_guards_exactly_the_account_routes():
    doc = openapi()
    scheme = doc["components"]["securitySchemes"]["bearerToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer") and "HEALTHMON_API_TOKEN" in scheme["description"]
    guarded = {"/accounts", "/accounts/{account_id}", "/accounts/{account_id}/history"}
    for route, ops in doc["paths"].items():
        # Guarded: the token, or nothing when none is configured. Open: no security at all.
        assert ops["get"]["security"] == ([{"bearerToken": []}, {}] if route in guarded else []), route


def test_readme_links_the_contract_and_lists_every_route():
    readme = (OPENAPI_PATH.parents[1] / "README.md").read_text()
    assert "docs/openapi.yaml" in readme
    for route in ROUTES:
        assert f"`GET {route}" in readme, route


def test_a_busy_answer_documents_its_retry_after_header():
    busy = openapi()["components"]["responses"]["Busy"]
    assert busy["headers"]["Retry-After"]["schema"]["minimum"] <= RETRY_AFTER_SECONDS
    assert busy["content"]["application/json"]["example"]["status"] == 429
