"""Fixtures and helpers for the outbox, mail and job tests: a real SMTP server (aiosmtpd on loopback)
collecting what it receives, a runtime wired to it, a community with members, and job passes."""

from __future__ import annotations

import email
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage

import icalendar
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from jobs.runner import run_once
from jobs.table import JOBS
from tests.helpers.servers import free_port
from zoombot.runtime import Runtime
from zoombot.store import directory
from zoombot.store.models import Community, OutboxMessage

JOIN_URL = "https://zoom.us/j/81234567890?pwd=abc"
ZOOM_ID = "81234567890"
FACILITATOR = ("Fran Facil", "fran@example.org")
MEMBERS = [("Alice Ames", "alice@example.org"), ("Bob Brown", "bob@example.org")]
EVERYONE = sorted([FACILITATOR[1]] + [email for _, email in MEMBERS])


@dataclass
class Received:
    to: list[str]
    message: EmailMessage

    @property
    def kind(self) -> str:
        return self.message["X-Zoombot-Kind"]

    def part(self, content_type: str):
        return next(p for p in self.message.walk() if p.get_content_type() == content_type)

    @property
    def text(self) -> str:
        return self.part("text/plain").get_content()

    @property
    def html(self) -> str:
        return self.part("text/html").get_content()

    @property
    def ics(self) -> icalendar.Calendar:
        raw = self.part("text/calendar").get_payload(decode=True)
        return icalendar.Calendar.from_ical(raw)

    @property
    def event(self):
        return next(c for c in self.ics.walk() if c.name == "VEVENT")


@dataclass
class SmtpCollector:
    """An aiosmtpd handler: keeps every message; `reply` makes it refuse DATA with that SMTP reply."""

    received: list[Received] = field(default_factory=list)
    reply: str | None = None
    refuse: set[str] = field(default_factory=set)  # recipients refused with 550
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return self.reply
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append(Received(to=[a.lower() for a in envelope.rcpt_tos], message=message))
        return "250 OK: queued"

    def take(self) -> list[Received]:
        """Everything received since the last take."""
        with self.lock:
            out, self.received[:] = list(self.received), []
        return out


class SmtpServer:
    def __init__(self):
        self.port = free_port()
        self.handler = SmtpCollector()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def take(self) -> list[Received]:
        return self.handler.take()


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def mail_settings(smtp: SmtpServer, **mail) -> dict:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "from_address": "cop@zoombot.example.org",
        "timeout_seconds": 5,
        **mail,
    }


@pytest.fixture
def runtime(make_settings, clock, smtp):
    """The shared `runtime`, sending to the test SMTP server (so `app`, `client`, `post_event` use it too)."""
    rt = Runtime.from_settings(
        make_settings(
            mail=mail_settings(smtp), schedule={"horizon_days": 30}, web={"base_url": "https://cop.example.org"}
        )
    )
    rt.clock = clock
    yield rt
    rt.db.dispose()


def add_community(
    runtime,
    *,
    name="Infant-Toddler CoP",
    start=datetime(2026, 11, 10, 18, 30),
    rrule="FREQ=MONTHLY;BYDAY=2TU",
    members=MEMBERS,
    facilitator=FACILITATOR,
    join_url=JOIN_URL,
    zoom_id=ZOOM_ID,
    tz="America/New_York",
) -> int:
    with runtime.db.begin() as s:
        community = Community(
            name=name,
            zoom_meeting_id=zoom_id,
            join_url=join_url,
            first_start_local=start,
            timezone=tz,
            duration_minutes=120,
            rrule=rrule,
        )
        s.add(community)
        s.flush()
        people = [(facilitator, "facilitator")] + [(m, "member") for m in members]
        for (person, address), role in people:
            directory.set_membership(s, community.id, directory.ensure_member(s, address, name=person).id, role)
        return community.id


MY_JOBS = ("plan", "send", "finalize")


def run_jobs(runtime, names=MY_JOBS) -> dict:
    return run_once(runtime, [job for job in JOBS if job.name in names])


def at(clock, smtp, runtime, when: datetime) -> list[Received]:
    """Move the clock to `when`, run a pass of the jobs, return what arrived."""
    clock.set(when)
    run_jobs(runtime)
    return smtp.take()


def by_kind(received: list[Received]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in received:
        out.setdefault(r.kind, []).extend(r.to)
    return {kind: sorted(to) for kind, to in out.items()}


def outbox_rows(runtime, **where) -> list[OutboxMessage]:
    with runtime.db.begin() as s:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for key, value in where.items():
            query = query.where(getattr(OutboxMessage, key) == value)
        return list(s.scalars(query))
