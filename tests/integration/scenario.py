"""Shared helpers for the end-to-end scenario tests: send generated traffic, wait, collect alerts."""

from __future__ import annotations

import time
import urllib.parse
from collections import defaultdict
from datetime import date, timedelta
from typing import Any, NamedTuple

import orjson

from healthmon.core.vocabulary import OUTCOMES
from healthmon.generator import Traffic, generate
from healthmon.kafka.admin import ensure_topics
from healthmon.produce import produce
from tests.fixtures import DAY_MS, END_MS, TopicIO, WorkerProcess, metric_value

TOPICS = ("product-usage", "support-tickets", "nps-responses", "accounts")


#: The mixed scenario's histories end here, a day after `END_MS` (a fixed instant, not "now"). Where a
#: history ends relative to the week changes the alerts: ending 0, 12, 48, 60, 144 or 156 hours after
#: `END_MS`, the `drop` account acc-00017 of seed 11 crosses its warning line but stays green (the
#: backtest says the same as the worker; checked every 12 hours over a week with the backtest), which
#: test_scenarios_e2e would read as a defect. Tests asserting scenario outcomes need one fixed history.
MIXED_END_MS = END_MS + DAY_MS


def mixed_traffic(accounts: int = 20, seed: int = 11) -> Traffic:
    """Return 42 days of mixed-scenario traffic ending a day before `MIXED_END_MS`."""
    return generate(accounts=accounts, scenario="mixed", seed=seed, start_ms=MIXED_END_MS - 43 * DAY_MS, days=42)


async def send(settings: Any, traffic: Traffic, records: list | None = None) -> int:
    """Send the traffic (or a slice of its records) as fast as possible; return the event count."""
    stats = await produce(settings, settings.kafka.broker_url, records if records is not None else traffic.records())
    return stats.events


def processed(worker: WorkerProcess) -> float:
    """Return how many input events the worker has counted, whatever the outcome."""
    text = worker.get("/metrics")[1]
    return sum(metric_value(text, "healthmon_events_total", topic=t, outcome=o) for t in TOPICS for o in OUTCOMES)


def wait_processed(worker: WorkerProcess, count: float, timeout_s: float = 180) -> None:
    """Block until the worker has counted `count` events."""
    deadline = time.monotonic() + timeout_s
    done = 0.0
    while time.monotonic() < deadline:
        done = processed(worker)
        if done >= count:
            return
        time.sleep(0.5)
    raise AssertionError(f"processed {done} of {count} events\n{worker.log_tail()}")


async def read_alerts(io: TopicIO, settings: Any, settle_s: float = 4.0) -> list[dict[str, Any]]:
    """Return every alert on the alerts topic, in topic order per partition."""
    records = await io.read(settings.topics.alerts_name, settle_s=settle_s, timeout_s=90)
    return [orjson.loads(r.value) for r in records]


def by_account(alerts: list[dict[str, Any]]) -> dict[str, set[tuple[str, str]]]:
    """Return account_id -> the set of (kind, status) it received."""
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for alert in alerts:
        if alert.get("account_id"):
            out[alert["account_id"]].add((alert["kind"], alert["status"]))
    return out


def without_processing_time(alert: dict[str, Any]) -> bytes:
    """Return the alert's bytes minus the processing-time field."""
    return orjson.dumps({k: v for k, v in alert.items() if k != "processed_at"}, option=orjson.OPT_SORT_KEYS)


def event_day(epoch_ms: int) -> date:
    """Return the event-time day an instant belongs to (a day's end, midnight, closes that day)."""
    return date(1970, 1, 1) + timedelta(days=(epoch_ms - 1) // DAY_MS)


class DropRun(NamedTuple):
    """A worker that has consumed a `drop` scenario, and what the scenario planned."""

    worker: WorkerProcess
    traffic: Traffic
    #: the accounts whose activity drops
    dropped: set[str]
    #: the event-time day of the last event
    last_day: date


#: The `drop` traffic: 49 days ending at a fixed UTC midnight, the drop starting 8 days before the end. A digest's
#: week ends on the day before the latest event, so it covers the drop's first week, when the weekly windows take
#: it in. Traffic ending "now" with the default change (14 days before the end) left the digest the drop's tail,
#: a fall or a rise depending on the time of day and the weekdays the run spanned.
DROP_END_MS = 1_788_220_800_000  # 2026-09-01T00:00:00Z
DROP_DAYS = 49
DROP_CHANGE_DAY = DROP_DAYS - 8


async def run_drop(worker_factory: Any, topic_io: TopicIO, accounts: int = 6) -> DropRun:
    """Send 49 days of the `drop` scenario (`DROP_END_MS`), start a worker, wait until it counted every event."""
    worker = worker_factory(start=False)
    settings = worker.settings
    await ensure_topics(topic_io.bootstrap, settings.topics, settings.kafka)
    traffic = generate(accounts=accounts, scenario="drop", seed=7, start_ms=DROP_END_MS - DROP_DAYS * DAY_MS,
                       days=DROP_DAYS, change_day=DROP_CHANGE_DAY)
    sent = await send(settings, traffic)
    worker.start().wait_ready()
    wait_processed(worker, sent)
    last_event = max(r.occurred_at for r in traffic.records() if r.kind != "account")
    return DropRun(worker, traffic, {a for a, b in traffic.plan.items() if b == "drop"}, event_day(last_event))


def wait_for_history(worker: WorkerProcess, account_id: str, until: date, timeout_s: float = 120.0) -> list[dict]:
    """Poll the account's history until its newest point reaches `until`; return its points."""
    deadline = time.monotonic() + timeout_s
    points: list[dict] = []
    while time.monotonic() < deadline:
        status, body = worker.get(f"/accounts/{urllib.parse.quote(account_id)}/history?days=180")
        if status == 200:
            points = body["points"]
            if points and date.fromisoformat(points[-1]["day"]) >= until:
                return points
        time.sleep(0.5)
    raise AssertionError(f"history of {account_id} did not reach {until}: {points[-3:]}\n{worker.log_tail()}")
