"""In-process micro-benchmark of the mapping layer: microseconds per message for each preset.

`python -m healthmon.bench.mapping [--accounts N] [--days D] [--repeat R] [--json]` (or `healthmon bench
--mapping`) generates one history, shapes it in every source's format (`healthmon.generator.formats`),
and times `InputMapper.map` over each topic's messages, best of `--repeat` rounds. A usage, ticket or NPS
message holds one event; an accounts message a profile, a link or both. The `healthmon` row is
today's native decoder on the same usage events, the baseline; `segment (preset path)` is Segment's usage
without its msgspec hot path, as an input whose file gives `fields` runs. `us_per_event_mapping` is the
Segment tracks' figure, the issue's target (at most 2 µs). Nothing is sent anywhere: no broker, no Faust.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from healthmon.generator import generate
from healthmon.generator.formats import EXAMPLE_TOPICS, Message, plan_formats, shape_traffic
from healthmon.ingest.formats import InputMapper
from healthmon.ingest.formats.spec import InputSpec

__all__ = ["MappingRow", "render_mapping", "run_mapping_bench"]

NOW_MS = 4_000_000_000_000
_NATIVE_TOPICS = {"usage": "product-usage", "ticket": "support-tickets", "nps": "nps-responses", "account": "accounts"}
_FORMATS = ("segment", "rudderstack", "snowplow", "cloudevents", "zendesk", "intercom", "delighted", "debezium")


@dataclass
class MappingRow:
    """One timed input: its messages, the events they hold, and the best round's time."""

    name: str
    kind: str
    messages: int
    events: int
    seconds: float

    @property
    def us_per_message(self) -> float:
        """Return microseconds per message of the best round (a usage, ticket or NPS message is one event)."""
        return self.seconds / self.messages * 1e6 if self.messages else 0.0


def _inputs() -> dict[str, InputSpec]:
    """Return the inputs of deploy/inputs.example.yaml (the bench runs from a checkout, as `make bench` does)."""
    from healthmon.ingest.inputs import load_inputs

    path = Path(__file__).resolve().parents[2] / "deploy" / "inputs.example.yaml"
    if not path.is_file():
        raise RuntimeError(f"the mapping bench reads {path}: run it from a healthmon checkout")
    return load_inputs(path).by_topic()


def _time(mapper: InputMapper, messages: list[Message], repeat: int, fast: bool) -> tuple[int, float]:
    saved = mapper.fast
    if not fast:
        mapper.fast = None
    best, events = float("inf"), 0
    try:
        for _ in range(repeat):
            events = 0
            started = time.perf_counter()
            for m in messages:
                out = mapper.map(m.value, m.key, m.headers, now_ms=NOW_MS, max_bytes=1_048_576,
                                 max_future_skew_ms=300_000)
                events += len(out.events) + len(out.linked) + len(out.replacements) + len(out.patches) + \
                    len(out.removals)
            best = min(best, time.perf_counter() - started)
    finally:
        mapper.fast = saved
    return events, best


def run_mapping_bench(*, accounts: int = 30, days: int = 28, repeat: int = 5, seed: int = 7,
                      say: Callable[[str], None] = lambda line: None) -> list[MappingRow]:
    """Time every preset's mapping over one generated history; return one row per input."""
    traffic = generate(accounts=accounts, scenario="mixed", seed=seed, days=days)
    specs = _inputs()
    by_topic: dict[str, list[Message]] = defaultdict(list)
    for fmt in _FORMATS:
        plan = plan_formats([fmt])
        for message in shape_traffic(traffic, plan, EXAMPLE_TOPICS, _NATIVE_TOPICS):
            spec = specs.get(message.topic)
            if spec is not None and spec.format == fmt:
                by_topic[message.topic].append(message)
    native = [Message("product-usage", r.key.encode(), orjson.dumps(r.value), r.kind, r.occurred_at)
              for r in traffic.records() if r.kind == "usage"]
    rows = []
    jobs: list[tuple[str, str, InputSpec, list[Message], bool]] = [
        ("healthmon", "usage", InputSpec(topic="product-usage", kind="usage"), native, True)]
    for topic, messages in by_topic.items():
        spec = specs[topic]
        jobs.append((spec.format, spec.kind, spec, messages, True))
        if spec.format == "segment" and spec.kind == "usage":
            jobs.append(("segment (preset path)", "usage", spec, messages, False))
    for name, kind, spec, messages, fast in jobs:
        events, seconds = _time(InputMapper(spec), messages, repeat, fast)
        rows.append(MappingRow(name, kind, len(messages), events, seconds))
        say(f"mapping bench: {name} {kind}: {rows[-1].us_per_message:.2f} µs/message")
    return rows


def summary(rows: list[MappingRow]) -> dict[str, Any]:
    """Return the rows as JSON-ready figures, with `us_per_event_mapping` (Segment tracks: one event a message)."""
    figures = {f"{r.name} {r.kind}": round(r.us_per_message, 3) for r in rows}
    segment = next(r for r in rows if r.name == "segment" and r.kind == "usage")
    native = next(r for r in rows if r.name == "healthmon")
    return {"bench": "mapping", "us_per_message": figures, "us_per_event_mapping": round(segment.us_per_message, 3),
            "ratio_segment_to_native_decode": round(native.us_per_message / segment.us_per_message, 3),
            "messages": {f"{r.name} {r.kind}": r.messages for r in rows},
            "events": {f"{r.name} {r.kind}": r.events for r in rows}}


def render_mapping(rows: list[MappingRow]) -> str:
    """Return the rows as a table."""
    lines = [f"{'input':<28} {'kind':<8} {'messages':>9} {'events':>8} {'µs/message':>11}"]
    for r in rows:
        lines.append(f"{r.name:<28} {r.kind:<8} {r.messages:>9,} {r.events:>8,} {r.us_per_message:>11.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(prog="python -m healthmon.bench.mapping", description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=30)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    rows = run_mapping_bench(accounts=args.accounts, days=args.days, repeat=args.repeat)
    if not args.json:
        print(render_mapping(rows))
    print(orjson.dumps(summary(rows)).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
