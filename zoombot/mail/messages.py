"""Each e-mail zoombot sends, built from Jinja templates: subject, plain text, HTML, calendar file.

Templates live in one place, `zoombot/templates/mail/` (`<kind>.subject.txt`, `<kind>.txt`, `<kind>.html`,
plus the shared `_layout.*`, `_agenda.*`, `_join.*` and `_lists.html`); an operator's `[mail] templates_dir`
is searched first, so copying one file there and editing it overrides just that file. HTML templates are
autoescaped, so text a
facilitator or member typed (even `<script>`) arrives as text; links in agendas are http(s) only
(`zoombot.core.agenda` drops anything else). The plain-text part is rendered from its own template, never
derived from the HTML.

No database here: `zoombot.mail.context` gathers the facts, this module turns them into a message.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from zoombot.config import MailSettings
from zoombot.core import calendar
from zoombot.core.agenda import Agenda
from zoombot.core.closure import Outcome
from zoombot.core.join_link import JoinDetails
from zoombot.core.plurals import plural
from zoombot.core.roles import label as role_label
from zoombot.core.schedule import FACILITATOR_KINDS
from zoombot.core.times import clock_time, duration, when  # noqa: F401 - the templates' and senders' formats

TEMPLATES = Path(__file__).with_name("templates")
ICS_KINDS = {"invite": "REQUEST", "update": "REQUEST", "cancellation": "CANCEL"}


@dataclass(frozen=True)
class MeetingFacts:
    """What every message says about the meeting."""

    community: str
    community_id: int
    original_start: datetime  # UTC, the occurrence's identity
    start: datetime  # UTC
    end: datetime  # UTC
    timezone: str
    sequence: int
    join_url: str | None
    meeting_number: str | None = None  # the Zoom meeting id as people type it ("812 3456 7890")
    passcode: str | None = None

    @property
    def join(self) -> JoinDetails:
        return JoinDetails(url=self.join_url, meeting_id=self.meeting_number, passcode=self.passcode)


@dataclass(frozen=True)
class HoursLine:
    kind: str  # growth | training
    hours: Decimal
    status: str


@dataclass(frozen=True)
class Attendance:
    """One attendee's credit line for the follow-up (None in the message when they did not attend): the
    session total (every Zoom instance of the meeting together) and the hours by kind."""

    attended_seconds: int
    hours: tuple[HoursLine, ...]
    no_credit: str | None = None  # why there are no hours, in words


@dataclass(frozen=True)
class MessageFacts:
    kind: str
    recipient_name: str
    recipient_address: str
    meeting: MeetingFacts
    unsubscribe_url: str
    resources_url: str
    agenda: Agenda | None = None
    agenda_url: str | None = None
    attendance: Attendance | None = None
    previous_start: datetime | None = None
    closure_url: str | None = None  # facilitator_closure: where to record it
    outcome: Outcome | None = None  # followup: how the meeting closed
    member_page_url: str | None = None  # the member's personal "my hours" page (follow-up, certificate mail)
    member_link_days: int | None = None  # how long that link works
    extra: dict = field(default_factory=dict)


@functools.lru_cache(maxsize=8)
def environment(templates_dir: str = "") -> Environment:
    """One Jinja environment per override folder: HTML autoescaped, text not."""
    loaders = [FileSystemLoader(templates_dir)] if templates_dir else []
    loaders.append(FileSystemLoader(str(TEMPLATES)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html"], default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["when"] = when
    env.filters["clock_time"] = clock_time
    env.filters["duration"] = duration
    env.filters["plural"] = plural
    env.filters["role"] = role_label
    env.filters["role_line"] = lambda assignment: f"{role_label(assignment.role)}: {assignment.name}"
    return env


def _variables(facts: MessageFacts) -> dict:
    m = facts.meeting
    return {
        "kind": facts.kind,
        "name": facts.recipient_name,
        "community": m.community,
        "tz": m.timezone,
        "start": m.start,
        "end": m.end,
        "minutes": int((m.end - m.start) / timedelta(minutes=1)),
        "when": when(m.start, m.timezone),
        "join_url": m.join_url,
        "join": m.join,
        "agenda": facts.agenda,
        "agenda_url": facts.agenda_url,
        "unsubscribe_url": facts.unsubscribe_url,
        "resources_url": facts.resources_url,
        "attendance": facts.attendance,
        "previous_when": when(facts.previous_start, m.timezone) if facts.previous_start else None,
        "closure_url": facts.closure_url,
        "outcome": facts.outcome,
        "member_page_url": facts.member_page_url,
        "member_link_days": facts.member_link_days,
        "facilitator_mail": facts.kind in FACILITATOR_KINDS,
        **facts.extra,
    }


def render(facts: MessageFacts, templates_dir: str = "") -> tuple[str, str, str]:
    """(subject, text, html) for one message."""
    env = environment(templates_dir)
    variables = _variables(facts)
    subject = " ".join(env.get_template(f"{facts.kind}.subject.txt").render(variables).split())
    text = env.get_template(f"{facts.kind}.txt").render(variables)
    html = env.get_template(f"{facts.kind}.html").render(variables)
    return subject, text, html


def calendar_file(facts: MessageFacts, mail: MailSettings, now: datetime) -> bytes | None:
    method = ICS_KINDS.get(facts.kind)
    if method is None:
        return None
    m = facts.meeting
    join = [f"Join on Zoom: {m.join_url}"] if m.join_url else []
    join += [f"Meeting ID: {m.meeting_number}"] if m.meeting_number else []
    join += [f"Passcode: {m.passcode}"] if m.passcode else []
    description = "\n".join([f"{m.community}: Community of Practice meeting.", ""] + join).strip()
    return calendar.build_ics(
        uid=calendar.event_uid(m.community_id, m.original_start, sender_domain(mail)),
        sequence=m.sequence,
        start=m.start,
        end=m.end,
        tzid=m.timezone,
        summary=m.community,
        description=description,
        join_url=m.join_url,
        organizer_email=mail.from_address,
        organizer_name=m.community,
        attendee_email=facts.recipient_address,
        method=method,
        stamp=now,
    )


def sender_domain(mail: MailSettings) -> str:
    return mail.from_address.rpartition("@")[2].strip().strip(">").lower()


def build(facts: MessageFacts, mail: MailSettings, now: datetime) -> EmailMessage:
    """The complete message, headers included; `message["Message-ID"]` is what the outbox stores."""
    subject, text, html = render(facts, mail.templates_dir)
    message = envelope(
        facts.kind, facts.recipient_address, subject, text, html, mail, now, unsubscribe_url=facts.unsubscribe_url
    )
    ics = calendar_file(facts, mail, now)
    if ics is not None:
        method = ICS_KINDS[facts.kind]
        # Inline as an alternative (what Outlook and Gmail read as an invitation) and as a file (for the rest).
        message.add_alternative(ics, maintype="text", subtype="calendar", params={"method": method, "charset": "UTF-8"})
        message.add_attachment(
            ics, maintype="application", subtype="ics", filename="cancel.ics" if method == "CANCEL" else "invite.ics"
        )
    return message


def envelope(
    kind: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    mail: MailSettings,
    now: datetime,
    *,
    unsubscribe_url: str | None,
) -> EmailMessage:
    """Headers and the text and HTML parts every zoombot message has. Mail a member asked for themselves
    (a fresh link to their page) has no unsubscribe link: there is nothing to unsubscribe from."""
    message = EmailMessage()
    message["From"] = mail.from_address
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(idstring=kind.replace("_", "-"), domain=sender_domain(mail))
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Zoombot-Kind"] = kind  # for the operator's and members' mail filters
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
