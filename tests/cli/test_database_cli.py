"""`zoombot db upgrade`: on a new database, then again (it says what it applied, and then that nothing was
left); and on a 0001 database holding an evening's data, which it carries into sessions and credit lines."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import JSON, DateTime, Numeric, bindparam, inspect, select, text

from tests.helpers.databases import postgres_url_from_env, scratch_postgres_database
from tests.helpers.zoom_events import zoom_event
from webhooks.event import Event
from zoombot.cli.main import main
from zoombot.store import migrate
from zoombot.store.db import Database
from zoombot.store.models import AuditEntry, CreditLine, CreditSession, Participant, ParticipantMerge, UTCDateTime


def test_upgrade_says_what_it_applied_then_that_nothing_was_left(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray ./config.toml
    url = f"sqlite:///{tmp_path / 'new.db'}"

    def upgrade():
        result = CliRunner().invoke(main, ["db", "upgrade"], env={"ZOOMBOT_DATABASE_URL": url, "ZOOMBOT_CONFIG": ""})
        assert result.exit_code == 0, result.output
        return result.stdout

    # every revision it applied, in order (a new database gets them all); no stored events, nothing to rebuild
    assert upgrade() == f"applied {', '.join(all_revisions())}: the database is up to date\n"
    assert upgrade() == "the database was already up to date\n"
    db = Database(url)
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert {"zoom_events", "meetings", "sessions", "credit_lines", "training_segments", "alembic_version"} <= tables
        assert "hours_records" not in tables
    finally:
        db.dispose()


# --- 0001 -> sessions and credit lines ------------------------------------------------------------------

A, B = "4444AAAiAAAAAiAiAiiAii==", "RestartBBBBBBBBBBBBBBB=="  # two instances of one evening (a host restart)
ZOOM_ID = "81234567890"
STAFF = "lee@example.org"
ALICE = dict(user_name="Alice Ames", email="alice@example.org", participant_uuid="dev-alice-01", user_id="101")
BOB = dict(user_name="Bob Boyd", email="bob@example.org", participant_uuid="dev-bob-0002", user_id="102")
CAROL = dict(user_name="Carol Cruz", email="carol@example.org", participant_uuid="dev-carol-03", user_id="103")
PHONE = dict(user_name="+1 555 0100", email="", participant_uuid="Dq3TtLm9R5aXcVb2nW8yZw", user_id="16785408")


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


@pytest.fixture
def database_url(tmp_path):
    """In this module a test's database is at revision 0001 (before sessions): a SQLite file, or a database
    of its own on the suite's PostgreSQL server."""
    server = postgres_url_from_env()
    if server is not None:
        yield from scratch_postgres_database(server, revision="0001")
        return
    url = f"sqlite:///{tmp_path / 'at-0001.db'}"
    db = Database(url)
    migrate.upgrade(db, "0001")
    db.dispose()
    yield url


TYPES = {
    "body": JSON(),
    "discrepancies": JSON(),
    "intervals": JSON(),
    "first_start_local": DateTime(),
    "proposed_hours": Numeric(7, 2),
    "hours": Numeric(7, 2),
}
WHEN = (
    "_at",
    "start",
    "end",
    "original_start",
    "scheduled_start",
    "first_join",
    "last_leave",
    "training_start",
    "training_end",
    "records_built_at",
)


def insert(conn, table: str, **values) -> int:
    """One row in plain SQL, values typed as the 0001-era application stored them; returns its id."""
    params = [
        bindparam(k, v, type_=TYPES.get(k) or (UTCDateTime() if k.endswith(WHEN) else None)) for k, v in values.items()
    ]
    columns = ", ".join(f'"{k}"' for k in values)
    statement = text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + k for k in values)}) RETURNING id")
    return conn.execute(statement.bindparams(*params)).scalar_one()


def events_of_the_evening() -> list[dict]:
    """22:30-23:20 UTC (instance A, ended by mistake), then 23:25-00:30 (instance B) on 13 October 2026:
    Alice in both; Carol in A; Bob in both, and in B also on the phone (merged into Bob by staff)."""
    a = {"meeting_uuid": A, "meeting_start_time": "2026-10-13T22:30:00Z"}
    b = {"meeting_uuid": B, "meeting_start_time": "2026-10-13T23:25:00Z"}
    return [
        zoom_event("meeting_started", **a),
        zoom_event("participant_joined", join_time="2026-10-13T22:30:00Z", **CAROL, **a),
        zoom_event("participant_joined", join_time="2026-10-13T22:30:10Z", **ALICE, **a),
        zoom_event("participant_joined", join_time="2026-10-13T22:55:00Z", **BOB, **a),
        zoom_event("participant_left", leave_time="2026-10-13T23:20:00Z", **ALICE, **a),
        zoom_event("participant_left", leave_time="2026-10-13T23:20:00Z", **BOB, **a),
        zoom_event("participant_left", leave_time="2026-10-13T23:20:00Z", **CAROL, **a),
        zoom_event("meeting_ended", meeting_end_time="2026-10-13T23:20:00Z", **a),
        zoom_event("meeting_started", **b),
        zoom_event("participant_joined", join_time="2026-10-13T23:26:00Z", **ALICE, **b),
        zoom_event("participant_joined", join_time="2026-10-13T23:28:00Z", **BOB, **b),
        zoom_event("participant_joined_dial_in", join_time="2026-10-13T23:30:00Z", **b),
        zoom_event("participant_left", leave_time="2026-10-13T23:40:00Z", **PHONE, **b),
        zoom_event("participant_left", leave_time="2026-10-13T23:44:00Z", **BOB, **b),
        zoom_event("participant_left", leave_time="2026-10-14T00:25:00Z", **ALICE, **b),
        zoom_event("meeting_ended", meeting_end_time="2026-10-14T00:30:00Z", **b),
    ]


def seed_0001(db: Database) -> dict[str, int]:
    """What a 0001 installation held after that evening: each instance its own meeting with its own hours
    records (growth and training apart), some approved, one pending, a training window on instance B, a
    staff merge in B, and the audit trail naming the records. Returns the ids."""
    ids: dict[str, int] = {}
    created = utc("2026-10-14T00:31:00")
    with db.engine.begin() as conn:
        for body in events_of_the_evening():
            event = Event.from_json(body)
            insert(
                conn,
                "zoom_events",
                dedupe_key=event.dedupe_key,
                event=event.name,
                event_ts=event.event_ts,
                source="webhook",
                received_at=utc("2026-10-13T22:30:00"),
                account_id=event.account_id,
                meeting_id=event.meeting_id,
                meeting_uuid=event.meeting_uuid,
                body=body,
                status="processed",
            )
        ids["community"] = insert(
            conn,
            "communities",
            name="Infant-Toddler CoP",
            region="North",
            audience="",
            zoom_meeting_id=ZOOM_ID,
            first_start_local=datetime(2026, 9, 8, 18, 30),
            timezone="America/New_York",
            duration_minutes=120,
            rrule="FREQ=MONTHLY;BYDAY=2TU",
            created_at=utc("2026-09-01T12:00:00"),
            is_demo=False,
        )
        ids["occurrence"] = insert(
            conn,
            "occurrences",
            community_id=ids["community"],
            original_start=utc("2026-10-13T22:30:00"),
            start=utc("2026-10-13T22:30:00"),
            end=utc("2026-10-14T00:30:00"),
            status="scheduled",
            sequence=0,
            updated_at=utc("2026-09-01T12:00:00"),
        )
        ids["alice"] = insert(
            conn,
            "members",
            name="Alice Ames",
            email="alice@example.org",
            registry_id="R-1",
            created_at=utc("2026-09-01T12:00:00"),
            is_demo=False,
        )
        for key, uuid_, start, end, window in (
            ("a", A, "2026-10-13T22:30:00", "2026-10-13T23:20:00", (None, None)),
            (
                "b",
                B,
                "2026-10-13T23:25:00",
                "2026-10-14T00:30:00",
                (utc("2026-10-13T23:45:00"), utc("2026-10-14T00:15:00")),
            ),
        ):
            ids[key] = insert(
                conn,
                "meetings",
                uuid=uuid_,
                zoom_meeting_id=ZOOM_ID,
                community_id=ids["community"],
                occurrence_id=ids["occurrence"],
                topic="Infant-Toddler CoP",
                scheduled_start=utc("2026-10-13T22:30:00"),
                scheduled_minutes=120,
                started_at=utc(start),
                ended_at=utc(end),
                status="ended",
                records_built_at=utc(end),
                finalized_by="event",
                training_start=window[0],
                training_end=window[1],
                discrepancies=[],
                needs_review=False,
                is_demo=False,
            )
        for meeting in ("a", "b"):  # derived rows (the migration empties the table; the rebuild refills it)
            insert(
                conn,
                "participants",
                meeting_id=ids[meeting],
                identity_key="email:alice@example.org",
                name="Alice Ames",
                email="alice@example.org",
                is_host=False,
                devices=1,
                incomplete=False,
                intervals=[],
                attended_seconds=0,
                member_id=ids["alice"],
                match_method="email",
            )
        for name, meeting, key, member, kind, seconds, hours, status, exported in (
            ("alice_a", "a", "email:alice@example.org", ids["alice"], "growth", 2990, "0.75", "approved", None),
            ("alice_b", "b", "email:alice@example.org", ids["alice"], "growth", 1740, "0.25", "pending", None),
            (
                "alice_b_training",
                "b",
                "email:alice@example.org",
                ids["alice"],
                "training",
                1800,
                "0.50",
                "approved",
                None,
            ),
            ("bob_a", "a", "email:bob@example.org", None, "growth", 1500, "0.00", "approved", None),
            ("bob_b", "b", "email:bob@example.org", None, "growth", 960, "0.00", "approved", None),
            (
                "carol_a",
                "a",
                "email:carol@example.org",
                None,
                "growth",
                3000,
                "0.75",
                "approved",
                utc("2026-10-20T12:00:00"),
            ),
        ):
            ids[name] = insert(
                conn,
                "hours_records",
                meeting_id=ids[meeting],
                participant_key=key,
                member_id=member,
                kind=kind,
                attended_seconds=seconds,
                proposed_hours=Decimal(hours),
                hours=Decimal(hours),
                status=status,
                flagged=False,
                exported_at=exported,
                created_at=created,
                updated_at=created,
            )
            insert(
                conn,
                "audit_entries",
                at=created,
                actor="system",
                entity="hours_record",
                entity_id=ids[name],
                meeting_id=ids[meeting],
                action="created",
                to_value=f"{hours} h",
                reason="meeting ended",
            )
            if status == "approved":
                insert(
                    conn,
                    "audit_entries",
                    at=utc("2026-10-15T09:00:00"),
                    actor=STAFF,
                    entity="hours_record",
                    entity_id=ids[name],
                    meeting_id=ids[meeting],
                    action="approved",
                    from_value="pending",
                    to_value="approved",
                )
        ids["merge"] = insert(
            conn,
            "participant_merges",
            meeting_id=ids["b"],
            source_key="name:+1 555 0100",
            target_key="email:bob@example.org",
            created_by=STAFF,
            created_at=utc("2026-10-15T08:55:00"),
        )
        insert(
            conn,
            "audit_entries",
            at=utc("2026-10-15T08:55:00"),
            actor=STAFF,
            entity="participant_merge",
            entity_id=ids["merge"],
            meeting_id=ids["b"],
            action="merged",
            from_value="+1 555 0100",
            to_value="Bob Boyd",
        )
        insert(
            conn,
            "audit_entries",
            at=utc("2026-10-15T08:50:00"),
            actor=STAFF,
            entity="meeting",
            entity_id=ids["b"],
            meeting_id=ids["b"],
            action="training_window",
            from_value="none",
            to_value="2026-10-13T23:45:00+00:00 - 2026-10-14T00:15:00+00:00",
        )
    return ids


def all_revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    from zoombot.store.migrate import alembic_config

    return sorted(
        r.revision for r in ScriptDirectory.from_config(alembic_config(Database("sqlite://"))).walk_revisions()
    )


def test_upgrade_carries_0001_records_into_one_session_and_rebuilds_it(database_url, runtime, zoombot_cli):
    db = runtime.db
    ids = seed_0001(db)
    with db.engine.connect() as conn:
        last_0001_entry = conn.execute(text("SELECT max(id) FROM audit_entries")).scalar_one()

    result = zoombot_cli()("db", "upgrade")

    assert result.exit_code == 0, result.output
    later = ", ".join(r for r in all_revisions() if r != "0001")  # 0002 and whatever came after it
    assert result.stdout == (
        f"applied {later}: the database is up to date\n"
        "rebuilt attendance and credit lines of 2 meeting instances from stored events\n"
    )
    with db.begin() as s:
        # one session holds both instances: the community's occurrence of 13 October (New York)
        (held,) = s.scalars(select(CreditSession)).all()
        assert (held.key, held.community_id, held.occurrence_id, held.local_date, held.zoom_meeting_id) == (
            f"c{ids['community']}:2026-10-13",
            ids["community"],
            ids["occurrence"],
            date(2026, 10, 13),
            ZOOM_ID,
        )
        assert (held.status, held.started_at, held.ended_at, held.scheduled_start, held.scheduled_minutes) == (
            "ended",
            utc("2026-10-13T22:30:00"),
            utc("2026-10-14T00:30:00"),
            utc("2026-10-13T22:30:00"),
            120,
        )
        assert [m.id for m in held.meetings] == [ids["a"], ids["b"]]

        # one line per person: each takes the smallest id of its records, their decisions and exports
        lines = {line.participant_key: line for line in s.scalars(select(CreditLine))}
        assert {key: line.id for key, line in lines.items()} == {
            "email:alice@example.org": ids["alice_a"],
            "email:bob@example.org": ids["bob_a"],
            "email:carol@example.org": ids["carol_a"],
        }
        assert {line.session_id for line in lines.values()} == {held.id}
        got = {
            key: (
                line.member_id,
                line.attended_seconds,
                line.training_attended_seconds,
                str(line.proposed_growth_hours),
                str(line.proposed_training_hours),
                str(line.growth_hours),
                str(line.training_hours),
                line.adjusted,
                line.status,
                line.flagged,
                line.flag_reason,
                line.exported_at,
            )
            for key, line in lines.items()
        }
        assert got == {
            # approved, pending and approved records: mixed decisions make a pending line, flagged with what
            # they were. Nobody decided the line, so the rebuild brings it in step with the session rule:
            # 2990 + 3540 s = 6530 s -> 1.75 h in all, 30 min of the segment -> 0.50 h of it training
            # (the records gave 0.75 + 0.25 + 0.50 = 1.50 h)
            "email:alice@example.org": (
                ids["alice"],
                6530,
                1800,
                "1.25",
                "0.50",
                "1.25",
                "0.50",
                False,
                "pending",
                True,
                f"carried over from growth record {ids['alice_a']} (approved, 0.75 h), growth record "
                f"{ids['alice_b']} (pending, 0.25 h), training record {ids['alice_b_training']} (approved, 0.50 h)",
                None,
            ),
            # two approved 0.00 h records (25 + 16 min, each under the 30-minute minimum): one session total of
            # 41 min -> 0.50 h, so the rebuild reopens the approved line with the before and after
            "email:bob@example.org": (
                None,
                2460,
                0,
                "0.50",
                "0.00",
                "0.50",
                "0.00",
                False,
                "pending",
                True,
                "approved line reopened: was approved, 0:41 attended, 0.00 h growth; now 0.50 h growth proposed",
                None,
            ),
            # one approved and exported record whose credit the session rule keeps: it stays decided
            "email:carol@example.org": (
                None,
                3000,
                0,
                "0.75",
                "0.00",
                "0.75",
                "0.00",
                False,
                "approved",
                False,
                None,
                utc("2026-10-20T12:00:00"),
            ),
        }

        # instance B's training window is the session's training segment
        (segment,) = held.segments
        assert (
            segment.start,
            segment.end,
            segment.title,
            segment.category,
            segment.approval_code,
            segment.created_by,
        ) == (utc("2026-10-13T23:45:00"), utc("2026-10-14T00:15:00"), "Elective training", "", "", "migration")

        # the staff merge of instance B now belongs to the session, and still applies: no line for the phone
        (merge,) = s.scalars(select(ParticipantMerge)).all()
        assert (merge.id, merge.session_id, merge.kind, merge.source_key, merge.target_key, merge.created_by) == (
            ids["merge"],
            held.id,
            "merge",
            "name:+1 555 0100",
            "email:bob@example.org",
            STAFF,
        )
        assert {p.identity_key: p.attended_seconds for p in s.scalars(select(Participant))} == {
            "email:alice@example.org": 6530,
            "email:bob@example.org": 2460,
            "email:carol@example.org": 3000,
        }

        assert held.needs_review is True  # Alice's and Bob's lines ask for a second look

        # the records' audit entries now name their lines (and the session); other entities keep their ids
        trail = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        carried = [
            (e.entity, e.entity_id, e.action, e.session_id, e.meeting_id) for e in trail if e.id <= last_0001_entry
        ]
        alice, bob, carol, a, b = ids["alice_a"], ids["bob_a"], ids["carol_a"], ids["a"], ids["b"]
        assert carried == [
            ("credit_line", alice, "created", held.id, a),
            ("credit_line", alice, "approved", held.id, a),  # alice_a
            ("credit_line", alice, "created", held.id, b),  # alice_b, pending
            ("credit_line", alice, "created", held.id, b),
            ("credit_line", alice, "approved", held.id, b),  # training
            ("credit_line", bob, "created", held.id, a),
            ("credit_line", bob, "approved", held.id, a),  # bob_a
            ("credit_line", bob, "created", held.id, b),
            ("credit_line", bob, "approved", held.id, b),  # bob_b
            ("credit_line", carol, "created", held.id, a),
            ("credit_line", carol, "approved", held.id, a),
            ("participant_merge", ids["merge"], "merged", held.id, b),
            ("meeting", b, "training_window", held.id, b),
        ]
        assert "hours_record" not in {e.entity for e in trail}

        # the rebuild after the upgrade: the undecided line followed, the decided line whose credit changed was
        # reopened, and the submitted line whose credit stayed is left as it was sent
        rebuilt = [
            (e.actor, e.entity, e.entity_id, e.action, e.session_id, e.from_value, e.to_value, e.reason)
            for e in trail
            if e.id > last_0001_entry
        ]
        assert sorted(rebuilt, key=lambda e: e[2]) == sorted(
            [
                (
                    "system",
                    "credit_line",
                    ids["alice_a"],
                    "recomputed",
                    held.id,
                    "pending, 1:48 attended, 1.00 h growth + 0.50 h training",
                    "pending, 1:48 attended, 1.25 h growth + 0.50 h training",
                    "rebuilt from stored events",
                ),
                (
                    "system",
                    "credit_line",
                    ids["bob_a"],
                    "reopened",
                    held.id,
                    "approved, 0:41 attended, 0.00 h growth",
                    "pending, 0:41 attended, 0.50 h growth",
                    "rebuilt from stored events",
                ),
                # Carol's approved, exported line became submitted (0006): final, so even its detail stays as sent
            ],
            key=lambda e: e[2],
        )
        assert lines["email:carol@example.org"].submitted_at == utc("2026-10-20T12:00:00")

    again = zoombot_cli()("db", "upgrade")
    assert (again.exit_code, again.stdout) == (0, "the database was already up to date\n")
