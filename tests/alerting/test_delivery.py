"""The bridge against a real Alertmanager and a real broker: grouping, silences, a crash, an outage."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from healthmon.kafka.admin import ensure_topics
from healthmon.kafka.broker import free_port
from tests.alerting.builders import MIN, T0, customer_alert
from tests.alerting.conftest import AlertmanagerProcess, BridgeProcess, Receiver
from tests.deploy.promstack import tool
from tests.fixtures import TopicIO, metric_value, run

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings_factory: Callable[..., Any]) -> Any:
    """Settings with unique topics and a free bridge port, the topics created."""
    s = settings_factory(alerts={"bridge_port": free_port(), "account_url_base": "http://api.test:6066"})
    run(ensure_topics(TopicIO(s.kafka.broker_url).bootstrap, s.topics, s.kafka))
    return s


def send(topic_io: TopicIO, settings: Any, *alerts: dict[str, Any]) -> None:
    """Produce alerts to the alerts topic keyed by account, as the workers do."""
    topic = settings.topics.alerts_name
    for alert in alerts:
        run(topic_io.send(topic, [orjson.dumps(alert)], key=(alert["account_id"] or "").encode() or None))


def notified_past(topic_io: TopicIO, settings: Any, receiver: Receiver, marker: str) -> None:
    """Send a marker alert after everything else and wait for its notification.

    Each account is its own Alertmanager group (1 s group wait and interval): once the marker, pushed
    last, is notified, a notification that anything pushed before it would cause has come too.
    """
    send(topic_io, settings, customer_alert(marker, tier="standard", severity="warning"))
    receiver.wait_for(marker, "firing", timeout_s=30)


def wait_metric(bridge: BridgeProcess, name: str, at_least: float, timeout_s: float = 30.0, **labels: str) -> None:
    """Wait until the bridge's metric `name` (with `labels`) reaches `at_least`."""
    deadline = time.monotonic() + timeout_s
    while metric_value(bridge.metrics(), name, **labels) < at_least:
        assert time.monotonic() < deadline, f"{name}{labels} < {at_least}\n{bridge.log_tail()}"
        time.sleep(0.2)


def test_a_drop_notifies_grouped_with_labels_and_its_recovery_resolves(
        settings: Any, topic_io: TopicIO, alertmanager: AlertmanagerProcess, receiver: Receiver,
        bridge_factory: Callable[..., BridgeProcess]) -> None:
    bridge = bridge_factory(settings, [alertmanager.url]).start()
    fired = customer_alert("acme", tier="strategic", csm="ann@example.com")
    # records that are not alerts are skipped and counted; they hold nothing back
    run(topic_io.send(settings.topics.alerts_name, [b"not json", orjson.dumps({"kind": "health_changed"})],
                      key=b"acme"))
    send(topic_io, settings, fired)
    got = receiver.wait_for("acme", "firing")
    assert got["labels"] == {"alertname": "CustomerHealthChanged", "account_id": "acme", "tier": "strategic",
                             "severity": "critical", "csm": "ann@example.com", "rule": "health",
                             "kind": "health_changed"}
    assert got["annotations"]["alert_id"] == fired["alert_id"]
    assert got["annotations"]["episode_id"] == fired["episode_id"]
    assert got["annotations"]["account_url"] == "http://api.test:6066/accounts/acme"
    assert got["startsAt"].startswith("2026-01-05T00:00:00")
    (note,) = [n for n in receiver.notifications if n["status"] == "firing"]
    assert note["groupLabels"] == {"alertname": "CustomerHealthChanged", "account_id": "acme"}

    send(topic_io, settings, customer_alert("acme", "resolved", csm="ann@example.com", at_ms=T0 + 90 * MIN))
    resolved = receiver.wait_for("acme", "resolved")
    assert resolved["endsAt"].startswith("2026-01-05T01:30:00")
    assert len(receiver.alerts("acme", "firing")) == 1  # re-sends kept it firing without a second page
    text = bridge.metrics()
    assert metric_value(text, "healthmon_bridge_alerts_sent_total", status="resolved") >= 1
    assert metric_value(text, "healthmon_bridge_firing_alerts") == 0
    assert metric_value(text, "healthmon_bridge_last_success_timestamp_seconds") > 0
    assert metric_value(text, "healthmon_bridge_invalid_records_total") == 2
    lint = subprocess.run([tool("promtool"), "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
    assert lint.returncode == 0 and not (lint.stdout + lint.stderr).strip(), lint
    assert bridge.stop() < 15  # SIGTERM: a prompt, clean exit
    assert bridge.proc is not None and bridge.proc.returncode == 0


def test_a_silence_suppresses_one_account_and_not_another(
        settings: Any, topic_io: TopicIO, alertmanager: AlertmanagerProcess, receiver: Receiver,
        bridge_factory: Callable[..., BridgeProcess]) -> None:
    now = datetime.now(UTC)
    alertmanager.api("POST", "/silences", {
        "matchers": [{"name": "account_id", "value": "quiet-co", "isRegex": False, "isEqual": True}],
        "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat(),
        "createdBy": "test", "comment": "renewal call booked"})
    bridge_factory(settings, [alertmanager.url]).start()
    send(topic_io, settings, customer_alert("quiet-co"), customer_alert("loud-co"))
    receiver.wait_for("loud-co", "firing")
    notified_past(topic_io, settings, receiver, "marker-co")  # quiet-co would have been notified by now
    assert receiver.alerts("quiet-co") == []
    silenced = alertmanager.api("GET", "/alerts?silenced=true&active=false&filter=account_id%3D%22quiet-co%22")
    assert [a["labels"]["account_id"] for a in silenced] == ["quiet-co"]  # it arrived, and was silenced


def test_a_killed_bridge_still_delivers_the_resolve_and_pages_nothing_new(
        settings: Any, topic_io: TopicIO, alertmanager: AlertmanagerProcess, receiver: Receiver,
        bridge_factory: Callable[..., BridgeProcess]) -> None:
    # Firing alerts end 4 resend intervals ahead: the restart must come within them, or Alertmanager
    # expires the alert itself (endsAt: now), which is what this test tells apart from the explicit
    # resolve. At 1 s a restart on a loaded machine (make test's three processes) took longer than 4 s.
    bridge = bridge_factory(settings, [alertmanager.url], resend_s=3.0).start()
    # history: an episode that fired and resolved long ago, and one still firing
    send(topic_io, settings, customer_alert("gone-co"), customer_alert("gone-co", "resolved", at_ms=T0 + 5 * MIN),
         customer_alert("acme"), customer_alert("beta"))
    receiver.wait_for("acme", "firing")
    receiver.wait_for("beta", "firing")
    bridge.kill()
    send(topic_io, settings, customer_alert("acme", "resolved", at_ms=T0 + 60 * MIN))
    seen = len(receiver.notifications)
    bridge.start()
    # the explicit resolve (event time), not Alertmanager expiring an alert nobody re-sent
    assert receiver.wait_for("acme", "resolved")["endsAt"].startswith("2026-01-05T01:00:00")
    # two re-sends of the firing set (3 s apart), then a marker: a page they caused has come by then
    wait_metric(bridge, "healthmon_bridge_alerts_sent_total", 2, status="firing")
    notified_past(topic_io, settings, receiver, "marker-co")
    after = [a for n in receiver.notifications[seen:] for a in n["alerts"] if a["labels"]["account_id"] != "marker-co"]
    assert [a for a in after if a["status"] == "firing"] == [], "the restart re-paged a firing alert"
    assert len(receiver.alerts("acme", "firing")) == 1 and len(receiver.alerts("beta", "firing")) == 1
    assert receiver.alerts("beta", "resolved") == []  # still firing: not resurrected, not dropped
    assert len(receiver.alerts("gone-co", "firing")) <= 1  # its finished episode was not re-paged
    text = bridge.metrics()
    assert metric_value(text, "healthmon_bridge_firing_alerts") == 2  # beta, and the marker


def test_an_alertmanager_outage_loses_nothing(
        settings: Any, topic_io: TopicIO, alertmanager: AlertmanagerProcess, receiver: Receiver,
        bridge_factory: Callable[..., BridgeProcess]) -> None:
    bridge = bridge_factory(settings, [alertmanager.url]).start()
    send(topic_io, settings, customer_alert("acme"))
    receiver.wait_for("acme", "firing")
    alertmanager.stop()
    send(topic_io, settings, customer_alert("acme", "resolved", at_ms=T0 + 60 * MIN),
         *(customer_alert(f"acct-{i}", at_ms=T0 + i * MIN) for i in range(3)))
    # the outage: the bridge keeps retrying (two failed pushes: it did not give up after the first)
    wait_metric(bridge, "healthmon_bridge_push_retries_total", 2, reason="unreachable")
    alertmanager.start()  # same storage: it remembers what it notified; the alerts it forgot are re-sent
    assert receiver.wait_for("acme", "resolved", timeout_s=30)["endsAt"].startswith("2026-01-05T01:00:00")
    for i in range(3):
        receiver.wait_for(f"acct-{i}", "firing", timeout_s=30)
    assert metric_value(bridge.metrics(), "healthmon_bridge_alerts_failed_total", status="firing") == 0


def test_sigterm_stops_a_bridge_that_cannot_deliver(
        settings: Any, topic_io: TopicIO, bridge_factory: Callable[..., BridgeProcess]) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens: every push is retried
    bridge = bridge_factory(settings, [nowhere], resend_s=0.2).start()
    send(topic_io, settings, customer_alert("acme"), customer_alert("beta"))
    deadline = time.monotonic() + 20
    while metric_value(bridge.metrics(), "healthmon_bridge_push_retries_total", reason="unreachable") < 3:
        assert time.monotonic() < deadline, bridge.log_tail()
        time.sleep(0.2)
    assert metric_value(bridge.metrics(), "healthmon_bridge_last_success_timestamp_seconds") == 0
    assert bridge.stop() < 15
    assert bridge.proc is not None and bridge.proc.returncode == 0
    said = [line for line in bridge.log_path.read_text().splitlines() if nowhere in line and "healthmon:" not in line]
    assert len(said) == 1, said  # once, not once per retry


def test_every_alertmanager_of_a_cluster_gets_every_alert(
        settings: Any, topic_io: TopicIO, alertmanager: AlertmanagerProcess, receiver: Receiver, tmp_path: Any,
        bridge_factory: Callable[..., BridgeProcess]) -> None:
    second = AlertmanagerProcess(tmp_path / "am-2", receiver.url).start()
    try:
        bridge_factory(settings, [alertmanager.url, second.url]).start()
        send(topic_io, settings, customer_alert("acme"), customer_alert("beta", rule="wau_low", severity="error"))
        deadline = time.monotonic() + 20
        for am in (alertmanager, second):
            while sorted(a["labels"]["account_id"] for a in am.api("GET", "/alerts")) != ["acme", "beta"]:
                assert time.monotonic() < deadline, am.api("GET", "/alerts")
                time.sleep(0.2)
    finally:
        second.stop()


def test_a_4xx_is_logged_with_the_alert_id_counted_and_not_retried(
        settings: Any, topic_io: TopicIO, alertmanager: AlertmanagerProcess,
        bridge_factory: Callable[..., BridgeProcess]) -> None:
    # a wrong route prefix: the real Alertmanager answers 404 to every push
    bridge = bridge_factory(settings, [f"{alertmanager.url}/wrong-prefix"], resend_s=0.5).start()
    alerts = [customer_alert("acme"), customer_alert("beta")]
    send(topic_io, settings, *alerts)
    deadline = time.monotonic() + 20
    while metric_value(bridge.metrics(), "healthmon_bridge_alerts_failed_total", status="firing") < 6:
        assert time.monotonic() < deadline, bridge.log_tail()
        time.sleep(0.2)
    text = bridge.metrics()
    assert metric_value(text, "healthmon_bridge_push_retries_total", reason="server_error") == 0
    assert metric_value(text, "healthmon_bridge_push_retries_total", reason="unreachable") == 0
    log = bridge.log_path.read_text()
    for alert in alerts:
        # once, although every re-send is rejected again
        assert log.count(f"rejected alert {alert['alert_id']} ({alert['dedup_key']}, firing) with HTTP 404") == 1
