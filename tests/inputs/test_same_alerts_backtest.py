"""The same history, native and as Segment, Zendesk, Delighted and Debezium messages, gives the same alerts
in the backtest (the worker's side: tests/integration/test_inputs_same_alerts.py)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import orjson
import pytest
import yaml

from healthmon.backtest import BacktestOptions, run_backtest
from healthmon.backtest.explain import explain_account
from healthmon.backtest.files import write_input_files
from healthmon.backtest.inputs import file_names
from healthmon.config import Settings
from tests.inputs.shaped import alert_keys, inputs_doc, policy_without_csat, shaped, traffic

END_MS = 1_788_220_800_000


def _alerts(settings: Settings, directory: Path) -> tuple[dict, list[dict]]:
    out = io.BytesIO()
    opts = BacktestOptions(policies=[("p", policy_without_csat())], input_dir=directory, out=out,
                           processing_ms=END_MS + 86_400_000)
    report = run_backtest(settings, opts)
    return report, [orjson.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Write the history natively and in the sources' shapes; return (native dir, shaped dir, inputs file)."""
    tmp_path = tmp_path_factory.mktemp("shaped")
    settings = Settings(redis={"url": ""})
    history = traffic(END_MS)
    native, mapped = tmp_path / "native", tmp_path / "shaped"
    native.mkdir()
    mapped.mkdir()
    write_input_files(history.records(), native, file_names(settings))
    lines: dict[str, list[bytes]] = {}
    for message in shaped(history, file_names(settings), binary=False):
        lines.setdefault(message.topic, []).append(message.value or b"null")
    for topic, values in lines.items():
        (mapped / f"{topic}.jsonl").write_bytes(b"\n".join(values) + b"\n")
    assert set(lines) == {"segment-tracks", "segment-groups", "zendesk-ticket-events", "delighted-responses",
                          "crm.public.accounts"}
    (tmp_path / "inputs.yaml").write_text(yaml.safe_dump(inputs_doc(set(lines))))
    return native, mapped, tmp_path / "inputs.yaml"


def test_shaped_history_gives_the_native_alerts(histories: tuple[Path, Path, Path]) -> None:
    native, mapped, inputs_file = histories
    settings = Settings(redis={"url": ""})
    native_report, native_alerts = _alerts(settings, native)
    mapped_report, mapped_alerts = _alerts(settings.replace(ingest={"inputs_file": str(inputs_file)}), mapped)
    assert {a["kind"] for a in native_alerts} >= {"health_changed", "below_warning_line"}
    assert alert_keys(mapped_alerts) == alert_keys(native_alerts)
    assert native_report["input"]["dead_letters"] == mapped_report["input"]["dead_letters"] == {}
    # every event came through: usage, tickets and NPS alike (the Delighted updates are replacements)
    for kind in ("usage", "ticket"):
        assert mapped_report["input"]["by_kind"][kind] == native_report["input"]["by_kind"][kind]


def test_policy_explain_reads_the_inputs_file_too(histories: tuple[Path, Path, Path]) -> None:
    native, mapped, inputs_file = histories
    settings = Settings(redis={"url": ""})
    policy = policy_without_csat()
    # Zendesk tickets reach their account through the CRM rows' link; Segment tracks through group calls
    want = asyncio.run(explain_account(settings, policy, "acc-00003", native))
    got = asyncio.run(explain_account(settings.replace(ingest={"inputs_file": str(inputs_file)}), policy,
                                      "acc-00003", mapped))
    assert len(want) > 40 and got == want
