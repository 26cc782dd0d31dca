"""The engine: apply a batch of one account's events, tick on stream time, snapshot; state in, state out."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from healthmon.core.accounts import resolve_removed, snapshot
from healthmon.core.alerts import account_alert
from healthmon.core.apply import (
    apply_nps,
    apply_profile,
    apply_ticket,
    apply_usage,
    cap_tickets,
    fingerprint,
    has_seen,
    kept_answer,
    remember,
    replace_nps,
)
from healthmon.core.daily import close_days, closed_day
from healthmon.core.engine_config import ApplyResult, EngineConfig, EvaluationStats
from healthmon.core.lifecycle import Timing, evaluate_lifecycle, timer_due
from healthmon.core.measures import compute_metrics
from healthmon.core.policy import Policy, TierPolicy
from healthmon.core.quiet import NEVER_MS, catch_up, catches_up, quiet_until_ms
from healthmon.core.records import AlertRecord, ScoreRecord
from healthmon.core.scores import score_record
from healthmon.core.scoring import quick_score, score
from healthmon.core.state import DAY_MS, AccountState
from healthmon.core.vocabulary import DUPLICATE, OK, TOO_LATE
from healthmon.core.windows import advance, asof_day

__all__ = ["ApplyResult", "Engine", "EngineConfig", "EvaluationStats"]


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class Engine:
    """Pure health engine: no I/O. The state passed in is updated in place and returned."""

    def __init__(self, policy: Policy, config: EngineConfig | None = None, *,
                 clock: Callable[[], int] = _wall_ms) -> None:
        self.policy = policy
        self.config = config or EngineConfig()
        self._clock = clock
        self._lateness_ms = self.config.lateness_seconds * 1000
        self._interval_ms = policy.evaluation_interval_seconds * 1000
        self._timing = (policy.warmup_seconds * 1000, policy.min_dwell_seconds * 1000,
                        policy.health_cooldown_seconds * 1000)
        self._fast_pending = self.config.fast_pending
        self._skip_quiet = self.config.skip_quiet
        #: set to an `EvaluationStats` to count (and time) evaluations, as the in-process bench does
        self.stats: EvaluationStats | None = None
        #: the health-scores records of the current `apply` or `tick` call
        self._scores: list[ScoreRecord] = []
        #: `policy.for_tier` by account tier (None: no profile), as asked for
        self._tiers: dict[str | None, TierPolicy] = {}

    @property
    def tick_interval_ms(self) -> int:
        """Return the evaluation interval: call `tick` at each multiple of it the watermark crosses."""
        return self._interval_ms

    def new_state(self, account_id: str) -> AccountState:
        """Return the empty state of an account."""
        return AccountState(account_id)

    def apply(self, state: AccountState, events: Iterable[Any], *, stream_time_ms: int | None = None,
              held_back: frozenset[str] = frozenset(), position: tuple[str, int] | None = None,
              keep_answers: bool = False, replaces: bool = False) -> ApplyResult:
        """Apply validated events of one account, in any order; decide alerts at the boundaries they cross.

        Lateness is judged against the latest event of the same input (usage, tickets or NPS) that the
        account accepted, not `stream_time_ms` (accepted for symmetry with `tick` and unused): so outcomes
        depend neither on how the input was batched nor on how far another input has run ahead.

        `keep_answers`: the NPS answers come from an input whose responses can be answered again (Delighted),
        so each is kept; `replaces`: these NPS events are such later answers, each replacing the kept answer
        of its `event_id` (one it does not know counts as new; one whose answer is not kept is a duplicate).
        """
        if position is not None:
            source, offset = position
            if offset <= state.positions.get(source, -1):
                # Redelivered after a crash: this message's effects are already in the saved state.
                events = list(events)
                return ApplyResult(state, [], [DUPLICATE] * len(events), False)
        outcomes: list[str] = []
        alerts: list[AlertRecord] = []
        core = self.policy.core_features
        lateness, interval, capacity = self._lateness_ms, self._interval_ms, self.config.dedupe_capacity
        seen = state.seen
        input_clocks = state.input_clocks
        accepted = tickets = 0
        changed = False
        for event in events:
            kind = event.kind
            if kind == "account":
                if apply_profile(state, event):
                    changed = state.dirty = True
                outcomes.append(OK)
                continue
            t = event.occurred_at
            fp = fingerprint(event.event_id)
            replacing = False
            if has_seen(seen, fp):
                replacing = replaces and kind == "nps" and kept_answer(state, fp)
                if not replacing:
                    outcomes.append(DUPLICATE)
                    continue
            input_clock = input_clocks.get(kind, 0)
            if t < input_clock - lateness:
                outcomes.append(TOO_LATE)
                continue
            if t > input_clock:
                input_clocks[kind] = t
            clock = state.clock_ms
            if t > clock:
                state.clock_ms = t
                boundary = t - t % interval
                if boundary > state.last_eval_ms:
                    if state.first_ms:
                        changed = self._evaluate(state, boundary, held_back, alerts) or changed
                    else:
                        state.last_eval_ms = boundary
                if state.first_ms and t // DAY_MS - 1 > closed_day(state):  # this event opens a later day
                    changed = self._close_days(state, t // DAY_MS - 1) or changed
            if not state.first_ms or t < state.first_ms:
                state.first_ms = t
            if replacing:
                replace_nps(state, t, event.score, fp)
                state.dirty = True
                accepted += 1
                outcomes.append(OK)
                continue
            remember(seen, fp, capacity)
            if kind == "usage":
                apply_usage(state, t, event.user_id, event.feature in core)
            elif kind == "ticket":
                apply_ticket(state, t, event.ticket_id, event.status, event.priority, event.csat)
                tickets += 1
            else:
                apply_nps(state, t, event.score, fp if keep_answers or replaces else None)
            state.dirty = True
            accepted += 1
            outcomes.append(OK)
        if tickets:
            cap_tickets(state, self.config.max_tickets)
        if position is not None:
            state.positions[position[0]] = position[1]
            changed = True
        return ApplyResult(state, alerts, outcomes, changed or accepted > 0, self._take_scores())

    def tick(self, state: AccountState, now_ms: int, *, held_back: frozenset[str] = frozenset()) -> ApplyResult:
        """Evaluate an account as of stream time `now_ms` (a tick boundary), even if it sent nothing."""
        if now_ms <= state.last_eval_ms:
            return ApplyResult(state)
        changed = False
        if not state.first_ms:
            if state.tier is None:
                return ApplyResult(state)  # neither events nor a profile: nothing to evaluate
            state.first_ms = now_ms  # a profile-only account: its warm-up starts at its first tick
            changed = True
        alerts: list[AlertRecord] = []
        changed = self._evaluate(state, now_ms, held_back, alerts) or changed
        return ApplyResult(state, alerts, [], changed, self._take_scores())

    def next_tick_ms(self, state: AccountState) -> int | None:
        """Return the first tick instant at which `tick` may change anything (None: none until new input).

        Ticks before it only move `last_eval_ms` along within one day (the fast path of an evaluation),
        so a caller may skip them: the decisions, alerts and saved states are the same.
        """
        interval, last = self._interval_ms, state.last_eval_ms
        if not state.first_ms:
            return None if state.tier is None else last + interval
        if state.dirty or not last or state.life.pending():
            return last + interval
        if state.quiet_until_ms:  # known since its latest evaluation (`healthmon.core.quiet`)
            return None if state.quiet_until_ms == NEVER_MS else state.quiet_until_ms
        # The data is unchanged: the next day, or the end of the warm-up, is the next possible change.
        due = (asof_day(last) + 1) * DAY_MS + 1
        warmup_end = state.first_ms + self._timing[0]
        if last < warmup_end < due:
            due = warmup_end
        return -(-due // interval) * interval

    def catch_up(self, state: AccountState, now_ms: int) -> bool:
        """Bring a quiet account's windows to stream time `now_ms` before new input meets it (`quiet.catch_up`).

        The days it skipped get their history points first, while the windows still reach back to them.
        """
        if not catches_up(state, now_ms):
            return False
        ended = asof_day(now_ms) - 1
        if ended > closed_day(state):
            self._close_days(state, ended)
        return catch_up(state, now_ms)

    def _evaluate(self, state: AccountState, at_ms: int, held_back: frozenset[str], out: list[AlertRecord]) -> bool:
        """Decide alerts as of `at_ms`; append them to `out`; return whether the state moved."""
        # A day ended before this instant's day began: its history point, before this instant changes anything.
        ended = asof_day(at_ms) - 1
        days = ended > closed_day(state) and self._close_days(state, ended)
        stats = self.stats
        if stats is None:
            return self._decide(state, at_ms, held_back, out) is True or days
        started = time.perf_counter_ns() if stats.timed else 0
        moved = self._decide(state, at_ms, held_back, out)
        spent = time.perf_counter_ns() - started if stats.timed else 0
        if moved is None:
            stats.fast += 1
            stats.fast_ns += spent
        else:
            stats.full += 1
            stats.full_ns += spent
        return moved is True or days

    def _close_days(self, state: AccountState, ended: int) -> bool:
        """Add the history points (and health-scores records) of the days up to `ended`; return whether any."""
        tier = self._tier(state.tier)
        closed = close_days(state, ended, tier, self.config.history_days)
        if self.config.score_records:
            self._scores += [score_record(state, "day", (day + 1) * DAY_MS, card, tier, self.policy.version)
                             for day, card in closed]
        return bool(closed)

    def _tier(self, name: str | None) -> TierPolicy:
        """Return the policy of an account's tier (`Policy.for_tier`)."""
        tier = self._tiers.get(name)
        if tier is None:
            tier = self._tiers[name] = self.policy.for_tier(name)
        return tier

    def _take_scores(self) -> list[ScoreRecord]:
        """Return the health-scores records of this call (gathered across its evaluations) and start anew."""
        scores, self._scores = self._scores, []
        return scores

    def _decide(self, state: AccountState, at_ms: int, held_back: frozenset[str],
                out: list[AlertRecord]) -> bool | None:
        """Return whether the lifecycle moved as of `at_ms` (None: the fast path, nothing could move)."""
        warmup_ms, dwell_ms, cooldown_ms = self._timing
        warm = at_ms - state.first_ms >= warmup_ms
        life = state.life
        last = state.last_eval_ms
        day = asof_day(at_ms)
        if not state.dirty and last and day == asof_day(last) and warm == (last - state.first_ms >= warmup_ms) \
                and (not life.pending() or self._fast_pending and not held_back
                     and not timer_due(life, self._tier(state.tier), dwell_ms, cooldown_ms,
                                       last, at_ms)):
            # Metrics depend on the data and the day only: nothing can move until one of them does, or
            # until a pending rule's dwell, `for` or cooldown runs out.
            state.last_eval_ms = at_ms
            return None
        if day > state.anchor_day:
            advance(state, day)
        before = life.fingerprint()
        tier = self._tier(state.tier)
        metrics = compute_metrics(state, at_ms)
        card = quick_score(metrics, tier)
        timing = Timing(at_ms, warm, dwell_ms, cooldown_ms, held_back)
        transitions = evaluate_lifecycle(life, card, metrics, tier, timing)
        state.last_eval_ms = at_ms
        state.dirty = False
        if self._skip_quiet:
            state.quiet_until_ms = quiet_until_ms(state, tier, at_ms, warmup_ms, self._interval_ms, metrics, card.score,
                                                  warm)
        if transitions:
            card = score(metrics, tier)
            processed_at = self._clock()
            for tr in transitions:
                out.append(account_alert(state, tr, card, severity=tier.severity, at_ms=at_ms,
                                         policy_version=self.policy.version, processed_at=processed_at))
            if self.config.score_records and any(tr.kind == "health_changed" for tr in transitions):
                self._scores.append(score_record(state, "band_change", at_ms, card, tier, self.policy.version))
        return bool(transitions) or life.fingerprint() != before

    def remove(self, state: AccountState, removal: str) -> list[AlertRecord]:
        """Resolve the open alerts of an account its source removed (see `core.accounts.resolve_removed`)."""
        return resolve_removed(self.policy, self._clock, state, removal)

    def snapshot(self, state: AccountState, now_ms: int) -> dict[str, Any]:
        """Return the account's current health as of `now_ms` (see `core.accounts.snapshot`)."""
        return snapshot(self.policy, state, now_ms)
