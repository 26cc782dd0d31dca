"""POST alerts to every Alertmanager's API v2: retry what did not answer, log and count what was refused."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
import orjson

from healthmon.alerting.mapping import LinkTemplates, to_alertmanager
from healthmon.alerting.metrics import BridgeMetrics
from healthmon.alerting.quiet import RepeatLog

__all__ = ["BACKOFF_FIRST_S", "BACKOFF_MAX_S", "ENDS_AT_INTERVALS", "Pusher"]

log = logging.getLogger("healthmon.alerting")

#: firing alerts say they end this many resend intervals ahead (Prometheus: 4 x max(resend, evaluation))
ENDS_AT_INTERVALS = 4
BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.5, 5.0


class Pusher:
    """POST alerts to every Alertmanager: retry unreachable ones and 5xx with backoff, log and count 4xx."""

    def __init__(self, urls: tuple[str, ...], resend_s: float, links: LinkTemplates, session: aiohttp.ClientSession,
                 metrics: BridgeMetrics) -> None:
        self.urls, self.resend_s, self.links = urls, resend_s, links
        self.session, self.metrics = session, metrics
        self.trouble = {url: RepeatLog(log, f"Alertmanager {url}") for url in urls}
        self.recovered = asyncio.Event()  # set after a push that needed retries went through
        self._rejected: set[tuple[str, str]] = set()  # (url, alert_id) already logged: re-sends say it once

    def payload(self, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return the API v2 body for `alerts`, firing ones ending a few resend intervals from now."""
        now_ms = int(time.time() * 1000)
        ends = now_ms + int(ENDS_AT_INTERVALS * self.resend_s * 1000)
        return [to_alertmanager(a, self.links, ends_at_ms=ends, now_ms=now_ms) for a in alerts]

    async def push(self, alerts: list[dict[str, Any]], *, retry: bool) -> bool:
        """Deliver `alerts` to every Alertmanager; with `retry`, keep trying until each one has answered."""
        pending = list(self.urls)
        delay, retried = BACKOFF_FIRST_S, False
        while True:
            results = await asyncio.gather(*(self._post(url, alerts) for url in pending))
            pending = [url for url, done in zip(pending, results) if not done]
            if not pending:
                break
            retried = True
            if not retry:
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX_S)
        self.metrics.last_success.set(time.time())
        if retried:
            self.recovered.set()
        return True

    async def _post(self, url: str, alerts: list[dict[str, Any]]) -> bool:
        """POST once; True when the Alertmanager has answered for good (2xx, or 4xx logged and counted)."""
        try:
            async with self.session.post(f"{url}/api/v2/alerts", data=orjson.dumps(self.payload(alerts)),
                                         headers={"Content-Type": "application/json"}) as resp:
                status, body = resp.status, (await resp.text())[:300]
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self.metrics.retries.labels("unreachable").inc()
            self.trouble[url].failure(f"cannot reach it ({type(exc).__name__}: {exc})")
            return False
        if status < 300:
            self.trouble[url].success()
            for alert in alerts:
                self.metrics.sent.labels(alert["status"]).inc()
            return True
        if status >= 500 or status == 429:
            self.metrics.retries.labels("server_error").inc()
            self.trouble[url].failure(f"HTTP {status}: {body}")
            return False
        self.trouble[url].success()
        if len(alerts) > 1:
            # Alertmanager rejects a whole batch for one bad alert: find it, deliver the rest
            results = [await self._post(url, [alert]) for alert in alerts]
            return all(results)
        (alert,) = alerts
        self.metrics.failed.labels(alert["status"]).inc()
        if (url, alert["alert_id"]) in self._rejected:
            return True
        if len(self._rejected) > 10_000:
            self._rejected.clear()
        self._rejected.add((url, alert["alert_id"]))
        log.error("Alertmanager %s rejected alert %s (%s, %s) with HTTP %s: %s", url, alert["alert_id"],
                  alert["dedup_key"], alert["status"], status, body)
        return True
