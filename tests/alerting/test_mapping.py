"""The Alertmanager form of an alert: labels, annotations, times, link templates."""

from __future__ import annotations

from typing import Any

import pytest

from healthmon.alerting.mapping import ALERTNAMES, LinkTemplates, description, to_alertmanager
from healthmon.config.alerts import check_template
from tests.alerting.builders import MIN, T0, customer_alert, stall_alert

LINKS = LinkTemplates("http://api:6066/", "http://grafana/d/x?var-tier={tier}&a={account_id}")
NOW = T0 + 100 * MIN


@pytest.mark.parametrize(("alert", "labels"), [
    (customer_alert("acme", csm="ann@example.com"),
     {"alertname": "CustomerHealthChanged", "kind": "health_changed", "rule": "health", "severity": "critical",
      "account_id": "acme", "tier": "strategic", "csm": "ann@example.com"}),
    (customer_alert("acme", csm=None, rule="wau_low", tier="standard", severity="warning"),
     {"alertname": "CustomerBelowWarningLine", "kind": "below_warning_line", "rule": "wau_low",
      "severity": "warning", "account_id": "acme", "tier": "standard"}),
    (stall_alert(),
     {"alertname": "HealthmonIngestStalled", "kind": "ingest_stalled", "rule": "ingest_stalled:usage",
      "severity": "error", "component": "pipeline"}),
])
def test_labels_are_the_bounded_fields_and_nothing_empty(alert: dict[str, Any], labels: dict[str, str]) -> None:
    assert to_alertmanager(alert, LINKS, ends_at_ms=NOW, now_ms=NOW)["labels"] == labels


def test_every_kind_has_an_alertname() -> None:
    from schemas.alert import Alert

    assert set(ALERTNAMES) == set(Alert.model_fields["kind"].annotation.__args__)


@pytest.mark.parametrize(("alert", "ends_at_ms", "starts", "ends"), [
    (customer_alert("acme"), NOW + 4 * MIN, "2026-01-05T00:00:00.000Z", "2026-01-05T01:44:00.000Z"),
    (customer_alert("acme", at_ms=T0 + 10 * MIN), NOW, "2026-01-05T00:00:00.000Z", "2026-01-05T01:40:00.000Z"),
    (customer_alert("acme", "resolved", at_ms=T0 + 30 * MIN), None, "2026-01-05T00:00:00.000Z",
     "2026-01-05T00:30:00.000Z"),
    # a resolve decided ahead of the wall clock must not keep the alert firing until then
    (customer_alert("acme", "resolved", at_ms=NOW + 60 * MIN), None, "2026-01-05T00:00:00.000Z",
     "2026-01-05T01:40:00.000Z"),
])
def test_starts_at_the_episode_and_ends_ahead_or_at_the_resolve(alert: dict[str, Any], ends_at_ms: int | None,
                                                                starts: str, ends: str) -> None:
    am = to_alertmanager(alert, LINKS, ends_at_ms=ends_at_ms, now_ms=NOW)
    assert (am["startsAt"], am["endsAt"]) == (starts, ends)


def test_annotations_explain_and_link() -> None:
    alert = customer_alert("acme")
    notes = to_alertmanager(alert, LINKS, now_ms=NOW)["annotations"]
    assert notes["summary"] == alert["summary"]
    assert notes["account_url"] == "http://api:6066/accounts/acme"
    assert notes["dashboard_url"] == "http://grafana/d/x?var-tier=strategic&a=acme"
    assert (notes["alert_id"], notes["episode_id"], notes["policy_version"]) == (
        alert["alert_id"], alert["episode_id"], "sha256:test")
    assert notes["description"] == (
        "Score 80 → 41 (green → red). Costing most: weekly active users (share of seats) 20% (−32.0 points); "
        "core-feature adoption (28-day core users / seats) 50% (−15.0 points); open high/urgent tickets 1 "
        "(−8.0 points).")


def test_links_are_left_out_when_not_configured_or_not_an_account() -> None:
    assert "account_url" not in to_alertmanager(stall_alert(), LINKS, now_ms=NOW)["annotations"]
    notes = to_alertmanager(customer_alert("acme"), LinkTemplates(), now_ms=NOW)["annotations"]
    assert "account_url" not in notes and "dashboard_url" not in notes


def test_description_without_scored_measures() -> None:
    alert = {**customer_alert("acme"), "measures": [], "score_before": None}
    assert description(alert) == "Score n/a → 41 (green → red)."


@pytest.mark.parametrize("template", ["http://g/{account}", "http://g/{tier!r}", "http://g/{tier:>5}", "http://g/{"])
def test_bad_templates_are_refused_with_the_placeholder(template: str) -> None:
    with pytest.raises(ValueError):
        check_template(template)


def test_good_template_passes() -> None:
    check_template("http://g/d?var-tier={tier}&kind={kind}&x={{literal}}")


@pytest.mark.parametrize(("value", "message"), [
    (b"not json", "not JSON"),
    (None, "not JSON"),
    (b'{"kind": "health_changed"}', "schema error(s), first: alert_id: Field required"),
    (b"[1, 2]", "1 schema error(s), first: (record)"),
])
def test_records_that_are_not_alerts_are_named(value: bytes | None, message: str) -> None:
    from healthmon.alerting.bridge import decode

    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        decode(value)


def test_a_real_alert_decodes() -> None:
    import orjson

    from healthmon.alerting.bridge import decode

    alert = customer_alert("acme")
    assert decode(orjson.dumps(alert)) == alert
