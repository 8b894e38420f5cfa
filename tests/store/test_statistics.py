"""`db.refresh_statistics`: a long transaction brings PostgreSQL's statistics of the tables it fills up to date,
its own uncommitted rows counted, without ever waiting for another transaction; the rebuild does so once its
first chunk is in, so that the rest is planned for tables of their real size (a rebuild into emptied and
vacuumed tables otherwise checks each new row's references by scanning the referenced table)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, insert, select, text

from tests.helpers.staff import play_year
from zoombot.store import meetings
from zoombot.store.db import Database, normalize_url, refresh_statistics
from zoombot.store.models import CreditSession


def vacuum(url: str, table: str) -> None:
    engine = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"VACUUM ANALYZE {table}"))
    engine.dispose()


def counted(session, table: str) -> float:
    return session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table})


def sessions(count: int) -> list[dict]:
    return [
        {
            "key": f"community:1:2026-10-{n:04d}",
            "zoom_meeting_id": "81111111111",
            "local_date": date(2026, 10, 13),
            "topic": "CoP",
            "status": "ended",
            "needs_review": False,
            "is_demo": False,
        }
        for n in range(count)
    ]


def test_the_transactions_own_rows_are_counted(postgres_url):
    vacuum(postgres_url, "sessions")  # emptied and vacuumed: the planner holds it for empty
    db = Database(postgres_url)
    try:
        with db.begin() as s:
            assert counted(s, "sessions") == 0
            s.execute(insert(CreditSession), sessions(500))
            assert refresh_statistics(s, "sessions", "meetings") is True
            assert counted(s, "sessions") == 500
            s.rollback()
    finally:
        db.dispose()


def test_another_transaction_holding_the_tables_is_not_waited_for(postgres_url):
    db = Database(postgres_url)
    other = create_engine(normalize_url(postgres_url))
    try:
        with other.connect() as holder, holder.begin():
            holder.execute(text("LOCK TABLE sessions IN SHARE UPDATE EXCLUSIVE MODE"))  # as an ANALYZE holds it
            with db.begin() as s:
                s.execute(text("SET LOCAL statement_timeout = '10s'"))  # a wait would fail the test, not hang it
                s.execute(insert(CreditSession), sessions(3))
                assert refresh_statistics(s, "sessions") is False
                assert s.scalar(select(CreditSession.id).limit(1)) is not None  # the transaction goes on, rows kept
                assert len(s.scalars(select(CreditSession.id)).all()) == 3
    finally:
        other.dispose()
        db.dispose()


def test_sqlite_has_nothing_to_refresh(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'z.db'}")
    try:
        with db.begin() as s:
            assert refresh_statistics(s, "sessions") is False
    finally:
        db.dispose()


@pytest.mark.parametrize("chunk, expected", [(2, [("sessions", "meetings")]), (200, [])])
def test_the_rebuild_refreshes_once_its_first_chunk_is_in(runtime, post_event, monkeypatch, chunk, expected):
    """Seven instances: in chunks of two, the first chunk's sessions are there when the statistics are
    refreshed, once; in one chunk there is nothing after it to plan."""
    play_year(runtime, post_event, ["81111111111", "82222222222", "83333333333"], "89999999999")
    monkeypatch.setattr(meetings, "REBUILD_CHUNK", chunk)
    calls: list[tuple[str, ...]] = []
    sessions_then: list[int] = []
    real = meetings.refresh_statistics

    def spy(session, *tables):
        calls.append(tables)
        sessions_then.append(len(session.scalars(select(CreditSession.id)).all()))
        return real(session, *tables)

    monkeypatch.setattr(meetings, "refresh_statistics", spy)
    with runtime.db.begin() as s:
        for table in ("credit_lines", "participants", "meetings", "sessions"):
            s.execute(text(f"DELETE FROM {table}"))
        assert meetings.rebuild(s, runtime.settings, runtime.now()) == 7
    assert calls == expected
    if expected:
        assert sessions_then == [2]  # the first chunk's two instances, the first community's two sessions
