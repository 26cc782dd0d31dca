"""The bench's and drills' child workers get their settings from the parent's Settings, and the core's mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from healthmon.bench.children import settings_env
from healthmon.core.compiled import PURE_ENV
from tests.fixtures import isolated_settings


def test_child_env_keeps_the_pure_core_switch_and_drops_stray_settings(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(PURE_ENV, "1")
    monkeypatch.setenv("HEALTHMON_LATENESS_SECONDS", "1")  # a setting of the parent's shell, not of `settings`
    settings = isolated_settings("127.0.0.1:1", "redis://127.0.0.1:6379/0", tmp_path / "data")

    env = settings_env(settings)

    assert env[PURE_ENV] == "1"
    assert env["HEALTHMON_LATENESS_SECONDS"] == str(settings.engine.lateness_seconds)
    assert env["KAFKA_BROKER_URL"] == settings.kafka.broker_url


def test_child_env_without_the_switch_has_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(PURE_ENV, raising=False)
    settings = isolated_settings("127.0.0.1:1", "redis://127.0.0.1:6379/0", tmp_path / "data")

    assert PURE_ENV not in settings_env(settings)
