"""The digest's decisions: per CSM, the biggest falls, what is at risk now, what recovered; event-time days."""

from __future__ import annotations

from healthmon.core.history import DayPoint
from healthmon.digest import AccountDays, build_digests
from healthmon.digest.render import render_markdown, slack_payload

DAY_MS = 86_400_000
LAST = 20_600  # the newest ended day: the view's latest event is on the next day


def _account(account_id: str, csm: str | None, scores: list[float], bands: list[str], latest_day: int = LAST + 1,
             tier: str = "key") -> AccountDays:
    first = LAST - len(scores) + 1
    points = [DayPoint(first + n, s, b, ("weekly_active_ratio", "nps_90d")) for n, (s, b) in
              enumerate(zip(scores, bands))]
    snapshot = {"account_id": account_id, "name": account_id.title(), "tier": tier, "csm": csm,
                "updated_at": latest_day * DAY_MS + 3_600_000,
                "measures": [{"name": "weekly_active_ratio", "value": 0.22}, {"name": "nps_90d", "value": -40.0}]}
    return AccountDays(snapshot, points)


def _view() -> list[AccountDays]:
    g, y, r = "green", "yellow", "red"
    return [
        _account("falls-far", "ann", [80] * 3 + [70, 60, 50, 45, 41], [g] * 3 + [y, y, r, r, r]),
        _account("falls-a-bit", "ann", [80] * 3 + [78, 77, 76, 75, 74], [g] * 3 + [g, g, g, g, y]),
        _account("recovers", "ann", [40] * 3 + [60, 70, 80, 80, 82], [r] * 3 + [y, y, g, g, g]),
        _account("steady-red", "ann", [30] * 8, [r] * 8),
        _account("new", "ann", [55], [y]),
        _account("bobs", "bob", [90] * 3 + [20] * 5, [g] * 3 + [r] * 5),
        _account("stale", None, [70] * 8, [y] * 8, latest_day=LAST - 30),
    ]


def test_each_csm_gets_the_biggest_falls_first_what_is_at_risk_and_what_recovered() -> None:
    digests = build_digests(_view(), 7)
    assert [d.csm for d in digests] == ["(no CSM)", "ann", "bob"]
    ann = digests[1]
    assert ann.last_day == LAST  # the day before the view's latest event time, whatever the wall clock
    assert [(m.account_id, m.change) for m in ann.down] == [("falls-far", -39.0), ("falls-a-bit", -6.0)]
    assert ann.down[0].reasons == ["weekly active users (share of seats) 22%", "NPS over 90 days -40"]
    assert [m.account_id for m in ann.at_risk] == ["steady-red", "falls-far", "new", "falls-a-bit"]
    assert [(m.account_id, m.band_before, m.band) for m in ann.recovered] == [("recovers", "red", "green")]
    assert [m.account_id for m in build_digests(_view(), 7, csm="bob")[0].down] == ["bobs"]
    assert build_digests(_view(), 7, csm="nobody") == [] and build_digests([], 7) == []


def test_the_days_are_counted_back_from_the_views_own_latest_day() -> None:
    two = build_digests(_view(), 2, csm="ann")[0]
    assert [(m.account_id, m.change) for m in two.down] == [("falls-far", -9), ("falls-a-bit", -2)]
    assert two.recovered == []  # green for three days already


def test_markdown_and_slack_name_the_fall_first() -> None:
    ann = build_digests(_view(), 7, csm="ann")
    text = render_markdown(ann)
    first = text.splitlines()[3]
    assert text.startswith("## ann: 7 days, 2026-05-21 to 2026-05-27 (event time)\n")
    assert first == ("1. **Falls-Far** (key): score 41 (−39 in 7 days), red: weekly active users (share of seats) "
                     "22%, NPS over 90 days -40")
    payload = slack_payload(ann[0])
    assert set(payload) == {"text"}
    assert payload["text"].splitlines()[2].startswith("• *Falls-Far* (key): score 41 (−39 in 7 days), red")
