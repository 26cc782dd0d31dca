"""Segment `group` traits: merged by one writer per account (its own partition), in an order-independent way.

Two workers merging partial traits of one account at once, each reading the shared traits table before the
other's write reached it, would each write back a merge that misses the other's fields. So a patch read on
another partition goes to the account's partition first, and the merge keeps per field the latest patch by
event time (ties: the larger JSON), which commutes: any interleaving, and any patch read twice, agree.
"""

from __future__ import annotations

import itertools
from datetime import date

import orjson
import pytest

from healthmon.ingest import partition_for
from healthmon.ingest.formats import ProfilePatch
from healthmon.ingest.inputs import parse_inputs
from healthmon.ingest.repartition import TRAITS, decode_pack, decode_repartitioned
from healthmon.pipeline.alignment import NO_EVENT_TIME
from healthmon.pipeline.links import Traits, merge_traits
from tests.pipeline.mapped import mapped_processor

T = 1_788_220_800_000
PATCHES = [
    ProfilePatch("acc-9", {"name": "Acme", "tier": "key"}, T),
    ProfilePatch("acc-9", {"seats": 40, "arr": 1200.5, "csm": "ann@example.com"}, T + 1),
    ProfilePatch("acc-9", {"contract_start": date(2025, 1, 1), "renewal_date": date(2027, 1, 1)}, T + 2),
    ProfilePatch("acc-9", {"seats": 55, "tier": "strategic"}, T + 3),
    ProfilePatch("acc-9", {"seats": 45}, T + 3),  # the same instant as the one above: the larger JSON wins
    ProfilePatch("acc-9", {"name": "Acme Corp"}, None),  # no event time: older than any that has one
]
EXPECTED = {"account_id": "acc-9", "name": "Acme", "tier": "strategic", "seats": 55, "arr": 1200.5,
            "csm": "ann@example.com", "contract_start": "2025-01-01", "renewal_date": "2027-01-01"}


def _merged(patches) -> dict:
    known: dict = {}
    for patch in patches:
        known = merge_traits(known, patch)
    return known


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(PATCHES)), 4))[::7]
                         + [tuple(range(len(PATCHES))), tuple(reversed(range(len(PATCHES))))])
def test_any_order_of_the_same_patches_gives_the_same_traits(order) -> None:
    chosen = [PATCHES[i] for i in order]
    rest = [p for i, p in enumerate(PATCHES) if i not in order]
    everything = _merged(chosen + rest)
    assert everything["fields"] == EXPECTED
    assert everything == _merged(rest + chosen) == _merged(sorted(PATCHES, key=lambda p: str(p.fields)))


def test_a_patch_read_again_changes_nothing() -> None:
    once = _merged(PATCHES)
    assert _merged(PATCHES + PATCHES[::-1]) == once
    assert merge_traits(once, PATCHES[2]) == once


def test_the_latest_patch_by_event_time_wins_whatever_its_arrival() -> None:
    late_but_older = [ProfilePatch("a", {"seats": 10}, T + 5), ProfilePatch("a", {"seats": 3}, T)]
    assert _merged(late_but_older)["fields"]["seats"] == 10


def test_traits_stored_before_stamps_are_merged_over() -> None:
    table = {b"acc-9": orjson.dumps({**EXPECTED, "seats": 1})}  # the earlier flat form
    traits = Traits(table)
    profile = traits.merge(ProfilePatch("acc-9", {"name": "Acme 2"}, T))
    assert (profile.name, profile.seats) == ("Acme 2", 1)
    assert orjson.loads(table[b"acc-9"])["at"] == {"name": T}


INPUTS = parse_inputs({"inputs": [{"topic": "groups", "kind": "accounts", "format": "segment"}]}, "inputs.yaml")
PARTITIONS = 4
HOME = partition_for("acc-9", PARTITIONS)


def group(traits: dict, message_id: str, at: str) -> bytes:
    return orjson.dumps({"type": "group", "messageId": message_id, "userId": "u1", "groupId": "acc-9",
                         "timestamp": at, "traits": traits})


GROUPS = [group({"name": "Acme", "tier": "key", "seats": 40}, "g1", "2026-08-30T12:00:00Z"),
          group({"arr": 1200.5, "csm": "ann@example.com", "contract_start": "2025-01-01",
                 "renewal_date": "2027-01-01"}, "g2", "2026-08-30T12:00:01Z")]


class Replica(dict):
    """One worker's copy of a GlobalTable: its writes reach the shared changelog, others' arrive only at `sync`."""

    def __init__(self, changelog: list) -> None:
        super().__init__()
        self.changelog = changelog

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self.changelog.append((key, value))

    def sync(self) -> None:
        for key, value in self.changelog:
            super().__setitem__(key, value)


async def test_two_workers_reading_an_accounts_patches_at_once_lose_no_field() -> None:
    changelog: list = []
    replicas = [Replica(changelog), Replica(changelog)]
    # worker 0 owns the account's partition; worker 1 reads the other partitions of the group calls' topic
    workers = [mapped_processor(INPUTS, PARTITIONS, lambda: T, traits=r) for r in replicas]
    away = (HOME + 1) % PARTITIONS
    # Both read a group call of the account before either's table write reached the other.
    await workers[0].on_message("groups", HOME, 0, None, GROUPS[0])
    await workers[1].on_message("groups", away, 0, None, GROUPS[1])
    assert b"acc-9" not in replicas[1]  # not merged where it was read: it goes to the account's partition
    [(key, body)] = workers[1].topics.repartition.sent
    [entry] = decode_pack(body) if b'"entries"' in body else [decode_repartitioned(body)]
    assert (key, entry.kind, workers[1].topics.repartition.partitions) == (b"acc-9", TRAITS, [HOME])
    # like a profile, a patch on its way carries no event time: the aligner lets it go ahead of events
    assert workers[0].decode("repartition", HOME, 0, key, body).event_time == NO_EVENT_TIME
    await workers[0].on_message("repartition", HOME, 0, key, body)
    for replica in replicas:
        replica.sync()
    assert orjson.loads(replicas[1][b"acc-9"])["fields"] == orjson.loads(replicas[0][b"acc-9"])["fields"] == {
        "account_id": "acc-9", "name": "Acme", "tier": "key", "seats": 40, "arr": 1200.5, "csm": "ann@example.com",
        "contract_start": "2025-01-01", "renewal_date": "2027-01-01"}
    state = workers[0].state_of("acc-9")
    assert (state.name, state.tier, state.seats, state.csm) == ("Acme", "key", 40, "ann@example.com")
