"""Building a statewide year of credit lines: 200 communities x 12 sessions x 25 participants.

    python -m bench.records                      # pure core + rebuild through a temporary SQLite file
    python -m bench.records --database postgresql://postgres@127.0.0.1:5432/postgres
    python -m bench.records --pure-only
    python -m bench.records --database postgresql://... --workers 2   # also the rebuild split over 2 processes
    python -m bench.records --rounds 5           # rounds of pure core then rebuild, the median ratio at the end

About 240 000 events: each meeting has its start and end, and each participant joins and leaves, some
rejoin, some use two devices, some wait in the waiting room first. Two figures, each against the 3 s
ceiling: the pure core (events -> session attendance -> credit lines, no I/O), and `zoombot attendance
rebuild` over the same events stored in a real database (load events, place instances in sessions,
compute, write participants and lines, audit entries included, the rules in a process of their own:
`zoombot.store.rules_process`), the second also as a ratio to the first measured in the same round (goal:
within 2x). A shared machine's speed drifts by a fifth from one minute to the next, so each round measures
both, and the median of the rounds' ratios is the figure. On PostgreSQL the database is vacuumed and
analyzed as autovacuum leaves it: once the year's events are stored (they are months old by the time
anyone rebuilds them), and each round after the derived tables are emptied.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid as uuid_module
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text

from bench.scratch import BenchDatabase
from zoombot.config import load_settings
from zoombot.core import attendance, credit, hours
from zoombot.store.db import Database
from zoombot.store.models import CreditLine, ZoomEvent

CEILING_SECONDS = 3.0
REBUILD_GOAL_RATIO = 2.0  # the rebuild through the database within twice the pure core, same run
COMMUNITIES, MEETINGS, PARTICIPANTS = 200, 12, 25


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def year_of_events(seed: int = 7) -> list[dict]:
    """Realistic webhook bodies for every meeting of the year (deterministic for a seed)."""
    rng = random.Random(seed)
    bodies: list[dict] = []
    first = datetime(2026, 1, 13, 23, 30, tzinfo=UTC)
    for c in range(COMMUNITIES):
        meeting_id = f"8{c:010d}"
        for m in range(MEETINGS):
            start = first + timedelta(days=28 * m, minutes=15 * (c % 8))
            end = start + timedelta(minutes=120 + rng.randint(-5, 10))
            obj = {
                "id": meeting_id,
                "uuid": f"bench{c:03d}{m:02d}==",
                "host_id": "host",
                "topic": f"CoP {c}",
                "type": 8,
                "start_time": _iso(start),
                "timezone": "America/New_York",
                "duration": 120,
            }

            def add(name: str, when: datetime, extra: dict, obj: dict = obj) -> None:
                bodies.append(
                    {
                        "event": name,
                        "event_ts": int(when.timestamp() * 1000) + len(bodies) % 1000,
                        "payload": {"account_id": "acct", "object": {**obj, **extra}},
                    }
                )

            add("meeting.started", start, {})
            for p in range(PARTICIPANTS):
                who = {
                    "user_name": f"Participant {c}-{p}",
                    "email": f"p{c}-{p}@example.org",
                    "id": "",
                    "registrant_id": "",
                    "participant_user_id": "",
                }
                join = start + timedelta(seconds=rng.randint(0, 900))
                leave = end - timedelta(seconds=rng.randint(0, 1200))
                kind = p % 5
                if kind == 0:  # waiting room first, then admitted
                    device = {**who, "user_id": f"{p}w", "participant_uuid": f"d{c}-{p}"}
                    add(
                        "meeting.participant_joined_waiting_room",
                        join - timedelta(minutes=2),
                        {"participant": {**device, "date_time": _iso(join - timedelta(minutes=2))}},
                    )
                    add(
                        "meeting.participant_left_waiting_room",
                        join,
                        {"participant": {**device, "date_time": _iso(join)}},
                    )
                    add("meeting.participant_admitted", join, {"participant": {**device, "date_time": _iso(join)}})
                if kind == 3:  # a breakout room in the middle
                    device = {**who, "user_id": f"{p}", "participant_uuid": f"d{c}-{p}"}
                    room_in, room_out = start + timedelta(minutes=50), start + timedelta(minutes=75)
                    add(
                        "meeting.participant_joined_breakout_room",
                        room_in,
                        {"participant": {**device, "join_time": _iso(room_in)}},
                    )
                    add(
                        "meeting.participant_left_breakout_room",
                        room_out,
                        {"participant": {**device, "leave_time": _iso(room_out)}},
                    )
                if kind == 1:  # a rejoin
                    gap = join + timedelta(minutes=40)
                    add(
                        "meeting.participant_joined",
                        join,
                        {
                            "participant": {
                                **who,
                                "user_id": f"{p}a",
                                "participant_uuid": f"d{c}-{p}",
                                "join_time": _iso(join),
                            }
                        },
                    )
                    add(
                        "meeting.participant_left",
                        gap,
                        {
                            "participant": {
                                **who,
                                "user_id": f"{p}a",
                                "participant_uuid": f"d{c}-{p}",
                                "leave_time": _iso(gap),
                            }
                        },
                    )
                    join = gap + timedelta(minutes=3)
                if kind == 2:  # a second device, overlapping
                    add(
                        "meeting.participant_joined",
                        join + timedelta(minutes=5),
                        {
                            "participant": {
                                **who,
                                "user_id": f"{p}p",
                                "participant_uuid": f"phone{c}-{p}",
                                "join_time": _iso(join + timedelta(minutes=5)),
                            }
                        },
                    )
                    add(
                        "meeting.participant_left",
                        leave - timedelta(minutes=20),
                        {
                            "participant": {
                                **who,
                                "user_id": f"{p}p",
                                "participant_uuid": f"phone{c}-{p}",
                                "leave_time": _iso(leave - timedelta(minutes=20)),
                            }
                        },
                    )
                add(
                    "meeting.participant_joined",
                    join,
                    {
                        "participant": {
                            **who,
                            "user_id": f"{p}",
                            "participant_uuid": f"d{c}-{p}",
                            "join_time": _iso(join),
                        }
                    },
                )
                add(
                    "meeting.participant_left",
                    leave,
                    {
                        "participant": {
                            **who,
                            "user_id": f"{p}",
                            "participant_uuid": f"d{c}-{p}",
                            "leave_time": _iso(leave),
                        }
                    },
                )
            add("meeting.ended", end, {"end_time": _iso(end)})
    return bodies


def pure_build(bodies: list[dict]) -> int:
    """Events -> session attendance -> credit lines, for every session; returns the number of lines."""
    by_meeting: dict[str, list[attendance.Signal]] = {}
    for body in bodies:
        uuid = body["payload"]["object"]["uuid"]
        by_meeting.setdefault(uuid, []).extend(attendance.signals_from_event(body["event"], body))
    policy = hours.Policy()
    lines = 0
    for uuid, signals in by_meeting.items():
        result = attendance.compute_session({uuid: attendance.Instance(signals)})
        facts = credit.Session(tuple(result.live), 7200)
        for person in result.people.values():
            credit.line(person.spans(), policy, facts)
            lines += 1
    return lines


def store(db: Database, bodies: list[dict]) -> None:
    rows = [
        {
            "dedupe_key": uuid_module.uuid4().hex + uuid_module.uuid4().hex,
            "event": b["event"],
            "event_ts": b["event_ts"],
            "source": "webhook",
            "received_at": datetime.now(UTC),
            "account_id": "acct",
            "meeting_id": b["payload"]["object"]["id"],
            "meeting_uuid": b["payload"]["object"]["uuid"],
            "body": b,
            "status": "processed",
        }
        for b in bodies
    ]
    for i in range(0, len(rows), 5000):
        with db.begin() as session:
            session.execute(insert(ZoomEvent), rows[i : i + 5000])


def report(db: Database, what: str, count: int, seconds: float, pure: float) -> float:
    """One rebuild's figures, with its ratio to the pure core measured in the same round; returns the ratio."""
    with db.begin() as session:
        records = session.scalar(select(func.count(CreditLine.id)))
    print(
        f"  {what} ({db.engine.dialect.name}): {count} meetings, {records} lines in {seconds:.2f} s "
        f"(ratio to the pure core {seconds / pure:.2f}, goal <= {REBUILD_GOAL_RATIO:.0f}: "
        f"{'met' if seconds / pure <= REBUILD_GOAL_RATIO else 'not met'})"
    )
    return seconds / pure


DERIVED = ("audit_entries", "credit_lines", "participants", "meetings", "sessions")


def forget_derived(db: Database) -> None:
    """Back to the starting point: the stored events and nothing derived from them. On PostgreSQL the emptied
    tables are then vacuumed and analyzed, as autovacuum leaves them between rebuilds: the last round's
    deleted rows do not slow this one, and the planner knows the tables for empty (the harder start: see
    `zoombot.store.db.refresh_statistics`)."""
    with db.begin() as session:
        for table in DERIVED:
            session.execute(text(f"DELETE FROM {table}"))
    vacuum(db, DERIVED)


def vacuum(db: Database, tables: tuple[str, ...] = ()) -> None:
    """PostgreSQL: VACUUM ANALYZE these tables (all, when none is named), as autovacuum does after many rows
    are inserted or deleted."""
    if not db.is_sqlite:
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text(f"VACUUM ANALYZE {', '.join(tables)}")
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a PostgreSQL server URL (a fresh database is created there)")
    parser.add_argument("--pure-only", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="also rebuild again in this many processes (PostgreSQL)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of pure core then rebuild (a shared machine's speed drifts)"
    )
    args = parser.parse_args()
    bodies = year_of_events()
    print(f"{len(bodies)} events, {COMMUNITIES * MEETINGS} meetings, {COMMUNITIES * MEETINGS * PARTICIPANTS} people")
    scratch = None if args.pure_only else BenchDatabase(sqlite=not args.database, server_url=args.database)
    db = Database(scratch.url) if scratch is not None else None
    ratios: dict[str, list[float]] = {}
    try:
        if db is not None:
            store(db, bodies)
            vacuum(db)  # a year of events is old data by the time anyone rebuilds it: autovacuum has been by
        for round_number in range(1, args.rounds + 1):
            started = time.perf_counter()
            lines = pure_build(bodies)
            pure = time.perf_counter() - started
            print(
                f"round {round_number}: pure core: {lines} lines in {pure:.2f} s  "
                f"(ceiling {CEILING_SECONDS:.0f} s, ratio {pure / CEILING_SECONDS:.2f})"
            )
            ratios.setdefault("pure core against its ceiling", []).append(pure / CEILING_SECONDS)
            if db is None or scratch is None:
                continue
            from zoombot.store import rebuild_workers, rules_process

            forget_derived(db)
            started = time.perf_counter()
            with db.begin() as session:
                count = rules_process.rebuild(session, scratch.url, load_settings(environ={}), datetime.now(UTC))
            seconds = time.perf_counter() - started
            ratios.setdefault("database rebuild", []).append(report(db, "database rebuild", count, seconds, pure))
            if args.workers > 1:
                forget_derived(db)
                started = time.perf_counter()
                count, _ = rebuild_workers.rebuild(
                    scratch.url, load_settings(environ={}), datetime.now(UTC), args.workers
                )
                what = f"database rebuild in {args.workers} processes"
                ratios.setdefault(what, []).append(report(db, what, count, time.perf_counter() - started, pure))
        for what, found in ratios.items():
            each = ", ".join(f"{r:.2f}" for r in found)
            print(f"median ratio, {what}: {statistics.median(found):.2f} (rounds {each})")
    finally:
        if db is not None and scratch is not None:
            db.dispose()
            scratch.drop()


if __name__ == "__main__":
    main()
