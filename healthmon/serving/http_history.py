"""`GET /accounts/{account_id}/history`: an account's score, band and costliest measures, day by day."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import faust
from faust import web
from redis.exceptions import RedisError

from healthmon.core.history import HistoryFormatError, decode
from healthmon.serving.http_common import busy, error, unauthorized
from healthmon.serving.redis_clients import ViewBusy
from healthmon.serving.redis_view import RedisView

__all__ = ["DEFAULT_HISTORY_DAYS", "history_points", "register_history_route"]

#: days `GET /accounts/{id}/history` returns without `?days=`
DEFAULT_HISTORY_DAYS = 90
_EPOCH = date(1970, 1, 1)
_INTEGER = re.compile(r"[0-9]{1,6}")


def history_points(blob: bytes, days: int) -> list[dict[str, Any]]:
    """Return the newest `days` points of an encoded history as JSON objects, oldest first."""
    return [{"day": (_EPOCH + timedelta(days=p.day)).isoformat(), "score": p.score, "band": p.band,
             "costliest": list(p.top)} for p in decode(blob)[-days:]]


def register_history_route(app: faust.App, view: RedisView, local_history: Callable[[str], bytes | None], *,
                           max_days: int, api_token: str = "") -> None:
    """Add the history route: Redis first, this worker's own table when Redis has nothing or is down."""

    @app.page("/accounts/{account_id}/history")
    class History(web.View):
        async def get(self, request: web.Request, account_id: str) -> web.Response:
            denied = unauthorized(self, request, api_token)
            if denied is not None:
                return denied
            query = request.query
            for name in sorted(set(query)):
                if name != "days":
                    return error(self, 400, f"unknown query parameter {name!r} (expected days)", name)
                if len(query.getall(name)) > 1:
                    return error(self, 400, f"query parameter {name!r} given more than once", name)
            raw_days = query.get("days", str(min(DEFAULT_HISTORY_DAYS, max_days)))
            if not _INTEGER.fullmatch(raw_days) or not 1 <= int(raw_days) <= max_days:
                return error(self, 400, f"days must be an integer from 1 to {max_days} (HEALTHMON_HISTORY_DAYS; "
                                        f"got {raw_days!r})", "days")
            if len(account_id) > 200:
                return error(self, 400, "account_id must be 1-200 characters", "account_id")
            blob, source, failure = None, "redis", None
            if view.client is not None:
                try:
                    blob = await view.get_history(account_id)
                except ViewBusy as exc:
                    return busy(self, exc)
                except (RedisError, OSError) as exc:
                    failure = exc
            if blob is None:
                blob, source = local_history(account_id), "local"
            if blob is None:
                if failure is not None:
                    return error(self, 503, f"Redis view unavailable ({failure}) and account {account_id!r} is "
                                            f"not on this worker's partitions")
                return error(self, 404, f"no score history for account {account_id!r}", "account_id")
            try:
                points = history_points(blob, int(raw_days))
            except HistoryFormatError as exc:
                return error(self, 500, f"the stored history of {account_id!r} cannot be read: {exc}")
            return self.json({"account_id": account_id, "days": int(raw_days), "points": points, "source": source})
