"""Webhook ingest throughput, measured as an outsider would: wrk against three apps under the same gunicorn
settings, in one run.

    python -m bench.webhooks                 # PostgreSQL on 127.0.0.1:5432 (a fresh database, dropped after)
    python -m bench.webhooks --sqlite        # the embedded SQLite database instead
    python -m bench.webhooks --help          # rounds, duration, workers, threads, connections, events, ...

The apps: bare Flask (bench/bare_app.py: reads the body, answers 200; the ceiling), a naive receiver
(bench/naive_app.py: HMAC check + one SQLAlchemy INSERT and commit per request) and zoombot. Each gets
`--events` (80,000) distinct `meeting.participant_joined` / `_left` deliveries, 600 per meeting instance,
for instances that never had a `meeting.started` (a receiver that comes up mid-meeting), signed with a
timestamp valid for the whole run and written to a file that `wrk -t2 -c32 -d10s -s bench/replay.lua`
replays (bench/replay.lua: each wrk thread sends its own share of the lines, so every request is a
distinct event). Printed per round: events/s, the ratio to bare Flask, p50/p99, non-2xx answers and the
CPU the gunicorn workers spent per event; after the last round, the medians, and a check that zoombot
stored every event it answered 200 for. Issue 16's goal: zoombot >= 0.5 of bare on PostgreSQL with
p99 < 100 ms, >= 0.4 on SQLite with p99 < 250 ms, zero non-2xx. Needs wrk (`apt-get install wrk`;
`make bench` installs it). Loopback only; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid as uuid_module
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from bench.httpdriver import SECRET  # noqa: E402
from bench.scratch import DEFAULT_SERVER, BenchDatabase  # noqa: E402
from tests.helpers.servers import ServerProcess, zoombot_env  # noqa: E402
from webhooks.signature import sign  # noqa: E402

REPLAY = REPO / "bench" / "replay.lua"
FIRST_NAMES = [
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Eun-ji",
    "Farah",
    "Gus",
    "Hana",
    "Ines",
    "Jamal",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tuan",
]
LAST_NAMES = ["Alvarez", "Brooks", "Chen", "Diallo", "Evans", "Fischer", "Garcia", "Huang", "Ivanova", "Jones"]
APPS = {
    "bare Flask": "bench.bare_app:create_app()",
    "naive": "bench.naive_app:create_app()",
    "zoombot": "zoombot.app:create_app()",
}


def zoom_uuid(seed: str) -> str:
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()[:16]).decode()


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_events(count: int, *, tag: str, per_meeting: int = 600) -> list[bytes]:
    """`count` distinct participant events, `per_meeting` to a meeting instance, in the order Zoom sends
    them; no instance has a meeting.started. Each person joins, and later leaves, from one device."""
    start = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)
    events = []
    for i in range(count):
        meeting, j = divmod(i, per_meeting)
        person, leaving = divmod(j, 2)
        meeting_uuid = zoom_uuid(f"{tag}-{meeting}")
        first, last = FIRST_NAMES[person % len(FIRST_NAMES)], LAST_NAMES[(person // len(FIRST_NAMES)) % len(LAST_NAMES)]
        at = start + timedelta(seconds=7 * person + (3600 if leaving else 0))
        participant = {
            "user_id": str(16778240 + person),
            "user_name": f"{first} {last} {person}",
            "id": "",
            "participant_uuid": zoom_uuid(f"{tag}-{meeting}-device-{person}")[:22],
            "email": f"{first.lower()}.{last.lower()}.{person}@example.org",
            "registrant_id": "",
            "participant_user_id": "",
        }
        if leaving:
            participant.update(leave_time=iso(at), leave_reason="left the meeting. Reason : left the meeting")
        else:
            participant["join_time"] = iso(at)
        body = {
            "event": "meeting.participant_left" if leaving else "meeting.participant_joined",
            "event_ts": int(at.timestamp() * 1000),
            "payload": {
                "account_id": "AbCdEfGh123",
                "object": {
                    "id": str(81234567890 + meeting),
                    "uuid": meeting_uuid,
                    "host_id": "x1yCzABCDEfg23HiJKl4mN",
                    "topic": "Infant-Toddler CoP",
                    "type": 8,
                    "start_time": iso(start),
                    "timezone": "America/New_York",
                    "duration": 120,
                    "participant": participant,
                },
            },
        }
        events.append(json.dumps(body).encode())
    return events


def write_requests(path: Path, bodies: list[bytes], timestamp: str) -> Path:
    """The file bench/replay.lua reads: the timestamp, then `<signature> <body>` per line."""
    with open(path, "wb") as f:
        f.write(timestamp.encode() + b"\n")
        for body in bodies:
            f.write(sign(SECRET, timestamp, body).encode() + b" " + body + b"\n")
    return path


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int
    wraps: int
    cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(port: int, requests_file: Path, *, threads: int, connections: int, seconds: float) -> WrkResult:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "-s",
        str(REPLAY),
        f"http://127.0.0.1:{port}",
        "--",
        str(requests_file),
        str(threads),
    ]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, check=True).stdout
    match = re.search(r"^RESULT (.*)$", out, re.M)
    if not match:
        raise RuntimeError(f"wrk printed no RESULT line:\n{out}")
    fields = dict(pair.split("=") for pair in match.group(1).split())
    return WrkResult(
        requests=int(fields["requests"]),
        seconds=int(fields["duration_us"]) / 1e6,
        p50_ms=int(fields["p50_us"]) / 1000,
        p99_ms=int(fields["p99_us"]) / 1000,
        non2xx=int(fields["non2xx"]),
        socket_errors=int(fields["socket_errors"]),
        wraps=int(fields["wraps"]),
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants (the gunicorn master and workers), from /proc:
    the live ones, plus the master's reaped children (gunicorn recycles a worker after max_requests)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, queue = 0.0, [pid]
    while queue:
        current = queue.pop()
        try:
            with open(f"/proc/{current}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            reaped = int(fields[13]) + int(fields[14]) if current == pid else 0
            total += (int(fields[11]) + int(fields[12]) + reaped) / tick
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    queue.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return total


def server_pair(database: BenchDatabase, args: argparse.Namespace) -> tuple[ServerProcess, ServerProcess]:
    """zoombot and the bare Flask ceiling, under the same gunicorn settings, against one database
    (bench/load.py)."""
    servers = start_servers(database, args, ["zoombot", "bare Flask"])
    return servers["zoombot"], servers["bare Flask"]


def start_servers(database: BenchDatabase, args: argparse.Namespace, names: list[str]) -> dict[str, ServerProcess]:
    """Every app under the project's own gunicorn settings (deploy/gunicorn.conf.py: keep-alive, timeouts,
    no access log), workers, worker class and threads as given, and no worker recycling: at these rates
    max_requests would restart each worker every few seconds, cold, which production never sees."""
    settings = dict(
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
        extra_args=("--config", str(REPO / "deploy" / "gunicorn.conf.py"), "--max-requests", "0"),
    )
    return {name: ServerProcess(zoombot_env(database.url, secret=SECRET), app=APPS[name], **settings) for name in names}


def ensure_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("bench.webhooks: wrk is not installed (apt-get install wrk, or `make bench`)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="use a SQLite file instead of PostgreSQL")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_SERVER,
        help="PostgreSQL server to create the bench database on (default: %(default)s)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", help="gunicorn worker class, every app")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker, every app")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="wrk duration per app per round")
    parser.add_argument("--warmup-seconds", type=float, default=2.0, help="wrk warm-up per app per round")
    # 80 000: more than an app that stores them takes in 10 s, so every request it answers is a distinct
    # event (with 40 000, zoombot's wrk threads ran out and started over, and the repeats, redeliveries
    # to zoombot, went down its general path: 2% of its requests); only bare Flask still starts over
    parser.add_argument("--events", type=int, default=80_000, help="distinct events per app per round")
    parser.add_argument("--per-meeting", type=int, default=600, help="events per meeting instance")
    parser.add_argument("--rounds", type=int, default=1, help="repeat all three apps this many times")
    parser.add_argument("--apps", default=",".join(APPS), help="comma-separated subset of: " + ", ".join(APPS))
    args = parser.parse_args(argv)
    ensure_wrk()
    names = [name.strip() for name in args.apps.split(",")]

    database = BenchDatabase(args.sqlite, args.postgres_url)
    servers = start_servers(database, args, names)
    scratch = Path(tempfile.mkdtemp(prefix="zoombot-wrk-"))
    answered = {name: 0 for name in names}  # 2xx answers, warm-up included
    wrapped = {name: 0 for name in names}
    results: dict[str, list[WrkResult]] = {name: [] for name in names}
    try:
        for server in servers.values():
            server.start()
        print(
            f"webhook ingest bench: {database.label}; gunicorn {args.workers} workers, {args.worker_class} "
            f"x{args.threads} threads (every app); wrk -t{args.wrk_threads} -c{args.connections} "
            f"-d{args.seconds:g}s replaying {args.events} distinct signed participant events per app and round "
            f"({args.per_meeting} per meeting instance, no meeting.started); {os.cpu_count()} CPUs",
            flush=True,
        )
        timestamp = str(int(time.time()))  # valid for [zoom] timestamp_tolerance_seconds (5400 s)
        for round_number in range(1, args.rounds + 1):
            print(
                f"\nround {round_number}\n{'app':<11} {'events/s':>9} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} "
                f"{'non-2xx':>7} {'errors':>6} {'wraps':>5} {'worker CPU/event':>17}",
                flush=True,
            )
            for name in names:
                tag = f"{name[:5]}-{round_number}-{uuid_module.uuid4().hex[:6]}"
                warm = write_requests(
                    scratch / "warm.txt", make_events(12_000, tag="warm" + tag, per_meeting=args.per_meeting), timestamp
                )
                warm_result = run_wrk(
                    servers[name].port,
                    warm,
                    threads=args.wrk_threads,
                    connections=args.connections,
                    seconds=args.warmup_seconds,
                )
                answered[name] += warm_result.requests - warm_result.non2xx
                wrapped[name] += warm_result.wraps
                measured = write_requests(
                    scratch / "events.txt", make_events(args.events, tag=tag, per_meeting=args.per_meeting), timestamp
                )
                cpu_before = cpu_seconds(servers[name].pid)
                result = run_wrk(
                    servers[name].port,
                    measured,
                    threads=args.wrk_threads,
                    connections=args.connections,
                    seconds=args.seconds,
                )
                result.cpu_seconds = cpu_seconds(servers[name].pid) - cpu_before
                results[name].append(result)
                answered[name] += result.requests - result.non2xx
                wrapped[name] += result.wraps
                print(line(name, result, results.get("bare Flask", [None])[-1]), flush=True)
        print(summary(results, args))
        return verify_stored(database, answered, wrapped, args)
    finally:
        for server in servers.values():
            server.stop()
        database.drop()
        shutil.rmtree(scratch, ignore_errors=True)


def line(name: str, result: WrkResult, bare: WrkResult | None) -> str:
    ratio = result.rate / bare.rate if bare and bare.rate else float("nan")
    per_event = result.cpu_seconds / result.requests * 1e6 if result.requests else float("nan")
    return (
        f"{name:<11} {result.rate:>9.0f} {ratio:>6.2f} {result.p50_ms:>7.1f} {result.p99_ms:>7.1f} "
        f"{result.non2xx:>7} {result.socket_errors:>6} {result.wraps:>5} {per_event:>14.0f} µs"
    )


def summary(results: dict[str, list[WrkResult]], args: argparse.Namespace) -> str:
    out = [f"\nmedians over {args.rounds} round(s)"]
    bare = results.get("bare Flask")
    for name, runs in results.items():
        ratios = [r.rate / b.rate for r, b in zip(runs, bare, strict=True)] if bare else []
        text = (
            f"{name:<11} {statistics.median(r.rate for r in runs):>9.0f} events/s, p99 "
            f"{statistics.median(r.p99_ms for r in runs):.1f} ms (worst {max(r.p99_ms for r in runs):.1f}), "
            f"non-2xx {sum(r.non2xx for r in runs)}"
        )
        if ratios and name != "bare Flask":
            text += f", ratio median {statistics.median(ratios):.2f} (range {min(ratios):.2f}-{max(ratios):.2f})"
        out.append(text)
    if "zoombot" in results and bare:
        goal_ratio, goal_p99 = (0.4, 250) if args.sqlite else (0.5, 100)
        ratios = [r.rate / b.rate for r, b in zip(results["zoombot"], bare, strict=True)]
        runs = results["zoombot"]
        met = (
            statistics.median(ratios) >= goal_ratio
            and statistics.median(r.p99_ms for r in runs) < goal_p99
            and not any(r.non2xx for r in runs)
        )
        out.append(
            f"goal: zoombot >= {goal_ratio} of bare with p99 < {goal_p99} ms and no non-2xx: "
            f"{'met' if met else 'NOT met'} (by the medians)"
        )
    return "\n".join(out)


def verify_stored(
    database: BenchDatabase, answered: dict[str, int], wrapped: dict[str, int], args: argparse.Namespace
) -> int:
    """Every 200 stored a row: the rows of an app (the naive one stores status 'received', zoombot
    'processed') number at least its 2xx answers, and at most that plus the requests in flight when
    each wrk run stopped (stored, but never counted as answered). A wrap resends events: fewer rows."""
    statuses = {"naive": "status = 'received'", "zoombot": "status <> 'received'"}
    failed = 0
    for name, where in statuses.items():
        if name not in answered:
            continue
        stored = database.count_events(where)
        in_flight = args.connections * 2 * args.rounds
        ok = stored <= answered[name] + in_flight and (wrapped[name] or answered[name] <= stored)
        print(
            f"{name}: {answered[name]} answered 2xx, {stored} rows stored "
            f"({'consistent' if ok else 'INCONSISTENT'}{', some events sent twice' if wrapped[name] else ''})"
        )
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
