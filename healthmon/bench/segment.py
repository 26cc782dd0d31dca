"""The `segment` run: the dense workload's events as Segment tracks and groups, against the native shape.

The same history is produced twice as single-event messages keyed by `account_id`: once in healthmon's
own shape, once as Segment calls (`healthmon generate --format segment`'s shapes: a `track` per usage
event, `group` calls carrying each account's traits and linking half its users, whose tracks then carry
no `context.groupId` and take their account from the `user` link). Keyed as a user who sets the key
would send them, every event is direct, so the ratio measures the mapping; the unkeyed case is the
`repartitioned` run. One worker times each side, in turns, each round with a new app id on the same input.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from healthmon.bench.options import BenchOptions
from healthmon.bench.pipeline import run_pipeline
from healthmon.bench.workload import DENSE_DAYS, Message, produce_messages, single_messages, workload_records
from healthmon.config import Settings
from healthmon.generator import standard_workload
from healthmon.generator.formats import EXAMPLE_TOPICS, plan_formats
from healthmon.generator.formats.shaper import shape_records
from healthmon.generator.workload import DENSE_SEATS_RANGE

__all__ = ["render_segment", "run_segment", "segment_messages"]

_KINDS = {"usage": ("segment", "usage"), "account": ("segment", "account")}


def segment_messages(events: int, accounts: int, seed: int, keyed: bool = True) -> Iterator[Message]:
    """Yield the dense workload as Segment tracks and groups, each keyed by its account's id (or unkeyed)."""
    traffic = standard_workload(events=events, accounts=accounts, seed=seed, days=DENSE_DAYS,
                                seats_range=DENSE_SEATS_RANGE)
    # the bench's message kind stands for the topic: tickets and NPS stay in the native shape
    topics = {pair: kind for kind, pair in _KINDS.items()}
    for record, messages in shape_records(traffic, plan_formats(["segment"]), topics, {"ticket": "ticket",
                                                                                     "nps": "nps"}):
        for m in messages:
            assert m.value is not None
            yield m.topic, record.key.encode() if keyed else None, None, m.value, 0 if m.kind == "account" else 1


def _inputs_file(path: Path, topics: dict[str, str]) -> Path:
    """Write the inputs file of the Segment side: Segment tracks and groups, native tickets and NPS."""
    doc = {"inputs": [{"topic": topics["usage"], "kind": "usage", "format": "segment"},
                      {"topic": topics["account"], "kind": "accounts", "format": "segment"},
                      {"topic": topics["ticket"], "kind": "tickets"}, {"topic": topics["nps"], "kind": "nps"}]}
    path.write_text(yaml.safe_dump(doc))
    return path


def run_segment(opts: BenchOptions, accounts: int, settings: Callable[..., Settings], bootstrap: str, workdir: Path,
                say: Callable[[str], None], rounds: int = 2) -> dict[str, Any]:
    """Time one worker on the dense workload in the native shape and as Segment calls, in turns."""
    from healthmon.kafka.admin import ensure_topics

    native_expect = opts.events + accounts  # every native run also counts one profile per account
    keyed = opts.segment_keyed
    say(f"bench [segment]: {opts.events:,} dense events + {accounts} accounts, native and as Segment calls, "
        + ("keyed by account_id" if keyed else "unkeyed"))
    native = settings("seg-native", "seg-native-0")
    sent_native = asyncio.run(produce_messages(bootstrap, native.topics.input_names,
                                               single_messages(workload_records(opts.events, accounts, opts.seed,
                                                                                "dense"))))
    segment = settings("seg-segment", "seg-segment-0")
    prefix = segment.topics.prefix
    topics = {**{kind: prefix + EXAMPLE_TOPICS[pair] for kind, pair in _KINDS.items()},
              "ticket": segment.topics.input_names["ticket"], "nps": segment.topics.input_names["nps"]}
    inputs = _inputs_file(workdir / "segment-inputs.yaml", topics)
    seg_settings = segment.replace(ingest={"inputs_file": str(inputs)})
    asyncio.run(ensure_topics(bootstrap, seg_settings.topics, seg_settings.kafka, app_id=seg_settings.worker.app_id,
                              inputs=list(topics.values())))
    sent_segment = asyncio.run(produce_messages(bootstrap, topics, segment_messages(opts.events, accounts,
                                                                                    opts.seed, keyed)))
    assert sent_native.events == native_expect, (sent_native, native_expect)
    assert sent_segment.events == opts.events, (sent_segment, opts.events)  # every event but the profiles
    expect = {"native": native_expect, "segment": native_expect}  # a group call with traits counts as a profile
    timeout = 600 + native_expect / 1000
    runs: dict[str, list[dict[str, Any]]] = {"native": [], "segment": []}
    for n in range(rounds):
        order = ("native", "segment") if n % 2 == 0 else ("segment", "native")
        for side in order:
            s = settings(f"seg-{side}", f"seg-{side}-{n}")
            if side == "segment":
                s = s.replace(ingest={"inputs_file": str(inputs)})
            asyncio.run(ensure_topics(bootstrap, s.topics, s.kafka, app_id=s.worker.app_id))
            run = run_pipeline([s], expect[side], workdir, f"segment-{side}-{n}", profile=opts.profile,
                               stall_timeout_s=min(180.0, timeout))
            runs[side].append({"round": n, "measured_events": run.events, "seconds": round(run.seconds, 3),
                               "events_per_s": round(run.events_per_s, 1), "peak_rss_bytes": run.peak_rss_bytes,
                               "cpu_us_per_event": round(run.cpu_us_per_event, 2),
                               "outcomes": run.outcomes})
            say(f"bench [segment]: round {n + 1}, {side}: {run.events_per_s:,.0f} events/s, "
                f"{run.cpu_us_per_event:.1f} us of worker CPU per event")
    from healthmon.bench.workload_runs import ratio

    def overall(side: str) -> float:
        """Return the side's events per second over all its rounds."""
        return round(sum(r["measured_events"] for r in runs[side]) / sum(r["seconds"] for r in runs[side]), 1)

    return {"accounts": accounts, "input_events": opts.events, "rounds": rounds, "keyed": keyed,
            "segment_messages": sent_segment.messages, "runs": runs,
            "native_single_events_per_s": overall("native"), "segment_single_events_per_s": overall("segment"),
            "ratio_segment_to_native_dense": ratio(overall("segment"), overall("native")),
            "round_ratios": [ratio(s["events_per_s"], d["events_per_s"])
                             for s, d in zip(runs["segment"], runs["native"])]}


def render_segment(result: dict[str, Any]) -> str:
    """Return the human-readable lines of a segment run."""
    lines = [f"segment: dense workload ({result['accounts']} accounts, {result['input_events']:,} events, "
             f"{result['segment_messages']:,} Segment messages), single events "
             + ("keyed by account_id" if result.get("keyed", True) else "unkeyed (every track moves)")]
    for side in ("native", "segment"):
        lines.append(f"  {side:<8} " + ", ".join(f"{r['events_per_s']:,.0f}" for r in result["runs"][side])
                     + f" events/s (all rounds: {result[side + '_single_events_per_s']:,.0f})")
    lines.append("  worker CPU per event: " + ", ".join(
        f"{side} " + " / ".join(f"{r.get('cpu_us_per_event', 0):.1f}" for r in result["runs"][side]) + " us"
        for side in ("native", "segment")))
    lines.append(f"  ratio segment/native: {result['ratio_segment_to_native_dense']} "
                 f"(per round: {result['round_ratios']})")
    return "\n".join(lines)
