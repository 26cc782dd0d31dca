"""The read-only pages for teams without Grafana: `/ui/[?csm=]` (accounts at risk per CSM) and `/ui/accounts/{id}`.

They read what the JSON API reads (the Redis view, this worker's own table when Redis has nothing) and
render HTML with inline SVG on the server (`ui_render`, `ui_svg`). With an API token set, a page without
the token answers 401 with a form; `POST /ui/login` checks the token in constant time and keeps it in an
HttpOnly, SameSite=Strict cookie scoped to `/ui`, so the JSON API still takes only the bearer header.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

import faust
from faust import web
from redis.exceptions import RedisError

from healthmon.core.history import HistoryFormatError
from healthmon.serving.http_common import bearer_matches
from healthmon.serving.http_history import DEFAULT_HISTORY_DAYS, history_points
from healthmon.serving.redis_clients import ViewBusy
from healthmon.serving.redis_view import RedisView
from healthmon.serving.ui_render import AtRiskRow, account_page, at_risk_page, login_page, message_page

__all__ = ["AT_RISK_BANDS", "COOKIE", "PAGE_LIMIT", "at_risk_rows", "register_ui_routes", "safe_next", "token_matches"]

#: the cookie that holds the API token for the pages
COOKIE = "healthmon_token"
#: the bands `/ui/` lists, worst first
AT_RISK_BANDS = ("red", "yellow")
#: accounts per band on `/ui/` (the page says when more are at risk)
PAGE_LIMIT = 300
_MAX_TOKEN_CHARS = 4096
# No script may run and nothing may be loaded from elsewhere: the pages need only their inline style.
_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                      "frame-ancestors 'none'; base-uri 'none'",
            "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def token_matches(given: str | None, token: str) -> bool:
    """Return whether `given` is the API token (constant-time comparison)."""
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def safe_next(path: str | None) -> str:
    """Return `path` if it is one of the pages, else `/ui/`: the login form never sends anyone elsewhere."""
    if not path or not path.startswith("/ui/") or "//" in path or "\\" in path or any(c < " " for c in path):
        return "/ui/"
    return path


async def at_risk_rows(view: RedisView, local_history: Callable[[str], bytes | None],
                       explain: Callable[[list[dict[str, Any]]], list[dict[str, Any]]], *, csm: str | None,
                       days: int) -> tuple[list[AtRiskRow], bool]:
    """Return the rows of `/ui/`, worst band first, and whether a band was cut short (histories: one MGET per band)."""
    rows, truncated = [], False
    for band in AT_RISK_BANDS:
        accounts = await view.list_accounts(band, None, PAGE_LIMIT, csm=csm)
        truncated = truncated or len(accounts) >= PAGE_LIMIT
        ids = [str(snap.get("account_id")) for snap in accounts]
        for snap, account_id, blob in zip(accounts, ids, await view.get_histories(ids), strict=True):
            if blob is None:
                blob = local_history(account_id)  # not in Redis yet: this worker's own table, if it owns it
            try:
                points = [] if blob is None else history_points(blob, days)
            except HistoryFormatError:
                points = []  # the sparkline says "no score history"; the account page says why
            rows.append(AtRiskRow(snap, explain(snap.get("measures") or []), points))
    return rows, truncated


def register_ui_routes(app: faust.App, view: RedisView, local_snapshot: Callable[[str], dict[str, Any] | None],
                       local_history: Callable[[str], bytes | None], *, api_token: str,
                       explain: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
                       max_days: int = DEFAULT_HISTORY_DAYS) -> None:
    """Add `/ui/`, `/ui/accounts/{account_id}` and `/ui/login` to the Faust web server of `app`."""
    days = min(DEFAULT_HISTORY_DAYS, max_days)  # the pages show 90 days, or fewer if the view keeps fewer

    def page(v: web.View, html: str, status: int = 200) -> web.Response:
        return v.html(html, status=status, headers=dict(_HEADERS))

    def allowed(request: web.Request) -> bool:
        if not api_token:
            return True
        return (token_matches(request.cookies.get(COOKIE), api_token)
                or bearer_matches(request.headers.get("Authorization"), api_token))

    def ask_token(v: web.View, request: web.Request) -> web.Response:
        # A cookie that no longer matches (the token was rotated) gets the form with its reason.
        return page(v, login_page(safe_next(request.path_qs), wrong=COOKIE in request.cookies), 401)

    async def history_of(account_id: str) -> list[dict[str, Any]]:
        blob = await view.get_history(account_id) if view.client is not None else None
        if blob is None:
            blob = local_history(account_id)
        return [] if blob is None else history_points(blob, days)

    @app.page("/ui")
    class UiRoot(web.View):
        async def get(self, request: web.Request) -> web.Response:
            return self.html("", status=308, headers={**_HEADERS, "Location": "/ui/"})

    @app.page("/ui/")
    class AtRisk(web.View):
        async def get(self, request: web.Request) -> web.Response:
            if not allowed(request):
                return ask_token(self, request)
            csm = request.query.get("csm")  # a name or its slug (`none`: no CSM), as /accounts?csm= takes it
            if csm is not None and not 1 <= len(csm) <= 200:
                return page(self, message_page("Bad CSM", "csm must be 1-200 characters"), 400)
            if view.client is None:
                return page(self, message_page("No Redis view", "The list of accounts at risk is read from the "
                                                               "Redis view, and REDIS_URL is empty."), 503)
            try:
                rows, truncated = await at_risk_rows(view, local_history, explain, csm=csm, days=days)
            except ViewBusy as exc:
                return page(self, message_page("Busy", f"Too many concurrent requests ({exc}); reload shortly."), 429)
            except (RedisError, OSError) as exc:
                return page(self, message_page("Redis view unavailable", str(exc)), 503)
            return page(self, at_risk_page(rows, bands=AT_RISK_BANDS, truncated=truncated, csm=csm))

    @app.page("/ui/accounts/{account_id}")
    class AccountPage(web.View):
        async def get(self, request: web.Request, account_id: str) -> web.Response:
            if not allowed(request):
                return ask_token(self, request)
            if len(account_id) > 200:
                return page(self, message_page("Bad account id", "account_id must be 1-200 characters"), 400)
            found: dict[str, Any] | None = None
            failure: Exception | None = None
            try:
                if view.client is not None:
                    found = await view.get_account(account_id)
                points = await history_of(account_id)
            except ViewBusy as exc:
                return page(self, message_page("Busy", f"Too many concurrent requests ({exc}); reload shortly."), 429)
            except (RedisError, OSError) as exc:
                failure, points = exc, []
            except HistoryFormatError as exc:
                return page(self, message_page("Unreadable history",
                                               f"The stored history of {account_id!r} cannot be read: {exc}"), 500)
            if found is None:
                snap = local_snapshot(account_id)  # not in Redis (down, or not written yet): this worker's table
                found = None if snap is None else {"account": snap, "recent_alerts": []}
            if found is None:
                if failure is not None:
                    return page(self, message_page("Redis view unavailable", f"{failure}; and account {account_id!r}"
                                                   " is not on this worker's partitions"), 503)
                return page(self, message_page("Unknown account", f"No account {account_id!r} in the view."), 404)
            snapshot = found["account"]
            return page(self, account_page(snapshot, explain(snapshot.get("measures") or []),
                                           found["recent_alerts"], points))

    @app.page("/ui/login")
    class Login(web.View):
        async def get(self, request: web.Request) -> web.Response:
            return page(self, login_page(safe_next(request.query.get("next"))))

        async def post(self, request: web.Request) -> web.Response:
            form = await request.post()
            given, next_path = form.get("token"), safe_next(str(form.get("next") or ""))
            if not api_token:
                return self.html("", status=303, headers={**_HEADERS, "Location": next_path})
            if not isinstance(given, str) or len(given) > _MAX_TOKEN_CHARS or not token_matches(given, api_token):
                return page(self, login_page(next_path, wrong=True), 401)
            response = self.html("", status=303, headers={**_HEADERS, "Location": next_path})
            # Scoped to the pages: the JSON API keeps asking for the bearer header, cookies or not.
            response.set_cookie(COOKIE, given, path="/ui", httponly=True, samesite="Strict", secure=request.secure)
            return response
