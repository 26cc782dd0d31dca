"""A real Prometheus scraping a real worker: clean exposition, `up`, and data behind every dashboard panel."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.promstack import (
    REPO,
    dashboard_expressions,
    query,
    start_prometheus,
    stop_prometheus,
    tool,
    wait_for_series,
)

pytestmark = pytest.mark.integration

RULE_FILES = sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.yml"))


@pytest.fixture
def prometheus(live_worker: Any, tmp_path: Path) -> Iterator[str]:
    """A throwaway Prometheus scraping the live worker every second, with the repo's rules loaded."""
    process, base_url = start_prometheus(tmp_path, [live_worker.metrics_target], rule_files=RULE_FILES)
    try:
        yield base_url
    finally:
        stop_prometheus(process)


def test_exposition_passes_promtool_lint(live_worker: Any) -> None:
    with urllib.request.urlopen(f"http://{live_worker.metrics_target}/metrics", timeout=10) as response:
        text = response.read()
    assert b"healthmon_events_total" in text
    result = subprocess.run([tool("promtool"), "check", "metrics"], input=text, capture_output=True, timeout=30)
    report = (result.stdout + result.stderr).decode()
    assert result.returncode == 0 and not report.strip(), f"promtool check metrics:\n{report}"


def test_prometheus_scrapes_the_worker(prometheus: str) -> None:
    (series,) = wait_for_series(prometheus, 'up{job="healthmon"} == 1', timeout=30)
    assert series["value"][1] == "1"


def test_every_dashboard_expression_returns_data(prometheus: str) -> None:
    wait_for_series(prometheus, 'up{job="healthmon"} == 1', timeout=30)
    # rate() needs two samples inside its window; give every expression the same deadline
    empty = []
    for expr in dashboard_expressions():
        try:
            wait_for_series(prometheus, expr, timeout=20)
        except AssertionError:
            empty.append(expr)
    assert not empty, "dashboard expressions with no data from a live worker:\n" + "\n".join(empty)


def _rules(base_url: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{base_url}/api/v1/rules", timeout=10) as response:
        groups = json.load(response)["data"]["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_alert_rules_evaluate_against_live_data(prometheus: str) -> None:
    wait_for_series(prometheus, 'up{job="healthmon"} == 1', timeout=30)
    deadline = time.monotonic() + 20
    while any(r["lastEvaluation"].startswith("0001-") for r in _rules(prometheus)) and time.monotonic() < deadline:
        time.sleep(0.25)
    rules = _rules(prometheus)
    assert len(rules) >= 6, "Prometheus did not load the repo's rules"
    broken = {rule["name"]: rule.get("lastError") for rule in rules if rule["health"] != "ok"}
    assert not broken, f"rules not evaluating cleanly on live data: {broken}"
    # the first evaluation may precede the first scrape (nothing up yet); that must clear at once
    worker_alerts = 'ALERTS{alertname=~"HealthmonAllWorkersDown|HealthmonWorkerDown"}'
    deadline = time.monotonic() + 10
    while query(prometheus, worker_alerts) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert query(prometheus, worker_alerts) == []
