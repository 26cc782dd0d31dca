"""The worker's HTTP API: account snapshots, the at-risk list, health, readiness and metrics."""

from __future__ import annotations

from typing import Any, Callable

import faust
from faust import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from healthmon.serving.metrics import BANDS, TIERS, Metrics
from healthmon.serving.redis_view import RedisView

__all__ = ["register_http_api", "MAX_LIMIT"]

MAX_LIMIT = 1000


def _error(view: web.View, status: int, message: str, parameter: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message, "status": status}
    if parameter:
        body["parameter"] = parameter
    return view.json(body, status=status)


def register_http_api(app: faust.App, metrics: Metrics, view: RedisView,
                      local_snapshot: Callable[[str], dict[str, Any] | None]) -> None:
    """Add healthmon's routes to the Faust web server of `app`."""

    @app.page("/healthz")
    class Healthz(web.View):
        async def get(self, request: web.Request) -> web.Response:
            return self.json({"status": "ok"})

    @app.page("/readyz")
    class Readyz(web.View):
        async def get(self, request: web.Request) -> web.Response:
            recovered = app.tables.recovery.completed.is_set()
            ready = recovered and not app.rebalancing
            body = {"ready": ready, "tables_recovered": recovered, "rebalancing": bool(app.rebalancing),
                    "redis": view.healthy}
            return self.json(body, status=200 if ready else 503)

    @app.page("/metrics")
    class MetricsView(web.View):
        async def get(self, request: web.Request) -> web.Response:
            # aiohttp refuses a charset inside content_type, so pass the full header instead.
            return self.bytes(generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.page("/accounts")
    class Accounts(web.View):
        async def get(self, request: web.Request) -> web.Response:
            query = request.query
            unknown = sorted(set(query) - {"band", "tier", "limit"})
            if unknown:
                return _error(self, 400, f"unknown query parameter {unknown[0]!r} (expected band, tier, limit)",
                              unknown[0])
            band, tier = query.get("band"), query.get("tier")
            if band is not None and band not in BANDS:
                return _error(self, 400, f"band must be one of {', '.join(BANDS)}", "band")
            if tier is not None and tier not in TIERS[:-1]:
                return _error(self, 400, f"tier must be one of {', '.join(TIERS[:-1])}", "tier")
            try:
                limit = int(query.get("limit", "50"))
            except ValueError:
                return _error(self, 400, "limit must be an integer", "limit")
            if not 1 <= limit <= MAX_LIMIT:
                return _error(self, 400, f"limit must be between 1 and {MAX_LIMIT}", "limit")
            if view.client is None:
                return _error(self, 503, "no Redis view configured (REDIS_URL is empty)")
            try:
                accounts = await view.list_accounts(band, tier, limit)
            except (RedisError, OSError) as exc:
                return _error(self, 503, f"Redis view unavailable: {exc}")
            return self.json({"accounts": accounts, "count": len(accounts),
                              "filters": {"band": band, "tier": tier, "limit": limit}})

    @app.page("/accounts/{account_id}")
    class Account(web.View):
        async def get(self, request: web.Request, account_id: str) -> web.Response:
            if not account_id or len(account_id) > 200:
                return _error(self, 400, "account_id must be 1-200 characters", "account_id")
            found: dict[str, Any] | None = None
            source = "redis"
            if view.client is not None:
                try:
                    found = await view.get_account(account_id)
                except (RedisError, OSError):
                    found = None
                    source = "local"
            if found is None:
                snap = local_snapshot(account_id)
                if snap is not None:
                    found, source = {"account": snap, "recent_alerts": []}, "local"
            if found is None:
                return _error(self, 404, f"unknown account {account_id!r}", "account_id")
            account = found["account"]
            return self.json({
                "account": account,
                "why": sorted(account.get("measures") or [], key=lambda m: m.get("contribution") or 0),
                "recent_alerts": found["recent_alerts"],
                "source": source,
            })
