"""The pages' HTML, rendered from what the view holds: the at-risk list per CSM, one account, the token form.

Pure functions: plain data in, a complete HTML document out. Every value that comes from the data
(account ids and names, CSMs, measure and rule names, summaries) goes through `html.escape`, and a link to
an account quotes its id, so a hostile id shows as text and never runs. The pages carry no JavaScript.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any, NamedTuple
from urllib.parse import quote

from healthmon.serving.ui_svg import band_colour, score_chart, sparkline

__all__ = ["AtRiskRow", "account_href", "account_page", "at_risk_page", "group_by_csm", "login_page",
           "message_page", "reasons"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;max-width:980px;
color:#222;padding:0 1rem}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.6rem 0 .4rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eee;
vertical-align:middle;font-size:.92rem}th{color:#555;font-weight:600;white-space:nowrap}
.band{display:inline-block;padding:.05rem .45rem;border-radius:.6rem;color:#fff;font-size:.8rem}
.line{display:inline-block;background:#fdecea;color:#8a1c1c;border-radius:.3rem;padding:0 .35rem;margin:0 .2rem .1rem 0;
font-size:.8rem}.muted{color:#777}.num{text-align:right;font-variant-numeric:tabular-nums}
nav{font-size:.9rem;margin-bottom:.6rem}a{color:#1f4e79}form{margin-top:1rem}input{font-size:1rem;padding:.3rem}
.error{color:#8a1c1c;font-weight:600}
"""


class AtRiskRow(NamedTuple):
    """One account of the at-risk list: its snapshot, its measures by points lost, its history points."""

    snapshot: dict[str, Any]
    why: list[dict[str, Any]]
    points: list[dict[str, Any]]


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} · healthmon</title><style>{_CSS}</style></head><body>{body}</body></html>")


def account_href(account_id: str) -> str:
    """Return the escaped path of an account's page (the id quoted, so `/`, `?` or `#` stay in it)."""
    return escape("/ui/accounts/" + quote(account_id, safe=""))


def _band(band: str | None) -> str:
    return f'<span class="band" style="background:{band_colour(band)}">{escape(band or "none")}</span>'


def _num(value: Any) -> str:
    if value is None:
        return '<span class="muted">–</span>'
    return escape(f"{value:g}" if isinstance(value, float) else str(value))


def _change(score: Any, before: Any) -> str:
    if score is None or before is None:
        return '<span class="muted">–</span>'
    delta = round(score - before, 1)
    return escape(f"{delta:+g}".replace("-", "−"))


def reasons(firing: Iterable[str], why: Sequence[dict[str, Any]], top: int = 3) -> list[str]:
    """Return the reasons of an account's health: its firing lines, then the measures that cost the most points."""
    out = [f"firing: {name}" for name in firing]
    out += [f"{m['name']} −{m['points_lost']:g} pts" for m in why
            if m.get("points_lost") is not None and m["points_lost"] > 0][:top]
    return out


def group_by_csm(rows: Iterable[AtRiskRow]) -> dict[str, list[AtRiskRow]]:
    """Group rows per CSM (sorted by name, accounts without one last), each lowest score first."""
    groups: dict[str, list[AtRiskRow]] = {}
    for row in rows:
        groups.setdefault(row.snapshot.get("csm") or "", []).append(row)
    for members in groups.values():
        members.sort(key=lambda r: (r.snapshot.get("score") is None, r.snapshot.get("score") or 0.0,
                                    r.snapshot.get("account_id", "")))
    return dict(sorted(groups.items(), key=lambda kv: (kv[0] == "", kv[0].lower())))


def _reason_cells(firing: Iterable[str], why: Sequence[dict[str, Any]]) -> str:
    lines = "".join(f'<span class="line">{escape(name)}</span>' for name in firing)
    costs = ", ".join(escape(r) for r in reasons([], why))
    return lines + (f'<span class="muted">{costs}</span>' if costs else "")


def at_risk_page(rows: Sequence[AtRiskRow], *, bands: Sequence[str], truncated: bool = False,
                 csm: str | None = None) -> str:
    """Return the at-risk page: per CSM, each account with its band, score, 7-day change, sparkline and reasons."""
    groups = group_by_csm(rows)
    of = "" if csm is None else f" of CSM {escape(csm)}"
    body = [f"<h1>Accounts at risk{of}</h1><p class=\"muted\">{len(rows)} accounts in "
            f"{escape(' or '.join(bands))}, grouped by CSM, lowest score first. The lines show the score over "
            f"the last 90 event-time days.</p>"]
    if truncated:
        body.append('<p class="error">The list is cut short: more accounts are at risk than one page shows. '
                    "Use <code>GET /accounts?band=red&amp;csm=…</code> for the full list.</p>")
    if not groups:
        body.append(f"<p>No account{of} is at risk.</p>")
    for csm, members in groups.items():
        body.append(f'<section class="csm"><h2>{escape(csm) if csm else "No CSM"} '
                    f'<span class="muted">({len(members)})</span></h2><table><thead><tr><th>Account</th>'
                    f'<th>Tier</th><th>Band</th><th class="num">Score</th><th class="num">7 days</th>'
                    f"<th>90 days</th><th>Why</th></tr></thead><tbody>")
        for row in members:
            snap = row.snapshot
            account_id = str(snap.get("account_id", ""))
            name = snap.get("name")
            label = escape(account_id) + (f' <span class="muted">{escape(str(name))}</span>' if name else "")
            body.append(f'<tr class="account"><td><a href="{account_href(account_id)}">{label}</a></td>'
                        f"<td>{escape(str(snap.get('tier') or '–'))}</td><td>{_band(snap.get('band'))}</td>"
                        f'<td class="num">{_num(snap.get("score"))}</td>'
                        f'<td class="num">{_change(snap.get("score"), snap.get("score_7d_ago"))}</td>'
                        f"<td>{sparkline(row.points)}</td>"
                        f"<td>{_reason_cells(snap.get('firing') or [], row.why)}</td></tr>")
        body.append("</tbody></table></section>")
    return _page("Accounts at risk", "".join(body))


def _time(ms: Any) -> str:
    if not isinstance(ms, int):
        return "–"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def account_page(snapshot: dict[str, Any], why: Sequence[dict[str, Any]], alerts: Sequence[dict[str, Any]],
                 points: Sequence[dict[str, Any]]) -> str:
    """Return an account's page: its score and band over time, why it scores so, its firing lines and alerts."""
    account_id = str(snapshot.get("account_id", ""))
    name = snapshot.get("name")
    title = account_id + (f" ({name})" if name else "")
    firing = snapshot.get("firing") or []
    body = [f'<nav><a href="/ui/">← Accounts at risk</a></nav><h1>{escape(title)}</h1>'
            f'<p>{_band(snapshot.get("band"))} score <strong>{_num(snapshot.get("score"))}</strong>'
            f' · 7 days ago {_num(snapshot.get("score_7d_ago"))} · 30 days ago {_num(snapshot.get("score_30d_ago"))}'
            f' · tier {escape(str(snapshot.get("tier") or "–"))} · CSM {escape(str(snapshot.get("csm") or "–"))}'
            f' · last event {_time(snapshot.get("updated_at"))}</p>',
            f"<h2>Score and band, last {len(points)} days</h2>{score_chart(points, width=940)}",
            "<h2>Firing lines</h2>"]
    body.append("<p>" + "".join(f'<span class="line">{escape(str(n))}</span>' for n in firing) + "</p>"
                if firing else '<p class="muted">Nothing is firing.</p>')
    body.append('<h2>Why this score</h2><table><thead><tr><th>Measure</th><th class="num">Value</th>'
                '<th class="num">Score</th><th class="num">Weight</th><th class="num">Points lost</th></tr>'
                "</thead><tbody>")
    for m in why:
        body.append(f'<tr class="measure"><td>{escape(str(m.get("name")))}</td><td class="num">{_num(m.get("value"))}'
                    f'</td><td class="num">{_num(m.get("score"))}</td><td class="num">{_num(m.get("weight"))}</td>'
                    f'<td class="num">{_num(m.get("points_lost"))}</td></tr>')
    body.append("</tbody></table><h2>Recent alerts</h2>")
    if not alerts:
        body.append('<p class="muted">No alert in the view for this account.</p>')
    else:
        body.append("<table><thead><tr><th>Event time</th><th>Status</th><th>Severity</th><th>Rule</th>"
                    "<th>Summary</th></tr></thead><tbody>")
        for a in alerts:
            body.append(f'<tr class="alert"><td>{_time(a.get("event_time"))}</td><td>{escape(str(a.get("status")))}'
                        f'</td><td>{escape(str(a.get("severity")))}</td><td>{escape(str(a.get("rule", "")))}</td>'
                        f'<td>{escape(str(a.get("summary", "")))}</td></tr>')
        body.append("</tbody></table>")
    return _page(title, "".join(body))


def login_page(next_path: str, *, wrong: bool = False) -> str:
    """Return the form that asks for the API token once, then goes on to `next_path`."""
    note = ('<p class="error">Wrong token: it does not match HEALTHMON_API_TOKEN.</p>' if wrong else
            "<p>This healthmon asks for its API token (HEALTHMON_API_TOKEN). It is kept in a cookie for these "
            "pages only.</p>")
    return _page("API token", f'<h1>API token</h1>{note}<form method="post" action="/ui/login">'
                              f'<input type="hidden" name="next" value="{escape(next_path)}">'
                              f'<label>Token <input type="password" name="token" autocomplete="current-password" '
                              f'required autofocus></label> <button type="submit">Open</button></form>')


def message_page(title: str, message: str) -> str:
    """Return a page that says what went wrong (unknown account, Redis down), with a link back to the list."""
    return _page(title, f'<nav><a href="/ui/">← Accounts at risk</a></nav><h1>{escape(title)}</h1>'
                        f"<p>{escape(message)}</p>")
