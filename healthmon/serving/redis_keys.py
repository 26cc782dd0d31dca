"""The Redis view's key layout.

Key layout (`p` is the prefix, `HEALTHMON_REDIS_PREFIX`):

- `p` + `account:{id}`: hash of the latest snapshot (see `SNAPSHOT_FIELDS`)
- `p` + `alerts:account:{id}`: list of the account's recent alerts, newest first
- `p` + `history:{id}`: the account's score history, one point per event-time day (`healthmon.core.history`)
- `p` + `accounts:score`, `p` + `accounts:score:tier:{tier}`, `p` + `accounts:score:band:{band}`:
  sorted sets of account ids by score (lowest = most at risk); accounts without a score are in none
- `p` + `accounts:score:csm:{slug}`: the same for one CSM, by the slug of its name (`healthmon.core.csm`;
  `none`: the accounts without a CSM)
- `p` + `accounts:drop7d`: sorted set of scored accounts by minus the points their score fell in 7 days (the
  biggest drop first); accounts without a score 7 days ago rank 1000, after all others
- `p` + `alerts`: stream of recent alerts (field `alert`: the alert JSON), capped near `alerts_cap`
- `p` + `view:writer:{token}`: one marker per worker process, to notice that Redis lost its data
- `p` + `removed:{id}`: hash (`as_of`, `progress`) of the last state of an account its source removed, for a
  while after the removal: older pushes of that state are refused, so no late writer brings it back
"""

from __future__ import annotations

from healthmon.core.csm import csm_slug

__all__ = ["SNAPSHOT_FIELDS", "ViewKeys"]

#: Fields of the per-account hash; a field whose snapshot value is null is absent.
SNAPSHOT_FIELDS = ("snapshot", "score", "band", "alert_band", "tier", "name", "measures", "updated_at",
                   "policy_version")


class ViewKeys:
    """Names the view's keys under one prefix."""

    prefix: str

    def key(self, *parts: str) -> str:
        """Return a prefixed Redis key."""
        return self.prefix + ":".join(parts)

    def account_key(self, account_id: str) -> str:
        """Return the key of an account's snapshot hash."""
        return self.key("account", account_id)

    def account_alerts_key(self, account_id: str) -> str:
        """Return the key of an account's recent-alerts list."""
        return self.key("alerts", "account", account_id)

    def history_key(self, account_id: str) -> str:
        """Return the key of an account's score history."""
        return self.key("history", account_id)

    def removed_key(self, account_id: str) -> str:
        """Return the key of an account's removal marker."""
        return self.key("removed", account_id)

    def csm_key(self, csm: str | None) -> str:
        """Return the key of the score-sorted set of one CSM's accounts (a name or its slug; None: no CSM)."""
        return self.key("accounts", "score", "csm", csm_slug(csm))

    def drops_key(self) -> str:
        """Return the key of the set of accounts by their 7-day drop, biggest first."""
        return self.key("accounts", "drop7d")

    def scores_key(self, band: str | None = None, tier: str | None = None) -> str:
        """Return the key of the score-sorted set of all accounts, or of one band or one tier."""
        if band is not None:
            return self.key("accounts", "score", "band", band)
        if tier is not None:
            return self.key("accounts", "score", "tier", tier)
        return self.key("accounts", "score")
