"""`zoombot members link EMAIL`: print a member's personal "my hours" link (to hand over by phone or mail)."""

from __future__ import annotations

import click
from sqlalchemy import select

from zoombot.cli import pass_runtime
from zoombot.core.member_tokens import page_link_expires
from zoombot.core.times import when
from zoombot.mail.context import member_page_url
from zoombot.runtime import signing_secret
from zoombot.store.models import Member


@click.command("link")
@click.argument("email")
@pass_runtime
def link(runtime, email: str) -> None:
    """Print the personal link to EMAIL's page: their hours, certificates, transcripts and mail preferences.

    No password: the link is the key, so give it only to the member. It works for [web] member_link_days."""
    with runtime.db.begin() as session:
        member = session.scalar(select(Member).where(Member.email == email.strip().lower()))
        if member is None:
            raise click.ClickException(f"no member with the e-mail address {email.strip()!r}")
        name = member.name
        now = runtime.now()
        url = member_page_url(runtime.settings, signing_secret(runtime), member.id, now)
    until = when(page_link_expires(now, runtime.settings.web.member_link_days), runtime.settings.schedule.timezone)
    click.echo(url)
    click.echo(f"{name}'s page; the link works until {until}.", err=True)
