"""Hours export speed: `export_rows` + CSV + JSON over 60 000 credit lines; ceiling 1 s for rows + CSV.

    python -m bench.export                                   # a temporary SQLite file
    python -m bench.export --database postgresql://postgres@127.0.0.1:5432/postgres   # a fresh database there
    python -m bench.export --records 120000 --participants 300

Seeds communities, members, sessions with one meeting each, derived participants and credit lines directly
(bulk inserts; the export reads tables, not events), half of the participants matched to members, then
times each stage
(best of --repeat) and prints the figures and the ratio to the ceiling.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert

from bench.scratch import BenchDatabase
from zoombot.config import load_settings
from zoombot.store.db import Database
from zoombot.store.export import export_rows, to_csv, to_json
from zoombot.store.models import Community, CreditLine, CreditSession, Meeting, Member, Participant

CEILING_SECONDS = 1.0


def seed(db: Database, records: int, per_meeting: int) -> None:
    meetings = max(1, records // per_meeting)
    start = datetime(2025, 1, 14, 23, 30, tzinfo=UTC)
    with db.begin() as s:
        s.execute(
            insert(Community),
            [
                {
                    "name": f"CoP {i}",
                    "region": f"Region {i % 4}",
                    "zoom_meeting_id": f"8{i:010d}",
                    "first_start_local": datetime(2025, 1, 14, 18, 30),
                    "timezone": "America/New_York",
                    "duration_minutes": 120,
                    "rrule": "FREQ=MONTHLY;BYDAY=2TU",
                    "is_demo": False,
                }
                for i in range(10)
            ],
        )
        s.execute(
            insert(Member),
            [
                {"name": f"Member {i}", "email": f"m{i}@example.org", "registry_id": f"R-{i}", "is_demo": False}
                for i in range(per_meeting)
            ],
        )
        s.execute(
            insert(CreditSession),
            [
                {
                    "key": f"c{m % 10 + 1}:{(start + timedelta(days=7 * m)).date().isoformat()}",
                    "community_id": m % 10 + 1,
                    "zoom_meeting_id": f"8{m % 10:010d}",
                    "local_date": (start + timedelta(days=7 * m)).date(),
                    "topic": "",
                    "status": "ended",
                    "started_at": start + timedelta(days=7 * m),
                    "scheduled_minutes": 120,
                    "scheduled_start": start + timedelta(days=7 * m),
                    "ended_at": start + timedelta(days=7 * m, hours=2),
                    "needs_review": False,
                    "is_demo": False,
                }
                for m in range(meetings)
            ],
        )
        s.execute(
            insert(Meeting),
            [
                {
                    "uuid": f"bench-{m}==",
                    "zoom_meeting_id": f"8{m % 10:010d}",
                    "community_id": m % 10 + 1,
                    "session_id": m + 1,
                    "status": "ended",
                    "started_at": start + timedelta(days=7 * m),
                    "scheduled_start": start + timedelta(days=7 * m),
                    "scheduled_minutes": 120,
                    "ended_at": start + timedelta(days=7 * m, hours=2),
                    "discrepancies": [],
                    "is_demo": False,
                }
                for m in range(meetings)
            ],
        )
        participants, lines = [], []
        for m in range(meetings):
            for p in range(per_meeting):
                key = f"email:p{p}@example.org"
                participants.append(
                    {
                        "session_id": m + 1,
                        "identity_key": key,
                        "name": f"Participant {p}",
                        "email": f"p{p}@example.org",
                        "intervals": [],
                        "attended_seconds": 5400,
                        "member_id": p + 1 if p % 2 else None,
                        "is_host": False,
                        "devices": 1,
                        "rejoins": 0,
                    }
                )
                lines.append(
                    {
                        "session_id": m + 1,
                        "participant_key": key,
                        "member_id": p + 1 if p % 2 else None,
                        "attended_seconds": 5400,
                        "training_attended_seconds": 0,
                        "proposed_growth_hours": Decimal("1.50"),
                        "proposed_training_hours": Decimal("0"),
                        "growth_hours": Decimal("1.50"),
                        "training_hours": Decimal("0"),
                        "adjusted": False,
                        "segments": [],
                        "status": ("pending", "approved")[p % 2],
                        "flagged": False,
                    }
                )
        s.execute(insert(Participant), participants)
        s.execute(insert(CreditLine), lines)


def timed(repeat: int, func):
    best, result = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - began)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="a PostgreSQL server URL (a fresh database is created and dropped)")
    parser.add_argument("--records", type=int, default=60_000)
    parser.add_argument("--participants", type=int, default=200, help="participants per meeting")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scratch = BenchDatabase(sqlite=not args.database, server_url=args.database)
    url = scratch.url
    db = Database(url)
    try:
        seed(db, args.records, args.participants)
        settings = load_settings(path=None, environ={}, overrides={"database": {"url": url}})
        with db.begin() as s:
            rows_s, rows = timed(args.repeat, lambda: export_rows(s, settings=settings))
            filtered_s, filtered = timed(
                args.repeat,
                lambda: export_rows(
                    s,
                    settings=settings,
                    status="approved",
                    date_from=rows[0]["session_date"]
                    and datetime.fromisoformat(rows[len(rows) // 2]["session_date"]).date(),
                ),
            )
        csv_s, csv_text = timed(args.repeat, lambda: to_csv(rows))
        json_s, _ = timed(args.repeat, lambda: to_json(rows))
        total = rows_s + csv_s
        print(
            f"hours export bench: {db.engine.dialect.name}, {len(rows)} rows "
            f"({args.participants} per meeting), best of {args.repeat}"
        )
        print(f"  export_rows          {rows_s * 1000:8.1f} ms")
        print(f"  filtered rows        {filtered_s * 1000:8.1f} ms  ({len(filtered)} rows)")
        print(f"  to_csv               {csv_s * 1000:8.1f} ms  ({len(csv_text) / 1e6:.1f} MB)")
        print(f"  to_json              {json_s * 1000:8.1f} ms")
        print(
            f"rows + CSV {total:.3f} s; ceiling {CEILING_SECONDS:.1f} s; ratio to ceiling {total / CEILING_SECONDS:.2f}"
            f" ({'met' if total < CEILING_SECONDS else 'NOT met'})"
        )
    finally:
        db.dispose()
        scratch.drop()


if __name__ == "__main__":
    main()
