"""`healthmon demo`: broker, worker and generator in one process tree, with a live view of alerts."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from healthmon.config import Settings
from healthmon.generator import Traffic, generate
from healthmon.generator.formats import EXAMPLE_TOPICS, NATIVE, Plan, plan_formats, shape_traffic
from healthmon.kafka.admin import ensure_topics
from healthmon.kafka.broker import BrokerError, free_port
from healthmon.kafka.connect import bootstrap_of, connect_broker
from healthmon.produce import ProduceStats, produce, produce_messages
from healthmon.tail import format_alert, iter_alerts

__all__ = ["DemoShapes", "demo_shapes", "run_demo", "send_shaped", "spawn_bridge", "spawn_worker", "wait_ready"]

#: the example inputs file the shaped demo reads its inputs from (the demo runs from a checkout)
EXAMPLE_INPUTS = Path(__file__).resolve().parents[1] / "deploy" / "inputs.example.yaml"
_KIND_WORDS = {"usage": "usage", "ticket": "tickets", "nps": "nps", "account": "accounts"}


@dataclass(frozen=True)
class DemoShapes:
    """The shaped demo: its formats' plan, the topics it sends to, and the inputs file the worker reads."""

    formats: list[str]
    plan: Plan
    #: (format, kind) -> topic, with the demo's prefix
    topic_map: dict[tuple[str, str], str]
    #: every input topic of the inputs file
    topics: list[str]
    inputs_file: Path


def demo_shapes(formats: list[str], prefix: str, workdir: Path) -> DemoShapes:
    """Plan `formats` (raise ValueError naming a bad one) and write the inputs file that reads them."""
    plan = plan_formats(formats)
    topic_map = {key: prefix + topic for key, topic in EXAMPLE_TOPICS.items()}
    needed = {(fmt, kind) for kind, fmt in plan.shapes.items() if fmt != NATIVE}
    if plan.links is not None:
        needed.add((plan.links, "account"))
    example = yaml.safe_load(EXAMPLE_INPUTS.read_text(encoding="utf-8"))["inputs"]
    inputs = [{**spec, "topic": prefix + spec["topic"]} for spec in example
              if (spec["format"], {v: k for k, v in _KIND_WORDS.items()}[spec["kind"]]) in needed]
    native = Settings(redis={"url": ""}, topics={"prefix": prefix}).topics.input_names
    inputs += [{"topic": native[kind], "kind": _KIND_WORDS[kind]} for kind, fmt in plan.shapes.items()
               if fmt == NATIVE]
    path = workdir / "inputs.yaml"
    path.write_text(yaml.safe_dump({"inputs": inputs}, sort_keys=False), encoding="utf-8")
    return DemoShapes(plan.formats, plan, topic_map, [i["topic"] for i in inputs], path)


async def send_shaped(settings: Settings, broker_url: str, traffic: Traffic, shapes: DemoShapes,
                      rate: float) -> ProduceStats:
    """Send the traffic in its shapes: the profiles and group calls first (a company's accounts exist before
    their usage), then everything else at `rate` messages/s."""
    messages = list(shape_traffic(traffic, shapes.plan, shapes.topic_map, settings.topics.input_names))
    first = await produce_messages(settings, broker_url, [m for m in messages if m.kind == "account"])
    rest = await produce_messages(settings, broker_url, [m for m in messages if m.kind != "account"], rate=rate)
    return ProduceStats(first.events + rest.events, first.messages + rest.messages, first.seconds + rest.seconds)


def spawn_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start `healthmon worker` as a child process logging to `log_path`."""
    log = open(log_path, "ab")
    try:
        return subprocess.Popen([sys.executable, "-m", "healthmon", "worker"], env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def wait_ready(port: int, proc: subprocess.Popen, timeout_s: float = 90.0) -> None:
    """Block until the worker's /readyz answers 200, or raise if it dies or times out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"worker not ready after {timeout_s:.0f} s")


def spawn_bridge(env: dict[str, str], log_path: Path, url: str) -> subprocess.Popen:
    """Start `healthmon alertmanager --url URL` as a child process logging to `log_path`."""
    log = open(log_path, "ab")
    try:
        return subprocess.Popen([sys.executable, "-m", "healthmon", "alertmanager", "--url", url], env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


def stop_process(proc: subprocess.Popen, timeout_s: float = 15.0) -> None:
    """SIGTERM a child process and SIGKILL it if it does not exit in time."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


async def _run(settings: Settings, broker_url: str, duration_s: float, accounts: int, seed: int,
               out: Callable[[str], None], shapes: DemoShapes | None = None) -> tuple[int, Counter, float]:
    traffic = generate(accounts=accounts, scenario="mixed", seed=seed,
                       start_ms=int(time.time() * 1000) - 43 * 86_400_000, days=42)
    records = list(traffic.records())
    rate = max(500.0, len(records) / max(1.0, duration_s * 0.6))
    plan = Counter(traffic.plan.values())
    out(f"demo: {accounts} accounts ({', '.join(f'{n} {k}' for k, n in sorted(plan.items()))}), "
        f"{len(records):,} events over 42 days of event time, sent at {rate:,.0f} events/s"
        + (f" as {', '.join(shapes.formats)}" if shapes is not None else ""))
    stop = asyncio.Event()
    counts: Counter = Counter()
    started = time.monotonic()
    last_alert = [started]

    async def watch() -> None:
        async for alert in iter_alerts(broker_url, settings.topics.alerts_name, from_beginning=True,
                                       stop=stop):
            counts[(alert.get("kind"), alert.get("status"))] += 1
            last_alert[0] = time.monotonic()
            out(format_alert(alert))

    watcher = asyncio.create_task(watch())
    if shapes is None:
        sent = await asyncio.wait_for(produce(settings, broker_url, records, rate=rate, batch_size=1),
                                      timeout=duration_s)
        out(f"demo: all {sent.events:,} events sent in {sent.seconds:.1f} s; waiting for the last alerts")
    else:
        sent = await asyncio.wait_for(send_shaped(settings, broker_url, traffic, shapes, rate), timeout=duration_s)
        out(f"demo: all {sent.messages:,} messages sent in {sent.seconds:.1f} s; waiting for the last alerts")
    deadline = started + duration_s
    while time.monotonic() < deadline and time.monotonic() - last_alert[0] < 8:
        await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(watcher, 10)
    return sent.events, counts, time.monotonic() - started


def run_demo(settings: Settings, duration_s: float = 90.0, accounts: int = 30, seed: int = 7,
             out: Callable[[str], None] = print, alertmanager_url: str = "", formats: list[str] | None = None) -> int:
    """Run the demo and return the process exit code.

    `formats` (`generate --format`'s names) sends the traffic in those sources' shapes, to the topics of
    deploy/inputs.example.yaml (with the demo's prefix), and the worker reads them through an inputs file.
    """
    broker_url, embedded = connect_broker(settings.kafka)
    run_id = f"{int(time.time())}-{os.getpid()}"
    settings = settings.replace(topics={"prefix": settings.topics.prefix or f"demo-{run_id}-"},
                                worker={"app_id": f"healthmon-demo-{run_id}"})
    workdir = Path(tempfile.mkdtemp(prefix="healthmon-demo-"))
    shapes = demo_shapes(formats, settings.topics.prefix, workdir) if formats else None
    port = free_port()
    env = {**os.environ, "KAFKA_BROKER_URL": broker_url, "HEALTHMON_APP_ID": settings.worker.app_id,
           "HEALTHMON_TOPIC_PREFIX": settings.topics.prefix, "HEALTHMON_WEB_PORT": str(port),
           "HEALTHMON_WEB_HOST": "127.0.0.1", "HEALTHMON_DATA_DIR": str(workdir / "data"),
           "HEALTHMON_PARTITIONS": str(settings.topics.partitions)}
    worker = bridge = None
    try:
        out(f"demo: broker {broker_url}{' (embedded Tansu)' if embedded else ''}; worker log {workdir}/worker.log")
        if shapes is not None:
            env["HEALTHMON_INPUTS_FILE"] = str(shapes.inputs_file)
            out(f"demo: inputs file {shapes.inputs_file} ({', '.join(shapes.topics)})")
        asyncio.run(ensure_topics(bootstrap_of(broker_url), settings.topics, settings.kafka,
                                  inputs=shapes.topics if shapes is not None else None,
                                  app_id=settings.worker.app_id))
        worker = spawn_worker(env, workdir / "worker.log")
        wait_ready(port, worker)
        out(f"demo: worker ready — API http://127.0.0.1:{port}/accounts, metrics http://127.0.0.1:{port}/metrics")
        if alertmanager_url:
            bridge_port = free_port()
            bridge = spawn_bridge({**env, "HEALTHMON_BRIDGE_PORT": str(bridge_port),
                                   "HEALTHMON_ACCOUNT_URL_BASE": f"http://127.0.0.1:{port}"},
                                  workdir / "bridge.log", alertmanager_url)
            out(f"demo: alerts go to Alertmanager {alertmanager_url} (bridge log {workdir}/bridge.log, metrics "
                f"http://127.0.0.1:{bridge_port}/metrics); see them with `amtool alert query "
                f"--alertmanager.url={alertmanager_url}`")
        events, counts, elapsed = asyncio.run(_run(settings, broker_url, duration_s, accounts, seed, out, shapes))
        if worker.poll() is not None:
            raise RuntimeError(f"worker died with code {worker.returncode}")
        total = sum(counts.values())
        kinds: Counter[str] = Counter()
        for (kind, _status), n in counts.items():
            kinds[kind] += n
        firing = sum(n for (k, s), n in counts.items() if s == "firing")
        out(f"demo: {events:,} events, {accounts} accounts, {elapsed:.0f} s: {total} alerts "
            f"({firing} firing, {total - firing} resolved): "
            + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
        return 0
    except (TimeoutError, RuntimeError, BrokerError) as exc:
        out(f"demo failed: {exc}")
        log = workdir / "worker.log"
        if log.exists():
            out("--- last worker log lines ---\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:]))
        return 1
    finally:
        if bridge is not None:
            stop_process(bridge)
        if worker is not None:
            stop_process(worker)
        if embedded is not None:
            embedded.stop()
