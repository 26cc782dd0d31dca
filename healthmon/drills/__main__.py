"""`python -m healthmon.drills`: run the fault drills and print (or write into RELIABILITY.md) the table."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from healthmon.drills.compare import Outcome
from healthmon.drills.harness import Broker
from healthmon.drills.scenarios import DRILLS, DrillConfig, Drills

BEGIN, END = "<!-- drills:begin -->", "<!-- drills:end -->"


def render_table(outcomes: list[Outcome], config: DrillConfig, events: int, clean_alerts: int) -> str:
    """Return the drills' results as a Markdown table with the run's parameters."""
    shapes = (f", sent as {', '.join(config.formats)} through an inputs file"
              f"{' (unkeyed messages keyed by account)' if config.keyed else ''}" if config.formats else "")
    lines = [
        f"{config.accounts} accounts, {events:,} events over {config.days} days of event time (seed "
        f"{config.seed}), one event per message{shapes}; clean run: {clean_alerts} alerts. Each drill is "
        "compared with the clean run, the chaos drill with a calm run of its own live input (see \"The chaos "
        "drill\").",
        "",
        "| drill | fault | alerts (missing / extra / changed) | valid events rejected | accounts whose state "
        "differs | views unlike the reference's / unlike saved | recovery | result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        a = o.alerts
        lines.append(f"| {o.name} | {o.fault} | {a.got} ({len(a.missing)} / {len(a.extra)} / {len(a.changed)}) | "
                     f"{o.rejected_extra} | {len(o.accounts_differing)} | "
                     f"{len(o.views_unlike_clean)} / {len(o.views_unlike_saved)} | {o.recovery_seconds:.1f} s | "
                     f"{'identical' if o.passed else 'CHANGED'} |")
    notes = [f"- {o.name}: {note}" for o in outcomes for note in [*o.problems, *o.notes]]
    return "\n".join(lines + ([""] + notes if notes else []))


def write_into(path: Path, text: str) -> None:
    """Replace the block between the drill markers of `path` with `text`."""
    doc = path.read_text()
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    path.write_text(doc[:start] + "\n" + text + "\n" + doc[end:])


async def _main(args: argparse.Namespace) -> int:
    until = datetime.combine(args.until, datetime.min.time(), tzinfo=UTC) if args.until else None
    config = DrillConfig(accounts=args.accounts, days=args.days, seed=args.seed,
                         until_ms=int(until.timestamp() * 1000) if until else 0, pause_seconds=args.pause_seconds,
                         kills=args.kills, chaos_seconds=args.chaos_seconds, chaos_faults=args.chaos_faults,
                         formats=tuple(args.format), keyed=args.keyed)
    names = args.only or list(DRILLS)
    if config.formats and "poison" in names:
        print("the poison drill sends healthmon's own shape: leave it out with --format (--only ...)", file=sys.stderr)
        return 2
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="healthmon-drills-"))
    workdir.mkdir(parents=True, exist_ok=True)

    def say(line: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

    say(f"logs in {workdir}")
    with Broker(workdir) as broker:
        drills = Drills(config, broker, os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), workdir, say)
        clean = await drills.clean()
        outcomes = []
        for name in names:
            say(f"{name} ...")
            outcomes.append(await DRILLS[name](drills))
    table = render_table(outcomes, config, drills.events, len({a["alert_id"] for a in clean.alerts}))
    print(table)
    if args.write:
        write_into(args.write, table)
    return 0 if all(o.passed for o in outcomes) else 1


def _formats(text: str) -> list[str]:
    """Parse `--format a,b` (argparse reports the ValueError of a bad name)."""
    from healthmon.generator.formats import plan_formats

    formats = [f.strip() for f in text.split(",") if f.strip()]
    try:
        plan_formats(formats)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return formats


def main() -> None:
    """Parse the command line and run the drills."""
    parser = argparse.ArgumentParser(prog="python -m healthmon.drills", description=__doc__)
    parser.add_argument("--accounts", type=int, default=60)
    parser.add_argument("--days", type=int, default=42)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--until", type=date.fromisoformat, default=None,
                        help="UTC date the traffic ends at (default: yesterday)")
    parser.add_argument("--pause-seconds", type=float, default=32.0)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--chaos-seconds", type=float, default=240.0,
                        help="how long the chaos drill's input takes to send (its faults strike meanwhile)")
    parser.add_argument("--chaos-faults", type=int, default=None,
                        help="the most faults the chaos drill strikes (default: as many as its input's time allows; "
                             "0: a calm run, which must equal its reference)")
    parser.add_argument("--only", action="append", choices=list(DRILLS),
                        help="run only this drill (repeatable)")
    parser.add_argument("--format", type=_formats, default=[],
                        help="send the traffic in these sources' shapes, comma-separated (segment, zendesk, delighted, "
                             "debezium, ...: `healthmon generate --format`'s names), read through an inputs file")
    parser.add_argument("--keyed", action="store_true",
                        help="with --format: key the messages a source sends without a key (Segment's tracks and "
                             "group calls) by their account, as a user who sets the key does")
    parser.add_argument("--workdir", default=None, help="where logs go (default: a new temporary directory)")
    parser.add_argument("--write", type=Path, default=None, help="write the table into this file's drill block")
    sys.exit(asyncio.run(_main(parser.parse_args())))


if __name__ == "__main__":
    main()
