"""Per-account series: which accounts get them by mode, how they leave, their labels, and the cap."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from healthmon.config import Settings
from healthmon.core.state import DAY_MS
from healthmon.serving.account_series import ACCOUNT_FAMILIES, SERIES_PER_ACCOUNT, AccountSeries
from healthmon.serving.metrics import Metrics

T0 = 1_780_000_000_000
ACCOUNT_NAMES = {name for name, _, _ in ACCOUNT_FAMILIES}


def snapshot(account_id: str, band: str | None, score: float | None = None, at_ms: int = T0,
             csm: str | None = "alice@example.com", idle_days: int | None = 3, urgent: int = 1,
             week_ago: float | None = 70.0, month_ago: float | None = 80.0) -> dict[str, Any]:
    """Return a snapshot shaped as `Engine.snapshot` returns it."""
    default = {"green": 90.0, "yellow": 62.0, "red": 30.0, None: None}[band]
    return {"account_id": account_id, "tier": "key", "csm": csm, "score": default if score is None else score,
            "band": band, "as_of": at_ms, "score_7d_ago": week_ago, "score_30d_ago": month_ago,
            "metrics": {"days_since_last_activity": idle_days, "open_urgent_tickets": urgent}}


def exposition(metrics: Metrics) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Scrape the registry as Prometheus would: per-account family name -> [(labels, value)]."""
    text = generate_latest(metrics.registry).decode()
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def exported_accounts(metrics: Metrics) -> dict[str, str]:
    """Return account -> band label of every account with a score series in the exposition."""
    return {labels["account_id"]: labels["band"]
            for labels, _ in exposition(metrics).get("healthmon_account_health_score", [])}


def series_count(metrics: Metrics) -> int:
    """Count the per-account series in the exposition."""
    scraped = exposition(metrics)
    return sum(len(scraped.get(name, [])) for name in ACCOUNT_NAMES)


def gauge(metrics: Metrics, name: str) -> float:
    """Return the value of an unlabelled gauge in the exposition."""
    ((_, value),) = exposition(metrics)[name]
    return value


def make(mode: str, max_series: int = SERIES_PER_ACCOUNT * 1000) -> tuple[AccountSeries, Metrics]:
    series = AccountSeries(mode, max_series)  # type: ignore[arg-type]
    return series, Metrics(account_series=series)


def test_the_labels_are_account_tier_csm_and_band_and_the_values_come_from_the_snapshot() -> None:
    series, metrics = make("at_risk")
    series.observe("acme", snapshot("acme", "red", csm="Alice Smith", idle_days=9, urgent=2), "key")
    scraped = exposition(metrics)
    labels = {"account_id": "acme", "tier": "key", "csm": "alice-smith", "band": "red"}
    assert scraped["healthmon_account_health_score"] == [(labels, 30.0)]
    assert scraped["healthmon_account_inactive_seconds"] == [(labels, 9 * 86_400.0)]
    assert scraped["healthmon_account_open_urgent_tickets"] == [(labels, 2.0)]
    assert scraped["healthmon_account_health_score_7d_ago"] == [(labels, 70.0)]
    assert scraped["healthmon_account_health_score_30d_ago"] == [(labels, 80.0)]


@pytest.mark.parametrize(("week_ago", "month_ago", "families"), [
    (None, None, set()),
    (55.5, None, {"healthmon_account_health_score_7d_ago"}),
    (None, 61.0, {"healthmon_account_health_score_30d_ago"}),
])
def test_scores_of_days_the_history_does_not_hold_have_no_series(week_ago: float | None, month_ago: float | None,
                                                                 families: set[str]) -> None:
    series, metrics = make("at_risk")
    series.observe("acme", snapshot("acme", "red", week_ago=week_ago, month_ago=month_ago), "key")
    scraped = exposition(metrics)
    past = {"healthmon_account_health_score_7d_ago", "healthmon_account_health_score_30d_ago"}
    assert past & set(scraped) == families
    assert gauge(metrics, "healthmon_account_series") == 3 + len(families)


def test_the_default_cap_is_a_thousand_accounts_of_every_series() -> None:
    assert SERIES_PER_ACCOUNT == len(ACCOUNT_FAMILIES) == 5
    assert Settings().http.account_metrics_max == SERIES_PER_ACCOUNT * 1000
    assert AccountSeries("all").max_accounts == AccountSeries("all", Settings().http.account_metrics_max).max_accounts


def test_an_account_that_never_used_the_product_has_no_inactivity_series() -> None:
    series, metrics = make("all")
    series.observe("new", snapshot("new", "red", idle_days=None), "key")
    scraped = exposition(metrics)
    assert len(scraped["healthmon_account_health_score"]) == 1
    assert "healthmon_account_inactive_seconds" not in scraped
    assert gauge(metrics, "healthmon_account_series") == SERIES_PER_ACCOUNT - 1


@pytest.mark.parametrize(("mode", "bands", "exported"), [
    # one observation per account: who gets series
    ("off", {"a": "red", "b": "yellow", "c": "green"}, {}),
    ("at_risk", {"a": "red", "b": "yellow", "c": "green"}, {"a": "red", "b": "yellow"}),
    ("all", {"a": "red", "b": "yellow", "c": "green"}, {"a": "red", "b": "yellow", "c": "green"}),
    ("all", {"a": None}, {}),  # no score yet: nothing to show
])
def test_which_accounts_each_mode_exports(mode: str, bands: dict[str, str | None], exported: dict[str, str]) -> None:
    series, metrics = make(mode)
    for account, band in bands.items():
        series.observe(account, snapshot(account, band), "key")
    assert exported_accounts(metrics) == exported
    assert gauge(metrics, "healthmon_account_series") == SERIES_PER_ACCOUNT * len(exported)
    assert gauge(metrics, "healthmon_account_series_limit") == (0 if mode == "off" else SERIES_PER_ACCOUNT * 1000)


@pytest.mark.parametrize(("mode", "steps"), [
    # (band, event time in hours after T0) -> the band label exported afterwards (None: no series)
    ("at_risk", [("green", 0, None), ("yellow", 1, "yellow"), ("red", 2, "red"), ("green", 3, "green"),
                 ("green", 20, "green"), ("green", 27, None), ("green", 30, None)]),
    ("at_risk", [("red", 0, "red"), ("green", 1, "green"), ("yellow", 5, "yellow"), ("green", 6, "green"),
                 ("green", 26, "green"), ("green", 30, None)]),  # the day restarts at the last return to green
    ("at_risk", [("yellow", 0, "yellow"), (None, 1, None), ("green", 2, None)]),  # lost its score
    ("all", [("green", 0, "green"), ("red", 1, "red"), ("green", 2, "green"), ("green", 100, "green")]),
    ("off", [("red", 0, None), ("green", 1, None)]),
])
def test_transitions_add_relabel_and_remove_series(mode: str, steps: list[tuple[str | None, int, str | None]]) -> None:
    series, metrics = make(mode)
    for band, hours, expected in steps:
        series.observe("acme", snapshot("acme", band, at_ms=T0 + hours * 3_600_000), "key")
        assert exported_accounts(metrics) == ({} if expected is None else {"acme": expected}), (band, hours)
        # a band change moves the series; it never leaves the old band's series behind
        assert series_count(metrics) == (0 if expected is None else SERIES_PER_ACCOUNT)


def test_a_recovered_account_expires_on_stream_time_without_another_snapshot() -> None:
    series, metrics = make("at_risk")
    series.observe("acme", snapshot("acme", "red", at_ms=T0), "key")
    series.observe("acme", snapshot("acme", "green", at_ms=T0 + 1000), "key")
    assert series.expire(lambda account: T0 + DAY_MS) == 0  # a day after the return: not yet
    assert exported_accounts(metrics) == {"acme": "green"}
    assert series.expire(lambda account: T0 + 1000 + DAY_MS) == 1
    assert exported_accounts(metrics) == {}
    assert series.recovered_at == {}


def test_forgotten_accounts_lose_their_series() -> None:
    series, metrics = make("all")
    for account in "abc":
        series.observe(account, snapshot(account, "red"), "key")
    series.forget_all(["a", "c"])
    assert exported_accounts(metrics) == {"b": "red"}


def test_over_the_cap_the_lowest_scores_are_exported_and_the_rest_counted() -> None:
    series, metrics = make("all", max_series=2 * SERIES_PER_ACCOUNT + 1)  # two accounts of five series each
    for account, score in [("a", 80.0), ("b", 20.0), ("c", 55.0), ("d", 20.0)]:
        # an account missing some values still counts as five: the cap holds whatever they become
        series.observe(account, snapshot(account, "green", score=score, week_ago=None), "key")
    assert set(exported_accounts(metrics)) == {"b", "d"}
    assert gauge(metrics, "healthmon_account_series_capped_accounts") == 2
    series.forget("b")
    assert set(exported_accounts(metrics)) == {"c", "d"}
    assert gauge(metrics, "healthmon_account_series_capped_accounts") == 1
    series.forget("a")
    assert gauge(metrics, "healthmon_account_series_capped_accounts") == 0


def test_retain_drops_the_accounts_another_worker_owns_now() -> None:
    series, metrics = make("at_risk")
    for account in ("a", "b", "c"):
        series.observe(account, snapshot(account, "red"), "key")
    series.observe("b", snapshot("b", "green", at_ms=T0 + 1), "key")  # recovering: its day is forgotten too
    assert series.retain(lambda account: account == "c") == 2
    assert exported_accounts(metrics) == {"c": "red"}
    assert series.recovered_at == {}


def test_a_scrape_restricted_to_other_names_does_not_render_the_per_account_series(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # `/metrics?name[]=...` (prometheus-client's restricted registry): a poller of one counter does not pay for the
    # per-account families, and one that asks for a per-account family gets it, since the collector describes them
    series, metrics = make("all")
    series.observe("acme", snapshot("acme", "red"), "key")
    collected: list[int] = []
    collect = series.collect
    monkeypatch.setattr(series, "collect", lambda: collected.append(1) or collect())
    text = generate_latest(metrics.registry.restricted_registry(["healthmon_events_total"])).decode()
    assert "healthmon_account" not in text and collected == []
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(
        metrics.registry.restricted_registry(["healthmon_account_health_score", "healthmon_account_series"])).decode())}
    assert set(families) == {"healthmon_account_health_score", "healthmon_account_series"}
    assert [s.value for s in families["healthmon_account_health_score"].samples] == [30.0]
    assert [s.value for s in families["healthmon_account_series"].samples] == [float(SERIES_PER_ACCOUNT)]
