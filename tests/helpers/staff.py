"""Helpers for the staff UI tests: people, a community, a meeting played through the real webhook
endpoint, and signing in through the real login form (with its CSRF token)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from tests.helpers.zoom_events import zoom_event
from zoombot.core.passwords import hash_password
from zoombot.store import directory
from zoombot.store.models import Community, Meeting, Member, StaffUser

UUID = "4444AAAiAAAAAiAiAiiAii=="
ZOOM_ID = "81234567890"
PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_staff(runtime, email: str, role: str = "staff", password: str = PASSWORD) -> int:
    with runtime.db.begin() as s:
        user = StaffUser(email=email, password_hash=hash_password(password), role=role)
        s.add(user)
        s.flush()
        return user.id


def add_community(runtime, name: str, zoom_id: str | None, *, members=(), facilitators=()) -> int:
    """A community with members given as (name, email) pairs."""
    with runtime.db.begin() as s:
        community = Community(
            name=name,
            zoom_meeting_id=zoom_id,
            first_start_local=datetime(2026, 10, 13, 18, 30),
            timezone="America/New_York",
            duration_minutes=120,
        )
        s.add(community)
        s.flush()
        for (person, email), role in [(m, "member") for m in members] + [(f, "facilitator") for f in facilitators]:
            directory.set_membership(s, community.id, directory.ensure_member(s, email, name=person).id, role)
        return community.id


def member_id(runtime, email: str) -> int:
    with runtime.db.begin() as s:
        return s.scalar(select(Member.id).where(Member.email == email))


def person(name: str, email: str, device: str) -> dict:
    return dict(
        user_name=name,
        email=email,
        participant_uuid=device,
        user_id=device[-6:],
        registrant_id="",
        participant_user_id="",
    )


ALICE = person("Alice Ames", "alice@example.org", "dev-alice-000001")
BOB = person("Bob Brown", "bob@example.org", "dev-bob-00000002")
PHONE = person("+1 555 0100", "", "dev-phone-000003")
GUEST = person("Gina Guest", "", "dev-guest-000004")


def meeting_events(uuid: str = UUID, zoom_id: str = ZOOM_ID, *, days_later: int = 0) -> list[dict]:
    """A 2-hour meeting (18:30-20:30 New York on 13 October 2026, or `days_later`): Alice all along; Bob joins
    late and leaves early; a phone dial-in with no e-mail; a guest with no e-mail who stays 20 minutes."""
    common = {"meeting_uuid": uuid, "meeting_id": zoom_id}
    events = [
        zoom_event("meeting_started", meeting_start_time="2026-10-13T22:30:00Z", **common),
        zoom_event("participant_joined", join_time="2026-10-13T22:30:10Z", **ALICE, **common),
        zoom_event("participant_joined", join_time="2026-10-13T22:45:00Z", **BOB, **common),
        zoom_event("participant_joined", join_time="2026-10-13T22:31:00Z", **PHONE, **common),
        zoom_event("participant_joined", join_time="2026-10-13T23:00:00Z", **GUEST, **common),
        zoom_event("participant_left", leave_time="2026-10-13T23:20:00Z", **GUEST, **common),
        zoom_event("participant_left", leave_time="2026-10-14T00:00:00Z", **BOB, **common),
        zoom_event("participant_left", leave_time="2026-10-14T00:25:00Z", **PHONE, **common),
        zoom_event("participant_left", leave_time="2026-10-14T00:25:00Z", **ALICE, **common),
        zoom_event(
            "meeting_ended",
            meeting_start_time="2026-10-13T22:30:00Z",
            meeting_end_time="2026-10-14T00:30:00Z",
            **common,
        ),
    ]
    return [_later(event, days_later) for event in events] if days_later else events


_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _later(body: dict, days: int) -> dict:
    """The same event `days` later: every Zoom time in it moved, and its event_ts."""
    import json

    def shift(match: re.Match) -> str:
        when = datetime.strptime(match.group(0), "%Y-%m-%dT%H:%M:%SZ") + timedelta(days=days)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    moved = json.loads(_TIME.sub(shift, json.dumps(body)))
    moved["event_ts"] = body["event_ts"] + days * 86_400_000
    return moved


def instance(zoom_id: str, n: int) -> str:
    """The uuid of a Zoom meeting's n-th instance in `play_year`."""
    return f"{zoom_id}Instance{n:02d}=="


def play_year(runtime, post_event, zoom_ids: list[str], lone: str) -> None:
    """What a rebuild starts from: a community per Zoom meeting id (Alice and Bob members), each meeting twice
    28 days apart (`meeting_events`), and the Zoom meeting `lone`, of no community, once."""
    for at, zoom_id in enumerate(zoom_ids):
        add_community(
            runtime,
            f"CoP {at}",
            zoom_id,
            members=[("Alice Ames", "alice@example.org"), ("Bob Brown", "bob@example.org")],
        )
        for n, days in enumerate((0, 28)):
            play(post_event, meeting_events(instance(zoom_id, n), zoom_id, days_later=days))
    play(post_event, meeting_events(instance(lone, 0), lone))


def play(post_event, events) -> None:
    for body in events:
        response = post_event(body)
        assert response.status_code == 200, response.get_data(as_text=True)


def meeting_id(runtime, uuid: str = UUID) -> int:
    with runtime.db.begin() as s:
        return s.scalar(select(Meeting.id).where(Meeting.uuid == uuid))


def session_id(runtime, uuid: str = UUID) -> int:
    """The session (community occurrence) a Zoom instance belongs to."""
    with runtime.db.begin() as s:
        return s.scalar(select(Meeting.session_id).where(Meeting.uuid == uuid))


def csrf_of(client) -> str:
    """This client's session token, read from a page the way a browser would."""
    response = client.get("/staff/login")
    if response.status_code == 302:  # signed in already: every page's sign-out form carries it
        response = client.get("/staff/")
    return CSRF.search(response.get_data(as_text=True)).group(1)


def login(client, email: str, password: str = PASSWORD):
    token = csrf_of(client)
    return client.post("/staff/login", data={"email": email, "password": password, "csrf_token": token})


def token_from(page_html: str) -> str:
    return CSRF.search(page_html).group(1)
