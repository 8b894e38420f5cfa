"""The receiver in a real gunicorn process with two workers: concurrent duplicate deliveries are stored
exactly once (the unique constraint decides, across processes), and the HTTP edges hold on a real server."""

from __future__ import annotations

import http.client
import json
import threading
import time

import pytest
from sqlalchemy import create_engine, func, select

from tests.helpers.servers import server  # noqa: F401 - the fixture
from tests.helpers.zoom_events import signed_headers, zoom_event
from zoombot.store.db import normalize_url
from zoombot.store.models import Meeting, ZoomEvent

pytestmark = pytest.mark.slow


def post(port: int, body: bytes, headers: dict, *, chunked: bool = False) -> tuple[int, dict | str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if chunked:
            conn.putrequest("POST", "/zoom/webhook")
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for start in range(0, len(body), 64 * 1024):
                piece = body[start : start + 64 * 1024]
                conn.send(b"%x\r\n" % len(piece) + piece + b"\r\n")
            conn.send(b"0\r\n\r\n")
        else:
            conn.request("POST", "/zoom/webhook", body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text
    finally:
        conn.close()


def count(database_url: str, model, **where) -> int:
    engine = create_engine(normalize_url(database_url))
    with engine.connect() as conn:
        statement = select(func.count()).select_from(model)
        for column, value in where.items():
            statement = statement.where(getattr(model, column) == value)
        result = conn.scalar(statement)
    engine.dispose()
    return result


def simultaneously(n: int, action) -> list:
    """Run `action(i)` in n threads released at the same instant."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = action(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_duplicate_deliveries_are_stored_exactly_once(server, database_url):
    proc = server(database_url, workers=2, worker_class="gthread", threads=4)
    for round_number in range(5):
        body = json.dumps(
            zoom_event(
                "participant_joined",
                join_time=f"2026-10-13T22:3{round_number}:10Z",
                meeting_uuid=f"RaceUuid{round_number}==",
            )
        ).encode()
        headers = signed_headers(body)
        results = simultaneously(12, lambda i, body=body, headers=headers: post(proc.port, body, headers))
        assert all(status == 200 for status, _ in results), results
        outcomes = sorted(payload["status"] for _, payload in results)
        assert outcomes == ["duplicate"] * 11 + ["stored"], outcomes
        assert count(database_url, ZoomEvent, meeting_uuid=f"RaceUuid{round_number}==") == 1
        assert count(database_url, Meeting, uuid=f"RaceUuid{round_number}==") == 1


def test_concurrent_events_of_one_new_meeting_create_it_once(server, database_url):
    proc = server(database_url, workers=2, worker_class="gthread", threads=4)

    def deliver(i: int):
        body = json.dumps(
            zoom_event(
                "participant_joined",
                join_time=f"2026-10-13T22:{30 + i:02d}:00Z",
                user_id=str(16778240 + i),
                user_name=f"Person {i}",
                email=f"person{i}@example.org",
                participant_uuid=f"Device{i}",
            )
        ).encode()
        return post(proc.port, body, signed_headers(body))

    results = simultaneously(10, deliver)
    assert [payload["status"] for _, payload in results] == ["stored"] * 10
    assert count(database_url, ZoomEvent) == 10
    assert count(database_url, Meeting) == 1


def test_real_server_edges(server, database_url):
    proc = server(database_url, workers=2)
    assert proc.status("/healthz") == 200 and proc.status("/readyz") == 200
    body = json.dumps(zoom_event("participant_joined")).encode()
    assert post(proc.port, body, {"content-type": "application/json"})[0] == 401
    stale = signed_headers(body, timestamp=int(time.time()) - 6000)
    assert post(proc.port, body, stale)[0] == 401
    big = json.dumps({"event": "meeting.started", "padding": "x" * (1024 * 1024)}).encode()
    assert post(proc.port, big, signed_headers(big))[0] == 413
    assert post(proc.port, big, signed_headers(big), chunked=True)[0] == 413  # no Content-Length
    assert count(database_url, ZoomEvent) == 0
    assert post(proc.port, body, signed_headers(body), chunked=True) == (200, {"status": "stored"})
    assert post(proc.port, body, signed_headers(body)) == (200, {"status": "duplicate"})
    validation = json.dumps(
        {"event": "endpoint.url_validation", "event_ts": 1, "payload": {"plainToken": "abc"}}
    ).encode()
    status, answer = post(proc.port, validation, signed_headers(validation))
    assert status == 200 and answer["plainToken"] == "abc" and len(answer["encryptedToken"]) == 64
    assert count(database_url, ZoomEvent) == 1


def test_one_body_limit_on_a_real_server_whether_chunked_or_not(server, database_url):
    """Issue 15: exactly 1 MiB chunked got 413 where the same with a Content-Length got 200."""
    proc = server(database_url, workers=1)
    answers = {}
    for size in (1024 * 1024, 1024 * 1024 + 1):
        for chunked in (False, True):
            body = {"event": "meeting.sharing_started", "event_ts": size * 2 + chunked, "padding": ""}
            body["padding"] = "p" * (size - len(json.dumps(body)))
            data = json.dumps(body).encode()
            assert len(data) == size
            answers[size, chunked] = post(proc.port, data, signed_headers(data), chunked=chunked)[0]
    assert answers == {
        (1024 * 1024, False): 200,
        (1024 * 1024, True): 200,
        (1024 * 1024 + 1, False): 413,
        (1024 * 1024 + 1, True): 413,
    }
    assert count(database_url, ZoomEvent) == 2


def test_stop_is_graceful(server, database_url):
    proc = server(database_url, workers=2)
    assert proc.stop() == 0
    assert proc.status("/healthz", timeout=0.5) is None
