"""`--sweep`: variants by policy path, one replay, one table that matches separate backtests, frontier marks."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from healthmon.backtest import BacktestOptions, run_backtest
from healthmon.backtest.sweep import (
    MAX_VARIANTS,
    Column,
    Sweep,
    SweepError,
    frontier,
    parse_sweep,
    set_path,
    sweep_rows,
    variants,
)
from healthmon.backtest.truth import Truth
from healthmon.core import parse_policy
from tests.backtest.tiny import POLICY_DOC, SETTINGS, T0, days_ms


@pytest.mark.parametrize(("spec", "expected"), [
    ("warning_lines[0].above=30,45,60", Sweep("warning_lines[0].above", [30, 45, 60])),
    ("bands.green = 70, 72.5", Sweep("bands.green", [70, 72.5])),
    ("warning_lines[1].above_by_active_days={1: 45, 2: 180},{1: 60}",
     Sweep("warning_lines[1].above_by_active_days", [{1: 45, 2: 180}, {1: 60}])),
    ("tiers.key.warning_lines.idle.enabled=true,false", Sweep("tiers.key.warning_lines.idle.enabled", [True, False])),
    ("warning_lines[0].gap_multiple=[1, 2]", Sweep("warning_lines[0].gap_multiple", [[1, 2]])),
])
def test_a_sweep_is_a_path_and_yaml_values(spec, expected) -> None:
    assert parse_sweep(spec) == expected


@pytest.mark.parametrize(("spec", "message"), [
    ("warning_lines[0].above", "expected PATH=V1,V2,..."),
    ("=1,2", "expected PATH=V1,V2,..."),
    ("bands.green=", "expected PATH=V1,V2,..."),
    ("bands.green=70,,80", "an empty value"),
    ("bands..green=1", "not a policy path"),
    ("warning_lines[x].above=1", "not a policy path"),
    ("bands.green={1: 2", "is not a YAML value"),
])
def test_a_bad_sweep_is_refused_with_its_reason(spec, message) -> None:
    with pytest.raises(SweepError, match=message.replace(".", r"\.").replace("[", r"\[")):
        parse_sweep(spec)


@pytest.mark.parametrize(("path", "value", "check"), [
    ("warning_lines[0].above", 9, lambda d: d["warning_lines"][0]["above"] == 9),
    ("warning_lines[-1].exit_below", 1, lambda d: d["warning_lines"][1]["exit_below"] == 1),
    # the YAML file's keys are numbers: the path's `1` names the number
    ("warning_lines[1].above_by_active_days.1", 4, lambda d: d["warning_lines"][1]["above_by_active_days"] ==
     {1: 4, 2: 8}),
    ("warning_lines[1].above_by_active_days.5", 2, lambda d: d["warning_lines"][1]["above_by_active_days"][5] == 2),
    ("tiers.key.warning_lines.idle.above", 7, lambda d: d["tiers"] == {"key": {"warning_lines": {"idle":
                                                                                                 {"above": 7}}}}),
])
def test_set_path_changes_the_document_where_the_path_says(path, value, check) -> None:
    doc = copy.deepcopy(POLICY_DOC)
    set_path(doc, path, value)
    assert check(doc)


@pytest.mark.parametrize(("path", "message"), [
    ("warning_lines[5].above", "index 5 is out of range (2 items)"),
    ("bands[0]", "bands is not a list in the policy"),
    ("core_features.x", "core_features is not a mapping in the policy"),
    ("warning_lines.above", "warning_lines is not a mapping in the policy"),
])
def test_set_path_refuses_a_path_the_document_cannot_take(path, message) -> None:
    with pytest.raises(SweepError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        set_path(copy.deepcopy(POLICY_DOC), path, 1)


def test_variants_are_every_combination_in_order_each_validated() -> None:
    found = variants(POLICY_DOC, [Sweep("warning_lines[0].above", [4, 6]), Sweep("bands.green", [70, 80])])
    assert [vals for vals, _ in found] == [
        {"warning_lines[0].above": 4, "bands.green": 70}, {"warning_lines[0].above": 4, "bands.green": 80},
        {"warning_lines[0].above": 6, "bands.green": 70}, {"warning_lines[0].above": 6, "bands.green": 80}]
    assert [p.tiers["standard"].warning_lines[0].above for _, p in found] == [4.0, 4.0, 6.0, 6.0]
    assert len({p.version for _, p in found}) == 4
    assert POLICY_DOC["warning_lines"][0]["above"] == 5  # the base document is left alone


def test_an_invalid_variant_names_itself_and_the_error_path() -> None:
    with pytest.raises(SweepError) as info:
        variants(POLICY_DOC, [Sweep("warning_lines[0].above", [6, -1]), Sweep("warning_lines[0].abve", [1])])
    assert "warning_lines[0].above=6, warning_lines[0].abve=1" in str(info.value)
    assert "warning_lines[0].abve: unknown key" in str(info.value)
    with pytest.raises(SweepError, match="warning_lines\\[0\\].exit_below: must be smaller than above"):
        variants(POLICY_DOC, [Sweep("warning_lines[0].above", [0])])


def test_too_many_variants_are_refused() -> None:
    with pytest.raises(SweepError, match=f"at most {MAX_VARIANTS}"):
        variants(POLICY_DOC, [Sweep("bands.green", list(range(60, 69))), Sweep("bands.yellow", list(range(8)))])


COLS = [Column("precision", True), Column("recall", True), Column("delay_days_median", False),
        Column("alerts_per_account_per_30d", False)]


@pytest.mark.parametrize(("rows", "marks"), [
    pytest.param([(0.7, 0.9, 40, 1.0), (0.6, 0.9, 40, 1.0)], [True, False], id="worse-precision-only"),
    pytest.param([(0.7, 0.9, 40, 1.0), (0.8, 0.8, 40, 1.0)], [True, True], id="a-trade-off"),
    pytest.param([(0.7, 0.9, 40, 1.0), (0.7, 0.9, 40, 1.0)], [True, True], id="equal-rows-beat-neither"),
    pytest.param([(0.7, 0.9, 40, 1.0), (0.7, 0.9, 41, 1.0)], [True, False], id="lower-delay-is-better"),
    pytest.param([(0.7, 0.9, 40, 1.0), (0.7, 0.9, 40, 1.5)], [True, False], id="fewer-alerts-is-better"),
    pytest.param([(None, 0.9, 40, 1.0), (0.1, 0.9, 40, 1.0)], [False, True], id="no-figure-is-worst"),
    pytest.param([(0.5, 0.5, 50, 2.0), (0.6, 0.6, 40, 1.0), (0.9, 0.3, 20, 3.0), (0.55, 0.7, 60, 0.5)],
                 [False, True, True, True], id="four"),
])
def test_the_frontier_holds_the_rows_no_other_beats_on_every_figure(rows, marks) -> None:
    assert frontier([dict(zip([c.name for c in COLS], row)) for row in rows], COLS) == marks


def test_the_sweep_table_matches_separate_backtests_of_each_variant(tiny: Path) -> None:
    found = variants(POLICY_DOC, [Sweep("warning_lines[0].above", [3, 5, 9]),
                                  Sweep("warning_lines[1].above_by_active_days.1", [2, 6])])
    opts = BacktestOptions(policies=[(str(v), p) for v, p in found], input_dir=tiny, truth=Truth(10),
                           processing_ms=T0 + days_ms(400), sweep=True)
    report = run_backtest(SETTINGS, opts)
    table = sweep_rows(report, [v for v, _ in found])
    assert "compare" not in report and table["rule"] == "silence"
    assert [c["name"] for c in table["columns"]] == ["precision", "recall", "delay_days_median",
                                                     "alerts_per_account_per_30d", "accounts_alerted_ratio"]
    for (values, policy), row in zip(found, table["variants"], strict=True):
        alone = run_backtest(SETTINGS, BacktestOptions(policies=[("alone", policy)], input_dir=tiny, truth=Truth(10),
                                                       processing_ms=T0 + days_ms(400)))
        entry = alone["policies"][0]
        silence = entry["truth"]["silence"]
        assert row["values"] == values and row["version"] == policy.version
        assert (row["precision"], row["recall"], row["delay_days_median"], row["alerts"], row["left_out"]) == \
            (silence["precision"], silence["recall"], silence["delay_days_median"], silence["alerts"],
             silence["left_out"])
        assert row["alerts_per_account_per_30d"] == entry["noise"]["per_account_per_30d"]["mean"]
        assert row["accounts_alerted_ratio"] == entry["noise"]["accounts_alerted_ratio"]
    assert len({(r["precision"], r["delay_days_median"]) for r in table["variants"]}) > 2, "the variants differ"
    # Hand-checked: idle above 3 days catches everyone soonest; the one-day line of 2 fires sooner still.
    first = table["variants"][0]
    assert first["values"] == {"warning_lines[0].above": 3, "warning_lines[1].above_by_active_days.1": 2}
    assert first["frontier"]


def test_parse_policy_of_a_variant_equals_the_policy_written_out(tmp_path: Path) -> None:
    (values, policy), = variants(POLICY_DOC, [Sweep("warning_lines[1].above_by_active_days", [{1: 2, 2: 8}])])
    doc = copy.deepcopy(POLICY_DOC)
    doc["warning_lines"][1]["above_by_active_days"] = {1: 2, 2: 8}
    assert policy.version == parse_policy(doc).version
