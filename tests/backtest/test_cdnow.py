"""The CDNOW converter: purchases become usage events of single-seat accounts, dates moved by whole weeks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson
import pytest

from healthmon.backtest.cdnow import CdnowError, main, read_purchases

SAMPLE = """\
 00004 0001 19970101  2   29.33
 00004 0001 19970118  2   29.73
 00021 0002 19970101  3   63.34
 00004 0001 19980630  1   14.96
"""


def test_each_purchase_is_one_usage_event_and_each_customer_one_account(tmp_path: Path, capsys) -> None:
    sample = tmp_path / "CDNOW_sample.txt"
    sample.write_text(SAMPLE)
    assert main(["--sample", str(sample), "--to-dir", str(tmp_path / "out")]) == 0
    assert "4 purchases of 2 customers" in capsys.readouterr().out
    usage = [orjson.loads(x) for x in (tmp_path / "out" / "product-usage.jsonl").read_bytes().splitlines()]
    accounts = [orjson.loads(x) for x in (tmp_path / "out" / "accounts.jsonl").read_bytes().splitlines()]
    assert [(u["account_id"], u["occurred_at"]) for u in usage] == [
        ("cdnow-00004", 1_735_732_800_000),  # 1997-01-01 + 1,461 weeks = 2025-01-01T12:00Z, a Wednesday too
        ("cdnow-00004", 1_737_201_600_000),
        ("cdnow-00021", 1_735_732_800_000),
        ("cdnow-00004", 1_782_820_800_000),  # 1998-06-30 -> 2026-06-30T12:00Z
    ]
    assert usage[0] == {"event_id": "cdnow-1", "account_id": "cdnow-00004", "user_id": "cdnow-00004",
                        "feature": "purchase", "occurred_at": 1_735_732_800_000,
                        "properties": {"quantity": 2, "amount": 29.33}}
    assert [(a["account_id"], a["seats"], a["contract_start"]) for a in accounts] == [
        ("cdnow-00004", 1, "2025-01-01"), ("cdnow-00021", 1, "2025-01-01")]
    assert date(1997, 1, 1).weekday() == date(2025, 1, 1).weekday()


def test_the_files_pass_the_input_schemas(tmp_path: Path) -> None:
    from healthmon.ingest import decode_message

    sample = tmp_path / "s.txt"
    sample.write_text(SAMPLE)
    main(["--sample", str(sample), "--to-dir", str(tmp_path)])
    for kind, name in (("usage", "product-usage"), ("account", "accounts")):
        for raw in (tmp_path / f"{name}.jsonl").read_bytes().splitlines():
            decoded = decode_message(kind, raw, now_ms=1_800_000_000_000, max_bytes=1 << 20, max_future_skew_ms=0)
            assert decoded.rejections == [] and len(decoded.events) == 1


@pytest.mark.parametrize("line", [" 00004 0001 1997010  2 29.33", " 00004 0001 19970101 two 29.33", "00004 1"])
def test_a_malformed_line_is_named(tmp_path: Path, line: str) -> None:
    sample = tmp_path / "s.txt"
    sample.write_text(SAMPLE + line + "\n")
    with pytest.raises(CdnowError, match=r"s\.txt:5: expected customer, sample id, YYYYMMDD"):
        list(read_purchases(sample))
    assert main(["--sample", str(sample), "--to-dir", str(tmp_path / "out")]) == 1
