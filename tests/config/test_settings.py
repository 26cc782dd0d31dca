"""The settings object: sections, environment binding, validation, and the README's configuration tables."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from healthmon.config import KafkaSettings, Settings, StoreSettings, TopicSettings, config_table, settings_env

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_field_has_an_env_var_default_and_description():
    names = []
    for _, section in Settings.sections():
        assert section.TITLE, section
        for name, field in section.model_fields.items():
            names.append(section.env_name(name))
            assert section.env_name(name).isupper(), name
            assert field.description, name
            assert not field.is_required(), name
    assert len(names) == len(set(names)), "an environment variable is bound to two fields"


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("HEALTHMON_PARTITIONS", "8")
    monkeypatch.setenv("KAFKA_BROKER_URL", "broker-1:9092")
    monkeypatch.setenv("HEALTHMON_TOPIC_PREFIX", "staging-")
    settings = Settings()
    assert settings.topics.partitions == 8
    assert settings.kafka.broker_url == "kafka://broker-1:9092"
    assert settings.topics.input_names["usage"] == "staging-product-usage"
    assert settings.topics.alerts_name == "staging-health-alerts"


def test_a_section_given_as_a_dict_changes_only_its_fields(monkeypatch):
    monkeypatch.setenv("HEALTHMON_TOPIC_PREFIX", "staging-")
    monkeypatch.setenv("HEALTHMON_PARTITIONS", "8")
    settings = Settings(topics={"partitions": 2})
    assert (settings.topics.prefix, settings.topics.partitions) == ("staging-", 2)
    assert Settings(topics=TopicSettings(partitions=2)).topics.prefix == ""  # a section object is taken whole
    replaced = settings.replace(topics={"prefix": "demo-"}, http={"port": 0})
    assert (replaced.topics.prefix, replaced.topics.partitions, replaced.http.port) == ("demo-", 2, 0)
    with pytest.raises(ValidationError):
        settings.replace(topics={"partitions": 0})
    with pytest.raises(ValidationError):
        Settings(topics={"partition": 2})  # a typo is an error, not ignored


def test_the_environment_of_a_child_process_reproduces_the_settings(monkeypatch):
    settings = Settings(kafka=KafkaSettings(broker_url="kafka://b:9092"), topics={"prefix": "x-"},
                        http={"api_token": "s3cret"})
    for var, value in settings_env(settings).items():
        monkeypatch.setenv(var, value)
    assert Settings() == settings


def test_the_stuck_partition_setting_reads_its_old_name_with_a_warning(monkeypatch, caplog):
    monkeypatch.setenv("HEALTHMON_PARTITION_STALL_SECONDS", "45")
    with caplog.at_level(logging.WARNING, logger="healthmon.config.settings"):
        assert Settings().worker.stuck_partition_seconds == 45.0
    assert "HEALTHMON_PARTITION_STALL_SECONDS is deprecated" in caplog.text
    assert "set HEALTHMON_STUCK_PARTITION_SECONDS instead" in caplog.text
    monkeypatch.setenv("HEALTHMON_STUCK_PARTITION_SECONDS", "20")  # the new name wins, without a warning
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="healthmon.config.settings"):
        assert Settings().worker.stuck_partition_seconds == 20.0
    assert "deprecated" not in caplog.text


def test_a_dotenv_file_is_read_beneath_the_environment(monkeypatch, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("HEALTHMON_PARTITIONS=6\nHEALTHMON_APP_ID=from-file\n")
    monkeypatch.setenv("HEALTHMON_APP_ID", "from-env")
    settings = Settings(_env_file=env_file)
    assert (settings.topics.partitions, settings.worker.app_id) == (6, "from-env")
    assert Settings(_env_file=None).topics.partitions == 4


@pytest.mark.parametrize("var, value", [
    ("HEALTHMON_PARTITIONS", "zero"),
    ("HEALTHMON_PARTITIONS", "0"),
    ("HEALTHMON_WEB_PORT", "70000"),
    ("HEALTHMON_LOG_LEVEL", "loud"),
    ("HEALTHMON_ALERTMANAGER_URLS", "http://am-1:9093,am-2:9093"),
    ("HEALTHMON_ALERTMANAGER_RESEND_SECONDS", "0"),
    ("HEALTHMON_DASHBOARD_URL_TEMPLATE", "http://grafana/d/x?var-account={account}"),
    ("HEALTHMON_BRIDGE_PORT", "-1"),
    ("HEALTHMON_STUCK_PARTITION_SECONDS", "0"),
    ("HEALTHMON_ACCOUNT_METRICS", "red"),
    ("HEALTHMON_ACCOUNT_METRICS_MAX", "4"),  # fewer than one account's five series
])
def test_bad_environment_values_are_rejected(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize("drift, lateness, ok", [
    ("", "172800", True),  # empty: half of the lateness
    ("0", "3600", True),  # the pace off
    ("3599", "3600", True),
    ("3600", "3600", False),
    ("90000", "3600", False),
])
def test_the_pace_drift_must_stay_under_the_lateness(monkeypatch, drift, lateness, ok):
    monkeypatch.setenv("HEALTHMON_PACE_DRIFT_SECONDS", drift)
    monkeypatch.setenv("HEALTHMON_LATENESS_SECONDS", lateness)
    if ok:
        assert Settings().alignment.pace_drift_ms(int(lateness)) < int(lateness) * 1000
        return
    with pytest.raises(ValidationError, match="HEALTHMON_PACE_DRIFT_SECONDS: .* must be under HEALTHMON_LATENESS"):
        Settings()


def test_readme_configuration_table_matches_settings():
    text = README.read_text()
    assert config_table() in text, "README's configuration tables are stale: run `python -m healthmon.config`"


def test_alertmanager_urls_are_a_comma_separated_list(monkeypatch):
    monkeypatch.setenv("HEALTHMON_ALERTMANAGER_URLS", " http://am-1:9093/, https://am-2:9093 ,")
    assert Settings().alerts.alertmanager_url_list == ["http://am-1:9093", "https://am-2:9093"]


@pytest.mark.parametrize("url", ["memory://", "rocksdb://"])
def test_the_two_stores_are_accepted(url):
    assert StoreSettings(url=url).url == url


@pytest.mark.parametrize("url", ["rocksd://", "redis://localhost", "memory"])
def test_an_unknown_store_is_refused_naming_the_two_known(url):
    with pytest.raises(ValidationError, match="use memory:// or rocksdb://"):
        StoreSettings(url=url)


def test_rocksdb_without_its_binding_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "rocksdict" else real(name, *a))
    with pytest.raises(ValidationError, match=r"pip install 'rocksdict"):
        StoreSettings(url="rocksdb://")


def test_per_account_series_default_to_the_accounts_at_risk_under_a_cap(monkeypatch):
    assert (Settings().http.account_metrics, Settings().http.account_metrics_max) == ("at_risk", 5000)
    monkeypatch.setenv("HEALTHMON_ACCOUNT_METRICS", "all")
    monkeypatch.setenv("HEALTHMON_ACCOUNT_METRICS_MAX", "30000")
    assert (Settings().http.account_metrics, Settings().http.account_metrics_max) == ("all", 30000)


@pytest.mark.parametrize("app_id, prefix, expected", [
    ("healthmon", "", "healthmon-events-by-account"),          # the default: the name a release before had
    ("healthmon-shadow", "", "healthmon-shadow-events-by-account"),
    ("healthmon", "staging-", "healthmon-events-by-account"),  # internal: no prefix, as Faust's changelogs
])
def test_the_repartition_topic_is_named_after_the_application(app_id, prefix, expected):
    settings = Settings(_env_file=None, worker={"app_id": app_id}, topics={"prefix": prefix})
    assert settings.repartition_topic == expected
    assert expected not in settings.topics.all_names
    assert settings.topics.internal_names(app_id) == [expected]


def test_the_removed_repartition_topic_variable_is_named_in_a_warning(monkeypatch, caplog):
    monkeypatch.setenv("HEALTHMON_REPARTITION_TOPIC", "shared-by-everyone")
    monkeypatch.setenv("HEALTHMON_APP_ID", "prod")
    with caplog.at_level(logging.WARNING, logger="healthmon.config.settings"):
        assert Settings(_env_file=None).repartition_topic == "prod-events-by-account"
    assert "HEALTHMON_REPARTITION_TOPIC is no longer read" in caplog.text
