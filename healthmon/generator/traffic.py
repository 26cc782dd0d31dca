"""`Traffic` (a reproducible stream of records) and `generate`, the scenario generator."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .accounts import Account, make_accounts, power_law_seats
from .records import DAY_MS, Record, TimestampFormatter
from .rng import derive_rng
from .scenarios import CHURN_NOTICE_DAYS, CHURNING, Timeline, assign_plan, day_plan, default_change_day
from .support import day_nps, day_tickets
from .usage import build_usage_profile, day_usage, encode_time, weekday_factor

__all__ = ["DEFAULT_START_MS", "Traffic", "generate"]

#: 2026-01-05T00:00:00Z, a Monday
DEFAULT_START_MS = 1_767_571_200_000

# Stream ids for derive_rng: each purpose draws from its own stream.
_PLAN, _ACCOUNTS, _USERS, _DAY, _PROFILE = range(5)


class Traffic:
    """A reproducible stream of records over `days` days from `start_ms`.

    `records()` can be called any number of times; each call regenerates the same records.
    """

    def __init__(
        self,
        *,
        accounts: list[Account],
        plan: dict[str, str],
        start_ms: int,
        days: int,
        scenario: str,
        seed: int,
        source: Callable[[], Iterator[Record]],
        timeline: Timeline | None = None,
        events: int | None = None,
    ) -> None:
        self.accounts = accounts
        self.profiles = [a.profile() for a in accounts]
        self.plan = plan
        self.start_ms = start_ms
        self.days = days
        self.scenario = scenario
        self.seed = seed
        #: exact number of events `records()` yields besides the profiles, when fixed in advance
        self.events = events
        self._timeline = timeline
        self._source = source

    @property
    def end_ms(self) -> int:
        """Return the end of the period (exclusive)."""
        return self.start_ms + self.days * DAY_MS

    @property
    def change_day(self) -> int | None:
        """Return the day (0-based) on which the scenario's change starts, if it has one."""
        return self._timeline.change_day if self._timeline else None

    @property
    def change_day_ms(self) -> int | None:
        """Return the start of the change day in epoch ms."""
        return self._timeline.change_day_ms if self._timeline else None

    @property
    def recover_day_ms(self) -> int | None:
        """Return when `recover` accounts are back to normal."""
        return self._timeline.recover_day_ms if self._timeline else None

    @property
    def stall_window_ms(self) -> tuple[int, int] | None:
        """Return [start, end) of the product-usage outage in `ingest_stall`, else None."""
        return self._timeline.stall_window_ms if self._timeline else None

    def accounts_with(self, behaviour: str) -> list[str]:
        """Return the ids of the accounts the plan gives `behaviour`, in id order."""
        return [acc for acc, b in self.plan.items() if b == behaviour]

    def churn_labels(self) -> dict[str, int]:
        """Return account -> churned_at (epoch ms) of the accounts whose behaviour ends in churn (`CHURNING`)."""
        if self._timeline is None:
            return {}
        churned_at = self._timeline.change_day_ms + CHURN_NOTICE_DAYS * DAY_MS
        return {acc: churned_at for acc, b in sorted(self.plan.items()) if b in CHURNING}

    def records(self) -> Iterator[Record]:
        """Yield the account profiles (at start_ms), then every event in occurred_at order."""
        return self._source()


def generate(
    accounts: int,
    scenario: str = "mixed",
    seed: int = 1,
    start_ms: int = DEFAULT_START_MS,
    days: int = 42,
    *,
    change_day: int | None = None,
    affected_ratio: float = 0.3,
    seats: tuple[int, int] = (5, 60),
    onboarding_ratio: float = 0.1,
) -> Traffic:
    """Build the traffic of `accounts` accounts living through `scenario` for `days` days.

    The change starts on `change_day` (default `days - 14`, i.e. day 28 of 42). A share
    `onboarding_ratio` of the healthy accounts sign their contract during the first third of the
    period and only use core features after their time to value. See `scenarios.assign_plan`.
    """
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    if days < 2:
        raise ValueError("days must be at least 2")
    change = default_change_day(days) if change_day is None else change_day
    if not 1 <= change < days:
        raise ValueError(f"change_day must be in [1, {days - 1}]")
    lo, hi = seats
    if not 1 <= lo <= hi:
        raise ValueError("seats must be (lo, hi) with 1 <= lo <= hi")

    labels = assign_plan(scenario, accounts, derive_rng(seed, _PLAN), affected_ratio)
    eligible = [i for i, b in enumerate(labels) if b in ("healthy", "ingest_stall")]
    plan_rng = derive_rng(seed, _PLAN, 1)
    onboarding = set(plan_rng.sample(eligible, min(len(eligible), round(accounts * onboarding_ratio))))
    accs = make_accounts(
        derive_rng(seed, _ACCOUNTS),
        accounts,
        start_ms=start_ms,
        days=days,
        draw_seats=lambda rng: power_law_seats(rng, lo, hi, alpha=0.8),
        onboarding=onboarding,
    )
    timeline = Timeline(start_ms, days, change, stall=scenario == "ingest_stall")

    def source() -> Iterator[Record]:
        return _scenario_records(accs, labels, timeline, seed)

    return Traffic(
        accounts=accs,
        plan={a.account_id: labels[a.index] for a in accs},
        start_ms=start_ms,
        days=days,
        scenario=scenario,
        seed=seed,
        source=source,
        timeline=timeline,
    )


def profile_records(accounts: list[Account], start_ms: int, seed: int, fmt: TimestampFormatter) -> Iterator[Record]:
    """Yield one `account` record per account at `start_ms`."""
    rng = derive_rng(seed, _PROFILE)
    for acc in accounts:
        value = acc.profile()
        value["updated_at"] = encode_time(rng, start_ms, fmt)
        yield Record("account", acc.account_id, value, start_ms)


def _scenario_records(accounts: list[Account], labels: list[str], tl: Timeline, seed: int) -> Iterator[Record]:
    fmt = TimestampFormatter()
    yield from profile_records(accounts, tl.start_ms, seed, fmt)
    profiles = [build_usage_profile(a, derive_rng(seed, _USERS, a.index)) for a in accounts]
    usage_seq = [[0] for _ in accounts]
    ticket_seq = [[0] for _ in accounts]
    nps_seq = [[0] for _ in accounts]
    # Ticket follow-ups land on later days; they wait here until their day is generated.
    pending: dict[int, list[Record]] = {}
    for day in range(tl.days):
        day_start = tl.day_start_ms(day)
        wday = weekday_factor(day_start)
        out = pending.pop(day, [])
        for acc in accounts:
            i = acc.index
            plan = day_plan(labels[i], day, tl)
            if plan is None or (acc.onboarding_day is not None and day < acc.onboarding_day):
                continue
            rng = derive_rng(seed, _DAY, i, day)
            activity, core_ready = wday, True
            if acc.onboarding_day is not None:
                since_value = day - acc.onboarding_day - acc.ttv_days
                core_ready = since_value >= 0
                # Before time to value a few people poke around; afterwards use ramps up over a week.
                activity *= 0.3 if not core_ready else min(1.0, 0.5 + 0.1 * since_value)
            if plan.usage:
                day_usage(
                    profiles[i], rng, day_start, activity=activity, churned_away=plan.churned_away,
                    core_ready=core_ready, seq=usage_seq[i], fmt=fmt, out=out,
                )
            cutoff = tl.change_day_ms if labels[i] == "silent" else tl.end_ms
            tickets = day_tickets(acc, rng, day_start, day_factor=wday, spiking=plan.spiking,
                                  seq=ticket_seq[i], fmt=fmt)
            for rec in tickets:
                if rec.occurred_at >= cutoff:
                    continue
                target = (rec.occurred_at - tl.start_ms) // DAY_MS
                (out if target == day else pending.setdefault(target, [])).append(rec)
            out.extend(day_nps(acc, rng, day_start, day_factor=wday, spiking=plan.spiking,
                               churned_away=plan.churned_away, seq=nps_seq[i], fmt=fmt))
        out.sort(key=_by_time)
        yield from out


def _by_time(rec: Record) -> int:
    return rec.occurred_at
