"""Run the bridge as a process: settings in, signals handled, a bounded shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal

from healthmon.alerting.bridge import Bridge, BridgeConfig
from healthmon.alerting.mapping import LinkTemplates
from healthmon.alerting.quiet import QuietFilter
from healthmon.config import Settings
from healthmon.kafka.connect import bootstrap_of
from healthmon.kafka.security import aiokafka_kwargs

__all__ = ["bridge_config", "run_bridge"]

#: how long the bridge waits for its own clean-up after a signal (the process must exit within 15 s)
SHUTDOWN_S = 8.0


def bridge_config(settings: Settings, broker_url: str) -> BridgeConfig:
    """Return the bridge's configuration from the settings (the consumer group is `<app_id>-alertmanager`)."""
    return BridgeConfig(
        bootstrap=bootstrap_of(broker_url), topic=settings.topics.alerts_name,
        group_id=f"{settings.worker.app_id}-alertmanager", urls=tuple(settings.alerts.alertmanager_url_list),
        resend_s=settings.alerts.alertmanager_resend_seconds,
        links=LinkTemplates(settings.alerts.account_url_base, settings.alerts.dashboard_url_template),
        host=settings.alerts.bridge_host, port=settings.alerts.bridge_port,
        kafka_security=aiokafka_kwargs(settings.kafka))


async def _main(config: BridgeConfig) -> None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    bridge = Bridge(config)
    runner = asyncio.create_task(bridge.run())
    try:
        await asyncio.shield(runner)
    except asyncio.CancelledError:
        # undelivered work is not committed, so stopping anywhere is safe: the next start re-delivers it
        runner.cancel()
        await asyncio.wait({runner}, timeout=SHUTDOWN_S)


def run_bridge(settings: Settings, broker_url: str) -> int:
    """Run the bridge until SIGTERM or SIGINT; return the exit code."""
    level = getattr(logging, settings.worker.log_level.upper())
    logging.getLogger("healthmon").setLevel(min(level, logging.INFO))
    quiet = QuietFilter()
    for handler in logging.getLogger().handlers:
        handler.addFilter(quiet)
    try:
        asyncio.run(_main(bridge_config(settings, broker_url)))
    except OSError as exc:
        logging.getLogger("healthmon.alerting").error("cannot start the bridge: %s", exc)
        return 1
    return 0
