"""The drills: the same input run once cleanly and once per fault; every fault must change nothing."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from healthmon.core import Engine, load_policy
from healthmon.drills.chaos import chaos, send_steadily, stall_free_policy
from healthmon.drills.compare import Outcome, changed_fields, diff_alerts, diff_health
from healthmon.drills.config import DrillConfig
from healthmon.drills.harness import Broker, Run, RunOutputs
from healthmon.drills.views import diff_views, settled_view
from healthmon.generator import Record, Traffic, generate

__all__ = ["DRILLS", "DrillConfig", "Drills"]

DAY_MS = 86_400_000
#: A worker must exit within this long of SIGTERM, whatever it was doing (issue #10, #16).
STOP_LIMIT_SECONDS = 15


class Drills:
    """Runs the clean reference and each fault on identical input, on one private broker."""

    def __init__(self, config: DrillConfig, broker: Broker, redis_url: str, workdir: Path,
                 say: Callable[[str], None] = lambda line: None) -> None:
        self.config = config
        self.broker = broker
        self.redis_url = redis_url
        self.workdir = workdir
        self.say = say
        until = config.until_ms or (int(time.time() * 1000) // DAY_MS - 1) * DAY_MS
        self.traffic: Traffic = generate(accounts=config.accounts, scenario="mixed", seed=config.seed,
                                         start_ms=until - config.days * DAY_MS, days=config.days)
        # Event-time order across inputs: any prefix of it is a consistent cut, as a live stream would be.
        self.records: list[Record] = sorted(self.traffic.records(), key=lambda r: r.occurred_at)
        self.events = len(self.records)
        self._clean: RunOutputs | None = None
        self._live: RunOutputs | None = None
        self._live_policy: Path | None = None
        self._engines: dict[Path, Engine] = {}

    def _run(self, name: str, **sections: dict[str, Any]) -> Run:
        return Run(self.broker, self.redis_url, self.workdir, name, traffic=self.traffic,
                   formats=self.config.formats, keyed=self.config.keyed, **sections)

    def live_run(self, name: str) -> Run:
        """Return a run of the input sent live, on a policy under which the traffic has no stall of its own."""
        if self._live_policy is None:
            settings = self._run("policy").settings
            path, raised = stall_free_policy(self.records, settings.topics.partitions, settings.engine.policy_file,
                                             self.workdir / "live-policy.yaml")
            self._live_policy = path
            self.say("live runs: stale_after_seconds raised above the traffic's quiet spells: "
                     + (", ".join(f"{s} {v / 86400:g} d" for s, v in raised.items()) or "none needed"))
        return self._run(name, engine={"policy_file": self._live_policy})

    def _engine(self, run: Run) -> Engine:
        path = run.settings.engine.policy_file
        if path not in self._engines:
            self._engines[path] = Engine(load_policy(path))
        return self._engines[path]

    async def clean(self) -> RunOutputs:
        """Run the input once without faults (the reference); cached."""
        if self._clean is None:
            run = self._run("clean")
            await run.create_topics()
            await run.send(self.records)
            run.start_worker()
            await run.wait_committed()
            view = await settled_view(run, self._engine(run))
            waits = run.link_waits()
            run.stop()
            self._clean = await run.outputs(self.traffic, view)
            self.say(f"clean: {len(self._clean.alerts)} alerts, dead letters {dict(self._clean.dead_letters)}, "
                     f"{len(view.unlike_saved)} accounts read otherwise than saved"
                     + (f", events held for a link: {dict(waits)}" if waits else ""))
        return self._clean

    async def live(self) -> RunOutputs:
        """Run the input as the chaos drill sends it (same workers, rate, order) without faults: its reference."""
        if self._live is None:
            run = self.live_run("live")
            await run.create_topics()
            for _ in range(self.config.chaos_workers):
                await asyncio.to_thread(run.start_worker)
            await send_steadily(run, self.records, self.config.chaos_seconds)
            await run.wait_committed()
            view = await settled_view(run, self._engine(run))
            run.stop()
            self._live = await run.outputs(self.traffic, view)
            self.say(f"live: {len(self._live.alerts)} alerts, dead letters {dict(self._live.dead_letters)}, "
                     f"{len(view.unlike_saved)} accounts read otherwise than saved")
        return self._live

    async def _finish(self, run: Run, name: str, fault: str, fault_end: float, notes: list[str],
                      check: Callable[[Outcome, RunOutputs], None] = lambda outcome, got: None,
                      reference: RunOutputs | None = None) -> Outcome:
        done = await run.wait_committed()
        view = await settled_view(run, self._engine(run))
        waits = run.link_waits()
        if waits:  # held events come later than their partition's other events: an evaluation may move
            notes.append("events held for an account link: " + ", ".join(f"{n} {o}" for o, n in sorted(waits.items())))
        codes = run.stop()
        if any(code not in (0, None) for code in codes):
            notes.append(f"workers exited with {codes}")
        rereads = run.stuck_rereads()
        if rereads:
            notes.append(f"{rereads} stuck partition(s) read again")
        got = await run.outputs(self.traffic, view)
        clean = reference or await self.clean()
        assert clean.view is not None
        outcome = Outcome(name=name, fault=fault, alerts=diff_alerts(clean.alerts, got.alerts),
                          dead_letters=got.dead_letters, clean_dead_letters=clean.dead_letters,
                          accounts_differing=diff_health(clean.health, got.health),
                          recovery_seconds=max(0.0, done - fault_end), events=self.events, notes=notes,
                          views_unlike_clean=diff_views(clean.view.views, view.views),
                          views_unlike_saved=view.unlike_saved)
        for label, accounts in (("view unlike the clean run's", outcome.views_unlike_clean),
                                ("view unlike its saved state", outcome.views_unlike_saved)):
            if accounts:
                notes.append(f"{label}: {', '.join(accounts[:8])}{' ...' if len(accounts) > 8 else ''}")
        check(outcome, got)
        if not outcome.alerts.identical:
            kinds = {a["alert_id"]: (a["kind"], a["status"]) for a in [*clean.alerts, *got.alerts]}
            for label, ids in (("missing", outcome.alerts.missing), ("extra", outcome.alerts.extra),
                               ("changed", outcome.alerts.changed)):
                if ids:
                    counts = Counter(f"{k} {s}" for k, s in (kinds[i] for i in ids))
                    notes.append(f"{label} alerts: " + ", ".join(f"{n} {ks}" for ks, n in sorted(counts.items())))
            notes.extend(changed_fields(clean.alerts, got.alerts, i) for i in outcome.alerts.changed[:4])
        self.say(f"{name}: {'ok' if outcome.passed else 'CHANGED'} {outcome.alerts}")
        return outcome

    async def _started(self, name: str) -> tuple[Run, list[str]]:
        run = self._run(name)
        await run.create_topics()
        await run.send(self.records)
        run.start_worker()
        run.wait_processed(self.events * self.config.trigger_ratio)
        return run, []

    async def tight_buffer(self) -> Outcome:
        """The inputs that run ahead are paused after a handful of queued messages, again and again."""
        run = self._run("tight-buffer", alignment={"max_queued_messages": 8})
        await run.create_topics()
        await run.send(self.records)
        began = time.monotonic()
        run.start_worker()
        return await self._finish(run, "tight-buffer", "inputs running ahead paused after 8 queued messages "
                                  "(HEALTHMON_ALIGN_MAX_QUEUED_MESSAGES=8)", began, [])

    async def rebalance_sigterm(self) -> Outcome:
        """A second worker joins mid-load and leaves by SIGTERM a few seconds later."""
        run, notes = await self._started("rebalance-sigterm")
        second = run.start_worker()
        await asyncio.sleep(self.config.leave_after_seconds)
        began = time.monotonic()
        code = second.stop(timeout_s=STOP_LIMIT_SECONDS)  # SIGKILLed past the limit
        took = time.monotonic() - began
        notes.append(f"the leaving worker exited {took:.1f} s after SIGTERM (code {code})")
        outcome = await self._finish(run, "rebalance-sigterm", "a 2nd worker joins mid-load, leaves by SIGTERM "
                                     f"{self.config.leave_after_seconds:g} s later", time.monotonic(), notes)
        if code != 0:
            outcome.problems.append(f"the leaving worker did not stop cleanly within {STOP_LIMIT_SECONDS} s of "
                                    f"SIGTERM (exit code {code})")
        return outcome

    async def rebalance_sigkill(self) -> Outcome:
        """A second worker joins mid-load and is SIGKILLed 1 s after it is ready."""
        run, notes = await self._started("rebalance-sigkill")
        second = run.start_worker()
        await asyncio.sleep(1.0)
        second.proc.kill()
        second.proc.wait(10)
        return await self._finish(run, "rebalance-sigkill", "a 2nd worker joins mid-load, SIGKILLed 1 s after ready",
                                  time.monotonic(), notes)

    async def broker_pause(self) -> Outcome:
        """The broker is frozen (SIGSTOP) mid-load, then resumed."""
        run, notes = await self._started("broker-pause")
        self.broker.pause()
        try:
            await asyncio.sleep(self.config.pause_seconds)
        finally:
            self.broker.resume()
        return await self._finish(run, "broker-pause",
                                  f"broker paused (SIGSTOP) {self.config.pause_seconds:g} s mid-load",
                                  time.monotonic(), notes)

    async def outage(self) -> Outcome:
        """The worker is down while the last days of events arrive, then catches up."""
        run = self._run("outage")
        await run.create_topics()
        cut = self.traffic.end_ms - self.config.outage_days * DAY_MS
        before = [r for r in self.records if r.occurred_at < cut]
        await run.send(before)
        run.start_worker()
        await run.wait_committed()
        run.stop()
        await run.send(self.records[len(before):])
        began = time.monotonic()
        run.start_worker()
        return await self._finish(run, "outage", f"worker down while the last {self.config.outage_days} days arrive",
                                  began, [f"{self.events - len(before):,} events arrived during the outage"])

    async def sigkills(self) -> Outcome:
        """The worker is SIGKILLed at random points of its run, again and again."""
        run = self._run("sigkills")
        await run.create_topics()
        await run.send(self.records)
        rng = random.Random(self.config.seed)
        for _ in range(self.config.kills):
            worker = run.start_worker()
            await asyncio.sleep(rng.uniform(0.2, 3.0))
            worker.proc.kill()
            worker.proc.wait(10)
        committed = await run.committed()
        began = time.monotonic()
        run.start_worker()
        return await self._finish(run, "sigkills", f"{self.config.kills} SIGKILLs at random points",
                                  began,
                                  [f"{committed:,} of {run.messages:,} input offsets committed before the last start"])

    async def poison(self) -> Outcome:
        """Malformed and oversized messages mid-stream: each dead-lettered once, the rest unchanged."""
        run = self._run("poison")
        await run.create_topics()
        half = len(self.records) // 2
        await run.send(self.records[:half])
        account = self.records[half].key
        usage = {"event_id": "poison-1970", "account_id": account, "user_id": "u-poison", "feature": "login"}
        poison = [
            ("usage", [b"x" * (2 * 1024 * 1024)], account.encode()),
            ("usage", [orjson.dumps({**usage, "occurred_at": 0})], None),
            ("usage", [orjson.dumps({**usage, "event_id": "poison-1", "occurred_at": "0001-01-01T00:00:00Z"})],
             b"\xff\xfe"),
            ("ticket", [b"\x00 not json"], account.encode()),
        ]
        for kind, values, key in poison:
            await run.send_raw(kind, values, key)
        await run.send(self.records[half:])
        run.start_worker()

        def check(outcome: Outcome, got: RunOutputs) -> None:
            letters = [d for d in got.dead_letter_records if d["reason"] not in outcome.clean_dead_letters]
            sources = {(d["source_topic"], d["source_partition"], d["source_offset"]) for d in letters}
            if not {topic for topic, _, _ in sources} <= set(run.settings.topics.input_names.values()):
                outcome.problems.append(f"a poison message's dead letter names no input topic: {sorted(sources)}")
            if len(letters) != len(poison) or len(sources) != len(poison):
                outcome.problems.append(f"expected {len(poison)} dead letters, one per poison message; got "
                                        f"{[(d['reason'], d['source_topic'], d['source_offset']) for d in letters]}")
            if any(d["reason"] == "processing_error" for d in letters):
                outcome.problems.append("a poison message was judged only while processing (processing_error)")
            outcome.dead_letters = outcome.dead_letters - Counter(d["reason"] for d in letters)
            outcome.notes.append("dead letters: " + ", ".join(sorted(
                f"{d['reason']} at {d['source_topic'].removeprefix(run.settings.topics.prefix)}"
                f"[{d['source_partition']}]@{d['source_offset']}" for d in letters)))

        return await self._finish(run, "poison", "a 2 MB message, events dated 1970 and year 1 with null and "
                                  "non-UTF-8 keys, a non-JSON message", time.monotonic(), [], check)


DRILLS: dict[str, Callable[[Drills], Awaitable[Outcome]]] = {
    "rebalance-sigterm": Drills.rebalance_sigterm,
    "rebalance-sigkill": Drills.rebalance_sigkill,
    "broker-pause": Drills.broker_pause,
    "outage": Drills.outage,
    "sigkills": Drills.sigkills,
    "poison": Drills.poison,
    "tight-buffer": Drills.tight_buffer,
    "chaos": chaos,
}
