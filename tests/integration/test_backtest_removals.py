"""Over the real broker: a Debezium delete (its change event and its tombstone) is a removal for a worker and for
`backtest --from-kafka` alike: the same alerts, the removed account's open alerts resolved with `account_removed`."""

from __future__ import annotations

import io
import time

import orjson
import pytest

from healthmon.backtest import BacktestOptions, backtest
from healthmon.produce import produce_messages
from tests.inputs.shaped import alert_keys
from tests.integration.removals import REMOVED, crm_history, delete_messages, send_history
from tests.integration.scenario import read_alerts

pytestmark = pytest.mark.integration


def _removed(alerts: list[dict]) -> list[dict]:
    return [a for a in alerts if a.get("details", {}).get("reason") == "account_removed"]


def _open(alerts: list[dict], account: str) -> set[str]:
    """Return the episodes of the account that fired and have not been resolved."""
    firing = {a["episode_id"] for a in alerts if a.get("account_id") == account and a["status"] == "firing"}
    return firing - {a["episode_id"] for a in alerts if a.get("account_id") == account and a["status"] == "resolved"}


@pytest.mark.parametrize("shape", ["delete", "tombstone"])
async def test_a_worker_and_the_backtest_from_kafka_remove_a_deleted_account_alike(shape, worker_factory,
                                                                                    settings_factory, topic_io,
                                                                                    tmp_path) -> None:
    crm = await crm_history(settings_factory(), tmp_path, topic_io)
    settings = crm.settings
    worker = worker_factory(settings)
    worker.wait_ready()
    await send_history(worker, crm)
    before = await read_alerts(topic_io, settings, settle_s=1.0)
    still_open = _open(before, REMOVED)
    assert still_open, "the test means nothing unless the removed account has alerts firing"
    # The delete after the whole history, as the CRM deletes the account after its usage
    await produce_messages(settings, settings.kafka.broker_url, delete_messages(crm.row, crm.now_ms, shape))
    deadline = time.monotonic() + 90
    live = await read_alerts(topic_io, settings, settle_s=1.0)
    while time.monotonic() < deadline and len(_removed(live)) < len(still_open):
        live = await read_alerts(topic_io, settings, settle_s=1.0)
    removed = _removed(live)
    assert [(a["account_id"], a["status"], a["details"]["removal"]) for a in removed] == [
        (REMOVED, "resolved", "deleted" if shape == "delete" else "tombstone")] * len(still_open), worker.log_tail()
    assert {a["episode_id"] for a in removed} == still_open and not _open(live, REMOVED)

    out = io.BytesIO()
    await backtest(settings, BacktestOptions(policies=[("p", crm.policy)], broker_url=settings.kafka.broker_url,
                                             out=out))
    replayed = [orjson.loads(line) for line in out.getvalue().splitlines()]
    got, want = alert_keys(replayed), alert_keys(live)
    assert got == want, "\n".join([f"backtest only: {a}" for a in got if a not in want]
                                   + [f"worker only: {a}" for a in want if a not in got])
