"""The provisioned Grafana dashboards: valid, every panel queries something, only metrics healthmon exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.deploy.promql import is_known_metric, metric_names
from tests.deploy.promstack import DASHBOARD, DASHBOARDS, REPO, dashboard_expressions, dashboard_targets

PROVISIONING = REPO / "deploy" / "grafana" / "provisioning"
DASHBOARD_JSON = json.loads(DASHBOARD.read_text())
EXPRESSIONS = dashboard_expressions()


def _all_panels(panels):
    for panel in panels:
        yield panel
        yield from _all_panels(panel.get("panels", []))


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


PANELS = [pytest.param(path, p, id=f"{path.stem}:{p['title']}") for path in DASHBOARDS
          for p in _all_panels(_load(path)["panels"]) if p["type"] != "row"]
ALL_EXPRESSIONS = [pytest.param(expr, id=f"{path.stem}:{n}") for path in DASHBOARDS
                   for n, expr in enumerate(dashboard_expressions(path))]
DATASOURCE_UIDS = {d["uid"] for d in yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
                   ["datasources"]}
by_name = pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)


def test_every_dashboard_is_found() -> None:
    assert {p.name for p in DASHBOARDS} >= {"healthmon.json", "at-risk.json"}


@by_name
def test_dashboard_uids_and_panel_ids_are_unique(path: Path) -> None:
    assert len({_load(p)["uid"] for p in DASHBOARDS}) == len(DASHBOARDS)
    ids = [p["id"] for p in _all_panels(_load(path)["panels"])]
    assert len(ids) == len(set(ids)), "panel ids must be unique"


def test_dashboard_identity() -> None:
    assert DASHBOARD_JSON["uid"] == "healthmon-overview"
    assert DASHBOARD_JSON["title"] == "healthmon"


@pytest.mark.parametrize(("path", "panel"), PANELS)
def test_every_panel_has_a_target(path: Path, panel: dict) -> None:
    targets = [t for t in panel.get("targets", []) if t.get("expr", "").strip()]
    assert targets, f"panel {panel['title']!r} has no PromQL target"
    ref_ids = [t["refId"] for t in panel["targets"]]
    assert len(ref_ids) == len(set(ref_ids))


@pytest.mark.parametrize(("path", "panel"), PANELS)
def test_panels_use_the_provisioned_datasource(path: Path, panel: dict) -> None:
    assert panel["datasource"]["uid"] in DATASOURCE_UIDS
    for target in panel["targets"]:
        assert target["datasource"]["uid"] in DATASOURCE_UIDS


@by_name
def test_panels_do_not_overlap(path: Path) -> None:
    taken: set[tuple[int, int]] = set()
    for panel in _all_panels(_load(path)["panels"]):
        g = panel["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & taken, f"panel {panel['title']!r} overlaps another"
        taken |= cells


@pytest.mark.parametrize("expr", ALL_EXPRESSIONS)
def test_expressions_use_only_exposed_metrics(expr: str) -> None:
    names = metric_names(expr)
    assert names, f"no metric found in {expr!r}"
    unknown = sorted(n for n in names if not is_known_metric(n))
    assert not unknown, f"{expr!r} uses metrics healthmon does not expose: {unknown}"


@by_name
def test_expressions_are_fully_substituted(path: Path) -> None:
    expressions = dashboard_expressions(path)
    assert expressions, "the dashboard has no PromQL"
    for expr in expressions:
        assert "$" not in expr and "[[" not in expr, expr


@by_name
def test_template_variables_query_exposed_metrics(path: Path) -> None:
    for var in _load(path)["templating"]["list"]:
        if var["type"] != "query":
            continue
        query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
        match = re.fullmatch(r"label_values\((\w+)(\{[^{}]*\})?,\s*(\w+)\)", query)
        assert match, f"variable {var['name']}: unexpected query {query!r}"
        assert is_known_metric(match.group(1))


@pytest.mark.parametrize("metric", [
    "healthmon_accounts", "healthmon_alerts_total", "healthmon_events_total", "healthmon_event_lag_seconds_bucket",
    "healthmon_dead_letters_total", "healthmon_watermark_timestamp_seconds", "healthmon_source_staleness_seconds",
    "healthmon_source_stale", "healthmon_health_score_bucket",
])
def test_dashboard_shows(metric: str) -> None:
    assert any(metric in metric_names(e) for e in EXPRESSIONS), f"no panel shows {metric}"


@by_name
def test_counters_are_only_read_through_rate_or_increase(path: Path) -> None:
    # a raw counter on a graph is a line that climbs forever and resets when a worker restarts
    for _, target in dashboard_targets(path):
        for name in metric_names(target["expr"]):
            if name.endswith(("_total", "_bucket")):
                assert re.search(rf"(rate|increase)\({name}\b", target["expr"]), target["expr"]


def test_provisioning_points_at_the_dashboards() -> None:
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "dashboards.yml").read_text())["providers"]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"])
    assert mounts["./deploy/grafana/dashboards"] == providers[0]["options"]["path"]
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
