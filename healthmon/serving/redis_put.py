"""One account's snapshot written to the view only if it is not older than the one there.

A view has several writers over time: the owner of the account's partition, a worker that owned it
before a rebalance and refreshes from states it no longer owns, one frozen for a while that wakes up,
`healthmon view check --repair`. Which of them wrote last must not decide what users read: the write
is a Lua script that compares the pushed state's version (`healthmon.core.saved_view.ViewVersion`:
`as_of`, then input progress) with the one in the hash, refuses an older one, and replaces the hash
and the account's places in the sorted sets in one step, so they never disagree.
"""

from __future__ import annotations

from typing import Any

import orjson

from healthmon.core.vocabulary import BANDS
from healthmon.serving.metrics import TIER_LABELS
from healthmon.serving.redis_keys import ViewKeys
from healthmon.serving.redis_sets import sorted_set_place

__all__ = ["PUT_SNAPSHOT_LUA", "put_snapshot_args", "snapshot_fields"]

# KEYS[1] the account's hash, KEYS[2] the all-accounts sorted set.
# ARGV: account id, as_of, progress, score ('' none), band set, tier set ('' none), how many fallback sets
# follow, the fallback sets (every band and tier set: left when the hash does not say which it is in),
# then the hash's field/value pairs. Returns 1 if written, 0 if the view already held a newer state.
PUT_SNAPSHOT_LUA = """
local cur = redis.call('HMGET', KEYS[1], 'as_of', 'progress', 'sets')
local as_of, progress = tonumber(ARGV[2]), tonumber(ARGV[3])
if cur[1] then
  local held_as_of, held_progress = tonumber(cur[1]), tonumber(cur[2] or '0')
  if held_as_of > as_of or (held_as_of == as_of and held_progress > progress) then
    return 0
  end
end
local member, nfallback = ARGV[1], tonumber(ARGV[7])
local first_field = 8 + nfallback
if cur[3] then
  for set in string.gmatch(cur[3], '[^\\n]+') do redis.call('ZREM', set, member) end
else
  for i = 8, first_field - 1 do redis.call('ZREM', ARGV[i], member) end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, first_field))
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[2], member)
else
  local score = tonumber(ARGV[4])
  redis.call('ZADD', KEYS[2], score, member)
  redis.call('ZADD', ARGV[5], score, member)
  redis.call('ZADD', ARGV[6], score, member)
  redis.call('HSET', KEYS[1], 'sets', ARGV[5] .. '\\n' .. ARGV[6])
end
return 1
"""


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
    band_set = tier_set = ""
    if place is not None:
        band_set, tier_set = keys.scores_key(band=place[0]), keys.scores_key(tier=place[1])
    fallback = [keys.scores_key(band=b) for b in BANDS] + [keys.scores_key(tier=t) for t in TIER_LABELS]
    argv: list[Any] = [account_id, snap.get("as_of") or 0, progress,
                       "" if place is None else snap["score"], band_set, tier_set, len(fallback), *fallback]
    for name, value in snapshot_fields(snap, progress).items():
        argv += [name, value]
    return [keys.account_key(account_id), keys.scores_key()], argv
