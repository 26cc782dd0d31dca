"""`healthmon inputs check`: the file's errors, samples from JSON Lines and from a real topic; `generate --format`."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from healthmon.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "inputs.example.yaml"


def _run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env={"KAFKA_BROKER_URL": "", **(env or {})}, catch_exceptions=False)


def test_a_valid_file_lists_its_inputs():
    result = _run("inputs", "check", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "ok, 10 input(s)" in result.output and "zendesk-ticket-events: tickets, zendesk" in result.output
    doc = orjson.loads(_run("inputs", "check", str(EXAMPLE), "--json").output)
    assert doc["ok"] and {"topic": "crm.public.accounts", "kind": "accounts", "format": "debezium"} in doc["inputs"]


def test_an_invalid_file_names_every_error_and_exits_1(tmp_path):
    bad = tmp_path / "inputs.yaml"
    bad.write_text("inputs:\n  - {topic: a, kind: usage, format: snowplow, fields: {account_id: 'x['}}\n"
                   "  - {topic: b, kind: tickets, format: zendesk, account_link: org}\n")
    result = _run("inputs", "check", str(bad))
    assert result.exit_code == 1
    assert f"{bad}: inputs[0].fields.account_id: not a JMESPath expression (it ends too early)" in result.output
    assert f"{bad}: inputs[1].account_link: no input declares link 'org'" in result.output
    assert f"{bad}: 2 error(s)" in result.output
    doc = orjson.loads(_run("inputs", "check", str(bad), "--json").output)
    assert doc["ok"] is False and len(doc["errors"]) == 2


def test_a_sample_file_counts_what_maps_and_each_failure_with_an_example(tmp_path):
    lines = [
        {"type": "track", "messageId": "m1", "userId": "u1", "event": "login", "timestamp": "2026-01-05T10:00:00Z",
         "context": {"groupId": "acc-1"}},
        {"type": "track", "messageId": "m2", "userId": "u2", "event": "login", "timestamp": "2026-01-05T10:00:00Z"},
        {"type": "page", "userId": "u1"},
        {"type": "track", "messageId": "m3", "userId": "u1", "event": "login", "timestamp": "2015-2-02T00:30:08Z",
         "context": {"groupId": "acc-1"}},
        {"type": "track", "messageId": "m4", "userId": "u1", "event": "login", "timestamp": "2015-2-03T00:30:08Z",
         "context": {"groupId": "acc-1"}},
        {"type": "track", "userId": "u1", "event": "login", "timestamp": "2026-01-05T10:00:00Z"},
    ]
    sample = tmp_path / "segment-tracks.jsonl"
    sample.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n\nnot json\n")
    result = _run("inputs", "check", str(EXAMPLE), "--sample", str(sample))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "segment-tracks (usage, segment): 7 messages, 2 mapped (1 events, 1 ignored, 1 linked, 4 rejected)" in out
    assert "ignored                 1  segment page call" in out
    assert "unmapped                2  occurred_at; e.g. line 4: occurred_at: `timestamp` found '2015-2-02T00:30:08Z'" \
        in out
    assert "unmapped                1  event_id; e.g. line 6: event_id: `messageId` found nothing" in out
    assert "not_json                1  (message); e.g. line 8: not JSON" in out
    doc = orjson.loads(_run("inputs", "check", str(EXAMPLE), "--sample", str(sample), "--json", "--limit", "3").output)
    assert doc["sample"]["messages"] == 3 and doc["sample"]["mapped"] == 2


@pytest.mark.parametrize("sample, fragment", [
    ("nowhere-topic", "'nowhere-topic' is neither a file nor a topic of"),
])
def test_a_sample_that_is_neither_a_file_nor_a_topic(sample, fragment):
    result = _run("inputs", "check", str(EXAMPLE), "--sample", sample)
    assert result.exit_code == 2 and fragment in result.output


def test_a_sample_file_must_be_named_after_a_topic(tmp_path):
    sample = tmp_path / "events.jsonl"
    sample.write_text("{}\n")
    result = _run("inputs", "check", str(EXAMPLE), "--sample", str(sample))
    assert result.exit_code == 2 and "events.jsonl names no topic" in result.output


def test_generate_format_writes_the_example_topics(tmp_path):
    result = _run("generate", "--format", "segment,zendesk,delighted,debezium", "--accounts", "4", "--days", "7",
                  "--until", "2026-01-20", "--to-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} == {"segment-tracks.jsonl", "segment-groups.jsonl",
                                                    "zendesk-ticket-events.jsonl", "delighted-responses.jsonl",
                                                    "crm.public.accounts.jsonl"}
    for name in ("segment-tracks", "zendesk-ticket-events"):
        check = _run("inputs", "check", str(EXAMPLE), "--sample", str(tmp_path / f"{name}.jsonl"), "--json")
        sample = orjson.loads(check.output)["sample"]
        assert sample["messages"] > 0 and sample["mapped"] == sample["messages"] and not sample["failures"], sample


@pytest.mark.parametrize("formats, error", [
    ("segment,snowplow", "segment and snowplow both shape usage"), ("zendsk", "unknown format 'zendsk'")])
def test_generate_refuses_a_bad_format_list(formats, error):
    result = _run("generate", "--format", formats, "--to-dir", "/nonexistent")
    assert result.exit_code == 2 and error in result.output


@pytest.mark.integration
def test_a_sample_from_a_real_topic_in_binary_and_structured_mode(broker_url, tmp_path, topic_io):
    topic = f"ce-{uuid.uuid4().hex[:10]}"
    inputs = tmp_path / "inputs.yaml"
    inputs.write_text(f"inputs:\n  - topic: {topic}\n    kind: usage\n    format: cloudevents\n"
                      "    fields: {account_id: data.account_id}\n")
    env = {"KAFKA_BROKER_URL": broker_url, "HEALTHMON_TOPIC_PREFIX": f"{topic}-"}
    sent = _run("generate", "--format", "cloudevents", "--inputs", str(inputs), "--accounts", "2", "--days", "2",
                "--rate", "0", env=env)
    assert sent.exit_code == 0, sent.output
    asyncio.run(topic_io.send(topic, [b"not json", orjson.dumps({"specversion": "1.0", "id": "x", "source": "/s"})]))
    result = _run("inputs", "check", str(inputs), "--sample", topic, "--json", "--limit", "100000", env=env)
    assert result.exit_code == 0, result.output
    sample = orjson.loads(result.output)["sample"]
    failures = {(f["field"], f["reason"]): f["count"] for f in sample["failures"]}
    assert failures == {("(message)", "not_json"): 1, ("user_id", "unmapped"): 1}
    assert sample["mapped"] == sample["messages"] - 2 > 20
    assert sample["outcomes"]["events"] == sample["mapped"]  # both modes map (the generator alternates them)
