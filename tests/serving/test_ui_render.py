"""The pages' rendering: sparkline geometry, grouping per CSM, reasons, and escaping of user data."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from healthmon.serving.http import explain
from healthmon.serving.ui_pages import safe_next, token_matches
from healthmon.serving.ui_render import (
    AtRiskRow,
    account_href,
    account_page,
    at_risk_page,
    group_by_csm,
    login_page,
    reasons,
)
from healthmon.serving.ui_svg import Dot, score_chart, segments, sparkline
from tests.serving.conftest import make_alert, make_snapshot

HOSTILE = '<script>alert("x")</script>&"\'/'


def points(*scores: float | None) -> list[dict]:
    """Return history points for consecutive days with these scores."""
    band = {True: "red", False: "green"}
    return [{"day": f"2026-11-{i + 1:02d}", "score": s, "band": None if s is None else band[s <= 50],
             "costliest": []} for i, s in enumerate(scores)]


class Tags(HTMLParser):
    """Collect the start tags of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize("scores, width, height, expected", [
    ([0.0, 100.0], 100, 50, [[Dot(0.0, 50.0), Dot(100.0, 0.0)]]),
    ([50.0, 50.0, 25.0], 10, 100, [[Dot(0.0, 50.0), Dot(5.0, 50.0), Dot(10.0, 75.0)]]),
    ([40.0, None, 60.0, 80.0], 30, 10, [[Dot(0.0, 6.0)], [Dot(20.0, 4.0), Dot(30.0, 2.0)]]),
    ([None, None], 10, 10, []),
    ([], 10, 10, []),
    ([70.0], 10, 10, [[Dot(5.0, 3.0)]]),  # one day sits in the middle
    ([150.0, -5.0], 10, 10, [[Dot(0.0, 0.0), Dot(10.0, 10.0)]]),  # clamped to 0-100
])
def test_segments_place_days_on_x_and_scores_on_y(scores, width, height, expected):
    assert segments(scores, width, height) == expected


def test_segments_offset_by_the_box_origin():
    assert segments([0.0, 100.0], 10, 10, left=3, top=2) == [[Dot(3.0, 12.0), Dot(13.0, 2.0)]]


def test_sparkline_draws_each_run_and_colours_the_last_point_by_band():
    svg = sparkline(points(80.0, None, 45.0, 30.0), width=120, height=28)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    # 3 px of padding: days at x = 3 + i * 114 / 3, scores at y = 3 + 22 * (1 - score / 100)
    assert re.findall(r'<polyline points="([^"]+)"', svg) == ["79.0,15.1 117.0,18.4"]
    assert '<circle cx="3.0" cy="7.4"' in svg  # the lone first day is a dot
    assert '<circle cx="117.0" cy="18.4" r="2.5" fill="#d64545"/>' in svg  # the last point, red at 30


def test_sparkline_of_no_history_says_so():
    svg = sparkline([])
    assert "no score history yet" in svg and "<polyline" not in svg


def test_score_chart_has_a_band_strip_day_per_point_and_tooltips():
    chart = score_chart(points(80.0, 45.0, None))
    assert chart.count('class="band-day"') == 3
    assert chart.count('class="day"') == 2
    assert "2026-11-02: score 45, red" in chart and "2026-11-03: no score (no band)" in chart


def test_reasons_name_firing_lines_then_costliest_measures():
    snap = make_snapshot("acme", score=30.0, firing=["health", "weekly_active_users"])
    why = explain(snap["measures"])
    assert reasons(snap["firing"], why) == ["firing: health", "firing: weekly_active_users",
                                            "weekly_active_ratio −52.5 pts"]  # (100 - 30) * 3 / 4


def test_group_by_csm_sorts_csms_and_scores():
    rows = [AtRiskRow(make_snapshot(a, score=s, csm=c), [], []) for a, s, c in
            [("a", 60.0, "bob"), ("b", 20.0, "alice"), ("c", 40.0, "bob"), ("d", 10.0, None)]]
    grouped = group_by_csm(rows)
    assert list(grouped) == ["alice", "bob", ""]
    assert [r.snapshot["account_id"] for r in grouped["bob"]] == ["c", "a"]


def test_at_risk_page_lists_accounts_under_their_csm_with_sparkline_and_reasons():
    snap = make_snapshot("acme", score=30.0, csm="carol@example.com", firing=["weekly_active_users"],
                         score_7d_ago=48.0)
    html = at_risk_page([AtRiskRow(snap, explain(snap["measures"]), points(70.0, 50.0, 30.0))], bands=("red",))
    section = html.split("<h2>carol@example.com")[1]
    assert 'href="/ui/accounts/acme"' in section and "weekly_active_users" in section
    assert 'class="spark"' in section and "−18" in section
    assert "<script" not in html


def test_at_risk_page_without_accounts_says_none_is_at_risk():
    assert "No account is at risk." in at_risk_page([], bands=("red", "yellow"))


@pytest.mark.parametrize("render", ["list", "account"])
def test_user_data_is_escaped_everywhere(render):
    snap = make_snapshot(HOSTILE, score=20.0, csm=HOSTILE, name=HOSTILE, firing=[HOSTILE])
    snap["measures"][0]["name"] = HOSTILE
    alert = {**make_alert(HOSTILE, 1), "summary": HOSTILE, "rule": HOSTILE, "event_time": 1_700_000_000_000}
    if render == "list":
        html = at_risk_page([AtRiskRow(snap, explain(snap["measures"]), points(40.0))], bands=("red",))
    else:
        html = account_page(snap, explain(snap["measures"]), [alert], points(40.0))
    assert "<script" not in html and "&lt;script&gt;" in html
    assert [t for t, _ in tags_of(html) if t == "script"] == []
    if render == "list":
        hrefs = [a["href"] for t, a in tags_of(html) if t == "a"]
        assert hrefs == ["/ui/accounts/%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E%26%22%27%2F"]


def test_account_href_quotes_the_id():
    assert account_href("a/b?c#d") == "/ui/accounts/a%2Fb%3Fc%23d"


def test_account_page_shows_chart_firing_lines_measures_and_alerts():
    snap = make_snapshot("acme", score=30.0, firing=["health"])
    html = account_page(snap, explain(snap["measures"]), [make_alert("acme", 7)], points(80.0, 30.0))
    assert 'class="chart"' in html and html.count('class="band-day"') == 2
    assert '<span class="line">health</span>' in html
    assert html.count('class="measure"') == 3 and "alert 7" in html


def test_login_page_keeps_where_to_go_next_and_says_when_the_token_was_wrong():
    html = login_page('/ui/accounts/"x"')
    assert 'name="next" value="/ui/accounts/&quot;x&quot;"' in html and "Wrong token" not in html
    assert "Wrong token" in login_page("/ui/", wrong=True)


@pytest.mark.parametrize("path, expected", [
    ("/ui/accounts/acme", "/ui/accounts/acme"), ("/ui/", "/ui/"), (None, "/ui/"), ("", "/ui/"),
    ("https://evil.example/", "/ui/"), ("//evil.example/ui/", "/ui/"), ("/ui//evil.example", "/ui/"),
    ("/ui/\\evil", "/ui/"), ("/accounts", "/ui/"), ("/ui/\r\nSet-Cookie: x", "/ui/"),
])
def test_safe_next_only_leads_to_the_pages(path, expected):
    assert safe_next(path) == expected


@pytest.mark.parametrize("given, ok", [("s3cret", True), ("s3cret ", False), ("s3cre", False), ("", False),
                                       (None, False)])
def test_token_matches(given, ok):
    assert token_matches(given, "s3cret") is ok
