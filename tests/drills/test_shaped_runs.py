"""Drills in sources' shapes (`--format`): each run reads its own inputs file, and every run sends the same messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import yaml

from healthmon.drills.harness import Run
from healthmon.generator import generate

FORMATS = ("segment", "zendesk", "delighted", "debezium")
BROKER = SimpleNamespace(url="kafka://127.0.0.1:1")  # a run names its broker; these runs never connect


def _values(run: Run, records) -> list[tuple]:
    prefix = run.settings.topics.prefix
    return [(m.topic.removeprefix(prefix), m.key, m.value) for m in run.shaped(records)]


def test_a_shaped_run_reads_its_inputs_file_and_every_run_sends_the_same_messages(tmp_path: Path) -> None:
    traffic = generate(accounts=4, scenario="mixed", seed=7, start_ms=1_767_225_600_000, days=14)
    records = sorted(traffic.records(), key=lambda r: r.occurred_at)
    runs = [Run(BROKER, "", tmp_path, name, traffic=traffic, formats=FORMATS) for name in ("clean", "outage")]
    for run in runs:
        doc = yaml.safe_load(Path(run.settings.ingest.inputs_file).read_text())
        topics = [spec["topic"] for spec in doc["inputs"]]
        assert run.input_topics == topics and all(t.startswith(run.settings.topics.prefix) for t in topics)
        assert {spec["format"] for spec in doc["inputs"]} == set(FORMATS)
    # the clean run sends everything at once, the outage run in two parts: the same messages either way
    cut = len(records) // 3
    sent_whole = _values(runs[0], records)
    sent_in_parts = _values(runs[1], records[:cut]) + _values(runs[1], records[cut:])
    assert sent_whole == sent_in_parts
    assert {t for t, _, _ in sent_whole} >= {"segment-tracks", "zendesk-ticket-events", "delighted-responses",
                                            "crm.public.accounts"}


def test_a_native_run_reads_the_four_topics(tmp_path: Path) -> None:
    run = Run(BROKER, "", tmp_path, "clean")
    assert run.shaper is None and run.input_topics == list(run.settings.topics.input_names.values())


def test_poison_is_refused_with_formats_and_a_bad_format_is_named() -> None:
    def drills(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "healthmon.drills", *args], capture_output=True, text=True,
                              timeout=60)

    out = drills("--only", "poison", "--format", "segment")
    assert out.returncode == 2 and "poison drill sends healthmon's own shape" in out.stderr
    out = drills("--format", "segmnet")
    assert out.returncode == 2 and "unknown format 'segmnet'" in out.stderr


def test_keyed_runs_key_what_the_source_sends_unkeyed_by_its_account(tmp_path: Path) -> None:
    traffic = generate(accounts=2, scenario="mixed", seed=7, start_ms=1_767_225_600_000, days=3)
    records = sorted(traffic.records(), key=lambda r: r.occurred_at)
    unkeyed, keyed = (Run(BROKER, "", tmp_path, name, traffic=traffic, formats=("segment", "debezium"), keyed=k)
                      for name, k in (("clean", False), ("pause", True)))
    tracks = [(a, b) for a, b in zip(unkeyed.shaped(records), keyed.shaped(records))
              if a.topic.endswith("segment-tracks")]
    assert tracks and all(a.key is None and b.key.startswith(b"acc-") and a.value == b.value for a, b in tracks)
    rows = [m for m in keyed.shaped(records) if m.topic.endswith("crm.public.accounts")]
    assert rows and all(m.key.startswith(b"{") for m in rows)  # Debezium's own key stays
