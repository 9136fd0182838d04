"""A fleet of agents against mosquitto: all online, no report lost, memory and broker load.

N emulated terminals (``agent.fleet.Fleet``, the engine of ``posemu fleet``) connect to a
private mosquitto (or ``--broker``) over a ramp, heartbeat every ``--heartbeat`` seconds and
each raise ``--faults`` fault reports through their outboxes. A console in the same process
(one MQTT client) counts every report. Checked at the end: every terminal came online, every
fault arrived exactly once after de-duplication, no heartbeat seq is missing. Printed: memory
per terminal (process RSS growth / N), broker messages/s (mosquitto's $SYS counters), CPU.

Run: ``.venv/bin/python -m benchmarks.fleet [--count 1000] [--heartbeat 10] [--duration 40]``
Target from the issue: 1,000 terminals at 10 s heartbeats, all online, nothing lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import aiomqtt

from agent.console import Console
from agent.fleet import Fleet
from agent.mosquitto import Mosquitto
from agent.mqtt import BrokerSettings, make_client, settle
from agent.service import AgentOptions

TARGET = 1000


def rss_kb(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int | str = "self") -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Counter:
    """The console side: every report once, heartbeat seqs per terminal."""

    def __init__(self) -> None:
        self.online: set[str] = set()
        self.beats: dict[str, set[int]] = defaultdict(set)
        self.faults: dict[str, int] = defaultdict(int)
        self.reports = 0
        self.console_reconnects = 0

    def add(self, body: dict) -> None:
        self.reports += 1
        tid, kind = body["tid"], body["type"]
        if kind == "status":
            (self.online.add if body["state"] == "online" else self.online.discard)(tid)
        elif kind == "heartbeat":
            self.beats[tid].add(body["seq"])
        elif kind == "fault":
            self.faults[body["id"]] += 1


async def sys_counters(settings: BrokerSettings, into: dict[str, float]) -> None:
    while True:
        client = make_client(settings, f"bench-sys-{os.getpid()}")
        try:
            async with client:
                await client.subscribe("$SYS/broker/messages/+", qos=0)
                async for m in client.messages:
                    with contextlib.suppress(ValueError, TypeError):
                        into[str(m.topic).rsplit("/", 1)[-1]] = float(m.payload)  # type: ignore[arg-type]
        except aiomqtt.MqttError:
            settle(client)
            await asyncio.sleep(0.5)


async def consume(console: Console, counter: Counter) -> None:
    """The console with a persistent session: a dropped connection (a loop too busy to
    answer keep-alives) loses nothing, the broker queues for it."""

    def on_state(up: bool, _reason: str) -> None:
        counter.console_reconnects += 0 if up else 1

    async for body in console.follow(persistent=True, on_state=on_state):
        counter.add(body)


async def run(args: argparse.Namespace, url: str, broker_pid: int | None) -> int:
    settings = BrokerSettings.from_url(url)
    counter = Counter()
    console = Console(
        settings, kinds=("status", "heartbeat", "fault"), identifier=f"bench-console-{os.getpid()}"
    )
    sysinfo: dict[str, float] = {}
    consumer = asyncio.create_task(consume(console, counter))
    sys_task = asyncio.create_task(sys_counters(settings, sysinfo))
    while not console.attached:  # subscribed before the first terminal says anything
        await asyncio.sleep(0.05)
    base_rss = rss_kb()
    base_fds = len(os.listdir("/proc/self/fd"))
    with tempfile.TemporaryDirectory() as tmp:
        options = AgentOptions(heartbeat_interval=args.heartbeat, flush_timeout=10)
        fleet = Fleet(settings, args.count, Path(tmp), options=options, ramp=args.ramp)
        t0 = time.monotonic()
        await fleet.start()
        deadline = t0 + args.ramp + 60
        while len(counter.online) < args.count and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        t_online = time.monotonic() - t0
        print(f"online: {len(counter.online)}/{args.count} after {t_online:.1f}s", flush=True)
        for i, agent in enumerate(fleet.agents):
            if i % 100 == 0:
                await asyncio.sleep(0)  # keep the connections served meanwhile
            for n in range(args.faults):
                code = ("printer.paper_out", "reader.offline", "host.timeouts")[n % 3]
                agent.faults.raise_(code, details={"bench": n})
        steady_from = time.monotonic()
        cpu0, bcpu0 = cpu_s(), cpu_s(broker_pid) if broker_pid else 0.0
        recv0, sent0 = sysinfo.get("received", 0.0), sysinfo.get("sent", 0.0)
        await asyncio.sleep(args.duration)
        mem_kb = rss_kb() - base_rss
        fds = len(os.listdir("/proc/self/fd")) - base_fds
        elapsed = time.monotonic() - steady_from
        cpu1, bcpu1 = cpu_s(), cpu_s(broker_pid) if broker_pid else 0.0
        recv1, sent1 = sysinfo.get("received", 0.0), sysinfo.get("sent", 0.0)
        online_end = len(counter.online)
        fleet_online = fleet.online()
        left = await fleet.stop(flush_timeout=10)
        # let the console drain what the broker queued for it: quiet for 3 s, at most 120 s
        quiet_since, seen, until = time.monotonic(), counter.reports, time.monotonic() + 120
        while time.monotonic() - quiet_since < 3 and time.monotonic() < until:
            await asyncio.sleep(0.5)
            if counter.reports != seen:
                quiet_since, seen = time.monotonic(), counter.reports
        acked = {a.identity.terminal_id: set(a.link.beats_acked) for a in fleet.agents}
    for task in (consumer, sys_task):
        task.cancel()
        with contextlib.suppress(BaseException):
            await task

    want_faults = args.count * args.faults
    got_faults = len(counter.faults)
    lost_beats = sum(len(seqs - counter.beats.get(tid, set())) for tid, seqs in acked.items())
    beats_total = sum(len(seqs) for seqs in acked.values())
    print(f"terminals online during the run: {online_end}/{args.count} (fleet side {fleet_online})")
    print(
        f"faults: {got_faults}/{want_faults} arrived, duplicates dropped: "
        f"{console.dedup.duplicates}, left in outboxes: {left}"
    )
    print(f"heartbeats: {beats_total} sent and acknowledged, {lost_beats} missing at the console")
    reconnects = sum(max(a.link.connects - 1, 0) for a in fleet.agents)
    print(f"reconnects: terminals {reconnects}, console {counter.console_reconnects}")
    print(
        f"memory per terminal: {mem_kb / args.count:.0f} kB "
        f"(process RSS +{mem_kb / 1024:.1f} MB for {args.count})"
    )
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    print(
        f"file descriptors per terminal: {fds / args.count:.1f} (limit {limit}: at most "
        f"~{int(limit / max(fds / args.count, 1e-9))} terminals per process)"
    )
    if recv1 > recv0:
        print(
            f"broker messages/s over {elapsed:.0f}s: received {(recv1 - recv0) / elapsed:.0f}, "
            f"sent {(sent1 - sent0) / elapsed:.0f}"
        )
    print(
        f"CPU over the steady window: fleet+console {100 * (cpu1 - cpu0) / elapsed:.1f}%"
        + (f", mosquitto {100 * (bcpu1 - bcpu0) / elapsed:.1f}%" if broker_pid else "")
    )
    ok = online_end == args.count and got_faults == want_faults and lost_beats == 0 and left == 0
    print(
        f"ratio to the issue's target ({TARGET} terminals at 10 s): "
        f"{online_end / TARGET:.2f} x terminals online; {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.fleet", description=__doc__)
    p.add_argument("--count", type=int, default=TARGET)
    p.add_argument("--heartbeat", type=float, default=10.0)
    p.add_argument("--duration", type=float, default=40.0, help="steady seconds after ramp")
    p.add_argument("--ramp", type=float, default=10.0, help="seconds to spread connects over")
    p.add_argument("--faults", type=int, default=2, help="fault reports per terminal")
    p.add_argument("--broker", help="use this broker instead of a private mosquitto")
    args = p.parse_args(argv)
    # a hang shows where it is instead of just timing out
    faulthandler.dump_traceback_later(args.ramp + args.duration + 180, exit=True)
    if args.broker:
        return asyncio.run(run(args, args.broker, None))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            broker = Mosquitto(Path(tmp), extra_config="sys_interval 1\nmax_connections -1\n")
        except FileNotFoundError as exc:
            print(f"skip: {exc}")
            return 0
        broker.start()
        try:
            assert broker.proc is not None
            return asyncio.run(run(args, broker.url, broker.proc.pid))
        finally:
            broker.stop()


if __name__ == "__main__":
    sys.exit(main())
