"""The worker's HTTP API: account snapshots, the at-risk list, health, readiness and metrics.

The contract is `docs/openapi.yaml`. Every error is JSON: `{"error": ..., "status": ..., "parameter": ...}`.
With an API token set, `/accounts...` answer 401 unless the request carries `Authorization: Bearer <token>`;
`/healthz`, `/readyz` and `/metrics` stay open for probes and Prometheus.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import faust
from aiohttp.http_exceptions import HttpProcessingError
from faust import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from healthmon.core.vocabulary import BANDS
from healthmon.serving.http_common import RETRY_AFTER_SECONDS, bearer_matches, busy, error, unauthorized
from healthmon.serving.http_history import register_history_route
from healthmon.serving.metrics import TIER_LABELS, Metrics
from healthmon.serving.redis_clients import ViewBusy
from healthmon.serving.redis_view import RedisView
from healthmon.serving.ui_pages import register_ui_routes

__all__ = ["register_http_api", "explain", "bearer_matches", "install_bad_request_filter", "OneLineBadRequests",
           "DEFAULT_LIMIT", "MAX_LIMIT", "SORTS", "RETRY_AFTER_SECONDS"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
_INTEGER = re.compile(r"[+-]?[0-9]+")
_ACCOUNTS_PARAMS = ("band", "tier", "csm", "sort", "limit")
#: orders of the at-risk list: the lowest score first, or the biggest fall of the score in 7 days first
SORTS = ("score", "drop_7d")


class OneLineBadRequests(logging.Filter):
    """Log a request aiohttp could not parse (a line too long, a bad header) as one warning line.

    aiohttp's server logs each one with `logger.exception`, a traceback of a dozen lines for what is
    the client's mistake, and anyone on the network can send them.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record of a malformed request in place; let every other record through."""
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else None
            detail = " ".join(str(exc.message).split())
            record.msg = "bad HTTP request from %s: %s %.200s"
            record.args = (remote or "unknown client", type(exc).__name__, detail)
            record.exc_info = record.exc_text = None
            record.stack_info = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_BAD_REQUEST_FILTER = OneLineBadRequests()


def install_bad_request_filter(logger_name: str = "aiohttp.server") -> None:
    """Attach `OneLineBadRequests` to aiohttp's server logger (once)."""
    logger = logging.getLogger(logger_name)
    if _BAD_REQUEST_FILTER not in logger.filters:
        logger.addFilter(_BAD_REQUEST_FILTER)


def explain(measures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the measures with `points_lost` (contribution short of its maximum), biggest loss first.

    The score is 100 minus the sum of `points_lost`; measures without data weigh nothing and come last.
    """
    total_weight = sum(m["weight"] for m in measures if m.get("score") is not None)
    out = []
    for m in measures:
        lost = None
        if m.get("score") is not None and total_weight:
            lost = round((100.0 - m["score"]) * m["weight"] / total_weight, 2)
        out.append({**m, "points_lost": lost})
    return sorted(out, key=lambda m: (m["points_lost"] is None, -(m["points_lost"] or 0.0), m["name"]))


def register_http_api(app: faust.App, metrics: Metrics, view: RedisView,
                      local_snapshot: Callable[[str], dict[str, Any] | None],
                      broker_status: Callable[[], tuple[bool, str | None]] = lambda: (True, None), *,
                      api_token: str = "", local_history: Callable[[str], bytes | None] = lambda _: None,
                      history_days: int = 180) -> None:
    """Add healthmon's routes to the Faust web server of `app`; a non-empty `api_token` guards `/accounts...`.

    `broker_status` returns (reachable, reason) for the Kafka broker, as this worker's clients see it.
    """
    install_bad_request_filter()
    register_history_route(app, view, local_history, max_days=history_days, api_token=api_token)
    register_ui_routes(app, view, local_snapshot, local_history, api_token=api_token, explain=explain,
                       max_days=history_days)

    @app.page("/healthz")
    class Healthz(web.View):
        async def get(self, request: web.Request) -> web.Response:
            return self.json({"status": "ok"})

    @app.page("/readyz")
    class Readyz(web.View):
        async def get(self, request: web.Request) -> web.Response:
            recovered = app.tables.recovery.completed.is_set()
            reachable, broker_reason = broker_status()
            ready = recovered and not app.rebalancing and reachable
            reason = None
            if not reachable:
                reason = broker_reason
            elif not recovered:
                reason = "recovering the state tables from their changelogs"
            elif app.rebalancing:
                reason = "consumer-group rebalance in progress"
            body = {"ready": ready, "tables_recovered": recovered, "rebalancing": bool(app.rebalancing),
                    "broker_reachable": reachable, "reason": reason,
                    "redis": view.healthy if view.client is not None else None}
            return self.json(body, status=200 if ready else 503)

    @app.page("/metrics")
    class MetricsView(web.View):
        async def get(self, request: web.Request) -> web.Response:
            # `?name[]=a&name[]=b` exposes only those series, as prometheus-client's own handler does: a poller
            # of one counter does not pay for rendering every family (the per-account ones above all).
            names = request.query.getall("name[]", [])
            registry = metrics.registry.restricted_registry(names) if names else metrics.registry
            # aiohttp refuses a charset inside content_type, so pass the full header instead.
            return self.bytes(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.page("/accounts")
    class Accounts(web.View):
        async def get(self, request: web.Request) -> web.Response:
            denied = unauthorized(self, request, api_token)
            if denied is not None:
                return denied
            query = request.query
            for name in sorted(set(query)):
                if name not in _ACCOUNTS_PARAMS:
                    return error(self, 400, f"unknown query parameter {name!r} (expected band, tier, csm, sort, limit)",
                                  name)
                if len(query.getall(name)) > 1:
                    return error(self, 400, f"query parameter {name!r} given more than once", name)
            band, tier = query.get("band"), query.get("tier")
            if band is not None and band not in BANDS:
                return error(self, 400, f"band must be one of {', '.join(BANDS)} (got {band!r})", "band")
            if tier is not None and tier not in TIER_LABELS:
                return error(self, 400, f"tier must be one of {', '.join(TIER_LABELS)} (got {tier!r})", "tier")
            csm, sort = query.get("csm"), query.get("sort", SORTS[0])
            if csm is not None and not 1 <= len(csm) <= 200:
                return error(self, 400, "csm must be 1-200 characters", "csm")
            if sort not in SORTS:
                return error(self, 400, f"sort must be one of {', '.join(SORTS)} (got {sort!r})", "sort")
            raw_limit = query.get("limit", str(DEFAULT_LIMIT))
            if not _INTEGER.fullmatch(raw_limit):
                return error(self, 400, f"limit must be an integer (got {raw_limit!r})", "limit")
            limit = int(raw_limit) if len(raw_limit) <= 12 else MAX_LIMIT + 1
            if not 1 <= limit <= MAX_LIMIT:
                return error(self, 400, f"limit must be between 1 and {MAX_LIMIT} (got {raw_limit})", "limit")
            if view.client is None:
                return error(self, 503, "no Redis view configured (REDIS_URL is empty)")
            try:
                accounts = await view.list_accounts(band, tier, limit, csm=csm, sort=sort)
            except ViewBusy as exc:
                return busy(self, exc)
            except (RedisError, OSError) as exc:
                return error(self, 503, f"Redis view unavailable: {exc}")
            return self.json({"accounts": accounts, "count": len(accounts),
                              "filters": {"band": band, "tier": tier, "csm": csm, "sort": sort, "limit": limit},
                              "source": "redis"})

    @app.page("/accounts/{account_id}")
    class Account(web.View):
        async def get(self, request: web.Request, account_id: str) -> web.Response:
            denied = unauthorized(self, request, api_token)
            if denied is not None:
                return denied
            if request.query:
                name = sorted(request.query)[0]
                return error(self, 400, f"unknown query parameter {name!r} (this route takes none)", name)
            if len(account_id) > 200:
                return error(self, 400, "account_id must be 1-200 characters", "account_id")
            found: dict[str, Any] | None = None
            source, redis_error, saturated = "redis", None, None
            if view.client is not None:
                try:
                    found = await view.get_account(account_id)
                except ViewBusy as exc:
                    saturated = exc
                except (RedisError, OSError) as exc:
                    redis_error = exc
            if found is None:
                # Not in Redis (down, not configured, or not written yet): this worker's own table.
                snap = local_snapshot(account_id)
                if snap is not None:
                    found, source = {"account": snap, "recent_alerts": []}, "local"
            if found is None:
                if saturated is not None:
                    return busy(self, saturated)
                if redis_error is not None:
                    return error(self, 503, f"Redis view unavailable ({redis_error}) and account "
                                             f"{account_id!r} is not on this worker's partitions")
                return error(self, 404, f"unknown account {account_id!r}", "account_id")
            account = found["account"]
            return self.json({
                "account": account,
                "why": explain(account.get("measures") or []),
                "recent_alerts": found["recent_alerts"],
                "source": source,
            })
