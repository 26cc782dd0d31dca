"""The settings object: environment binding, validation, and the README's configuration table."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from streams.settings import Settings, env_name
from streams.settings_table import config_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_field_has_an_env_var_default_and_description():
    for name, field in Settings.model_fields.items():
        assert env_name(name).isupper(), name
        assert field.description, name
        assert not field.is_required(), name


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("HEALTHMON_PARTITIONS", "8")
    monkeypatch.setenv("KAFKA_BROKER_URL", "broker-1:9092")
    monkeypatch.setenv("HEALTHMON_TOPIC_PREFIX", "staging-")
    settings = Settings()
    assert settings.partitions == 8
    assert settings.kafka_broker_url == "kafka://broker-1:9092"
    assert settings.input_topics["usage"] == "staging-product-usage"


@pytest.mark.parametrize("var, value", [
    ("HEALTHMON_PARTITIONS", "zero"),
    ("HEALTHMON_PARTITIONS", "0"),
    ("HEALTHMON_WEB_PORT", "70000"),
    ("HEALTHMON_LOG_LEVEL", "loud"),
    ("HEALTHMON_ALERTMANAGER_URLS", "http://am-1:9093,am-2:9093"),
    ("HEALTHMON_ALERTMANAGER_RESEND_SECONDS", "0"),
    ("HEALTHMON_DASHBOARD_URL_TEMPLATE", "http://grafana/d/x?var-account={account}"),
    ("HEALTHMON_BRIDGE_PORT", "-1"),
])
def test_bad_environment_values_are_rejected(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(ValidationError):
        Settings()


def test_readme_configuration_table_matches_settings():
    text = README.read_text()
    assert config_table() in text, "README's configuration table is stale: run `python -m streams.settings`"


def test_alertmanager_urls_are_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("HEALTHMON_ALERTMANAGER_URLS", " http://am-1:9093/, https://am-2:9093 ,")
    assert Settings().alertmanager_url_list == ["http://am-1:9093", "https://am-2:9093"]
