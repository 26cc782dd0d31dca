"""HEALTHMON_MIN_OCCURRED_AT: the floor on event times is a setting, checked the same way on every path."""

from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from healthmon.backtest import BacktestOptions, run_backtest
from healthmon.backtest.inputs import file_names
from healthmon.backtest.render import render_report
from healthmon.config import DEFAULT_POLICY_FILE, Settings
from healthmon.core import load_policy
from healthmon.ingest import decode_message
from healthmon.ingest.formats import InputMapper
from healthmon.ingest.inputs import parse_inputs

NOW_MS = 1_795_000_000_000
LIMITS = dict(now_ms=NOW_MS, max_bytes=4096, max_future_skew_ms=300_000)
#: 1995-06-01T12:00:00Z
OLD_MS = 802_008_000_000
FLOOR_1990 = Settings(redis={"url": ""}, ingest={"min_occurred_at": "1990-01-01"}).ingest.min_occurred_at_ms


def usage(at: object, event_id: str = "e1") -> bytes:
    return orjson.dumps({"event_id": event_id, "account_id": "acc-1", "user_id": "u1", "feature": "reports",
                         "occurred_at": at})


def test_the_setting_reads_a_date_or_a_time_and_names_a_bad_value() -> None:
    assert Settings(redis={"url": ""}).ingest.min_occurred_at_ms == 946_684_800_000
    assert FLOOR_1990 == 631_152_000_000
    assert Settings(ingest={"min_occurred_at": "1995-06-01T12:00:00Z"}).ingest.min_occurred_at_ms == OLD_MS
    for bad, words in (("yesterday", "not a date"), ("1960-01-01", "before 1970-01-01"),
                       ("1995-06-01T12:00:00", "needs an offset")):
        with pytest.raises(ValidationError, match=words):
            Settings(ingest={"min_occurred_at": bad})


@pytest.mark.parametrize("at", [OLD_MS, "1995-06-01T12:00:00Z"])
@pytest.mark.parametrize("fast", [True, False])
def test_an_old_event_is_refused_by_default_and_read_under_a_lower_floor(at: object, fast: bool) -> None:
    refused = decode_message("usage", usage(at), fast=fast, **LIMITS)
    [rejection] = refused.rejections
    assert rejection.error.startswith("occurred_at: before 2000-01-01T00:00:00Z, the earliest time accepted")
    read = decode_message("usage", usage(at), fast=fast, min_occurred_at_ms=FLOOR_1990, **LIMITS)
    assert [e.occurred_at for _, e in read.events] == [OLD_MS] and read.rejections == []


def test_a_floor_names_itself_and_seconds_keep_their_hint() -> None:
    [rejection] = decode_message("usage", usage(OLD_MS // 1000 * 1000 + 5), min_occurred_at_ms=OLD_MS + 10,
                                 **LIMITS).rejections
    assert "before 1995-06-01T12:00:00Z, the earliest time accepted" in rejection.error
    [seconds] = decode_message("usage", usage(1_700_000_000), **LIMITS).rejections
    assert seconds.error.endswith("(did you send seconds?)")


def test_mapped_inputs_take_the_floor_too() -> None:
    spec = parse_inputs({"inputs": [{"topic": "t", "kind": "usage", "format": "segment"}]}).inputs[0]
    track = orjson.dumps({"type": "track", "messageId": "m1", "userId": "u1", "event": "reports",
                          "timestamp": "1995-06-01T12:00:00Z", "context": {"groupId": "acc-1"}})
    mapper = InputMapper(spec)
    [rejection] = mapper.map(track, **LIMITS).rejections
    assert "before 2000-01-01T00:00:00Z" in rejection.error
    mapped = mapper.map(track, min_occurred_at_ms=FLOOR_1990, **LIMITS)
    assert [e.occurred_at for _, e in mapped.events] == [OLD_MS]


def test_the_backtest_names_the_setting_when_most_of_the_input_fell_under_it(tmp_path) -> None:
    settings = Settings(redis={"url": ""})
    names = file_names(settings)
    lines = [usage(OLD_MS + n * 3_600_000, f"e{n}") for n in range(5)] + [usage(1_767_571_200_000, "new")]
    (tmp_path / f"{names['usage']}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    opts = BacktestOptions(policies=[("default", load_policy(DEFAULT_POLICY_FILE))], input_dir=tmp_path)
    report = run_backtest(settings, opts)
    assert report["input"]["under_min_occurred_at"] == {"events": 5, "setting": "HEALTHMON_MIN_OCCURRED_AT",
                                                        "value": "2000-01-01"}
    assert "set HEALTHMON_MIN_OCCURRED_AT to a date before its first event" in render_report(report)
    lower = run_backtest(settings.replace(ingest={"min_occurred_at": "1990-01-01"}), opts)
    assert "under_min_occurred_at" not in lower["input"] and not lower["input"]["dead_letters"]
