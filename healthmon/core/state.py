"""The compact per-account state: profile, clocks, day bitmaps per user, day counts, tickets, NPS, dedupe."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any, ClassVar, Final

from healthmon.core.users import UserTable
from healthmon.core.vocabulary import Band, Tier

__all__ = [
    "ACTIVE_DAYS",
    "ACTIVE_MASK",
    "AccountState",
    "CORE_DAYS",
    "CORE_MASK",
    "CORE_SHIFT",
    "DAY_MS",
    "FINGERPRINT",
    "NPS_DAYS",
    "TICKET_DAYS",
    "Lifecycle",
    "RuleState",
    "Ticket",
    "hash_id",
    "shared",
]

DAY_MS: Final = 86_400_000
#: Days of per-user activity and of event counts kept: the current week plus four baseline weeks.
ACTIVE_DAYS: Final = 35
ACTIVE_MASK: Final = (1 << ACTIVE_DAYS) - 1
#: Days of per-user core-feature use kept (adoption is measured over 28 days).
CORE_DAYS: Final = 28
CORE_MASK: Final = (1 << CORE_DAYS) - 1
#: Core bits sit above the activity bits in one 63-bit integer per user.
CORE_SHIFT: Final = ACTIVE_DAYS
NPS_DAYS: Final = 90
#: Bytes of one dedupe fingerprint in `AccountState.seen` (a CRC-32, little-endian).
FINGERPRINT: Final = 4
#: Closed tickets are kept this long after their last change (CSAT and opened counts span 28 days).
TICKET_DAYS: Final = 30

def shared(value: Any) -> Any:
    """Return `value`, or the one interned copy of it if it is a string (bands, tiers, input names).

    Decoding a saved state makes a new string object for every such word; thousands of live accounts
    holding the same few words need only one copy of each.
    """
    return sys.intern(value) if isinstance(value, str) else value


_ID_CACHE: dict[str, int] = {}
_ID_CACHE_MAX: Final = 262_144


def hash_id(value: str) -> int:
    """Return a stable 64-bit hash of a user or ticket id (blake2b, cached)."""
    key = _ID_CACHE.get(value)
    if key is None:
        if len(_ID_CACHE) >= _ID_CACHE_MAX:
            _ID_CACHE.clear()
        key = int.from_bytes(blake2b(value.encode(), digest_size=8).digest(), "little")
        _ID_CACHE[value] = key
    return key


@dataclass(slots=True)
class Ticket:
    """One support ticket of an account, as its events left it (days are since the epoch, -1: none)."""

    #: event time of its latest change (the latest event time wins)
    last_ms: int
    #: 1 while open, 0 once closed
    is_open: int
    #: 0 low, 1 normal, 2 high, 3 urgent (`healthmon.core.apply.PRIORITIES`)
    priority: int
    #: the day it was (first) opened
    opened_day: int
    #: its latest CSAT answer (1-5; 0: none) and that answer's day
    csat: int
    csat_day: int


class RuleState:
    """Lifecycle of one alert rule of one account (`health` or a warning line)."""

    __slots__ = ("status", "pending_since", "episode_start", "fired", "last_resolved", "band", "score",
                 "pending_band")

    OK: ClassVar[int] = 0
    PENDING: ClassVar[int] = 1
    FIRING: ClassVar[int] = 2

    def __init__(self) -> None:
        self.status = self.OK
        self.pending_since = 0  # event time the condition started to hold (0: not pending)
        self.episode_start = 0  # event time the current episode started (0: none)
        self.fired = False  # the current episode has been announced (a resolve may follow)
        self.last_resolved = 0  # event time the last announced episode resolved (for the cooldown)
        self.band: Band | None = None  # health only: the announced band
        self.score: float | None = None  # health only: the score when `band` was announced
        self.pending_band: Band | None = None  # health only: the band waiting out its dwell

    def to_list(self) -> list[Any]:
        """Return the rule state as a compact list."""
        return [self.status, self.pending_since, self.episode_start, int(self.fired), self.last_resolved,
                self.band, self.score, self.pending_band]

    @classmethod
    def from_list(cls, data: list[Any]) -> RuleState:
        """Rebuild a rule state from `to_list` output."""
        rule = cls()
        (rule.status, rule.pending_since, rule.episode_start, fired, rule.last_resolved, rule.band, rule.score,
         rule.pending_band) = data
        rule.fired = bool(fired)
        rule.band, rule.pending_band = shared(rule.band), shared(rule.pending_band)
        return rule


class Lifecycle:
    """Alert lifecycle of an account: the health rule, one state per warning line, the last evaluation."""

    __slots__ = ("health", "lines", "last_score", "last_band")

    def __init__(self) -> None:
        self.health = RuleState()
        self.lines: dict[str, RuleState] = {}
        self.last_score: float | None = None
        self.last_band: Band | None = None

    def line(self, name: str) -> RuleState:
        """Return the state of warning line `name`, creating it if needed."""
        rule = self.lines.get(name)
        if rule is None:
            rule = self.lines[name] = RuleState()
        return rule

    def fingerprint(self) -> tuple[Any, ...]:
        """Return a cheap value that changes whenever anything persisted in the lifecycle changes."""
        h = self.health
        return (h.status, h.pending_since, h.episode_start, h.fired, h.last_resolved, h.band, h.score,
                h.pending_band, self.last_score, self.last_band,
                tuple((n, r.status, r.pending_since, r.episode_start, r.last_resolved) for n, r in self.lines.items()))

    def pending(self) -> bool:
        """Return whether any rule waits out a `for`, a dwell or a cooldown (time alone may move it)."""
        return bool(self.health.pending_since) or any(r.status == RuleState.PENDING for r in self.lines.values())

    def to_list(self) -> list[Any]:
        """Return the lifecycle as a compact list; idle warning lines are left out."""
        lines = {name: r.to_list() for name, r in sorted(self.lines.items())
                 if r.status or r.episode_start or r.last_resolved}
        return [self.health.to_list(), lines, self.last_score, self.last_band]

    @classmethod
    def from_list(cls, data: list[Any]) -> Lifecycle:
        """Rebuild a lifecycle from `to_list` output."""
        life = cls()
        health, lines, life.last_score, last_band = data
        life.last_band = shared(last_band)
        life.health = RuleState.from_list(health)
        life.lines = {name: RuleState.from_list(r) for name, r in lines.items()}
        return life


class AccountState:
    """Everything the engine remembers about one account; mutated in place by the engine."""

    __slots__ = (
        "account_id", "name", "tier", "seats", "csm", "contract_day",
        "clock_ms", "first_ms", "last_activity_ms", "first_core_ms", "last_eval_ms", "dirty",
        "active_days", "first_activity_day",
        "anchor_day", "events", "users", "tickets", "nps", "seen", "life", "positions",
        "input_clocks", "user_counts", "answers", "history", "closed_day", "quiet_until_ms",
    )

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        # profile (None until the account's profile arrives)
        self.name: str | None = None
        self.tier: Tier | None = None
        self.seats: int | None = None
        self.csm: str | None = None
        self.contract_day: int | None = None  # days since the epoch
        # clocks, all event time in epoch ms (0: never)
        self.clock_ms = 0  # latest occurred_at accepted: the account's own stream time
        self.first_ms = 0  # earliest occurred_at accepted (or the first tick): starts the warm-up
        self.last_activity_ms = 0  # latest product-usage occurred_at
        # the account's rhythm (rhythm warning lines): how many distinct UTC days have product usage so far,
        # and the first of them (days since the epoch; meaningless while `active_days` is 0)
        self.active_days = 0
        self.first_activity_day = 0
        self.first_core_ms = 0  # earliest use of a core feature
        self.last_eval_ms = 0  # latest evaluation instant
        self.dirty = False  # data changed since the last evaluation
        # day buckets: index/bit 0 is `anchor_day`, index/bit k is anchor_day - k
        self.anchor_day = 0
        self.events = [0] * ACTIVE_DAYS  # usage events per day
        self.users = UserTable()  # user hash -> activity bits | core bits << CORE_SHIFT, 16 bytes per user
        self.tickets: dict[int, Ticket] = {}  # ticket hash -> ticket
        self.nps: dict[int, list[int]] = {}  # day -> [promoters, passives, detractors]
        # fingerprints (CRC-32) of the recently accepted event ids, 4 bytes each, little-endian, oldest
        # first: packed, because a set of 128 Python ints would take about 8 KB per account in memory
        self.seen = bytearray()
        self.life = Lifecycle()
        # input -> highest Kafka offset applied: an exact guard against redelivery, whatever its size
        # (an account's events of one input all sit in one partition, so offsets only grow)
        self.positions: dict[str, int] = {}
        # input kind -> latest occurred_at accepted from it: lateness is judged per input, so an input
        # that runs ahead (its backlog fetched first) never makes another input's events late
        self.input_clocks: dict[str, int] = {}
        # derived, never serialized: `windows.count_users(users)` as of `anchor_day`, kept up to date by
        # `apply_usage` and dropped by `advance` (None: count again), so evaluations need not walk every user
        self.user_counts: list[int] | None = None
        # NPS answers a later answer may replace (inputs whose responses can be updated, such as Delighted):
        # event-id fingerprint -> [day, category]; None for every other account (nothing kept, nothing saved)
        self.answers: dict[int, list[int]] | None = None
        # the score history: one point per ended event-time day (`healthmon.core.history`'s encoding)
        self.history = b""
        # derived, never serialized: the newest day `history` holds (-1: none; None: not read from it yet)
        self.closed_day: int | None = None
        # derived, never serialized: while the data is unchanged, the first tick instant at which anything can
        # move (`healthmon.core.quiet`; 0: not known, as after a restart)
        self.quiet_until_ms = 0

    def __repr__(self) -> str:
        return (f"AccountState({self.account_id!r}, tier={self.tier!r}, users={len(self.users)}, "
                f"tickets={len(self.tickets)}, clock_ms={self.clock_ms})")
