"""The Prometheus and Alertmanager configs pass their own tools' checks, and the rules' unit tests pass."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.deploy.promstack import REPO, tool

PROMETHEUS = REPO / "deploy" / "prometheus"
ALERTMANAGER_CONFIG = REPO / "deploy" / "alertmanager" / "alertmanager.yml"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=60, cwd=REPO)


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{' '.join(result.args)} failed:\n{result.stdout}\n{result.stderr}"


def test_rule_and_test_files_exist() -> None:
    assert RULE_FILES, "no rule files under deploy/prometheus/rules"
    assert RULE_TESTS, "no promtool unit tests under deploy/prometheus/tests"


def test_prometheus_config_is_valid() -> None:
    result = run(tool("promtool"), "check", "config", PROMETHEUS / "prometheus.yml")
    assert_ok(result)
    # the config's rule_files glob must pick up every rule file, or Prometheus silently loads fewer
    assert f"SUCCESS: {len(RULE_FILES)} rule files found" in result.stdout


def test_rules_are_valid() -> None:
    assert_ok(run(tool("promtool"), "check", "rules", *RULE_FILES))


@pytest.mark.parametrize("test_file", RULE_TESTS, ids=lambda p: p.name)
def test_rule_unit_tests_pass(test_file: Path) -> None:
    assert_ok(run(tool("promtool"), "test", "rules", test_file))


def test_alertmanager_config_is_valid() -> None:
    assert_ok(run(tool("amtool"), "check-config", ALERTMANAGER_CONFIG))


def test_commented_receiver_examples_are_valid_once_uncommented(tmp_path: Path) -> None:
    # below the examples marker, lines "  # " are example config and lines "  ## " prose about it
    config_part, examples = ALERTMANAGER_CONFIG.read_text().split("  ## --- examples")
    uncommented = config_part + "\n".join("  " + line[4:] if line.startswith("  # ") else line
                                           for line in examples.splitlines()[1:])
    assert "pagerduty_configs" in uncommented and "slack_configs" in uncommented
    config = tmp_path / "alertmanager.yml"
    config.write_text(uncommented)
    result = run(tool("amtool"), "check-config", config)
    assert_ok(result)
    assert "9 receivers" in result.stdout  # the two examples joined the seven real ones


@pytest.mark.parametrize(("labels", "receivers"), [
    # pipeline alerts go to the healthmon on-call, never to customer success
    ({"alertname": "HealthmonAllWorkersDown", "component": "pipeline", "severity": "critical"}, "ops-pager"),
    ({"alertname": "HealthmonSourceStale", "component": "pipeline", "severity": "error", "topic": "nps-responses"},
     "ops-chat"),
    # a critical customer alert pages and still reaches the account's CSM
    ({"severity": "critical", "tier": "strategic", "csm": "alice@example.com"}, "cs-pager,csm-alice"),
    ({"severity": "error", "tier": "strategic", "csm": "bob@example.com"}, "cs-pager,csm-bob"),
    ({"severity": "warning", "tier": "key", "csm": "bob@example.com"}, "csm-bob"),
    ({"severity": "warning", "tier": "standard", "csm": "carol@example.com"}, "cs-team"),
    # info lines and alerts nobody owns go to the digest
    ({"severity": "info", "tier": "standard", "csm": "alice@example.com"}, "cs-digest"),
    ({"severity": "warning", "tier": "standard"}, "cs-digest"),
    # what the bridge sends: healthmon's own stall goes to the on-call, customer alerts to CSMs
    ({"alertname": "HealthmonIngestStalled", "kind": "ingest_stalled", "rule": "ingest_stalled:usage",
      "severity": "error", "component": "pipeline"}, "ops-chat"),
    ({"alertname": "CustomerHealthChanged", "kind": "health_changed", "rule": "health", "severity": "critical",
      "account_id": "acme", "tier": "strategic", "csm": "alice@example.com"}, "cs-pager,csm-alice"),
    ({"alertname": "CustomerBelowWarningLine", "kind": "below_warning_line", "rule": "wau_low",
      "severity": "warning", "account_id": "beta", "tier": "key", "csm": "bob@example.com"}, "csm-bob"),
])
def test_alertmanager_routes(labels: dict[str, str], receivers: str) -> None:
    result = run(tool("amtool"), "config", "routes", "test", f"--config.file={ALERTMANAGER_CONFIG}",
                 *(f"{k}={v}" for k, v in labels.items()))
    assert_ok(result)
    assert result.stdout.strip() == receivers
