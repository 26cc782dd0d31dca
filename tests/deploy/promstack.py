"""Run the real Prometheus tools from tests: a throwaway server, queries, and the dashboard's PromQL."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

__all__ = [
    "REPO", "DASHBOARD", "AT_RISK_DASHBOARD", "DASHBOARDS", "GRAFANA_BUILTINS", "tool", "start_prometheus",
    "stop_prometheus", "query", "wait_for_series",
    "dashboard_expressions", "dashboard_targets", "substitute",
]

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "healthmon.json"
AT_RISK_DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "at-risk.json"
#: every provisioned dashboard
DASHBOARDS = sorted((REPO / "deploy" / "grafana" / "dashboards").glob("*.json"))

#: what Grafana's built-in variables become when an expression is sent to Prometheus directly
GRAFANA_BUILTINS = {
    "__rate_interval": "1m", "__interval": "15s", "__interval_ms": "15000", "__range": "5m",
    "__range_s": "300", "__range_ms": "300000",
}
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\[\[(\w+)(?::\w+)?\]\]|\$(\w+)")


def tool(name: str) -> str:
    """Return the path of a Prometheus/Alertmanager binary; fail the test, naming `make tools`, if absent."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not installed; run `make tools` (deploy/scripts/install-tools.sh)", pytrace=False)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def start_prometheus(tmp_path: Path, targets: list[str], scrape_interval: str = "1s",
                     rule_files: list[Path] | tuple[Path, ...] = (),
                     ready_timeout: float = 30.0) -> tuple[subprocess.Popen[bytes], str]:
    """Start `prometheus` on a free loopback port scraping `targets` as job="healthmon"; return it and its URL."""
    binary = tool("prometheus")
    config = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval,
                   "scrape_timeout": scrape_interval},
        "rule_files": [str(Path(f).resolve()) for f in rule_files],
        "scrape_configs": [{"job_name": "healthmon", "static_configs": [{"targets": list(targets)}]}],
    }
    config_path = tmp_path / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    log_path = tmp_path / "prometheus.log"
    port = _free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [binary, f"--config.file={config_path}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited with {process.returncode}:\n{log_path.read_text()[-2000:]}")
        try:
            status, _ = _get(f"{base_url}/-/ready", timeout=1.0)
            if status == 200:
                return process, base_url
        except OSError:
            pass
        time.sleep(0.1)
    stop_prometheus(process)
    raise RuntimeError(f"prometheus not ready after {ready_timeout}s:\n{log_path.read_text()[-2000:]}")


def stop_prometheus(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started by start_prometheus."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def query(base_url: str, expr: str) -> list[dict[str, Any]]:
    """Run an instant query; return its result list (raise ValueError with Prometheus's error if it fails)."""
    url = f"{base_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    status, body = _get(url)
    payload = json.loads(body)
    if status != 200 or payload.get("status") != "success":
        raise ValueError(f"query {expr!r} failed ({status}): {payload.get('error', body[:500])}")
    result = payload["data"]["result"]
    return result if isinstance(result, list) else [{"metric": {}, "value": result}]


def wait_for_series(base_url: str, expr: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Poll `expr` until it returns at least one series; return them (AssertionError on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        result = query(base_url, expr)
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"no series for {expr!r} after {timeout}s")
        time.sleep(0.25)


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # collapsed rows nest their panels


def dashboard_targets(path: Path = DASHBOARD) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield (panel, target) for every query target of every panel, rows included."""
    dashboard = json.loads(path.read_text())
    for panel in _panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            yield panel, target


def _variable_values(dashboard: dict[str, Any]) -> dict[str, str]:
    values = dict(GRAFANA_BUILTINS)
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("includeAll"):
            values[var["name"]] = var.get("allValue") or ".*"
        else:
            current = var.get("current", {}).get("value", "")
            values[var["name"]] = current[0] if isinstance(current, list) and current else str(current)
    return values


def substitute(expr: str, values: dict[str, str]) -> str:
    """Replace Grafana variables ($x, ${x}, ${x:fmt}, [[x]]) in `expr`; unknown ones raise KeyError."""
    def replace(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        if name not in values:
            raise KeyError(f"unknown Grafana variable ${name} in {expr!r}")
        return values[name]

    return _VARIABLE.sub(replace, expr)


def dashboard_expressions(path: Path = DASHBOARD, **overrides: str) -> list[str]:
    """Return every PromQL expression in the dashboard, Grafana variables substituted.

    `overrides` set variables, e.g. `__rate_interval="30s"`.
    """
    dashboard = json.loads(path.read_text())
    values = _variable_values(dashboard) | overrides
    return [substitute(target["expr"], values) for _, target in dashboard_targets(path) if target.get("expr")]
