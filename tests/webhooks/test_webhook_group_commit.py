"""The PostgreSQL hot path's group commit, against the real server (in every run: see the postgres_url
fixture): deliveries that arrive together share one INSERT and one commit, each still gets its own
answer, a row the database refuses fails alone, and the writer's own connection survives the server
closing it and a fork."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from tests.helpers.burst import participant_events
from tests.helpers.zoom_events import signed_headers, zoom_event
from webhooks.event import Event
from webhooks.store import OpenMeetingWriter
from zoombot.app import create_app
from zoombot.runtime import Runtime
from zoombot.store.db import normalize_url
from zoombot.store.models import ZoomEvent

WAIT = 20  # seconds; bounds every wait so that a bug fails the test instead of hanging it
UUID = "burst-meeting=="
NOW = datetime(2026, 10, 13, 23, 0, tzinfo=UTC)


@pytest.fixture
def pg_client(pg_runtime):
    client = create_app(runtime=pg_runtime, test_config={"TESTING": True}).test_client()
    started = json.dumps(zoom_event("meeting_started", meeting_uuid=UUID)).encode()
    assert post(client, started) == (200, "stored")
    return client


@pytest.fixture
def admin(postgres_url):
    engine = create_engine(normalize_url(postgres_url), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def post(client, body: bytes) -> tuple[int, str | None]:
    response = client.post("/zoom/webhook", data=body, headers=signed_headers(body))
    return response.status_code, (response.get_json(silent=True) or {}).get("status")


def stored_keys(engine) -> Counter:
    with engine.connect() as conn:
        return Counter(conn.execute(select(ZoomEvent.dedupe_key)).scalars())


def writer_of(runtime: Runtime) -> OpenMeetingWriter:
    return OpenMeetingWriter.of(runtime.db)


def backends(writer: OpenMeetingWriter) -> set[int]:
    """The server processes of the writer's open connections."""
    connection = writer.connection._connection
    return {connection.info.backend_pid} if connection is not None else set()


def wait_until_gone(engine, pids: set[int]) -> None:
    with engine.connect() as conn:
        for _ in range(WAIT * 100):  # waiting for backends to exit, not a timed assertion
            if not conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": list(pids)}
            ).scalar():
                return
            threading.Event().wait(0.01)
    raise AssertionError(f"backends {pids} still there")


def test_deliveries_that_arrive_together_share_one_insert_and_each_gets_its_own_answer(pg_runtime, pg_client, admin):
    """The meeting row is held FOR UPDATE by another session, so the first batch waits on it while the
    other deliveries queue behind; released, they go in one statement. A redelivery racing its original
    in the same batch is stored once: one answer "stored", the other "duplicate"."""
    deliveries = [d.body for d in participant_events(12, uuid=UUID)]
    bodies = deliveries + deliveries[:3]  # three events delivered twice at once
    writer = writer_of(pg_runtime)
    batches = []
    run = writer.group._run
    writer.group._run = lambda items: batches.append(len(items)) or run(items)
    answers: list = [None] * len(bodies)

    def send(i):
        answers[i] = post(pg_client, bodies[i])

    with admin.connect() as holder:
        holder.execute(text("BEGIN"))
        holder.execute(text("SELECT 1 FROM meetings WHERE uuid = :u FOR UPDATE"), {"u": UUID})
        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
        for t in threads:
            t.start()
        deadline = threading.Event()
        for _ in range(WAIT * 1000):  # polling until all but the blocked leader have queued
            if len(writer.group._queue) == len(bodies) - 1:
                break
            deadline.wait(0.001)
        holder.execute(text("COMMIT"))
    for t in threads:
        t.join(WAIT)
    assert all(not t.is_alive() for t in threads)
    assert batches == [1, len(bodies) - 1]
    by_body = {}
    for body, answer in zip(bodies, answers, strict=True):
        by_body.setdefault(body, []).append(answer)
    for body in deliveries:
        assert sorted(by_body[body]) == (
            [(200, "duplicate"), (200, "stored")] if body in deliveries[:3] else [(200, "stored")]
        )
    stored = stored_keys(admin)
    assert set(stored.values()) == {1}
    assert {Event.from_body(b).dedupe_key for b in deliveries} <= set(stored)


def test_a_row_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_stored(pg_runtime, pg_client, admin):
    """A trigger (test only) refuses one body: its caller gets the error, the others are stored, and the
    writer's connection, which is not broken by a refused statement, is kept."""
    with admin.connect() as conn:
        conn.execute(
            text("""
            CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.body::text LIKE '%Poison%' THEN RAISE EXCEPTION 'refused for the test'; END IF;
              RETURN NEW;
            END $$""")
        )
        conn.execute(
            text(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON zoom_events "
                "FOR EACH ROW EXECUTE FUNCTION refuse_poison()"
            )
        )
    try:
        good, poison, other = (Event.from_body(d.body) for d in participant_events(3, uuid=UUID))
        poison = Event.from_json(
            {
                **poison.body,
                "payload": {
                    **poison.payload,
                    "object": {
                        **poison.object,
                        "participant": {**poison.object["participant"], "user_name": "Poison Ivy"},
                    },
                },
            }
        )
        writer = writer_of(pg_runtime)
        assert post(pg_client, json.dumps(good.body).encode()) == (200, "stored")  # the connection exists
        connected = backends(writer)
        results = writer.insert_batch([(other, NOW), (poison, NOW), (good, NOW)])
        assert results[0] is True and results[2] is False  # good was stored before: a redelivery
        assert isinstance(results[1], DBAPIError) and "refused for the test" in str(results[1])
        assert backends(writer) == connected
        assert set(stored_keys(admin)) == {good.dedupe_key, other.dedupe_key} | _started_key(admin)
        status, _ = post(pg_client, json.dumps(poison.body).encode())
        assert status == 503  # Zoom will redeliver it; nothing of it was stored
        assert poison.dedupe_key not in stored_keys(admin)
    finally:
        with admin.connect() as conn:
            conn.execute(text("DROP TRIGGER refuse_poison ON zoom_events"))
            conn.execute(text("DROP FUNCTION refuse_poison()"))


def _started_key(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(ZoomEvent.dedupe_key).where(ZoomEvent.event == "meeting.started")).scalars())


def test_the_writers_connection_is_replaced_when_the_server_closes_it(pg_runtime, pg_client, admin):
    first, second = (d.body for d in participant_events(2, uuid=UUID))
    assert post(pg_client, first) == (200, "stored")
    writer = writer_of(pg_runtime)
    closed = backends(writer)
    with admin.connect() as conn:
        assert (
            closed
            and conn.execute(
                text("SELECT bool_and(pg_terminate_backend(pid)) FROM unnest(:pids) AS pid"), {"pids": list(closed)}
            ).scalar()
        )
    wait_until_gone(admin, closed)
    assert post(pg_client, second) == (200, "stored")  # no failed delivery: the closed one was noticed
    assert backends(writer) and not backends(writer) & closed


def test_a_forked_child_makes_its_own_connection_and_leaves_the_parents_session_alone(pg_runtime):
    connection = pg_runtime.db.dedicated_connection()
    ((parent_pid,),) = connection.execute("SELECT pg_backend_pid()", ())
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: a worker forked after the parent had connected
        try:
            ((pid,),) = connection.execute("SELECT pg_backend_pid()", ())
            connection.close()
            os.write(write, str(pid).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child_pid = int(pipe.read() or 0)
    os.waitpid(child, 0)
    assert child_pid and child_pid != parent_pid
    assert connection.execute("SELECT pg_backend_pid()", ()) == [(parent_pid,)]  # still the parent's session


def test_dispose_closes_the_writers_connection(pg_runtime, pg_client, admin):
    assert post(pg_client, participant_events(1, uuid=UUID)[0].body) == (200, "stored")
    opened = backends(writer_of(pg_runtime))
    assert opened
    pg_runtime.db.dispose()
    wait_until_gone(admin, opened)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_hot_path_creates_a_meeting_it_has_not_seen_as_the_handler_would(
    backend, make_settings, database_url, postgres_url, clock, tmp_path
):
    """A receiver that comes up mid-meeting: no meeting.started, so the first participant events create
    the meeting's row, in the hot path's own statement, with what the handler would have given it:
    its community (by Zoom meeting id), topic, scheduled start and length; and a meeting in one batch
    with one that exists is handled alike."""
    from webhooks.store import store_while_meeting_open
    from zoombot.store.models import Community, Meeting

    url = postgres_url if backend == "postgresql" else f"sqlite:///{tmp_path / 'hot.db'}"
    if backend == "sqlite":
        from zoombot.store.db import Database
        from zoombot.store.migrate import upgrade

        fresh = Database(url)
        upgrade(fresh)
        fresh.dispose()
    runtime = Runtime.from_settings(make_settings(database={"url": url}))
    try:
        with runtime.db.begin() as session:
            session.add(
                Community(
                    name="Infant-Toddler CoP",
                    zoom_meeting_id="81234567890",
                    timezone="America/New_York",
                    first_start_local=datetime(2026, 10, 13, 18, 30),
                    duration_minutes=120,
                )
            )
            session.add(Meeting(uuid="Known==", zoom_meeting_id="1", discrepancies=[], status="live"))
        new = [Event.from_body(d.body) for d in participant_events(3, uuid="NewMeeting==")]
        known = Event.from_body(participant_events(1, uuid="Known==")[0].body)
        if backend == "postgresql":
            assert writer_of(runtime).insert_batch([(new[0], NOW), (known, NOW), (new[1], NOW)]) == [True] * 3
            assert writer_of(runtime).insert_batch([(new[2], NOW), (new[0], NOW)]) == [True, False]
        else:
            assert [store_while_meeting_open(runtime.db, e, now=NOW) for e in (new[0], known, new[1], new[2])] == [
                True
            ] * 4
            assert store_while_meeting_open(runtime.db, new[0], now=NOW) is False  # a redelivery
        with runtime.db.begin() as session:
            community_id = session.scalar(select(Community.id))
            meetings = {m.uuid: m for m in session.scalars(select(Meeting))}
            statuses = Counter(session.scalars(select(ZoomEvent.status)))
        assert set(meetings) == {"Known==", "NewMeeting=="}
        created = meetings["NewMeeting=="]
        # its session is made when the instance starts or ends (zoombot.store.meetings.place), off the hot path
        assert (
            created.zoom_meeting_id,
            created.community_id,
            created.topic,
            created.status,
            created.scheduled_start,
            created.scheduled_minutes,
            created.discrepancies,
            created.session_id,
            created.is_demo,
        ) == (
            "81234567890",
            community_id,
            "Infant-Toddler CoP",
            "scheduled",
            datetime(2026, 10, 13, 22, 30, tzinfo=UTC),
            120,
            [],
            None,
            False,
        )
        assert statuses == {"processed": 4}
    finally:
        runtime.db.dispose()


@pytest.mark.parametrize("runtime_fixture", ["runtime", "pg_runtime"])
def test_the_hot_path_declines_an_event_without_its_meetings_uuid_or_number(runtime_fixture, request):
    """Such an event has no meeting row to make: the hot path declines it (False, so the general path
    keeps it as failed for review) instead of raising the meetings table's NOT NULL violation, a 503
    that Zoom would redeliver in vain. (The receiver checks `problem()` first; the hot path stands alone.)"""
    from webhooks.store import store_while_meeting_open
    from zoombot.store.models import Meeting

    runtime = request.getfixturevalue(runtime_fixture)
    for fields in ({"meeting_uuid": ""}, {"meeting_id": ""}):
        event = Event.from_json(zoom_event("participant_joined", **fields))
        assert store_while_meeting_open(runtime.db, event, now=NOW) is False
    with runtime.db.begin() as session:
        assert session.scalars(select(Meeting)).all() == []
        assert session.scalars(select(ZoomEvent)).all() == []


def test_the_hot_path_stores_any_text_and_number_as_sent(pg_runtime, pg_client, admin):
    """The batch travels as one JSON document: escapes, non-ASCII text, integers past 64 bits and floats
    come out of the database as they went in (to the value)."""
    base = participant_events(1, uuid=UUID)[0].body
    body = json.loads(base)
    body["payload"]["object"]["participant"].update(
        user_name='Zoë "Z" \\ Ng\u2028\u00e9\U0001f600\t', big=2**70, small=-(2**64), ratio=0.1, tiny=1e-7
    )
    data = json.dumps(body).encode()
    assert post(pg_client, data) == (200, "stored")
    with admin.connect() as conn:
        stored = conn.execute(
            select(ZoomEvent.body).where(ZoomEvent.dedupe_key == Event.from_body(data).dedupe_key)
        ).scalar_one()
    assert stored == body


def test_sqlite_batches_share_one_transaction_and_a_refused_row_fails_alone(make_settings, tmp_path):
    """SQLite's hot path writes a batch in one transaction; a row the database refuses (a trigger, test
    only) is tried alone, so only its delivery fails, and a redelivery inside the batch goes in once."""
    from zoombot.store.db import Database
    from zoombot.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'batch.db'}"
    fresh = Database(url)
    upgrade(fresh)
    fresh.dispose()
    runtime = Runtime.from_settings(make_settings(database={"url": url}))
    try:
        with runtime.db.engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON zoom_events "
                "WHEN NEW.body LIKE '%Poison%' BEGIN SELECT RAISE(ABORT, 'refused for the test'); END"
            )
        good, poison, other = (Event.from_body(d.body) for d in participant_events(3, uuid="Lite=="))
        poison = Event.from_json(
            {
                **poison.body,
                "payload": {
                    **poison.payload,
                    "object": {
                        **poison.object,
                        "participant": {**poison.object["participant"], "user_name": "Poison Ivy"},
                    },
                },
            }
        )
        writer = writer_of(runtime)
        assert writer.insert_batch([(good, NOW), (other, NOW), (good, NOW)]) == [True, True, False]
        third = Event.from_body(participant_events(4, uuid="Lite==")[3].body)
        results = writer.insert_batch([(poison, NOW), (third, NOW)])
        assert isinstance(results[0], DBAPIError) and "refused for the test" in str(results[0])
        assert results[1] is True
        with runtime.db.begin() as session:
            keys = set(session.scalars(select(ZoomEvent.dedupe_key)))
        assert keys == {good.dedupe_key, other.dedupe_key, third.dedupe_key}
    finally:
        runtime.db.dispose()
