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


async def test_health_scores_records_go_straight_to_the_producer_when_given_the_same_bytes_in_order():
    records = [{"account_id": a, "kind": "day", "day": d, "score": s}
               for a, d, s in [("acme", "2026-01-01", 80), ("beta", "2026-01-01", 40), ("acme", "2026-01-02", 75)]]
    through_topic = SimpleNamespace(alerts=Outbox(), repartition=Outbox(), deadletter=Outbox(), scores=Outbox())
    await OutputSender(through_topic, Metrics(), _View(Metrics()), deadletter_max_raw_bytes=1024).scores(records)
    direct = SimpleNamespace(alerts=Outbox(), repartition=Outbox(), deadletter=Outbox(), scores=Outbox())
    sender = OutputSender(direct, Metrics(), _View(Metrics()), deadletter_max_raw_bytes=1024)
    produced: list[tuple[bytes, bytes]] = []

    async def send(key: bytes, value: bytes) -> None:
        produced.append((key, value))

    sender.send_score = send
    await sender.scores(records)
    assert direct.scores.sent == []
    assert produced == [(key, value) for key, value in through_topic.scores.sent]
    assert [key for key, _ in produced] == [b"acme", b"beta", b"acme"]
