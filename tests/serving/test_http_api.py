"""The HTTP API end to end: a real worker after generated traffic, every route, every 4xx, the OpenAPI schemas."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from datetime import date, timedelta

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from healthmon.core.csm import csm_slug
from healthmon.serving.http_history import DEFAULT_HISTORY_DAYS
from tests.serving.contract import openapi, validate

pytestmark = pytest.mark.integration

ALL = "/accounts?limit=1000"


def _matches(snapshot: dict, query: dict[str, str]) -> bool:
    tier = snapshot["tier"] or "unknown"
    return query.get("band", snapshot["band"]) == snapshot["band"] and query.get("tier", tier) == tier \
        and query.get("csm", snapshot["csm"]) == snapshot["csm"]


def _drop_order(snapshot: dict) -> tuple[float, str]:
    """The drop_7d order: the biggest fall first, accounts without a score 7 days ago last, then by id."""
    if snapshot["score_7d_ago"] is None:
        return (1000.0, snapshot["account_id"])
    return (-round(snapshot["score_7d_ago"] - snapshot["score"], 1), snapshot["account_id"])


def test_healthz(api_worker):
    status, body = api_worker.get("/healthz")
    assert status == 200
    validate(body, "Health")


def test_readyz_answers_503_until_the_tables_are_recovered(api_worker):
    history = api_worker.readyz_history
    statuses = [status for status, _ in history]
    # The web server is up seconds before the worker has joined the group and recovered its table.
    assert statuses[0] == 503, statuses[:5]
    assert statuses[-1] == 200 and set(statuses[:-1]) == {503}
    for status, body in history:
        validate(body, "Readiness")
        assert body["ready"] is (status == 200)
        assert body["ready"] is (body["tables_recovered"] and not body["rebalancing"])
    assert history[0][1]["tables_recovered"] is False
    status, body = api_worker.get("/readyz")
    assert (status, body["ready"], body["redis"]) == (200, True, True)


def test_metrics_are_prometheus_text_with_the_events_counted(api_worker):
    with urllib.request.urlopen(api_worker.worker.url("/metrics"), timeout=5) as resp:
        content_type = resp.headers["Content-Type"]
        text = resp.read().decode()
    # The Prometheus text format, in the version prometheus_client writes.
    assert content_type == CONTENT_TYPE_LATEST and content_type.startswith("text/plain; version=")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[("healthmon_events_total", (("outcome", "ok"), ("topic", "product-usage")))] > 0
    assert samples[("healthmon_redis_errors_total", (("operation", "write"),))] == 0


def test_metrics_restricted_by_name_expose_only_those_series(api_worker):
    # `name[]`, as prometheus-client's own handler reads it: the bench polls one counter this way
    url = api_worker.worker.url("/metrics?name[]=healthmon_events_total&name[]=healthmon_redis_errors_total")
    with urllib.request.urlopen(url, timeout=5) as resp:
        families = list(text_string_to_metric_families(resp.read().decode()))
    assert {f.name for f in families} == {"healthmon_events", "healthmon_redis_errors"}
    ok = [s.value for f in families for s in f.samples
          if s.name == "healthmon_events_total" and s.labels == {"outcome": "ok", "topic": "product-usage"}]
    assert ok and ok[0] > 0
    assert {s.name for f in families for s in f.samples} == {"healthmon_events_total", "healthmon_redis_errors_total"}


def test_the_at_risk_list_holds_every_scored_account_lowest_score_first(api_worker):
    status, body = api_worker.get(ALL)
    assert status == 200
    validate(body, "AccountList")
    accounts = body["accounts"]
    assert body["count"] == len(accounts) and body["source"] == "redis"
    assert body["filters"] == {"band": None, "tier": None, "csm": None, "sort": "score", "limit": 1000}
    scores = [a["score"] for a in accounts]
    assert scores == sorted(scores)
    sent = {a.account_id for a in api_worker.traffic.accounts}
    listed = {a["account_id"] for a in accounts}
    assert listed <= sent
    for account_id in sent - listed:  # only accounts without a score stay off the list
        assert api_worker.get(f"/accounts/{account_id}")[1]["account"]["score"] is None
    # The traffic spreads over bands and tiers, so the filter tests below can tell right from wrong.
    assert len({a["band"] for a in accounts}) >= 2 and len({a["tier"] for a in accounts}) >= 2


def test_the_default_limit_is_50(api_worker):
    status, body = api_worker.get("/accounts")
    assert status == 200 and body["filters"]["limit"] == 50
    assert body["accounts"] == api_worker.get(ALL)[1]["accounts"][:50]


@pytest.mark.parametrize("query", [
    "band=red", "band=yellow", "band=green", "tier=strategic", "tier=key", "tier=standard", "tier=unknown",
    "band=green&tier=standard", "band=yellow&tier=key", "band=red&tier=strategic", "limit=3", "limit=1",
    "band=green&limit=2", "tier=standard&limit=2&band=green",
])
def test_filters_and_limit_select_from_the_at_risk_list(api_worker, query):
    params = dict(urllib.parse.parse_qsl(query))
    limit = int(params.pop("limit", 50))
    full = api_worker.get(ALL)[1]["accounts"]
    status, body = api_worker.get(f"/accounts?{query}")
    assert status == 200
    validate(body, "AccountList")
    expected = [a["account_id"] for a in full if _matches(a, params)][:limit]
    assert [a["account_id"] for a in body["accounts"]] == expected
    assert body["filters"] == {"band": params.get("band"), "tier": params.get("tier"), "csm": None, "sort": "score",
                               "limit": limit}


def test_csm_and_sort_select_one_managers_accounts_biggest_weekly_drop_first(api_worker):
    full = api_worker.get(ALL)[1]["accounts"]
    assert sum(a["score_7d_ago"] is not None for a in full) >= len(full) // 2  # 42 days of history
    by_drop = api_worker.get(ALL + "&sort=drop_7d")[1]["accounts"]
    assert [a["account_id"] for a in by_drop] == [a["account_id"] for a in sorted(full, key=_drop_order)]
    csms = sorted({a["csm"] for a in full if a["csm"]})
    assert len(csms) >= 2
    for csm in csms:
        for query, order in ((f"csm={urllib.parse.quote(csm)}", None),
                             (f"csm={urllib.parse.quote(csm)}&sort=drop_7d", _drop_order),
                             (f"band=red&csm={urllib.parse.quote(csm)}&sort=drop_7d&limit=2", _drop_order)):
            params = dict(urllib.parse.parse_qsl(query))
            status, body = api_worker.get(f"/accounts?{query}")
            assert status == 200, body
            validate(body, "AccountList")
            mine = [a for a in full if _matches(a, params)]
            expected = sorted(mine, key=order) if order else mine
            assert [a["account_id"] for a in body["accounts"]] == [a["account_id"] for a in expected][
                :int(params.get("limit", 50))]
            assert body["filters"]["csm"] == csm and body["filters"]["sort"] == params.get("sort", "score")


def _ids(body: dict) -> list[str]:
    return [a["account_id"] for a in body["accounts"]]


def test_the_list_and_the_at_risk_page_take_a_csm_by_name_or_by_its_slug(api_worker):
    full = api_worker.get(ALL)[1]["accounts"]
    csms = sorted({a["csm"] for a in full if a["csm"]})
    assert any(csm_slug(csm) != csm for csm in csms)  # the generated names have capitals and spaces
    for csm in csms:
        mine = [a["account_id"] for a in full if a["csm"] == csm]
        at_risk = {a["account_id"] for a in full if a["csm"] == csm and a["band"] in ("yellow", "red")}
        for spelled in (csm, csm_slug(csm), csm.upper()):
            assert _ids(api_worker.get(f"{ALL}&csm={urllib.parse.quote(spelled)}")[1]) == mine, spelled
            status, html = api_worker.get(f"/ui/?csm={urllib.parse.quote(spelled)}")
            assert status == 200, html
            listed = {urllib.parse.unquote(i) for i in re.findall(r'<tr class="account"><td><a href="/ui/accounts/'
                                                                  r'([^"]+)"', html)}
            assert listed == at_risk, (spelled, html[:500])
    # every generated account has a CSM: `none` (no CSM) lists nobody, and the page says so
    assert _ids(api_worker.get(f"{ALL}&csm=none")[1]) == []
    status, html = api_worker.get("/ui/?csm=none")
    assert status == 200 and "No account of CSM none is at risk." in html
    assert api_worker.get("/ui/?csm=")[0] == 400


def test_account_detail_explains_the_score_and_lists_its_recent_alerts(api_worker):
    full = api_worker.get(ALL)[1]["accounts"]
    by_account: dict[str, list[dict]] = {}
    for alert in api_worker.alerts:
        if alert["account_id"]:
            by_account.setdefault(alert["account_id"], []).append(alert)
    assert by_account, "the mixed scenario should have raised alerts"
    for listed in full:
        account_id = listed["account_id"]
        status, body = api_worker.get(f"/accounts/{urllib.parse.quote(account_id)}")
        assert status == 200, body
        validate(body, "AccountDetail")
        assert body["source"] == "redis"
        assert body["account"] == listed
        why = body["why"]
        assert sorted(m["name"] for m in why) == sorted(m["name"] for m in listed["measures"])
        lost = [m["points_lost"] for m in why if m["points_lost"] is not None]
        assert lost == sorted(lost, reverse=True)
        assert abs(100 - sum(lost) - listed["score"]) <= 0.01 * len(lost) + 0.05
        newest = [a["alert_id"] for a in reversed(by_account.get(account_id, []))][:20]
        assert [a["alert_id"] for a in body["recent_alerts"]] == newest
        for alert in body["recent_alerts"]:
            validate(alert, "Alert")


def test_account_ids_are_percent_decoded(api_worker):
    account_id = api_worker.get(ALL)[1]["accounts"][0]["account_id"]
    encoded = "".join(f"%{b:02X}" for b in account_id.encode())
    assert api_worker.get(f"/accounts/{encoded}") == api_worker.get(f"/accounts/{account_id}")


@pytest.mark.parametrize(("path", "status", "parameter", "says"), [
    ("/accounts?colour=red", 400, "colour", "unknown query parameter 'colour'"),
    ("/accounts?band=red&Band=red", 400, "Band", "unknown query parameter 'Band'"),
    ("/accounts?band=purple", 400, "band", "band must be one of green, yellow, red"),
    ("/accounts?band=", 400, "band", "band must be one of"),
    ("/accounts?band=RED", 400, "band", "band must be one of"),
    ("/accounts?tier=gold", 400, "tier", "tier must be one of strategic, key, standard, unknown"),
    ("/accounts?limit=abc", 400, "limit", "limit must be an integer"),
    ("/accounts?limit=1.5", 400, "limit", "limit must be an integer"),
    ("/accounts?limit=", 400, "limit", "limit must be an integer"),
    ("/accounts?limit=1_0", 400, "limit", "limit must be an integer"),
    ("/accounts?limit=0", 400, "limit", "limit must be between 1 and 1000"),
    ("/accounts?limit=-5", 400, "limit", "limit must be between 1 and 1000"),
    ("/accounts?limit=1001", 400, "limit", "limit must be between 1 and 1000"),
    ("/accounts?limit=99999999999999999999999", 400, "limit", "limit must be between 1 and 1000"),
    ("/accounts?limit=5&limit=6", 400, "limit", "given more than once"),
    ("/accounts?sort=name", 400, "sort", "sort must be one of score, drop_7d"),
    ("/accounts?csm=", 400, "csm", "csm must be 1-200 characters"),
    ("/accounts/acc-00001?verbose=1", 400, "verbose", "unknown query parameter 'verbose'"),
    ("/accounts/" + "x" * 201, 400, "account_id", "account_id must be 1-200 characters"),
    ("/accounts/acc-99999", 404, "account_id", "unknown account 'acc-99999'"),
])
def test_bad_requests_get_a_json_error_naming_the_parameter(api_worker, path, status, parameter, says):
    got_status, body = api_worker.get(path)
    assert got_status == status, body
    validate(body, "Error")
    assert body["status"] == status and body["parameter"] == parameter
    assert says in body["error"]


def test_every_documented_route_answers(api_worker):
    account_id = api_worker.get(ALL)[1]["accounts"][0]["account_id"]
    for path, ops in openapi()["paths"].items():
        status, _ = api_worker.get(path.replace("{account_id}", account_id))
        assert str(status) in ops["get"]["responses"], path
        assert status == 200, path


# -- GET /accounts/{id}/history: one point per event-time day, from Redis ---------------------------------

def _day(epoch_ms: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=(epoch_ms - 1) // 86_400_000)).isoformat()


def test_every_scored_account_has_a_point_for_each_day_up_to_the_last_one_ended(api_worker):
    listed = api_worker.get(ALL)[1]["accounts"]
    assert listed
    events = [r.occurred_at // 86_400_000 for r in api_worker.traffic.records() if r.kind != "account"]
    first_event, last_event = (date(1970, 1, 1) + timedelta(days=d) for d in (min(events), max(events)))
    for account in listed:
        status, body = api_worker.get(f"/accounts/{urllib.parse.quote(account['account_id'])}/history")
        assert status == 200, body
        validate(body, "History")
        assert body["source"] == "redis" and body["days"] == DEFAULT_HISTORY_DAYS
        days = [date.fromisoformat(p["day"]) for p in body["points"]]
        assert days == [days[0] + timedelta(days=n) for n in range(len(days))]  # day by day, none missing
        # None before the first event of any account (a profile's first tick is at its partition's stream time),
        # the newest one a day that ended before the latest event; 42 days of traffic span 42 or 43 dates.
        assert first_event <= days[0] and days[-1] < last_event and len(days) >= 30, (first_event, days, last_event)
        # the newest point is a day that has ended, at most a day before the snapshot's own day
        assert str(days[-1]) < _day(account["as_of"]) and days[-1] >= date.fromisoformat(_day(account["as_of"])) \
            - timedelta(days=2)
        scored = [p for p in body["points"] if p["score"] is not None]
        assert scored and all(p["band"] in ("green", "yellow", "red") for p in scored)


def test_days_selects_the_newest_points(api_worker):
    account_id = api_worker.get(ALL)[1]["accounts"][0]["account_id"]
    full = api_worker.get(f"/accounts/{account_id}/history?days=180")[1]["points"]
    status, body = api_worker.get(f"/accounts/{account_id}/history?days=7")
    assert status == 200 and body["days"] == 7 and body["points"] == full[-7:]


@pytest.mark.parametrize(("path", "status", "parameter", "says"), [
    ("/accounts/acc-00001/history?days=0", 400, "days", "days must be an integer from 1 to 180"),
    ("/accounts/acc-00001/history?days=181", 400, "days", "days must be an integer from 1 to 180"),
    ("/accounts/acc-00001/history?days=7.5", 400, "days", "days must be an integer"),
    ("/accounts/acc-00001/history?days=", 400, "days", "days must be an integer"),
    ("/accounts/acc-00001/history?days=7&days=8", 400, "days", "given more than once"),
    ("/accounts/acc-00001/history?since=2026-01-01", 400, "since", "unknown query parameter 'since'"),
    ("/accounts/" + "x" * 201 + "/history", 400, "account_id", "account_id must be 1-200 characters"),
    ("/accounts/acc-99999/history", 404, "account_id", "no score history for account 'acc-99999'"),
])
def test_bad_history_requests_get_a_json_error_naming_the_parameter(api_worker, path, status, parameter, says):
    got_status, body = api_worker.get(path)
    assert got_status == status, body
    validate(body, "Error")
    assert body["status"] == status and body["parameter"] == parameter and says in body["error"]
