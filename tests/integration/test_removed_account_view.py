"""Over the real broker and Redis: an account the CRM deleted leaves the view (HTTP 404, its keys and set places
gone), and a restarted worker's re-push of every account does not bring it back."""

from __future__ import annotations

import time

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from healthmon.produce import produce_messages
from tests.integration.removals import REMOVED, crm_history, delete_messages, send_history

pytestmark = pytest.mark.integration

OTHER = "acc-00003"


def _places(client: redis.Redis, prefix: str, account_id: str) -> list[str]:
    """Return the view's sorted sets that hold `account_id`."""
    keys = [k.decode() for k in client.scan_iter(match=prefix + "accounts:*", count=1000)]
    return sorted(k for k in keys if client.zscore(k, account_id) is not None)


def _accounts_gauge(worker) -> float:
    """Return the sum of `healthmon_accounts` over bands and tiers: the accounts the worker counts."""
    families = text_string_to_metric_families(worker.get("/metrics")[1])
    return sum(s.value for f in families if f.name == "healthmon_accounts" for s in f.samples)


def _wait(condition, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not condition():
        time.sleep(0.3)
    assert condition(), what


async def test_a_deleted_account_leaves_the_view_and_a_restart_does_not_bring_it_back(
        worker_factory, settings_factory, topic_io, tmp_path) -> None:
    crm = await crm_history(settings_factory(), tmp_path, topic_io)
    settings = crm.settings
    prefix = settings.redis.prefix
    client = redis.Redis.from_url(settings.redis.url)
    worker = worker_factory(settings)
    worker.wait_ready()
    await send_history(worker, crm)
    _wait(lambda: worker.get(f"/accounts/{REMOVED}")[0] == 200 and client.exists(prefix + f"history:{REMOVED}")
          and len(_places(client, prefix, REMOVED)) >= 4, "the account never reached the view")
    held = _places(client, prefix, REMOVED)
    assert prefix + "accounts:score" in held and prefix + "accounts:drop7d" in held, held
    _wait(lambda: _accounts_gauge(worker) == 12, "not every account is counted")

    await produce_messages(settings, settings.kafka.broker_url, delete_messages(crm.row, crm.now_ms))
    _wait(lambda: worker.get(f"/accounts/{REMOVED}")[0] == 404, "the deleted account is still served")
    assert not client.exists(prefix + f"account:{REMOVED}", prefix + f"history:{REMOVED}")
    assert _places(client, prefix, REMOVED) == []
    assert REMOVED not in {a["account_id"] for a in worker.get("/accounts?limit=100")[1]["accounts"]}
    assert worker.get(f"/accounts/{OTHER}")[0] == 200
    assert _accounts_gauge(worker) == 11

    # A restart: the new writer finds no marker of its own and puts every account of its state table again.
    worker.stop()
    client.delete(prefix + f"account:{OTHER}")  # seen again once the re-push has run
    worker.start().wait_ready()
    _wait(lambda: client.exists(prefix + f"account:{OTHER}"), "the restarted worker re-pushed nothing", 120)
    assert worker.get(f"/accounts/{REMOVED}")[0] == 404
    assert not client.exists(prefix + f"account:{REMOVED}", prefix + f"history:{REMOVED}")
    assert _places(client, prefix, REMOVED) == []
    client.close()
