"""The "Accounts at risk" dashboard: its pickers, table and drill-down, and its PromQL on a real Prometheus.

Two real Prometheus servers answer the dashboard's queries: one over eight days of per-account series
written into its TSDB with `promtool tsdb create-blocks-from openmetrics` (so `offset 7d` has data), and one
scraping the live worker, whose accounts not green must be the ones the table lists.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from healthmon.core.csm import csm_slug
from tests.deploy.at_risk import DASHBOARD, TABLE
from tests.deploy.at_risk import expr as _expr
from tests.deploy.at_risk import panel as _panel
from tests.deploy.at_risk import table as _table
from tests.deploy.promstack import (
    AT_RISK_DASHBOARD,
    dashboard_expressions,
    query,
    start_prometheus,
    stop_prometheus,
    tool,
    wait_for_series,
)

DAY_S = 86_400
HOUR_S = 3_600
STEP_S = 120


def test_the_dashboard_has_csm_and_tier_pickers_and_an_account_drill_down() -> None:
    assert (DASHBOARD["uid"], DASHBOARD["title"]) == ("healthmon-at-risk", "Accounts at risk")
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    for name, label in (("csm", "csm"), ("tier", "tier")):
        assert variables[name]["multi"] and variables[name]["includeAll"]
        assert variables[name]["query"]["query"] == f"label_values(healthmon_account_health_score, {label})"
    assert "account_id)" in variables["account"]["query"]["query"]
    drill_exprs = [t["expr"] for p in DASHBOARD["panels"] if "$account" in p["title"] for t in p.get("targets", [])]
    assert len(drill_exprs) >= 3 and all('account_id="$account"' in e for e in drill_exprs)


def test_the_table_shows_the_columns_csms_need_and_links_each_account() -> None:
    organize = next(t for t in TABLE["transformations"] if t["id"] == "organize")["options"]["renameByName"]
    assert set(organize.values()) == {"Account", "Score", "Band", "7-day change", "30-day change",
                                      "Days since last activity", "Open urgent tickets", "CSM", "Tier"}
    for target in TABLE["targets"]:
        assert 'band=~"yellow|red", csm=~"$csm", tier=~"$tier"' in target["expr"], target["expr"]
        assert target["format"] == "table" and target["instant"]
    (links,) = [prop["value"] for o in TABLE["fieldConfig"]["overrides"] if o["matcher"]["options"] == "Account"
                for prop in o["properties"] if prop["id"] == "links"]
    urls = [link["url"] for link in links]
    assert "${api}/accounts/${__data.fields.Account:percentencode}" in urls
    assert any(u.startswith("/d/healthmon-at-risk/") and "var-account=" in u for u in urls)


# --- eight days of history in a real Prometheus -------------------------------------------------------

#: account -> (csm, tier, [(hours ago the band starts, band, score)], inactive days, open urgent tickets,
#: the scores 7 and 30 days ago the worker's history gives, None: unknown)
HISTORY: dict[str, tuple[str, str, list[tuple[int, str, float]], int, int, float | None, float | None]] = {
    "acme": ("alice@example.com", "strategic", [(8 * 24, "yellow", 70.0), (4 * 24, "red", 40.0)], 9, 2, 70.0, 90.0),
    "beta": ("bob@example.com", "key", [(8 * 24, "yellow", 65.0), (5 * 24, "yellow", 60.0)], 1, 0, 65.0, 58.0),
    "gamma": ("alice@example.com", "standard", [(8 * 24, "red", 45.0), (5, "green", 80.0)], 0, 0, 45.0, 50.0),
    # green a week ago: no series then (HEALTHMON_ACCOUNT_METRICS=at_risk), its history still knows the score
    "delta": ("alice@example.com", "key", [(2 * 24, "yellow", 55.0)], 4, 1, 85.0, 88.0),
    # a new account: its history does not reach back 7 days
    "epsilon": ("dave@example.com", "key", [(24, "yellow", 66.0)], 2, 0, None, None),
}


def _openmetrics(now_s: int) -> str:
    """Return HISTORY as OpenMetrics text: one sample every 2 minutes up to a minute ago."""
    families: dict[str, list[str]] = {name: [] for name in (
        "healthmon_account_health_score", "healthmon_account_inactive_seconds",
        "healthmon_account_open_urgent_tickets", "healthmon_account_health_score_7d_ago",
        "healthmon_account_health_score_30d_ago")}
    for account, (csm, tier, spans, idle_days, urgent, week_ago, month_ago) in HISTORY.items():
        bounds = [*(now_s - hours * HOUR_S for hours, _, _ in spans[1:]), now_s - 60]
        for (hours, band, score), end_s in zip(spans, bounds, strict=True):
            labels = f'account_id="{account}",tier="{tier}",csm="{csm}",band="{band}"'
            for t in range(now_s - hours * HOUR_S, end_s, STEP_S):
                families["healthmon_account_health_score"].append(f"{{{labels}}} {score} {t}")
                families["healthmon_account_inactive_seconds"].append(f"{{{labels}}} {idle_days * DAY_S} {t}")
                families["healthmon_account_open_urgent_tickets"].append(f"{{{labels}}} {urgent} {t}")
                if week_ago is not None:
                    families["healthmon_account_health_score_7d_ago"].append(f"{{{labels}}} {week_ago} {t}")
                if month_ago is not None:
                    families["healthmon_account_health_score_30d_ago"].append(f"{{{labels}}} {month_ago} {t}")
    lines = []
    for name, samples in families.items():
        lines.append(f"# TYPE {name} gauge")
        lines.extend(name + sample for sample in samples)
    return "\n".join([*lines, "# EOF", ""])


@pytest.fixture(scope="module")
def history_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prometheus whose TSDB holds HISTORY (written by promtool before it starts), scraping nothing."""
    tmp = tmp_path_factory.mktemp("at-risk-history")
    source = tmp / "history.om"
    source.write_text(_openmetrics(int(time.time())))
    result = subprocess.run([tool("promtool"), "tsdb", "create-blocks-from", "openmetrics", str(source),
                             str(tmp / "tsdb")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    process, base_url = start_prometheus(tmp, ["127.0.0.1:9"])  # the discard port: nothing to scrape
    try:
        wait_for_series(base_url, "healthmon_account_health_score", timeout=30)
        yield base_url
    finally:
        stop_prometheus(process)


@pytest.mark.integration
def test_the_table_lists_the_accounts_in_yellow_or_red_with_their_seven_day_change(history_prometheus: str) -> None:
    rows = _table(history_prometheus)
    assert rows == {
        "acme": {"band": "red", "csm": "alice@example.com", "tier": "strategic", "score": 40.0, "change_7d": -30.0,
                 "change_30d": -50.0, "inactive_days": 9.0, "urgent": 2.0},
        "beta": {"band": "yellow", "csm": "bob@example.com", "tier": "key", "score": 60.0, "change_7d": -5.0,
                 "change_30d": 2.0, "inactive_days": 1.0, "urgent": 0.0},
        # at risk for two days only, green before: the change comes from its history, not from Prometheus's
        "delta": {"band": "yellow", "csm": "alice@example.com", "tier": "key", "score": 55.0, "change_7d": -30.0,
                  "change_30d": -33.0, "inactive_days": 4.0, "urgent": 1.0},
        # no score 7 days ago: no change (a blank cell)
        "epsilon": {"band": "yellow", "csm": "dave@example.com", "tier": "key", "score": 66.0,
                    "inactive_days": 2.0, "urgent": 0.0},
    }  # gamma is back to green: not on the table


@pytest.mark.integration
@pytest.mark.parametrize(("values", "accounts"), [
    # Grafana escapes a picked value's regex characters, and a PromQL string its backslashes
    ({"csm": r"(alice@example\\.com)"}, {"acme", "delta"}),
    ({"csm": r"(bob@example\\.com|carol@example\\.com)"}, {"beta"}),
    ({"tier": "(strategic|standard)"}, {"acme"}),
    ({"csm": "alice@example.com", "tier": "key"}, {"delta"}),
    ({"csm": "carol@example.com"}, set()),
])
def test_the_csm_and_tier_pickers_filter_the_table(history_prometheus: str, values: dict[str, str],
                                                   accounts: set[str]) -> None:
    assert set(_table(history_prometheus, **values)) == accounts
    stat = _expr(_panel("At risk"), **values)
    counted = query(history_prometheus, stat)
    assert (float(counted[0]["value"][1]) if counted else 0.0) == len(accounts)


def _query_range(base_url: str, expr: str, start_s: float, end_s: float) -> list[dict[str, Any]]:
    params = urllib.parse.urlencode({"query": expr, "start": start_s, "end": end_s, "step": 3600})
    with urllib.request.urlopen(f"{base_url}/api/v1/query_range?{params}", timeout=10) as response:
        return json.load(response)["data"]["result"]


@pytest.mark.integration
def test_the_drill_down_shows_the_score_and_band_over_time(history_prometheus: str) -> None:
    now = time.time()
    score = _query_range(history_prometheus, _expr(_panel("Score and band"), account="acme"), now - 8 * DAY_S, now)
    by_band = {s["metric"]["band"]: {float(v) for _, v in s["values"]} for s in score}
    assert by_band == {"yellow": {70.0}, "red": {40.0}}
    # the band moved 4 days ago and never back (the step of the move may see both: backfilled series have
    # no staleness markers, so the last yellow sample counts for 5 minutes)
    yellow_end = max(t for s in score if s["metric"]["band"] == "yellow" for t, _ in s["values"])
    red_start = min(t for s in score if s["metric"]["band"] == "red" for t, _ in s["values"])
    assert yellow_end <= red_start and abs(red_start - (now - 4 * DAY_S)) < 2 * HOUR_S
    bands = _query_range(history_prometheus, _expr(_panel("Band of"), account="gamma"), now - 8 * DAY_S, now)
    assert {s["metric"]["band"] for s in bands} == {"red", "green"}
    for title in ("Days since last activity", "Open urgent tickets"):
        assert query(history_prometheus, _expr(_panel(title), account="acme")), title


@pytest.mark.integration
def test_every_expression_of_the_dashboard_runs_on_prometheus(history_prometheus: str) -> None:
    empty = [expr for expr in dashboard_expressions(AT_RISK_DASHBOARD, account="acme")
             if "capped" not in expr and "healthmon_account_series" not in expr
             and not query(history_prometheus, expr)]
    assert not empty, "no data for:\n" + "\n".join(empty)


# --- a Prometheus scraping the live worker -----------------------------------------------------------

@pytest.fixture
def live_prometheus(live_worker: Any, tmp_path: Path) -> Iterator[str]:
    """A throwaway Prometheus scraping the live worker (HEALTHMON_ACCOUNT_METRICS at its default) every second."""
    process, base_url = start_prometheus(tmp_path, [live_worker.metrics_target])
    try:
        yield base_url
    finally:
        stop_prometheus(process)


@pytest.mark.integration
def test_the_live_worker_feeds_the_table_with_its_accounts_not_green(live_worker: Any, live_prometheus: str) -> None:
    wait_for_series(live_prometheus, "healthmon_account_series_limit > 0", timeout=30)
    status, listing = live_worker.get("/accounts?limit=500")
    assert status == 200
    at_risk = {a["account_id"]: a for a in listing["accounts"] if a["band"] in ("yellow", "red")}
    assert at_risk, "the live worker's traffic has no account in yellow or red: the test shows nothing"
    rows = {s["metric"]["account_id"]: s for s in wait_for_series(live_prometheus, _expr(TABLE, "A"))}
    assert set(rows) == set(at_risk)
    for account, series in rows.items():
        assert series["metric"]["band"] == at_risk[account]["band"]
        assert series["metric"]["csm"] == csm_slug(at_risk[account]["csm"])
        assert series["metric"]["tier"] == at_risk[account]["tier"]
        assert float(series["value"][1]) == pytest.approx(at_risk[account]["score"])
    for account, row in _table(live_prometheus).items():  # the 7-day change is the API's, blank when unknown
        week, month = at_risk[account]["score_7d_ago"], at_risk[account]["score_30d_ago"]
        assert row.get("change_7d") == (None if week is None else pytest.approx(at_risk[account]["score"] - week))
        assert row.get("change_30d") == (None if month is None else pytest.approx(at_risk[account]["score"] - month))
    account = min(rows)
    # the 7-day change comes from the worker's history, so it has data at once, as every other query
    empty = [expr for expr in dashboard_expressions(AT_RISK_DASHBOARD, account=account)
             if "capped" not in expr and not query(live_prometheus, expr)]
    assert not empty, "no data from the live worker for:\n" + "\n".join(empty)
    assert query(live_prometheus, "sum(healthmon_account_series_capped_accounts)")[0]["value"][1] == "0"
