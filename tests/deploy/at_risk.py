"""The "Accounts at risk" dashboard's queries as the tests run them: its panels, variables set, and the table."""

from __future__ import annotations

import json
from typing import Any

from tests.deploy.promstack import AT_RISK_DASHBOARD, GRAFANA_BUILTINS, query, substitute

__all__ = ["DASHBOARD", "TABLE", "expr", "panel", "table"]

DASHBOARD: dict[str, Any] = json.loads(AT_RISK_DASHBOARD.read_text())
TABLE: dict[str, Any] = next(p for p in DASHBOARD["panels"] if p["type"] == "table")
#: the table's targets and the row field each fills
COLUMNS = (("A", "score"), ("B", "change_7d"), ("C", "inactive_days"), ("D", "urgent"), ("E", "change_30d"))


def expr(of: dict[str, Any], ref: str = "A", **values: str) -> str:
    """Return one target of a panel, its variables set as Grafana sets them (`All` is `.*`)."""
    text = next(t for t in of["targets"] if t["refId"] == ref)["expr"]
    return substitute(text, GRAFANA_BUILTINS | {"csm": ".*", "tier": ".*", "account": ""} | values)


def panel(title_start: str) -> dict[str, Any]:
    """Return the dashboard's panel whose title starts with `title_start`."""
    return next(p for p in DASHBOARD["panels"] if p["title"].startswith(title_start))


def table(base_url: str, **values: str) -> dict[str, dict[str, Any]]:
    """Run the table's queries; return account -> its row, as Grafana's merge would build it."""
    rows: dict[str, dict[str, Any]] = {}
    for ref, column in COLUMNS:
        for series in query(base_url, expr(TABLE, ref, **values)):
            labels = series["metric"]
            row = rows.setdefault(labels["account_id"], {k: labels[k] for k in ("band", "csm", "tier")})
            assert {k: labels[k] for k in ("band", "csm", "tier")} == {k: row[k] for k in ("band", "csm", "tier")}
            row[column] = float(series["value"][1])
    return rows
