"""The backtest commands as a user runs them: generate --to-dir, backtest (labels, compare, JSON), explain."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest
import yaml
from click.testing import CliRunner

from healthmon.cli import cli
from healthmon.config import DEFAULT_POLICY_FILE

POLICY = str(DEFAULT_POLICY_FILE)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("hist")
    # anchored: traffic that ends "a day ago" moves with the time of day, and with it how many of a silent
    # account's last days have closed (they close at its next evaluation), which the scores test counts
    result = CliRunner().invoke(cli, ["generate", "--accounts", "8", "--days", "42", "--seed", "3",
                                      "--until", "2026-11-30T12:00:00", "--to-dir", str(directory)])
    assert result.exit_code == 0, result.output
    assert "accounts.jsonl 8" in result.output and "labels.csv: 2 accounts that churn" in result.output
    assert sorted(p.name for p in directory.iterdir()) == ["accounts.jsonl", "labels.csv", "nps-responses.jsonl",
                                                           "product-usage.jsonl", "support-tickets.jsonl"]
    return directory


def test_the_generated_labels_load_and_the_alerts_foretell_them(history: Path, tmp_path: Path) -> None:
    from healthmon.backtest.labels import load_labels

    labels = load_labels(history / "labels.csv")
    assert len(labels) == 2 and len(set(labels.values())) == 1
    report = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["backtest", "--policy", POLICY, "--input", str(history), "--labels",
                                      str(history / "labels.csv"), "--report-json", str(report)])
    assert result.exit_code == 0, result.output
    overall = orjson.loads(report.read_bytes())["policies"][0]["hit_rate"]["overall"]
    assert overall["recall"] == 1.0 and overall["precision"] > 0 and overall["lead_days_median"] > 0


def test_backtest_with_labels_compare_and_json(history: Path, tmp_path: Path) -> None:
    strict = tmp_path / "strict.yaml"
    strict.write_text(DEFAULT_POLICY_FILE.read_text().replace("for_seconds: 86400", "for_seconds: 604800"))
    labels = tmp_path / "churn.csv"
    labels.write_text("account_id,churned_at\nacc-00001,2099-01-01\n")
    out, report = tmp_path / "alerts.jsonl", tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["backtest", "--policy", POLICY, "--input", str(history), "--labels", str(labels),
                                      "--out", str(out), "--report-json", str(report), "--compare", str(strict)])
    assert result.exit_code == 0, result.output
    data = orjson.loads(report.read_bytes())
    assert [p["name"] for p in data["policies"]] == [POLICY, str(strict)]
    assert data["policies"][0]["noise"]["alerts"] == len(out.read_bytes().splitlines())
    assert set(data["compare"]) == {"only_first", "only_second"}
    for text in ("firing alerts per account per 30 days", "baseline, no usage for N days", "no_activity_30d",
                 f"fires under {POLICY} only", "precision"):
        assert text in result.output


def test_backtest_sweep_with_truth_prints_one_table_and_writes_it_as_json(history: Path, tmp_path: Path) -> None:
    report = tmp_path / "sweep.json"
    result = CliRunner().invoke(cli, ["backtest", "--policy", POLICY, "--input", str(history), "--truth",
                                      "inactivity:7", "--sweep", "warning_lines[0].below=0.2,0.3",
                                      "--sweep", "tiers.standard.warning_lines.weekly_active_drop.drop=0.4,0.6",
                                      "--report-json", str(report)])
    assert result.exit_code == 0, result.output
    data = orjson.loads(report.read_bytes())
    rows = data["sweep"]["variants"]
    assert [r["values"] for r in rows] == [
        {"warning_lines[0].below": b, "tiers.standard.warning_lines.weekly_active_drop.drop": d}
        for b in (0.2, 0.3) for d in (0.4, 0.6)]
    assert len(data["policies"]) == 4 and any(r["frontier"] for r in rows)
    assert [r["alerts_per_account_per_30d"] for r in rows] == [
        p["noise"]["per_account_per_30d"]["mean"] for p in data["policies"]]
    for text in ("4 variants replayed together", "silence alerts against no usage in the 7 days after an alert",
                 "alerts/account/30d", "baseline, no usage for N days", "no_activity_30d"):
        assert text in result.output


def test_a_swept_table_of_a_rhythm_line_is_written_to_json(history: Path, tmp_path: Path) -> None:
    policy, report = tmp_path / "rhythm.yaml", tmp_path / "sweep.json"
    doc = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    doc["warning_lines"].append({"name": "gone_quiet", "metric": "days_since_last_activity", "kind": "rhythm",
                                 "above_by_active_days": {1: 3}})
    policy.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(cli, ["backtest", "--policy", str(policy), "--input", str(history), "--truth",
                                      "inactivity:3", "--sweep", "warning_lines[2].above_by_active_days={1: 3},"
                                      "{1: 5, 10: 2}", "--report-json", str(report)])
    assert result.exit_code == 0, result.output
    rows = orjson.loads(report.read_bytes())["sweep"]["variants"]
    assert [r["values"] for r in rows] == [{"warning_lines[2].above_by_active_days": {"1": 3}},
                                           {"warning_lines[2].above_by_active_days": {"1": 5, "10": 2}}]
    assert "{1: 5, 10: 2}" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--policy", POLICY, "--input", "{hist}", "--truth", "inactivity:x"], "expected inactivity:DAYS"),
    (["--policy", POLICY, "--input", "{hist}", "--truth", "inactivity:9", "--labels", "{tmp}/bad.csv"],
     "give --labels or --truth, not both"),
    (["--policy", POLICY, "--input", "{hist}", "--sweep", "bands.green=80", "--compare", POLICY],
     "it takes neither --compare, --out nor"),
    (["--policy", POLICY, "--input", "{hist}", "--sweep", "warning_lines[7].below=1"], "index 7 is out of range"),
    (["--policy", POLICY, "--input", "{hist}", "--sweep", "bands.green=80", "--sweep", "bands.green=70"],
     "a path is swept twice"),
    (["--policy", POLICY, "--input", "{hist}", "--sweep", "bands.green=80,abc"], "bands.green: must be a number"),
    (["--policy", POLICY, "--input", "{hist}", "--out", "{tmp}/a.jsonl", "--scores-out", "{tmp}/a.jsonl"],
     "--out and --scores-out name the same file"),
    (["--policy", POLICY], "give exactly one of --input DIR and --from-kafka"),
    (["--policy", POLICY, "--input", "{hist}", "--from-kafka"], "give exactly one of --input DIR and --from-kafka"),
    (["--policy", POLICY, "--input", "{tmp}/missing"], "is not a directory"),
    (["--policy", POLICY, "--input", "{tmp}"], "no input files in"),
    (["--policy", "{tmp}/nope.yaml", "--input", "{hist}"], "invalid policy"),
    (["--policy", POLICY, "--input", "{hist}", "--labels", "{tmp}/bad.csv"], "bad.csv:3: churned_at"),
])
def test_backtest_bad_arguments_get_a_clear_error(history: Path, tmp_path: Path, args: list[str],
                                                  message: str) -> None:
    (tmp_path / "bad.csv").write_text("account_id,churned_at\na,2026-01-01\nb,soon\n")
    argv = ["backtest", *[a.format(hist=history, tmp=tmp_path) for a in args]]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code != 0
    assert message in result.output


def test_policy_explain_prints_the_accounts_table(history: Path) -> None:
    result = CliRunner().invoke(cli, ["policy", "explain", POLICY, "acc-00001", "--input", str(history)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("as of (UTC)")
    missing = CliRunner().invoke(cli, ["policy", "explain", POLICY, "acc-99999", "--input", str(history)])
    assert missing.exit_code == 1 and "is not in" in missing.output


def test_scores_out_writes_the_health_scores_records(history: Path, tmp_path: Path) -> None:
    from schemas.score import HealthScore

    scores, again = tmp_path / "scores.jsonl", tmp_path / "again.jsonl"
    for path in (scores, again):
        result = CliRunner().invoke(cli, ["backtest", "--policy", POLICY, "--input", str(history),
                                          "--scores-out", str(path)])
        assert result.exit_code == 0, result.output
    records = [orjson.loads(line) for line in scores.read_bytes().splitlines()]
    assert scores.read_bytes() == again.read_bytes()  # same history, same records, same ids
    days = [r for r in records if r["kind"] == "day"]
    assert len({r["account_id"] for r in days}) == 8
    for account in {r["account_id"] for r in days}:
        mine = [date.fromisoformat(r["day"]) for r in days if r["account_id"] == account]
        # one record a day, day after day, over the 42 generated days (the last one not ended)
        assert 40 <= len(mine) <= 43 and mine == [mine[0] + timedelta(days=n) for n in range(len(mine))]
    for record in records:
        HealthScore.model_validate(record)


def test_scores_out_is_refused_with_a_sweep(history: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["backtest", "--policy", POLICY, "--input", str(history), "--scores-out",
                                      str(tmp_path / "s.jsonl"), "--sweep", "bands.green=70,80"])
    assert result.exit_code == 2 and "--scores-out" in result.output
