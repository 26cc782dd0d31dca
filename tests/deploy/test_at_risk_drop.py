"""Issue #23's 'done when', Grafana side: on a `drop` scenario the at-risk table lists the account under its CSM.

A real worker consumes the `drop` scenario, a real Prometheus scrapes it, and the "Accounts at risk" table's
own PromQL lists each dropped account with the band, score and 7-day change the HTTP API shows for it, under
its CSM's label and under that CSM's pick in the picker.
"""

from __future__ import annotations

import time
import urllib.parse
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from healthmon.core.csm import csm_slug
from tests.deploy.at_risk import table
from tests.deploy.promstack import start_prometheus, stop_prometheus
from tests.integration.scenario import run_drop, wait_for_history

pytestmark = pytest.mark.integration


def _picked(label: str) -> str:
    """Return a CSM picked in Grafana's picker as it reaches the query: regex characters escaped, in a PromQL string."""
    return "(" + label.replace(".", r"\\.").replace("+", r"\\+") + ")"


def _wait_for_rows(base_url: str, expected: dict[str, dict[str, Any]], timeout_s: float = 60.0,
                   **values: str) -> dict[str, dict[str, Any]]:
    """Poll the table until each expected account's row shows its band, CSM, tier and score; return the rows."""
    deadline = time.monotonic() + timeout_s
    rows: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        rows = table(base_url, **values)
        shown = {a: {k: rows[a].get(k) for k in ("band", "csm", "tier", "score")} for a in expected if a in rows}
        if shown == expected:
            return rows
        time.sleep(0.25)
    raise AssertionError(f"the table never showed {expected}: {rows}")


async def test_the_table_lists_a_dropped_account_under_its_csm(worker_factory: Any, topic_io: Any,
                                                               tmp_path: Path) -> None:
    worker, traffic, dropped, last_day = await run_drop(worker_factory, topic_io)
    for account in dropped:
        wait_for_history(worker, account, last_day - timedelta(days=2))
    csm = {a.account_id: a.csm for a in traffic.accounts}
    shown: dict[str, dict[str, Any]] = {}
    changes: dict[str, float] = {}
    month_changes: dict[str, float] = {}
    for account in dropped:
        status, found = worker.get(f"/accounts/{urllib.parse.quote(account)}")
        assert status == 200, found
        body = found["account"]
        assert body["band"] in ("yellow", "red"), body  # the drop put it at risk: the table must list it
        shown[account] = {"band": body["band"], "csm": csm_slug(csm[account]), "tier": body["tier"],
                          "score": float(body["score"])}
        assert body["score_7d_ago"] is not None, body  # 49 days of history: it knows the score a week ago
        changes[account] = body["score"] - body["score_7d_ago"]
        assert body["score_30d_ago"] is not None, body
        month_changes[account] = body["score"] - body["score_30d_ago"]

    process, base_url = start_prometheus(tmp_path, [f"127.0.0.1:{worker.settings.http.port}"])
    try:
        rows = _wait_for_rows(base_url, shown)
        assert all(row["band"] in ("yellow", "red") for row in rows.values()), rows
        # its 7-day change, from the worker's history (Prometheus has minutes of it, not a week)
        assert {a: rows[a]["change_7d"] for a in dropped} == pytest.approx(changes)
        assert {a: rows[a]["change_30d"] for a in dropped} == pytest.approx(month_changes)
        for account in dropped:
            # the CSM's pick lists it, and lists only that CSM's accounts
            label = csm_slug(csm[account])
            picked = _wait_for_rows(base_url, {account: shown[account]}, csm=_picked(label))
            assert {row["csm"] for row in picked.values()} == {label}, picked
            assert account not in table(base_url, csm=_picked(label + "-someone-else"))
    finally:
        stop_prometheus(process)
