"""The saved state's bytes are pinned: a state changes its layout in memory, never the changelog's format.

A rolling upgrade reads, in the new release, states the previous one wrote, and the other way round. The
digests below are those of the release before the packed user table (main at cc04a8e): the same workloads
must give the same bytes, users in the order they first came, those who left in between dropped.
"""

from __future__ import annotations

import hashlib

import pytest

from healthmon.core import state_from_bytes, state_to_bytes
from tests.core.builders import DAY, T0, make_engine, usage
from tests.core.test_state import _workload

#: (users, days) -> sha256 of the saved state after the workload, 20 days later, and 50 days later
PINNED = {
    (3, 8): ("78594e6a6ffa7d22957b4c331d1c4ea94b4d2dc496f1b0a0a1d86dd4162d3b9b",
             "5e87efafd3283d2770d080568449809b2154635d91a7fadb6ee3344354107a3d",
             "a57df00bc53f0ea3ab9b69191d5d2cf4aa3c73ef3b31ddb9b7b766e5e5166aab"),
    (20, 40): ("31a8c3cdc8875471f84d6a921287b2e30de20bbc8b2180ef908d45dd245dbf0f",
               "87f65eb48ee6a2a634f717ec5c0a54f14358a8e05060c8d3a665438927eb8a28",
               "8f442cd9a8e7af94c40be9b9ff56216f90a85719af6e5a6d63d8242d7f6df24c"),
    (500, 40): ("6baf2b967a5740544745205b8448ce078a0842e58c6988a1eea2e0095c105cc7",
                "06a71b6abaaeb183cbd787fe7d6a194af7b471426ddbfd9f3d44b3f3272d1e7a",
                "6e97b23c1b97674122af4334573dd8526bfbe2f372ee94e0f13255e939d9b23d"),
}


@pytest.mark.parametrize(("users", "days"), list(PINNED))
def test_saved_states_are_byte_for_byte_those_of_the_previous_release(users, days) -> None:
    engine = make_engine()
    state = _workload(engine, users, days)
    saved = [state_to_bytes(state)]
    # 20 days on: one user comes back (keeps its place), a new one comes last
    engine.apply(state, [usage(T0 + (days + 20) * DAY, "user-0001"), usage(T0 + (days + 20) * DAY, "late-comer")])
    saved.append(state_to_bytes(state))
    # 30 more: every user but those two has been inactive 35 days and leaves; the two keep their order
    engine.apply(state, [usage(T0 + (days + 50) * DAY, "third"), usage(T0 + (days + 50) * DAY, "late-comer")])
    saved.append(state_to_bytes(state))
    assert len(state.users) == 3
    assert tuple(hashlib.sha256(raw).hexdigest() for raw in saved) == PINNED[users, days]
    assert all(state_to_bytes(state_from_bytes(raw)) == raw for raw in saved)
