"""store.bulk writes rows as an ORM insert would store them (UTC instants, JSON, numerics, defaults), on the
suite's database and on PostgreSQL's COPY, inside the session's transaction, and a refusal for the data is
SQLAlchemy's own DataError, which the rebuild relies on to set one session aside."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from zoombot.store.bulk import insert_rows
from zoombot.store.models import AuditEntry, CreditLine, CreditSession, Participant, SubmissionBatch, table_of

EASTERN = timezone(timedelta(hours=-4))
JOIN = datetime(2026, 10, 13, 18, 30, 10, tzinfo=EASTERN)  # 22:30:10 UTC


@pytest.fixture(params=["suite", "postgresql"])
def db(request, runtime, pg_runtime):
    return (runtime if request.param == "suite" else pg_runtime).db


def _session(s) -> int:
    row = CreditSession(key="z123:2026-10-13", zoom_meeting_id="123", local_date=date(2026, 10, 13))
    s.add(row)
    s.flush()
    return row.id


def test_rows_read_back_as_the_orm_would_have_stored_them(db):
    with db.begin() as s:
        sid = _session(s)
        insert_rows(
            s,
            table_of(Participant),
            [
                {
                    "session_id": sid,
                    "identity_key": "u:alice",
                    "name": "Alice Nguyen",
                    "email": None,
                    "is_host": True,
                    "intervals": [["2026-10-13T22:30:10+00:00", "2026-10-14T00:30:00+00:00", "zoom"]],
                    "attended_seconds": 7190,
                    "first_join": JOIN,
                    "last_leave": None,
                },
                {
                    "session_id": sid,
                    "identity_key": "u:evan",
                    "name": "Evan Brooks",
                    "email": "evan@example.org",
                    "is_host": False,
                    "intervals": [],
                    "attended_seconds": 0,
                    "first_join": None,
                    "last_leave": JOIN + timedelta(hours=2),
                },
            ],
        )
        insert_rows(
            s,
            table_of(CreditLine),
            [{"session_id": sid, "participant_key": "u:alice", "proposed_growth_hours": Decimal("1.75")}],
        )
    with db.begin() as s:
        alice, evan = s.scalars(select(Participant).order_by(Participant.identity_key)).all()
        assert (alice.name, alice.email, alice.is_host, alice.attended_seconds) == ("Alice Nguyen", None, True, 7190)
        assert alice.intervals == [["2026-10-13T22:30:10+00:00", "2026-10-14T00:30:00+00:00", "zoom"]]
        assert alice.first_join == datetime(2026, 10, 13, 22, 30, 10, tzinfo=UTC)
        assert alice.first_join.tzinfo == UTC and alice.last_leave is None
        assert evan.last_leave == datetime(2026, 10, 14, 0, 30, 10, tzinfo=UTC)
        # columns left out get their Python-side defaults, as with an ORM insert
        assert (alice.devices, alice.rejoins, alice.incomplete, evan.intervals) == (1, 0, False, [])
        line = s.scalars(select(CreditLine)).one()
        assert line.proposed_growth_hours == Decimal("1.75")
        assert (line.growth_hours, line.status, line.flagged, line.segments, line.revision) == (
            Decimal("0.00"),
            "pending",
            False,
            [],
            0,
        )


def test_a_default_computed_per_row_is_computed(db):
    before = datetime.now(UTC)
    with db.begin() as s:
        insert_rows(s, table_of(AuditEntry), [{"actor": "system", "entity": "credit_line", "action": "created"}])
    with db.begin() as s:
        entry = s.scalars(select(AuditEntry)).one()
        assert before - timedelta(seconds=1) <= entry.at <= datetime.now(UTC) + timedelta(seconds=1)


def test_rows_are_part_of_the_sessions_transaction(db):
    with pytest.raises(RuntimeError, match="changed my mind"), db.begin() as s:
        insert_rows(s, table_of(AuditEntry), [{"actor": "system", "entity": "x", "action": "y", "at": JOIN}])
        assert s.scalar(select(AuditEntry.id)) is not None  # visible inside it
        raise RuntimeError("changed my mind")
    with db.begin() as s:
        assert s.scalars(select(AuditEntry)).all() == []


def test_an_unknown_column_is_named(db):
    with db.begin() as s, pytest.raises(ValueError, match="audit_entries has no column colour"):
        insert_rows(s, table_of(AuditEntry), [{"actor": "system", "colour": "red"}])


def test_nothing_to_write_writes_nothing(db):
    with db.begin() as s:
        insert_rows(s, table_of(AuditEntry), [])
        assert s.scalars(select(AuditEntry)).all() == []


def test_postgresql_refusing_the_data_is_a_data_error(pg_runtime):
    """COPY's own refusal (a value too long for its column) comes out as SQLAlchemy's DataError, the error
    the rebuild catches to set one session aside; the row is not written."""
    with pytest.raises(DataError), pg_runtime.db.begin() as s:
        sid = _session(s)
        insert_rows(s, table_of(CreditLine), [{"session_id": sid, "participant_key": "u:x", "status": "x" * 40}])
    with pg_runtime.db.begin() as s:
        assert s.scalars(select(CreditLine)).all() == []


def test_postgresql_numerics_and_integers_go_exactly(pg_runtime):
    """COPY is binary on PostgreSQL (bulk.BINARY): a numeric is written as the Decimal it is, or from a float or
    an integer by its decimal text, and a big identifier keeps every digit."""
    with pg_runtime.db.begin() as s:
        sid = _session(s)
        insert_rows(
            s,
            table_of(CreditLine),
            [
                {"session_id": sid, "participant_key": "u:a", "proposed_growth_hours": Decimal("1.75")},
                {"session_id": sid, "participant_key": "u:b", "proposed_growth_hours": 1.1},
                {"session_id": sid, "participant_key": "u:c", "proposed_growth_hours": 2},
            ],
        )
        insert_rows(
            s, table_of(AuditEntry), [{"actor": "system", "entity": "x", "action": "y", "entity_id": 2**40 + 3}]
        )
    with pg_runtime.db.begin() as s:
        assert s.execute(select(CreditLine.participant_key, CreditLine.proposed_growth_hours)).all() == [
            ("u:a", Decimal("1.75")),
            ("u:b", Decimal("1.10")),
            ("u:c", Decimal("2.00")),
        ]
        assert s.scalar(select(AuditEntry.entity_id)) == 1099511627779


def test_postgresql_an_integer_too_large_for_its_column_is_a_data_error(pg_runtime):
    """A binary COPY would write an integer's low four bytes without a word (2**32 + 5 as 5); it is refused as
    the text form is refused, as a DataError, and nothing is written."""
    with pytest.raises(DataError), pg_runtime.db.begin() as s:
        sid = _session(s)
        insert_rows(
            s,
            table_of(Participant),
            [{"session_id": sid, "identity_key": "u:x", "name": "X", "intervals": [], "attended_seconds": 2**32 + 5}],
        )
    with pg_runtime.db.begin() as s:
        assert s.scalars(select(Participant)).all() == []


def test_postgresql_a_table_with_a_type_copy_cannot_write_in_binary_goes_as_text(pg_runtime):
    """submission_batches.content is bytea, which bulk.BINARY leaves out: the whole COPY is text, and reads back."""
    with pg_runtime.db.begin() as s:
        insert_rows(
            s,
            table_of(SubmissionBatch),
            [{"created_by": "staff@example.org", "format": "csv", "filename": "b.csv", "content": b"a,b\r\n\x00\xff"}],
        )
    with pg_runtime.db.begin() as s:
        batch = s.scalars(select(SubmissionBatch)).one()
        assert (batch.content, batch.line_ids, batch.filename) == (b"a,b\r\n\x00\xff", [], "b.csv")
