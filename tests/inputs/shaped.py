"""One generated history, native and in the shapes of Segment, Zendesk, Delighted and Debezium (issue #22's proof).

Zendesk's satisfaction rating is good or bad, with no 1-5 CSAT: the proof's policy is the default one
without the CSAT measure (`csat_28d`), so that both shapes carry everything it reads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from healthmon.config import DEFAULT_POLICY_FILE
from healthmon.core import Policy, parse_policy
from healthmon.generator import Traffic, generate
from healthmon.generator.formats import EXAMPLE_TOPICS, plan_formats, shape_traffic
from healthmon.generator.formats.message import Message

__all__ = ["FORMATS", "alert_keys", "inputs_doc", "policy_without_csat", "shaped", "traffic"]

FORMATS = ["segment", "zendesk", "delighted", "debezium"]
EXAMPLE_FILE = Path(__file__).resolve().parents[2] / "deploy" / "inputs.example.yaml"


def traffic(end_ms: int, days: int = 42, accounts: int = 30, seed: int = 7) -> Traffic:
    """Return the mixed scenario's history of `days` days ending at `end_ms`."""
    return generate(accounts=accounts, scenario="mixed", seed=seed, start_ms=end_ms - (days + 1) * 86_400_000,
                    days=days)


def policy_without_csat(path: Path | None = None) -> Policy:
    """Return the default policy without the CSAT measure (written to `path` too, when given)."""
    doc = yaml.safe_load(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))
    doc["measures"] = [m for m in doc["measures"] if m["metric"] != "csat_28d"]
    if path is not None:
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return parse_policy(doc)


def topics(prefix: str = "") -> dict[tuple[str, str], str]:
    """Return the example file's topics, each with `prefix` (a test's own names on a shared broker)."""
    return {key: prefix + topic for key, topic in EXAMPLE_TOPICS.items()}


def shaped(history: Traffic, native_topics: Mapping[str, str], prefix: str = "",
           binary: bool = True) -> Iterator[Message]:
    """Yield the history as the proof's sources send it, to the example file's topics (with `prefix`)."""
    return shape_traffic(history, plan_formats(FORMATS), topics(prefix), native_topics, binary=binary)


def inputs_doc(used: set[str], prefix: str = "") -> dict[str, Any]:
    """Return the example inputs file's inputs of the topics in `used`, their names with `prefix`."""
    doc = yaml.safe_load(EXAMPLE_FILE.read_text(encoding="utf-8"))
    inputs = [{**i, "topic": prefix + i["topic"]} for i in doc["inputs"] if prefix + i["topic"] in used]
    return {"inputs": inputs}


def alert_keys(alerts: list[dict[str, Any]]) -> list[tuple]:
    """Return what must be equal of each alert: account, rule, kind, status, event time, scores, bands, id."""
    return sorted((a["account_id"], a["rule"], a["kind"], a["status"], a["event_time"], a["score_before"],
                   a["score_after"], a["band_before"], a["band_after"], a["alert_id"]) for a in alerts)
