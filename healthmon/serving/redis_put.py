"""One account's snapshot written to the view only if it is not older than the one there.

A view has several writers over time: the owner of the account's partition, a worker that owned it
before a rebalance and refreshes from states it no longer owns, one frozen for a while that wakes up,
`healthmon view check --repair`. Which of them wrote last must not decide what users read: the write
is a Lua script that compares the pushed state's version (`healthmon.core.saved_view.ViewVersion`:
`as_of`, then input progress) with the one in the hash, refuses an older one, and replaces the hash
and the account's places in the sorted sets (all accounts, its band, tier and CSM, the 7-day drops) in
one step, so they never disagree.

An account its source removed leaves the view the same way: one script deletes its hash and score history
and takes it out of every set it was placed in, and leaves a marker with its last state's version for
`REMOVED_TTL_SECONDS`. A push of that state or an older one (a late writer, a resync from a state table
that had not yet forgotten it) is refused; a newer state (the account came back with new events) is
written and clears the marker.
"""

from __future__ import annotations

from typing import Any

import orjson

from healthmon.core.vocabulary import BANDS
from healthmon.serving.metrics import TIER_LABELS
from healthmon.serving.redis_keys import ViewKeys
from healthmon.serving.redis_sets import drop_rank, sorted_set_place

__all__ = ["PUT_SNAPSHOT_LUA", "REMOVED_TTL_SECONDS", "REMOVE_ACCOUNT_LUA", "put_snapshot_args", "remove_account_args",
           "snapshot_fields"]

#: How long a removed account's marker refuses older pushes: far longer than any writer stays stale (a frozen
#: worker is fenced off within its session timeout; a restarted one reads the delete again within a commit).
REMOVED_TTL_SECONDS = 7 * 86_400

# Both scripts below start here: KEYS[1] the account's hash, ARGV[2] and ARGV[3] the incoming state's as_of and
# progress. Returns 0 when the view already holds a more advanced state of the account.
_REFUSE_OLDER = """
local cur = redis.call('HMGET', KEYS[1], 'as_of', 'progress', 'sets')
local as_of, progress = tonumber(ARGV[2]), tonumber(ARGV[3])
if cur[1] then
  local held_as_of, held_progress = tonumber(cur[1]), tonumber(cur[2] or '0')
  if held_as_of > as_of or (held_as_of == as_of and held_progress > progress) then
    return 0
  end
end
"""

# Take `member` out of the sets the hash names (`cur[3]`), or, for an entry that does not name them, out of the
# all-accounts set (KEYS[2]) and the fallback sets ARGV[fallback_from..fallback_to].
_LEAVE_SETS = """
if cur[3] then
  for set in string.gmatch(cur[3], '[^\\n]+') do redis.call('ZREM', set, member) end
else
  redis.call('ZREM', KEYS[2], member)
  for i = fallback_from, fallback_to do redis.call('ZREM', ARGV[i], member) end
end
"""

# KEYS[1] the account's hash, KEYS[2] the all-accounts sorted set, KEYS[3] the account's removal marker.
# ARGV: account id, as_of, progress, how many (set, score) places follow, the places (none for an unscored
# account), how many fallback sets follow, the fallback sets (every band and tier set: left when the hash
# does not say which it is in), then the hash's field/value pairs. Returns 1 if written, 0 if the view
# already held a newer state.
PUT_SNAPSHOT_LUA = _REFUSE_OLDER + """
local gone = redis.call('HMGET', KEYS[3], 'as_of', 'progress')
if gone[1] then
  local gone_as_of, gone_progress = tonumber(gone[1]), tonumber(gone[2] or '0')
  if gone_as_of > as_of or (gone_as_of == as_of and gone_progress >= progress) then
    return 0
  end
  redis.call('DEL', KEYS[3])
end
local member, nplaces = ARGV[1], tonumber(ARGV[4])
local nfallback_at = 5 + 2 * nplaces
local first_field = nfallback_at + 1 + tonumber(ARGV[nfallback_at])
local fallback_from, fallback_to = nfallback_at + 1, first_field - 1
""" + _LEAVE_SETS + """redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, first_field))
local placed = {}
for i = 0, nplaces - 1 do
  local set = ARGV[5 + 2 * i]
  redis.call('ZADD', set, tonumber(ARGV[6 + 2 * i]), member)
  placed[#placed + 1] = set
end
if nplaces > 0 then redis.call('HSET', KEYS[1], 'sets', table.concat(placed, '\\n')) end
return 1
"""

# KEYS[1] the account's hash, KEYS[2] the all-accounts sorted set, KEYS[3] its score history, KEYS[4] its
# removal marker. ARGV: account id, as_of, progress (its last state's version), the marker's TTL in ms, how many
# fallback sets follow, the fallback sets (as in PUT_SNAPSHOT_LUA). Returns 1 if removed, 0 if the view already
# held a newer state.
REMOVE_ACCOUNT_LUA = _REFUSE_OLDER + """
local member = ARGV[1]
local fallback_from, fallback_to = 6, 5 + tonumber(ARGV[5])
""" + _LEAVE_SETS + """redis.call('DEL', KEYS[1], KEYS[3])
redis.call('HSET', KEYS[4], 'as_of', ARGV[2], 'progress', ARGV[3])
redis.call('PEXPIRE', KEYS[4], ARGV[4])
return 1
"""


def _fallback_sets(keys: ViewKeys) -> list[str]:
    """Return every band and tier set and the drops: where an entry that does not name its sets may be."""
    return [keys.scores_key(band=b) for b in BANDS] + [keys.scores_key(tier=t) for t in TIER_LABELS] + [
        keys.drops_key()]


def snapshot_fields(snap: dict[str, Any], progress: int) -> dict[str, Any]:
    """Return the hash fields of a snapshot (see `healthmon.serving.redis_keys.SNAPSHOT_FIELDS`), nulls left out."""
    fields = {
        "snapshot": orjson.dumps(snap), "score": snap.get("score"), "band": snap.get("band"),
        "alert_band": snap.get("alert_band"), "tier": snap.get("tier"), "name": snap.get("name"),
        "measures": orjson.dumps(snap.get("measures") or []), "updated_at": snap.get("updated_at"),
        "policy_version": snap.get("policy_version"), "as_of": snap.get("as_of") or 0, "progress": progress,
    }
    return {k: v for k, v in fields.items() if v is not None}


def put_snapshot_args(keys: ViewKeys, account_id: str, snap: dict[str, Any],
                      progress: int) -> tuple[list[str], list[Any]]:
    """Return the KEYS and ARGV of `PUT_SNAPSHOT_LUA` for one account's snapshot."""
    place = sorted_set_place(snap)
    places: list[Any] = []
    if place is not None:  # scored: all accounts, its band, its tier and its CSM by score; the drops by drop
        score = snap["score"]
        places = [keys.scores_key(), score, keys.scores_key(band=place[0]), score, keys.scores_key(tier=place[1]),
                  score, keys.drops_key(), drop_rank(snap)]
        places += [keys.csm_key(snap.get("csm")), score]  # by slug, so a filter finds it by name or slug
    fallback = _fallback_sets(keys)
    argv: list[Any] = [account_id, snap.get("as_of") or 0, progress, len(places) // 2, *places, len(fallback),
                       *fallback]
    for name, value in snapshot_fields(snap, progress).items():
        argv += [name, value]
    return [keys.account_key(account_id), keys.scores_key(), keys.removed_key(account_id)], argv


def remove_account_args(keys: ViewKeys, account_id: str, as_of: int, progress: int) -> tuple[list[str], list[Any]]:
    """Return the KEYS and ARGV of `REMOVE_ACCOUNT_LUA` for an account whose last state was (as_of, progress)."""
    fallback = _fallback_sets(keys)
    argv: list[Any] = [account_id, as_of, progress, REMOVED_TTL_SECONDS * 1000, len(fallback), *fallback]
    return [keys.account_key(account_id), keys.scores_key(), keys.history_key(account_id),
            keys.removed_key(account_id)], argv
