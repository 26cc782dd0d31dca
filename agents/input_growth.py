"""The input poll timer: ask the broker whether each input still grows, and export the group's lag."""

from __future__ import annotations

import faust

from healthmon.kafka.input_growth import InputPoller
from healthmon.serving.metrics import Metrics

__all__ = ["register_input_poll"]


def register_input_poll(app: faust.App, poller: InputPoller, metrics: Metrics, labels: dict[str, str],
                        interval_s: float = 2.0) -> None:
    """Poll the input topics' end offsets and the group's committed offsets every `interval_s` seconds.

    `labels` maps a topic name to its metric label. The lag is a metric only: a lagging or frozen
    consumer is never announced on the alerts topic and never holds back an account's alerts.
    """

    @app.timer(interval_s, name="healthmon.input_poll")
    async def poll_inputs() -> None:
        if await poller.poll():
            for topic, lag in poller.growth.lag.items():
                metrics.consumer_lag.labels(labels[topic]).set(lag)

    @app.on_before_shutdown.connect
    async def close_poller(app: faust.App, **kwargs: object) -> None:
        await poller.close()
