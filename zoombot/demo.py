"""`zoombot demo`: a clearly marked demo in an empty database, so a first `make run` shows something real.

The demo's past meeting is not written into the tables: its Zoom events (built by the pure
`demo_events`) are signed and POSTed to the real `/zoom/webhook` endpoint, so what staff then review is
exactly what the receiver, the attendance core and the hours policy make of them (the composition root,
`zoombot.app.signed_webhook_poster`, does the signing).
Every row the demo creates is marked `is_demo` (communities, members, the meeting); nothing is mailed.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from zoombot.core.closure import ClosureInput
from zoombot.core.schedule import Cadence, occurrences, zone
from zoombot.runtime import Runtime
from zoombot.store import closure_store, directory
from zoombot.store.meetings import ensure_meeting
from zoombot.store.models import Community, CreditLine, Meeting, Member, Occurrence, StaffUser, ZoomEvent
from zoombot.store.replanning import replan_community

COMMUNITY = "Infant-Toddler CoP (demo)"
ZOOM_MEETING_ID = "85500000001"
JOIN_URL = "https://zoom.us/j/85500000001"
TIMEZONE = "America/New_York"
RRULE = "FREQ=MONTHLY;BYDAY=2TU"
DURATION = 120
STAFF_EMAIL = "demo@zoombot.example"
HOST_ID = "DemoHostUserId000000001"
ACCOUNT_ID = "DemoAccount0001"
FACILITATOR = ("Maria Lopez", "maria.lopez@example.org", "DEMO-1000")
MEMBERS = [  # name, email, registry id
    ("Alice Nguyen", "alice.nguyen@example.org", "DEMO-1001"),
    ("Ben Okafor", "ben.okafor@example.org", "DEMO-1002"),
    ("Carla Smith", "carla.smith@example.org", "DEMO-1003"),
    ("Dana Lee", "dana.lee@example.org", "DEMO-1004"),
    ("Evan Brooks", "evan.brooks@example.org", "DEMO-1005"),
    ("Fatima Khan", "fatima.khan@example.org", "DEMO-1006"),
    ("Grace Kim", "grace.kim@example.org", "DEMO-1007"),
    ("Hector Diaz", "hector.diaz@example.org", "DEMO-1008"),
]
DIAL_IN_NAME = "+1 617-555-0142"  # a fictional number: Dana called in from her phone
MEETING_MINUTES = 125  # the host kept it running five minutes past the scheduled two hours


class DemoRefused(Exception):
    """The database holds real data; the demo never mixes with it."""


class DemoPlaybackFailed(Exception):
    """The webhook endpoint did not store one of the demo's events (the message says which and why)."""


# --- pure ---------------------------------------------------------------------------------------------


def first_meeting_local(today: date) -> datetime:
    """The community's first meeting: the second Tuesday, 18:30, six months before `today`'s month."""
    month_index = today.year * 12 + today.month - 1 - 6
    year, month = divmod(month_index, 12)
    first = date(year, month + 1, 1)
    second_tuesday = first + timedelta(days=(1 - first.weekday()) % 7 + 7)
    return datetime(second_tuesday.year, second_tuesday.month, second_tuesday.day, 18, 30)


def demo_uuid(start: datetime) -> str:
    """A stable, Zoom-shaped instance UUID for the occurrence at `start`."""
    return f"Demo{start:%Y%m%d%H%M}Occurrence=="


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def demo_events(
    start: datetime, *, meeting_id: str = ZOOM_MEETING_ID, uuid: str | None = None, host_id: str = HOST_ID
) -> list[dict[str, Any]]:
    """The scripted Zoom events of one demo meeting that starts at `start` (aware UTC), in delivery order.

    Minutes after the start (the meeting runs 125 minutes, 5 over its scheduled 120):
      Maria (facilitator, host)  joins 0, leaves 125
      Alice                      joins 2, drops at 40, rejoins 43 (same device), leaves 125
      Ben                        laptop 1-125 and phone 30-60 (two devices, one person)
      Carla                      waiting room at 5, admitted at 12, leaves 125
      +1 617-555-0142            dial-in without e-mail (Dana, unmatched until staff match it), 10-100
      Evan                       late: joins 50, leaves 125
      Fatima                     early leaver: 3-23 (under the 30-minute minimum)
      Grace                      joins 0; her leave never arrives (closes at the meeting's end)
      Hector                     absent
    """
    uuid = uuid or demo_uuid(start)
    at = lambda minutes: start + timedelta(minutes=minutes)  # noqa: E731 - local shorthand
    meeting = {
        "id": meeting_id,
        "uuid": uuid,
        "host_id": host_id,
        "topic": COMMUNITY,
        "type": 8,
        "start_time": _iso(start),
        "timezone": TIMEZONE,
        "duration": DURATION,
    }
    events: list[tuple[datetime, int, dict[str, Any]]] = []

    def add(name: str, when: datetime, obj: dict[str, Any], order: int = 1) -> None:
        events.append(
            (
                when,
                order,
                {
                    "event": name,
                    "event_ts": int(when.timestamp() * 1000),
                    "payload": {"account_id": ACCOUNT_ID, "object": obj},
                },
            )
        )

    def person(name: str, when: datetime, who: dict[str, Any], time_key: str, **extra: Any) -> None:
        participant = {
            "user_id": who["user_id"],
            "user_name": who["name"],
            "id": who.get("id", ""),
            "participant_uuid": who["device"],
            "email": who.get("email", ""),
            "registrant_id": "",
            "participant_user_id": who.get("id", ""),
            time_key: _iso(when),
            **extra,
        }
        add(name, when, {**meeting, "participant": participant})

    def visit(who: dict[str, Any], join: float, leave: float | None) -> None:
        person("meeting.participant_joined", at(join), who, "join_time")
        if leave is not None:
            person(
                "meeting.participant_left",
                at(leave),
                who,
                "leave_time",
                leave_reason="left the meeting. Reason : left the meeting",
            )

    def who(name: str, email: str, device: str, user_id: int, **extra: Any) -> dict[str, Any]:
        return {"name": name, "email": email, "device": device, "user_id": str(user_id), **extra}

    add("meeting.started", start, dict(meeting), order=0)
    maria = who("Maria Lopez", FACILITATOR[1], "DemoDeviceMariaLaptop01", 16778000, id=host_id)
    visit(maria, 0, MEETING_MINUTES)
    alice = MEMBERS[0]
    visit(who(alice[0], alice[1], "DemoDeviceAliceLaptop01", 16778001), 2, 40)
    visit(who(alice[0], alice[1], "DemoDeviceAliceLaptop01", 16778101), 43, MEETING_MINUTES)
    ben = MEMBERS[1]
    visit(who(ben[0], ben[1], "DemoDeviceBenLaptop0001", 16778002), 1, MEETING_MINUTES)
    visit(who(ben[0] + " (phone)", ben[1], "DemoDeviceBenPhone00001", 16778202), 30, 60)
    carla = who(MEMBERS[2][0], MEMBERS[2][1], "DemoDeviceCarlaLaptop01", 16778003)
    person("meeting.participant_joined_waiting_room", at(5), carla, "date_time")
    person("meeting.participant_admitted", at(12), carla, "date_time")
    visit(carla, 12, MEETING_MINUTES)
    visit(who(DIAL_IN_NAME, "", "DemoDeviceDialIn000001", 16778004), 10, 100)
    evan, fatima, grace = MEMBERS[4], MEMBERS[5], MEMBERS[6]
    visit(who(evan[0], evan[1], "DemoDeviceEvanTablet001", 16778005), 50, MEETING_MINUTES)
    visit(who(fatima[0], fatima[1], "DemoDeviceFatimaPhone01", 16778006), 3, 23)
    visit(who(grace[0], grace[1], "DemoDeviceGraceLaptop01", 16778007), 0, None)
    add("meeting.ended", at(MEETING_MINUTES), {**meeting, "end_time": _iso(at(MEETING_MINUTES))}, order=2)
    return [body for _, _, body in sorted(events, key=lambda e: (e[0], e[1]))]


# --- shell --------------------------------------------------------------------------------------------


def database_state(session: Session) -> str:
    """'empty', 'demo' (only demo data) or 'real' (anything an operator or Zoom put there)."""
    demo_uuids = select(Meeting.uuid).where(Meeting.is_demo.is_(True))
    real = [
        exists().where(Community.is_demo.is_(False)),
        exists().where(Member.is_demo.is_(False)),
        exists().where(StaffUser.email.not_in([STAFF_EMAIL, FACILITATOR[1]])),
        exists().where(Meeting.is_demo.is_(False)),
        exists().where(ZoomEvent.meeting_uuid.is_(None) | ZoomEvent.meeting_uuid.not_in(demo_uuids)),
    ]
    if any(session.scalar(select(check)) for check in real):
        return "real"
    anything = [
        exists().where(Community.id.is_not(None)),
        exists().where(Member.id.is_not(None)),
        exists().where(StaffUser.id.is_not(None)),
        exists().where(ZoomEvent.id.is_not(None)),
    ]
    return "demo" if any(session.scalar(select(check)) for check in anything) else "empty"


@dataclass(frozen=True)
class DemoLogins:
    staff_url: str
    staff_email: str
    staff_password: str
    facilitator_email: str
    facilitator_password: str


CLOSURE = ClosureInput(
    summary="We looked at arrival routines and how a predictable goodbye helps toddlers settle.",
    next_steps=(
        "Try a goodbye song at arrival for two weeks and note what changes",
        "Bring one photo of your room's cozy corner to share",
    ),
    evaluation_url=None,
    resolved_ids=frozenset(),
    raised=("How do we talk with families about screen time at home?",),
)


@dataclass(frozen=True)
class DemoSeeded:
    logins: DemoLogins
    meeting_uuid: str
    meeting_start: datetime
    lines: int  # pending review
    no_credit: int  # resolved by themselves (below the minimum)


def new_password() -> str:
    return secrets.token_urlsafe(12)


def _logins(session: Session, runtime: Runtime) -> DemoLogins:
    staff_password, facilitator_password = new_password(), new_password()
    directory.set_staff_user(session, STAFF_EMAIL, staff_password, role="staff")
    directory.set_staff_user(session, FACILITATOR[1], facilitator_password, role="facilitator")
    return DemoLogins(
        staff_url=runtime.settings.web.base_url.rstrip("/") + "/staff/",
        staff_email=STAFF_EMAIL,
        staff_password=staff_password,
        facilitator_email=FACILITATOR[1],
        facilitator_password=facilitator_password,
    )


def reset_logins(runtime: Runtime) -> DemoLogins:
    """For a database that already holds the demo: new passwords for its two logins."""
    with runtime.db.begin() as session:
        if database_state(session) != "demo":
            raise DemoRefused("the database does not hold the demo")
        return _logins(session, runtime)


def seed(runtime: Runtime) -> DemoSeeded:
    """Seed the directory and logins, then play the past meeting through the webhook endpoint."""
    now = runtime.now()
    first = first_meeting_local(now.astimezone(zone(TIMEZONE)).date())
    with runtime.db.begin() as session:
        state = database_state(session)
        if state != "empty":
            raise DemoRefused("the database is not empty: the demo only goes into an empty database")
        for name, email, registry_id in [FACILITATOR] + MEMBERS:
            session.add(Member(name=name, email=email, registry_id=registry_id, is_demo=True))
        session.flush()
        spec = directory.community_spec(
            name=COMMUNITY,
            zoom_meeting_id=ZOOM_MEETING_ID,
            facilitator=FACILITATOR[1],
            start=first.strftime("%Y-%m-%dT%H:%M"),
            duration=DURATION,
            rrule=RRULE,
            timezone=TIMEZONE,
            audience="Infant and toddler teachers (demo)",
            region="Demo region",
            default_timezone=TIMEZONE,
        )
        community = directory.add_community(session, spec, is_demo=True, join_url=JOIN_URL)
        for _, email, _ in MEMBERS:
            member_id = session.scalars(select(Member.id).where(Member.email == email)).one()  # added just above
            directory.set_membership(session, community.id, member_id, "member")
        logins = _logins(session, runtime)
        cadence = Cadence(community.first_start_local, community.timezone, community.duration_minutes, community.rrule)
        past = [
            o
            for o in occurrences(cadence, now - timedelta(days=75), now)
            if o.start + timedelta(minutes=MEETING_MINUTES) <= now
        ]
        start = past[-1].start
        # the past meeting's planned row, as the planner made it back then: its session, closure and the next
        # agenda's carried next steps hang on it, as for any real meeting
        replan_community(session, community, start - timedelta(minutes=1), start + timedelta(minutes=1))
        events = demo_events(start)
        uuid = events[0]["payload"]["object"]["uuid"]
        # The instance exists before its events arrive, marked as demo, so even a half-played demo
        # never looks like real data.
        ensure_meeting(
            session, uuid, ZOOM_MEETING_ID, events[0]["payload"]["object"], settings=runtime.settings, is_demo=True
        )
    from zoombot.app import signed_webhook_poster

    post = signed_webhook_poster(runtime)
    for body in events:
        status, answer = post(json.dumps(body).encode("utf-8"))
        if status != 200 or answer.get("status") != "stored":
            raise DemoPlaybackFailed(f"the webhook endpoint answered {status} {answer} to the demo's {body['event']}")
    with runtime.db.begin() as session:
        held = session.scalars(select(Occurrence).where(Occurrence.community_id == community.id)).one()
        # what the facilitator recorded after it: the next meeting's agenda draft starts from these next steps
        closure_store.record(session, held, CLOSURE, actor=FACILITATOR[1], now=runtime.now())
        counts = dict(
            session.execute(
                select(CreditLine.status, func.count(CreditLine.id))
                .join(Meeting, Meeting.session_id == CreditLine.session_id)
                .where(Meeting.uuid == uuid)
                .group_by(CreditLine.status)
            ).all()
        )
    return DemoSeeded(
        logins=logins,
        meeting_uuid=uuid,
        meeting_start=start,
        lines=counts.get("pending", 0),
        no_credit=counts.get("no_credit", 0),
    )
