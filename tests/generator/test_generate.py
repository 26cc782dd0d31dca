"""generate(): determinism, contracts, ordering, realism of healthy traffic."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections import Counter, defaultdict

import pytest

from healthmon.generator import generate, scenario_names
from healthmon.generator.records import DAY_MS
from healthmon.generator.usage import CORE_FEATURES, WEEKDAY_FACTOR, weekday
from schemas.events import EVENT_MODELS

from .measures import of_account, usage_per_day, weekly_active_users


def test_same_seed_gives_identical_records():
    first = list(generate(8, seed=5, days=14).records())
    second = list(generate(8, seed=5, days=14).records())
    assert first == second
    assert len(first) > 1000


def test_records_can_be_replayed_from_one_traffic():
    traffic = generate(6, seed=2, days=10)
    assert list(traffic.records()) == list(traffic.records())


def test_different_seed_gives_different_records():
    a = list(generate(8, seed=5, days=14).records())
    b = list(generate(8, seed=6, days=14).records())
    assert a != b


@pytest.mark.parametrize("scenario", scenario_names())
def test_every_record_validates_against_its_contract(traffic_factory, scenario):
    _, records = traffic_factory(scenario)
    for rec in records:
        model = EVENT_MODELS[rec.kind].model_validate(rec.value)
        assert model.account_id == rec.key
        if rec.kind != "account":
            assert model.occurred_at == rec.occurred_at


def test_profiles_come_first_then_events_in_time_order(mixed):
    traffic, records = mixed
    n = len(traffic.profiles)
    assert [r.kind for r in records[:n]] == ["account"] * n
    assert all(r.occurred_at == traffic.start_ms for r in records[:n])
    assert [r.value for r in records[:n]] == [{**p, "updated_at": r.value["updated_at"]}
                                              for p, r in zip(traffic.profiles, records)]
    assert "account" not in {r.kind for r in records[n:]}
    times = [r.occurred_at for r in records]
    assert times == sorted(times)
    assert traffic.start_ms <= times[0] and times[-1] < traffic.end_ms


def test_event_ids_are_unique(mixed):
    _, records = mixed
    ids = [r.value["event_id"] for r in records if r.kind != "account"]
    assert len(ids) == len(set(ids))


def test_occurred_at_mixes_rfc3339_and_epoch_ms(mixed):
    _, records = mixed
    events = [r for r in records if r.kind != "account"]
    strings = sum(isinstance(r.value["occurred_at"], str) for r in events)
    assert 0.7 < strings / len(events) < 0.9
    assert all(isinstance(r.value["occurred_at"], (str, int)) for r in events)


def test_weekday_usage_is_much_higher_than_weekend(traffic_factory):
    traffic, records = traffic_factory("healthy")
    per_day = usage_per_day(records, traffic.start_ms, traffic.days)
    weekdays = [n for d, n in enumerate(per_day) if weekday(traffic.start_ms + d * DAY_MS) < 5]
    weekends = [n for d, n in enumerate(per_day) if weekday(traffic.start_ms + d * DAY_MS) >= 5]
    assert statistics.mean(weekdays) > 3 * statistics.mean(weekends)
    assert min(weekends) > 0


def test_healthy_accounts_are_steadily_60_to_85_percent_active(traffic_factory):
    traffic, records = traffic_factory("healthy")
    ratios = []
    for acc in traffic.accounts:
        if acc.onboarding_day is not None:
            continue
        weeks = [weekly_active_users(records, acc.account_id, traffic.start_ms + w * 7 * DAY_MS) for w in range(6)]
        # Steady: no week falls far from the account's usual level (tiny accounts are noisy).
        if acc.seats >= 15:
            assert min(weeks) >= 0.7 * max(weeks), (acc.account_id, weeks)
        ratios.append(statistics.mean(weeks) / acc.seats)
    assert 0.6 <= statistics.mean(ratios) <= 0.85
    assert 0.45 <= min(ratios) and max(ratios) <= 1.0


def test_healthy_accounts_use_core_features(traffic_factory):
    _, records = traffic_factory("healthy")
    features = Counter(r.value["feature"] for r in records if r.kind == "usage")
    core = sum(features[f] for f in CORE_FEATURES)
    assert core / sum(features.values()) > 0.5
    assert features["dashboards"] > 0 and features["login"] > 0


def test_healthy_accounts_have_few_tickets_and_mostly_promoters(traffic_factory):
    traffic, records = traffic_factory("healthy")
    opened = [r for r in records if r.kind == "ticket" and r.value["status"] == "opened"]
    weeks = traffic.days / 7
    assert len(opened) / len(traffic.accounts) / weeks < 1.5
    scores = [r.value["score"] for r in records if r.kind == "nps"]
    assert len(scores) >= 20
    promoters = sum(s >= 9 for s in scores) / len(scores)
    detractors = sum(s <= 6 for s in scores) / len(scores)
    assert promoters > 0.5 and detractors < 0.25


def test_ticket_lifecycles_are_consistent(mixed):
    _, records = mixed
    tickets = defaultdict(list)
    for r in records:
        if r.kind == "ticket":
            tickets[r.value["ticket_id"]].append(r.value)
    assert tickets
    closed_with_csat = 0
    for events in tickets.values():
        assert events[0]["status"] == "opened"
        assert len({e["priority"] for e in events}) == 1
        state = "open"
        for e in events[1:]:
            assert e["status"] != "opened"
            if e["status"] == "reopened":
                assert state == "closed"
                state = "open"
            elif e["status"] == "closed":
                assert state == "open"
                state = "closed"
                closed_with_csat += "csat" in e
            else:
                assert state == "open"
    assert closed_with_csat > 0


def test_onboarding_accounts_reach_core_features_only_after_time_to_value(mixed):
    traffic, records = mixed
    newcomers = [a for a in traffic.accounts if a.onboarding_day is not None]
    assert newcomers
    for acc in newcomers:
        contract_ms = traffic.start_ms + acc.onboarding_day * DAY_MS
        value_ms = contract_ms + acc.ttv_days * DAY_MS
        assert acc.contract_start.isoformat() == acc.profile()["contract_start"]
        events = of_account(records, acc.account_id)
        assert all(r.occurred_at >= contract_ms for r in events if r.kind != "account")
        core = [r.occurred_at for r in events if r.kind == "usage" and r.value["feature"] in CORE_FEATURES]
        assert core and min(core) >= value_ms


def test_profiles_have_tier_mix_modest_seats_and_consistent_arr():
    accounts = generate(200, seed=3).accounts
    tiers = Counter(a.tier for a in accounts)
    assert tiers == {"strategic": 20, "key": 50, "standard": 130}
    assert all(5 <= a.seats <= 60 for a in accounts)
    assert len({a.account_id for a in accounts}) == 200
    assert accounts[41].account_id == "acc-00042"
    assert len({a.name for a in accounts}) == 200
    arr = {t: statistics.median(a.arr for a in accounts if a.tier == t) for t in tiers}
    assert arr["strategic"] > arr["key"] > arr["standard"]
    seats = {t: statistics.median(a.seats for a in accounts if a.tier == t) for t in tiers}
    assert seats["strategic"] > seats["standard"]
    assert all(a.renewal_date > a.contract_start for a in accounts)
    assert len({a.csm for a in accounts}) > 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"accounts": 0}, "accounts"),
        ({"accounts": 3, "days": 1}, "days"),
        ({"accounts": 3, "days": 10, "change_day": 10}, "change_day"),
        ({"accounts": 3, "scenario": "meltdown"}, "unknown scenario"),
        ({"accounts": 3, "scenario": "drop", "affected_ratio": 0.0}, "affected_ratio"),
        ({"accounts": 3, "seats": (10, 5)}, "seats"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate(**kwargs)


def test_weekday_factors_put_weekends_low():
    assert min(WEEKDAY_FACTOR[:5]) > 4 * max(WEEKDAY_FACTOR[5:])


_DIGEST = """
import hashlib, json
from healthmon.generator import generate
h = hashlib.sha256()
for r in generate(6, seed=4, days=10).records():
    h.update(json.dumps([r.kind, r.key, r.value, r.occurred_at], sort_keys=True).encode())
print(h.hexdigest())
"""


def test_output_does_not_depend_on_the_hash_seed():
    digests = {
        subprocess.run(
            [sys.executable, "-c", _DIGEST],
            env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
            capture_output=True, text=True, check=True,
        ).stdout
        for hash_seed in (0, 1)
    }
    assert len(digests) == 1 and len(digests.pop()) == 65
