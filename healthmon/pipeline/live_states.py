"""The live account states: decoded once, kept in memory between messages, saved to the table at commits.

The table (a Faust table, or a dict in the backtest and the benchmarks) holds each account's state as
bytes. Decoding it once per message would cost more than applying the message, so the states a worker
touches stay live here; `flush` writes the changed ones back (one changelog message per account), and
the agent calls it before Faust commits any offset: the changelog is never behind a committed offset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping

from healthmon.core import AccountState, state_from_bytes, state_to_bytes

__all__ = ["MAX_LIVE_STATES", "LiveStates"]

#: Live states kept in memory; beyond it, saved ones are dropped (the table still holds them).
MAX_LIVE_STATES = 200_000


class LiveStates:
    """Account id -> live state, over a table of saved states (account id bytes -> state bytes)."""

    def __init__(self, table: MutableMapping[bytes, bytes], new_state: Callable[[str], AccountState],
                 max_live: int = MAX_LIVE_STATES) -> None:
        self.table = table
        self._new_state = new_state
        self._max_live = max_live
        #: account -> live state (the table holds the same, or an older one for `unsaved` accounts)
        self.live: dict[str, AccountState] = {}
        #: accounts whose live state has changed since it was last written to the table
        self.unsaved: set[str] = set()
        #: accounts removed from their source: deleted from the table at the next flush
        self.removed: set[str] = set()
        #: accounts changed, made live or dropped since the last `take_touched` (a reader of every live state,
        #: as the backtest's band sampling, re-reads these only)
        self._touched: set[str] = set()

    def load(self, account_id: str) -> AccountState:
        """Return the account's state: live, else from the table, else a new one."""
        state = self.live.get(account_id)
        if state is None:
            state = self.get(account_id) or self._new_state(account_id)
            self.removed.discard(account_id)
            self._keep(account_id, state)
        return state

    def get(self, account_id: str) -> AccountState | None:
        """Return the account's current state (live, else from the table, then kept live), or None if it has none."""
        state = self.live.get(account_id)
        if state is None:
            state = self.read(account_id)
            if state is not None:
                self._keep(account_id, state)
        return state

    def read(self, account_id: str) -> AccountState | None:
        """Return the account's current state for a reader, keeping nothing a later recovery could make stale."""
        state = self.live.get(account_id)
        if state is not None:
            return state
        if account_id in self.removed:
            return None
        raw = self.table.get(account_id.encode())
        return state_from_bytes(raw) if raw else None

    def saved_accounts(self) -> Iterator[str]:
        """Yield every account the table holds a state for (a snapshot of its keys)."""
        for raw_key in list(self.table.keys()):
            yield raw_key.decode()

    def changed(self, account_id: str) -> None:
        """Note that the account's live state must be written back at the next flush."""
        self.unsaved.add(account_id)
        self._touched.add(account_id)

    def take_touched(self) -> set[str]:
        """Return the accounts changed, made live or dropped since the last call, and start again."""
        touched, self._touched = self._touched, set()
        return touched

    def flush(self) -> int:
        """Write every changed live state to the table (one changelog message each); return how many."""
        unsaved, self.unsaved = self.unsaved, set()
        table, states = self.table, self.live
        for account_id in unsaved:
            table[account_id.encode()] = state_to_bytes(states[account_id])
        removed, self.removed = self.removed, set()
        for account_id in removed:
            if account_id.encode() in table:
                del table[account_id.encode()]  # a tombstone in the changelog
        return len(unsaved) + len(removed)

    def remove(self, account_id: str) -> None:
        """Forget the account's state: gone now, deleted from the table at the next flush."""
        self.live.pop(account_id, None)
        self.unsaved.discard(account_id)
        self.removed.add(account_id)

    def forget(self) -> None:
        """Save and drop every live state (after a rebalance the table is the truth again)."""
        self.flush()
        self._touched.update(self.live)
        self.live.clear()

    def _keep(self, account_id: str, state: AccountState) -> None:
        if len(self.live) >= self._max_live:
            for saved in [a for a in self.live if a not in self.unsaved][:self._max_live // 2]:
                del self.live[saved]
                self._touched.add(saved)
        self.live[account_id] = state
        self._touched.add(account_id)
