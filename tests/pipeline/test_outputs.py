"""The output sender: alerts keyed by account (pipeline alerts by one fixed key), counted and shown in the view."""

from __future__ import annotations

from types import SimpleNamespace

import orjson

from healthmon.pipeline.outputs import PIPELINE_ALERT_KEY, OutputSender
from healthmon.serving.metrics import Metrics
from healthmon.serving.redis_view import RedisView
from tests.alerting.builders import customer_alert, stall_alert
from tests.pipeline.test_processor import Outbox


class _View(RedisView):
    def __init__(self, metrics: Metrics) -> None:
        super().__init__("", "", metrics)
        self.shown: list[dict] = []

    def add_alert(self, alert: dict) -> None:
        self.shown.append(alert)


async def test_alerts_are_keyed_by_account_counted_and_shown():
    metrics = Metrics()
    view = _View(metrics)
    topics = SimpleNamespace(alerts=Outbox(), repartition=Outbox(), deadletter=Outbox(), scores=Outbox())
    sender = OutputSender(topics, metrics, view, deadletter_max_raw_bytes=1024)
    alerts = [customer_alert("acme"), stall_alert()]
    await sender.alerts(alerts)
    assert [key for key, _ in topics.alerts.sent] == [b"acme", PIPELINE_ALERT_KEY]
    assert [orjson.loads(value) for _, value in topics.alerts.sent] == alerts
    assert view.shown == alerts
    fired = metrics.alerts.labels(alerts[0]["kind"], alerts[0]["severity"], alerts[0]["status"])._value.get()
    assert fired == 1
