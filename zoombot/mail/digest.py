"""The deadline digest mail to staff, pure: which sessions it lists and the message itself.

A session is listed when it has open lines (pending, or approved and not yet submitted) and its registry
due date is at most `[registry] digest_days_before` days away, or past. Soonest due first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from zoombot.config import MailSettings
from zoombot.core import deadlines
from zoombot.mail.messages import environment, sender_domain

KIND = "deadline_digest"


@dataclass(frozen=True)
class Item:
    session_id: int
    community: str
    local_date: date
    due: deadlines.Due
    pending: int
    unsent: int
    url: str


def listed(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda item: (item.due.date, item.community, item.session_id))


def build(
    items: list[Item], *, recipient: str, registry: str, queue_url: str, today: date, mail: MailSettings, now: datetime
) -> EmailMessage:
    env = environment(mail.templates_dir)
    variables = {
        "items": listed(items),
        "registry": registry,
        "queue_url": queue_url,
        "today": today,
        "overdue": sum(1 for item in items if item.due.overdue),
    }
    message = EmailMessage()
    message["From"] = mail.from_address
    message["To"] = recipient
    message["Subject"] = " ".join(env.get_template(f"{KIND}.subject.txt").render(variables).split())
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(idstring="deadline-digest", domain=sender_domain(mail))
    message["Auto-Submitted"] = "auto-generated"
    message["X-Zoombot-Kind"] = KIND
    message.set_content(env.get_template(f"{KIND}.txt").render(variables))
    message.add_alternative(env.get_template(f"{KIND}.html").render(variables), subtype="html")
    return message
