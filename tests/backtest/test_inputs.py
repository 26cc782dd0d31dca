"""Backtest input: unsorted files sort by event time (also through the external merge), topics merge like a worker's."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from healthmon.backtest.inputs import (
    NO_TIME,
    PROFILE_ORDER,
    Sorter,
    input_files,
    line_keys,
    merged,
    occurred_at_of,
    sorted_lines,
)
from healthmon.backtest.sources import mapped_keys
from healthmon.ingest.formats import InputMapper
from tests.ingest.formats.examples.debezium import ENVELOPE_CREATE, ENVELOPE_DELETE, KEY
from tests.ingest.formats.helpers import spec

T = 1_767_571_200_000  # 2026-01-05T00:00:00Z


def usage(n: int, at_ms: int) -> bytes:
    return orjson.dumps({"event_id": f"e{n}", "account_id": "a", "user_id": "u", "feature": "f", "occurred_at": at_ms})


@pytest.mark.parametrize("run_lines", [1, 2, 3, 1000])
def test_unsorted_lines_come_out_in_event_time_order_stable_on_ties(run_lines: int, tmp_path: Path) -> None:
    times = [5, 3, 9, 3, 1, 7, 3, 2]
    lines = [usage(n, T + t) for n, t in enumerate(times)]
    sorter = sorted_lines("usage", lines, run_lines=run_lines, tmp_dir=str(tmp_path))
    assert sorter.runs_spilled == len(times) // run_lines
    out = list(sorter)
    assert [ln.occurred_at - T for ln in out] == sorted(times)
    # The three lines at t=3 keep their file order (lines 1, 3 and 6).
    assert [orjson.loads(ln.raw)["event_id"] for ln in out if ln.occurred_at == T + 3] == ["e1", "e3", "e6"]
    assert list(tmp_path.iterdir()) == []  # the spilled runs are gone


def test_external_merge_of_many_runs_matches_an_in_memory_sort(tmp_path: Path) -> None:
    times = [(n * 7919) % 1000 for n in range(1000)]
    lines = [usage(n, T + t) for n, t in enumerate(times)]
    spilled = list(sorted_lines("usage", lines, run_lines=37, tmp_dir=str(tmp_path)))
    in_memory = list(sorted_lines("usage", lines, run_lines=10_000))
    assert spilled == in_memory
    assert [ln.raw for ln in spilled] == [lines[n] for n, _ in sorted(enumerate(times), key=lambda p: p[1])]


@pytest.mark.parametrize(("raw", "expected"), [
    (b'{"occurred_at": "2026-01-05T00:00:00.005Z"}', T + 5),
    (b'{"events": [{"occurred_at": 1767571200009}, {"occurred_at": 1767571200004}]}', T + 4),
    (b'[{"occurred_at": 1767571200002}, {"occurred_at": "yesterday"}]', T + 2),
    (b'{"occurred_at": "yesterday"}', NO_TIME),
    (b"not json", NO_TIME),
    (b'{"account_id": "a", "tier": "key"}', NO_TIME),
])
def test_sort_key_of_a_line(raw: bytes, expected: int) -> None:
    assert occurred_at_of(raw) == expected


def test_a_lines_account_is_that_of_its_first_event() -> None:
    assert line_keys(b'{"events": [{"account_id": "b"}, {"account_id": "c"}]}') == (NO_TIME, "b", None)
    assert line_keys(b'{"account_id": 7, "occurred_at": 1767571200000}') == (T, "", None)
    assert line_keys(None) == (NO_TIME, "", None)  # a native tombstone: the worker ignores it


def test_merge_puts_profiles_first_then_lowest_time_ties_in_worker_topic_order() -> None:
    def lines(kind: str, *times: int) -> Sorter:
        sorter = Sorter(kind)
        for n, t in enumerate(times):
            at = "" if t == NO_TIME else f', "occurred_at": {T + t}'
            sorter.add(f'{{"n": "{kind}{n}", "account_id": "a"{at}}}'.encode())
        return sorter

    out = merged({"nps": lines("nps", 5, 9), "account": lines("account", NO_TIME, NO_TIME),
                  "ticket": lines("ticket", 5), "usage": lines("usage", NO_TIME, 5, 6)})
    assert [orjson.loads(ln.raw)["n"] for ln in out] == ["account0", "account1", "usage0", "usage1", "ticket0", "nps0",
                                              "usage2", "nps1"]


def test_input_files_are_named_after_topics_and_may_be_gzipped(tmp_path: Path) -> None:
    names = {"usage": "product-usage", "ticket": "support-tickets", "nps": "nps-responses", "account": "accounts"}
    (tmp_path / "product-usage.jsonl").write_bytes(usage(0, T) + b"\n\n")
    with gzip.open(tmp_path / "accounts.jsonl.gz", "wb") as handle:
        handle.write(b'{"account_id": "a"}\r\n')
    (tmp_path / "other.jsonl").write_bytes(b"{}\n")
    found = input_files(tmp_path, names)
    assert [(f.kind, f.path.name) for f in found] == [("usage", "product-usage.jsonl"),
                                                      ("account", "accounts.jsonl.gz")]


def test_sorter_rejects_a_zero_run_size() -> None:
    with pytest.raises(ValueError, match="run_lines"):
        Sorter("usage", run_lines=0)


def test_spilled_runs_keep_odd_account_ids_and_tabs(tmp_path: Path) -> None:
    lines = [orjson.dumps({"account_id": f"a\t{n}\n", "occurred_at": T + 10 - n}) + b"\t" for n in range(5)]
    out = list(sorted_lines("usage", lines, run_lines=2, tmp_dir=str(tmp_path)))
    assert [(ln.account, ln.raw) for ln in out] == [(f"a\t{n}\n", lines[n]) for n in reversed(range(5))]


@pytest.mark.parametrize("run_lines", [1, 1000])
def test_a_removal_goes_where_it_happened_and_a_tombstone_keeps_its_key(run_lines: int, tmp_path: Path) -> None:
    crm = spec("account", "debezium", fields={"account_id": "id", "tier": "plan"},
               values={"tier": {"enterprise": "strategic"}})
    delete_at = ENVELOPE_DELETE["payload"]["source"]["ts_ms"]
    sorter = Sorter("account", run_lines=run_lines, tmp_dir=str(tmp_path), keys=mapped_keys(InputMapper(crm)))
    sorter.add(orjson.dumps(ENVELOPE_DELETE))
    sorter.add(None, orjson.dumps(KEY), delete_at + 5)  # a tombstone read from a topic: its record's time
    sorter.add(orjson.dumps(ENVELOPE_CREATE))
    without_time = {**ENVELOPE_DELETE, "payload": {**ENVELOPE_DELETE["payload"], "source": {}}}
    without_time["payload"].pop("ts_ms")
    sorter.add(orjson.dumps(without_time))
    sorter.add(None, orjson.dumps(KEY))  # a tombstone of no known time: with the profiles, as before
    out = list(sorter)
    assert [(ln.seq, ln.order, ln.account) for ln in out] == [
        (2, PROFILE_ORDER, ""), (3, PROFILE_ORDER, "1004"), (4, PROFILE_ORDER, "1004"),
        (0, delete_at, "1004"), (1, delete_at + 5, "1004")]
    tombstone = out[-1]
    assert (tombstone.raw, tombstone.key, tombstone.occurred_at) == (None, orjson.dumps(KEY), NO_TIME)
    assert out[3].key is None  # only a tombstone needs its key: the others are keyed by their account
    events = sorted_lines("usage", [usage(0, delete_at - 1), usage(1, delete_at + 9)])
    merged_out = [(ln.kind, ln.seq) for ln in merged({"account": out, "usage": events})]
    assert merged_out == [("account", 2), ("account", 3), ("account", 4), ("usage", 0), ("account", 0),
                          ("account", 1), ("usage", 1)]
