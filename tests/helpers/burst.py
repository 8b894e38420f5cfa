"""Signed Zoom deliveries sent over real HTTP from several threads, as Zoom's senders would, for the
fault and scale-out tests: distinct participant events, each remembered with the answer it got."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import create_engine, select

from tests.helpers.zoom_events import signed_headers, zoom_event
from webhooks.event import Event
from zoombot.store.db import normalize_url
from zoombot.store.models import ZoomEvent


@dataclass
class Delivery:
    body: bytes
    status: int | None = None  # None: no answer (connection refused or reset)

    @property
    def key(self) -> str:
        return Event.from_body(self.body).dedupe_key


def participant_events(count: int, *, uuid: str = "burst-meeting==") -> list[Delivery]:
    """`count` distinct joins of one meeting instance, one person each."""
    out = []
    for i in range(count):
        body = zoom_event(
            "participant_joined",
            meeting_uuid=uuid,
            user_name=f"Person {i}",
            email=f"p{i}@example.org",
            participant_uuid=f"dev-{i:05d}",
            user_id=str(20000 + i),
            join_time=f"2026-10-13T22:{30 + i // 60 % 30:02d}:{i % 60:02d}Z",
            event_ts=1760394600000 + i,
        )
        out.append(Delivery(json.dumps(body).encode()))
    return out


def post(port: int, delivery: Delivery, timeout: float = 10.0) -> Delivery:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/zoom/webhook", body=delivery.body, headers=signed_headers(delivery.body))
        delivery.status = conn.getresponse().status
    except (OSError, http.client.HTTPException):
        delivery.status = None
    finally:
        conn.close()
    return delivery


def send_all(
    port: Callable[[], int] | int,
    deliveries: Iterable[Delivery],
    *,
    threads: int = 8,
    after_each: Callable[[Delivery], None] | None = None,
) -> list[Delivery]:
    deliveries = list(deliveries)
    lock = threading.Lock()

    def one(d: Delivery) -> Delivery:
        post(port() if callable(port) else port, d)
        if after_each is not None:
            with lock:
                after_each(d)
        return d

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, deliveries))


def stored_keys(database_url: str) -> list[str]:
    """Every stored event's dedupe key (with repeats, if there ever were any)."""
    engine = create_engine(normalize_url(database_url))
    try:
        with engine.connect() as conn:
            return list(conn.scalars(select(ZoomEvent.dedupe_key)))
    finally:
        engine.dispose()
