"""Builders of policies and events for the core tests (plain functions; fixtures are in conftest.py)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from healthmon.core import Engine, EngineConfig, parse_policy
from schemas.events import AccountProfile, NpsResponse, SupportTicket, UsageEvent

DAY = 86_400_000
HOUR = 3_600_000
#: 2026-01-05 00:00 UTC, a Monday
T0 = 1_767_571_200_000

#: A small policy whose score is exactly 100 x weekly active users / seats.
BASE_POLICY: dict[str, Any] = {
    "core_features": ["reports"],
    "evaluation_interval_seconds": 3600,
    "warmup_seconds": 0,
    "bands": {"green": 75, "yellow": 50, "hysteresis_points": 3},
    "health": {"min_dwell_seconds": 0, "cooldown_seconds": 0},
    "measures": [{"metric": "weekly_active_ratio", "weight": 1, "bad": 0.0, "good": 1.0}],
    "warning_lines": [
        {"name": "wau_low", "metric": "weekly_active_ratio", "kind": "absolute", "below": 0.3,
         "exit_above": 0.4, "for_seconds": 0, "cooldown_seconds": 0},
    ],
    "pipeline": {"sources": {"usage": {"stale_after_seconds": 1800}}},
}


def policy_doc(**changes: Any) -> dict[str, Any]:
    """Return a deep copy of BASE_POLICY with top-level keys replaced."""
    doc = copy.deepcopy(BASE_POLICY)
    doc.update(copy.deepcopy(changes))
    return doc


def make_engine(config: EngineConfig | None = None, **changes: Any) -> Engine:
    """Return an engine on BASE_POLICY with `changes`, and a fixed processing clock."""
    return Engine(parse_policy(policy_doc(**changes)), config, clock=lambda: 42)


def profile(account: str = "acme", tier: str = "standard", seats: int = 10, name: str = "Acme Corp",
            contract_start: date = date(2025, 12, 1)) -> AccountProfile:
    """Return an account profile."""
    return AccountProfile(account_id=account, name=name, tier=tier, seats=seats, arr=1000.0, csm="ann",
                          contract_start=contract_start, renewal_date=date(2026, 12, 1))


def usage(at_ms: int, user: str = "u0", feature: str = "login", event_id: str | None = None,
          account: str = "acme") -> UsageEvent:
    """Return a usage event; the event id defaults to one derived from time, user and feature."""
    return UsageEvent(event_id=event_id or f"u-{at_ms}-{user}-{feature}", account_id=account, user_id=user,
                      feature=feature, occurred_at=at_ms)


def ticket(at_ms: int, ticket_id: str, status: str, priority: str = "normal", csat: int | None = None,
           event_id: str | None = None, account: str = "acme") -> SupportTicket:
    """Return a support-ticket event."""
    return SupportTicket(event_id=event_id or f"t-{at_ms}-{ticket_id}-{status}", ticket_id=ticket_id,
                         account_id=account, status=status, priority=priority, occurred_at=at_ms, csat=csat)


def nps(at_ms: int, score: int, user: str = "u0", account: str = "acme") -> NpsResponse:
    """Return an NPS answer."""
    return NpsResponse(event_id=f"n-{at_ms}-{user}", account_id=account, user_id=user, score=score,
                       occurred_at=at_ms)


def daily_usage(first_day: int, days: int, users: int, at_hour: int = 9, feature: str = "login",
                account: str = "acme") -> list[UsageEvent]:
    """Return one event per user per day for `days` days from day `first_day` after T0."""
    return [usage(T0 + (first_day + d) * DAY + at_hour * HOUR, f"u{u}", feature, account=account)
            for d in range(days) for u in range(users)]


def without_processed_at(alerts: list[dict]) -> list[dict]:
    """Return the alerts minus their only non-deterministic field."""
    return [{k: v for k, v in a.items() if k != "processed_at"} for a in alerts]


def brief(alerts: list[dict]) -> list[tuple[str, str, str]]:
    """Return (rule, status, band_after) of each alert."""
    return [(a["rule"], a["status"], a["band_after"]) for a in alerts]
