"""A whole backtest over input files: bad lines are counted, unsorted or gzipped input gives the same alerts."""

from __future__ import annotations

import gzip
import io
import random
from pathlib import Path

import orjson
import pytest

from healthmon.backtest import BacktestOptions, run_backtest
from healthmon.backtest.files import write_input_files
from healthmon.backtest.inputs import file_names
from healthmon.config import DEFAULT_POLICY_FILE, Settings
from healthmon.core import load_policy
from healthmon.generator import DEFAULT_START_MS, generate

SETTINGS = Settings(redis={"url": ""}, topics={"partitions": 4})
NAMES = file_names(SETTINGS)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("history")
    traffic = generate(accounts=12, scenario="mixed", seed=5, start_ms=DEFAULT_START_MS, days=42)
    write_input_files(traffic.records(), directory, NAMES)
    return directory


def backtest(directory: Path, run_lines: int = 250_000, labels: dict[str, int] | None = None) -> tuple[dict, list]:
    out = io.BytesIO()
    opts = BacktestOptions(policies=[("default", load_policy(DEFAULT_POLICY_FILE))], input_dir=directory,
                           out=out, run_lines=run_lines, labels=labels, processing_ms=DEFAULT_START_MS + 10**11)
    report = run_backtest(SETTINGS, opts)
    return report, [orjson.loads(line) for line in out.getvalue().splitlines()]


def test_generated_history_alerts_and_reports(history: Path) -> None:
    report, alerts = backtest(history)
    assert alerts, "the mixed scenario raises alerts"
    noise = report["policies"][0]["noise"]
    assert noise["alerts"] == len(alerts)
    assert report["input"]["dead_letters"] == {}
    assert report["input"]["by_kind"]["account"] == 12
    assert sum(noise["band_days"].values()) > 0


def test_shuffled_gzipped_input_gives_the_same_alerts_through_the_external_merge(history: Path,
                                                                                  tmp_path: Path) -> None:
    _, expected = backtest(history)
    rng = random.Random(3)
    for path in history.iterdir():
        lines = path.read_bytes().splitlines()
        rng.shuffle(lines)
        with gzip.open(tmp_path / (path.name + ".gz"), "wb") as handle:
            handle.write(b"\n".join(lines) + b"\n")
    _, got = backtest(tmp_path, run_lines=500)
    assert [a["alert_id"] for a in got] == [a["alert_id"] for a in expected]
    assert got == expected


def test_bad_lines_are_counted_by_dead_letter_reason_and_never_fatal(history: Path, tmp_path: Path) -> None:
    for path in history.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    with open(tmp_path / f"{NAMES['ticket']}.jsonl", "ab") as handle:
        handle.write(b"{not json\n")
        handle.write(b'{"event_id": "x1", "account_id": "acc-00001", "ticket_id": "t", "status": "opened", '
                     b'"priority": "mega", "occurred_at": "2026-01-20T00:00:00Z"}\n')
        handle.write(b'{"event_id": "x2", "account_id": "acc-00001", "occurred_at": "2026-01-20T00:00:00Z"}\n')
        handle.write(b'{"event_id": "x3", "account_id": "acc-00001", "ticket_id": "t", "status": "opened", '
                     b'"priority": "low", "occurred_at": "2999-01-01T00:00:00Z"}\n')
        handle.write(b'[]\n')
    report, alerts = backtest(tmp_path)
    assert report["input"]["dead_letters"] == {"bad_envelope": 1, "future_timestamp": 1, "not_json": 1,
                                               "schema_violation": 1, "unknown_enum": 1}
    _, clean = backtest(history)
    assert [a["alert_id"] for a in alerts] == [a["alert_id"] for a in clean]


def test_labels_add_hit_rates_and_the_no_activity_baseline(history: Path) -> None:
    traffic = generate(accounts=12, scenario="mixed", seed=5, start_ms=DEFAULT_START_MS, days=42)
    silent = traffic.accounts_with("silent") + traffic.accounts_with("drop")
    churned_at = traffic.end_ms + 10 * 86_400_000
    report, _ = backtest(history, labels={a: churned_at for a in silent} | {"not-in-input": churned_at})
    assert report["labels"] == {"accounts": len(silent) + 1, "known": len(silent), "horizon_days": 90}
    overall = report["policies"][0]["hit_rate"]["overall"]
    assert overall["churned"] == len(silent) and overall["caught"] == len(silent)  # the default policy sees them all
    assert set(report["baseline"]) == {"no_activity_30d", "no_activity_60d", "no_activity_90d"}


def test_explain_shows_the_accounts_days_and_exactly_its_alerts(history: Path) -> None:
    import asyncio

    from healthmon.backtest.explain import explain_account, render_explain

    _, alerts = backtest(history)
    account = alerts[0]["account_id"]
    policy = load_policy(DEFAULT_POLICY_FILE)
    rows = asyncio.run(explain_account(SETTINGS, policy, account, history))
    mine = [a for a in alerts if a["account_id"] == account]
    assert [r.at_ms for r in rows if r.alert] == [a["event_time"] for a in mine]
    days = [r for r in rows if r.alert is None]
    assert len(days) >= 40 and all(r.at_ms % 86_400_000 == 0 for r in days)
    assert [r.at_ms for r in rows] == sorted(r.at_ms for r in rows)
    text = render_explain(rows, policy)
    assert text.count(">> FIRING") == sum(a["status"] == "firing" for a in mine)
    assert asyncio.run(explain_account(SETTINGS, policy, "no-such-account", history)) == []
