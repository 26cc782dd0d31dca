"""docker-compose.yml and the Dockerfile, checked without a Docker engine: structure, settings, paths."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import yaml

from healthmon.config import Settings, TopicSettings
from tests.deploy.promstack import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
HEALTHMON = {name: s for name, s in SERVICES.items() if s.get("build") in (".", "./")}
WORKERS = {name: s for name, s in HEALTHMON.items() if s.get("command", ["worker"])[0] == "worker"}
ENV_NAMES = {section.env_name(field) for _, section in Settings.sections() for field in section.model_fields}
PROMETHEUS_CONFIG = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
DOCKERFILE = (REPO / "Dockerfile").read_text()


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _scrape_targets(job: str) -> set[str]:
    (config,) = [c for c in PROMETHEUS_CONFIG["scrape_configs"] if c["job_name"] == job]
    return {t for sc in config["static_configs"] for t in sc["targets"]}


def _one_shot(name: str) -> bool:
    """A service others wait on to *finish*, not to be healthy (e.g. topic creation)."""
    waits = [s.get("depends_on", {}).get(name, {}) for s in SERVICES.values()]
    conditions = {w.get("condition") for w in waits if isinstance(w, dict) and w}
    return SERVICES[name].get("restart") == "no" and conditions == {"service_completed_successfully"}


def test_the_stack_has_every_service() -> None:
    assert set(SERVICES) >= {"kafka", "redis", "prometheus", "alertmanager", "grafana",
                             "worker-1", "worker-2", "generator", "bridge"}
    assert set(WORKERS) == {"worker-1", "worker-2"}


def test_kafka_is_apache_kraft_single_node() -> None:
    kafka = SERVICES["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = _environment(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert not any("zookeeper" in name for name in SERVICES)


@pytest.mark.parametrize("name", sorted(n for n in SERVICES if not _one_shot(n)))
def test_every_long_running_service_has_a_healthcheck(name: str) -> None:
    check = SERVICES[name].get("healthcheck")
    assert check and check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
    assert check["test"][0] in ("CMD", "CMD-SHELL")


def test_only_topic_creation_is_one_shot() -> None:
    # nothing to probe in a one-shot step: dependants wait for it to exit 0 instead
    assert [n for n in SERVICES if _one_shot(n)] == ["kafka-init"]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_dependencies_wait_for_health_or_completion(name: str) -> None:
    for dependency, spec in SERVICES[name].get("depends_on", {}).items():
        assert dependency in SERVICES
        condition = spec["condition"]
        if condition == "service_healthy":
            assert SERVICES[dependency].get("healthcheck"), f"{name} waits for {dependency} to be healthy"
        else:
            assert condition == "service_completed_successfully" and _one_shot(dependency)


@pytest.mark.parametrize("name", sorted(HEALTHMON))
def test_healthmon_environment_is_known_to_settings(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _environment(HEALTHMON[name])
    unknown = sorted(set(env) - ENV_NAMES)
    assert not unknown, f"{name} sets variables Settings does not read: {unknown}"
    assert env[Settings.env_name("kafka", "broker_url")] == "kafka://kafka:9092"
    assert env[Settings.env_name("redis", "url")] == "redis://redis:6379/0"
    for var in ENV_NAMES:
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    settings = Settings(_env_file=None)  # the values must validate, not just the names
    assert settings.kafka.broker_url == "kafka://kafka:9092"


def test_workers_listen_where_prometheus_scrapes() -> None:
    targets = set()
    for name, worker in WORKERS.items():
        env = _environment(worker)
        assert env[Settings.env_name("http", "host")] == "0.0.0.0", f"{name} would bind loopback only"
        port = env.get(Settings.env_name("http", "port"), str(Settings.field_info("http", "port").default))
        targets.add(f"{name}:{port}")
        health = " ".join(worker["healthcheck"]["test"])
        assert f":{port}/healthz" in health
    assert _scrape_targets("healthmon") == targets


def test_the_bridge_pushes_to_alertmanager_and_is_scraped() -> None:
    bridge = SERVICES["bridge"]
    assert bridge["command"][:3] == ["alertmanager", "--url", "http://alertmanager:9093"]
    assert bridge["depends_on"]["alertmanager"]["condition"] == "service_healthy"
    env = _environment(bridge)
    assert env[Settings.env_name("alerts", "bridge_host")] == "0.0.0.0", "the bridge would bind loopback only"
    port = env[Settings.env_name("alerts", "bridge_port")]
    assert f":{port}/healthz" in " ".join(bridge["healthcheck"]["test"])
    assert _scrape_targets("healthmon-bridge") == {f"bridge:{port}"}


def test_the_alerts_topic_outlives_any_episode() -> None:
    # the bridge rebuilds its firing set from the alerts topic: a deleted firing alert would be forgotten
    init = SERVICES["kafka-init"]
    script = "\n".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    assert re.search(r"--topic health-alerts --config retention.ms=-1", script)


def test_kafka_topics_match_the_workers_partitions() -> None:
    init = SERVICES["kafka-init"]
    script = "\n".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    defaults = {f: TopicSettings.model_fields[f].default for f in
                ("usage", "tickets", "nps", "accounts", "alerts", "deadletter")}
    for topic in defaults.values():
        assert re.search(rf"\b{re.escape(topic)}\b", script), f"kafka-init does not create {topic}"
    assert re.search(r"--topic accounts --config cleanup.policy=compact", script)
    partitions = {_environment(w)[Settings.env_name("topics", "partitions")] for w in WORKERS.values()}
    assert partitions == {_environment(init)["PARTITIONS"]}


@pytest.mark.parametrize("name", sorted(HEALTHMON))
def test_healthmon_commands_parse(name: str) -> None:
    from healthmon.cli import cli

    args = HEALTHMON[name].get("command", ["worker"])
    command = cli.commands[args[0]]
    with command.make_context(args[0], list(args[1:])) as ctx:  # parses options without running anything
        assert isinstance(ctx, click.Context)


def test_generator_sends_the_documented_traffic() -> None:
    assert SERVICES["generator"]["command"] == ["generate", "--accounts", "200", "--rate", "500",
                                                "--scenario", "mixed"]


def test_alertmanager_and_prometheus_find_each_other() -> None:
    (alerting,) = PROMETHEUS_CONFIG["alerting"]["alertmanagers"]
    assert alerting["static_configs"][0]["targets"] == ["alertmanager:9093"]
    assert "9093:9093" in SERVICES["alertmanager"]["ports"]
    assert "9090:9090" in SERVICES["prometheus"]["ports"]
    assert "3000:3000" in SERVICES["grafana"]["ports"]


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_mounted_paths_exist(name: str) -> None:
    for volume in SERVICES[name].get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith("."):
            assert (REPO / source).exists(), f"{name} mounts {source}, which is not in the repo"


@pytest.mark.parametrize(("service", "host_dir", "config"), [
    ("prometheus", "./deploy/prometheus", "/etc/prometheus/prometheus.yml"),
    ("alertmanager", "./deploy/alertmanager", "/etc/alertmanager/alertmanager.yml"),
])
def test_config_flags_point_into_mounts(service: str, host_dir: str, config: str) -> None:
    assert f"--config.file={config}" in SERVICES[service]["command"]
    mounts = dict(v.split(":")[:2] for v in SERVICES[service]["volumes"])
    assert mounts[host_dir] == str(Path(config).parent)
    assert (REPO / host_dir / Path(config).name).is_file()


# --- Dockerfile --------------------------------------------------------------------------------------

def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    return instructions[last_from:]


def test_dockerfile_runtime_image() -> None:
    final = dict(_final_stage())
    assert final["FROM"].split()[0] == "python:3.11-slim"
    assert final["USER"] not in ("root", "0")
    assert final["EXPOSE"].split() == ["6066"]
    assert final["ENTRYPOINT"] == '["healthmon"]'
    assert final["CMD"] == '["worker"]'
    assert "/healthz" in final["HEALTHCHECK"]


def test_dockerfile_copies_every_package_and_dockerignore_keeps_them() -> None:
    copied = {source for op, arg in _instructions() if op == "COPY" and "--from" not in arg
              for source in shlex.split(arg)[:-1]}
    for package in ("healthmon", "streams", "agents", "schemas", "pyproject.toml", "README.md"):
        assert package in copied, f"the image lacks {package}"
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert not ignored & {"healthmon", "streams", "agents", "schemas", "pyproject.toml", "README.md"}
    assert {".git", ".venv"} <= ignored


# --- secrets ------------------------------------------------------------------------------------------

def test_secrets_come_from_an_optional_ignored_env_file() -> None:
    for name, service in HEALTHMON.items():
        (entry,) = service["env_file"]
        assert entry == {"path": "./deploy/secrets/healthmon.env", "required": False}, name
    example = REPO / "deploy" / "secrets" / "healthmon.env.example"
    assert "deploy/secrets/*" in (REPO / ".gitignore").read_text()
    settings = dict(line.lstrip("# ").split("=", 1) for line in example.read_text().splitlines()
                    if re.match(r"#? ?[A-Z_]+=", line))
    assert settings and set(settings) <= ENV_NAMES, set(settings) - ENV_NAMES
    # Only placeholders: every password or token is written as <...>.
    secrets = [value for var, value in settings.items() if var.endswith(("_PASSWORD", "_TOKEN"))]
    assert len(secrets) == 3 and all(v.startswith("<") and v.endswith(">") for v in secrets)
