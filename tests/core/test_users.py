"""The packed user table holds what a dict of user hash -> bits held, in the same order, in 16 bytes per user."""

from __future__ import annotations

import random
import struct
from array import array

import pytest

from healthmon.core.users import UserTable


def _as_saved(model: dict[int, int]) -> bytes:
    """The users section as the state format has always written it from a dict."""
    flat = [v for item in model.items() for v in item]
    return struct.pack(f"<{len(flat)}Q", *flat)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_it_holds_what_a_dict_holds_in_the_dicts_order(seed) -> None:
    rng = random.Random(seed)
    keys = [rng.getrandbits(64) for _ in range(300)]
    table, model = UserTable(), {}
    for step in range(3000):
        key, bits = rng.choice(keys), 1 << rng.randrange(63)
        old = model.get(key, 0)
        assert table.merge(key, bits) == old
        model[key] = old | bits
        if step % 500 == 499:  # a day rolls: some users leave, the rest keep their order and change bits
            model = {k: v >> 1 for k, v in model.items() if v >> 1}
            table.replace(array("Q", [w for item in model.items() for w in item]))
        assert len(table) == len(model)
    assert list(table.items()) == list(model.items())
    assert list(table) == list(model) and list(table.values()) == list(model.values())
    assert all(table.get(k) == model[k] and k in table for k in model)
    assert not any(k in table or table.get(k, -1) != -1 for k in set(keys) - set(model))
    assert table.to_bytes() == _as_saved(model)
    assert UserTable.from_bytes(_as_saved(model)) == table


def test_keys_that_probe_to_the_same_slot_are_all_found() -> None:
    table = UserTable()
    keys = [n << 32 for n in range(1, 200)]  # every low bit zero: one probe chain
    for n, key in enumerate(keys):
        assert table.merge(key, n + 1) == 0
    assert [table.get(k) for k in keys] == list(range(1, 200))
    assert table.merge(keys[7], 1 << 40) == 8 and table.get(keys[7]) == 8 | 1 << 40


def test_the_index_widens_past_65535_users() -> None:
    table = UserTable()
    for key in range(1, 70_001):
        table.merge(key * 0x9E3779B97F4A7C15 % 2**64, 1)
    assert len(table) == 70_000 and table.index_bytes() >= 4 * 2 * 70_000
    assert all(table.get(key * 0x9E3779B97F4A7C15 % 2**64) == 1 for key in range(1, 70_001))


def test_a_table_is_held_without_an_index_until_it_is_looked_into() -> None:
    table = UserTable.from_bytes(_as_saved({5: 1, 9: 2}))
    assert table.index_bytes() == 0 and list(table.values()) == [1, 2]
    assert table.get(9) == 2 and 0 < table.index_bytes() <= 16
    table.clear()
    assert len(table) == 0 and table.index_bytes() == 0 and table.to_bytes() == b""


def test_bytes_that_are_no_whole_number_of_users_are_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes per user"):
        UserTable.from_bytes(b"\x00" * 24)
