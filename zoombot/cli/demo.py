"""`zoombot demo [--if-empty]`: seed the marked demo (see zoombot.demo)."""

from __future__ import annotations

import click
from sqlalchemy import select

from zoombot import demo as demo_data
from zoombot.cli import pass_runtime
from zoombot.core.schedule import zone
from zoombot.mail.context import member_page_url
from zoombot.runtime import Runtime, signing_secret
from zoombot.store.models import Member


@click.command("demo")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Do nothing (and say why) unless the database is empty and no Zoom API credentials are set.",
)
@pass_runtime
def demo(runtime, if_empty: bool) -> None:
    """Seed a clearly marked demo community, members and a past meeting into an empty database."""
    with runtime.db.begin() as session:
        state = demo_data.database_state(session)
    if if_empty:
        if runtime.settings.zoom.api_configured:
            click.echo("demo not seeded: Zoom API credentials are configured (this is a real installation)")
            return
        if state != "empty":
            click.echo("demo not seeded: the database already holds data")
            return
    if state == "real":
        raise click.ClickException("the database holds real data: the demo only goes into an empty database")
    if state == "demo":
        logins = demo_data.reset_logins(runtime)
        click.echo("the demo is already in this database; its logins got new passwords:")
        _print_logins(logins)
        _print_member_page(runtime)
        return
    try:
        seeded = demo_data.seed(runtime)
    except (demo_data.DemoRefused, demo_data.DemoPlaybackFailed) as exc:
        raise click.ClickException(str(exc)) from None
    local = seeded.meeting_start.astimezone(zone(demo_data.TIMEZONE))
    click.echo(
        f"DEMO DATA seeded: community {demo_data.COMMUNITY!r} with {len(demo_data.MEMBERS)} members "
        f"and a facilitator (fictional people, @example.org)."
    )
    click.echo(
        f"Its past meeting of {local:%Y-%m-%d %H:%M %Z} was played through the webhook endpoint: "
        f"{seeded.lines} credit lines are ready for review, {seeded.no_credit} with no credit "
        "(below the minimum). Its closure is recorded (a summary, next steps, a parked question): the next "
        "meeting's agenda draft opens with those next steps."
    )
    _print_logins(seeded.logins)
    _print_member_page(runtime)


def _print_logins(logins: demo_data.DemoLogins) -> None:
    click.echo(f"Staff UI: {logins.staff_url}")
    click.echo(f"  staff login:       {logins.staff_email}  password: {logins.staff_password}")
    click.echo(f"  facilitator login: {logins.facilitator_email}  password: {logins.facilitator_password}")
    click.echo("These are demo logins for demo data: do not use this database for real records.")


def _print_member_page(runtime: Runtime) -> None:
    """A demo member's own page (hours, certificates once staff approve, claims), as `zoombot members link`."""
    name, email, _ = demo_data.MEMBERS[0]
    with runtime.db.begin() as session:
        member_id = session.scalar(select(Member.id).where(Member.email == email))
    if member_id is not None:
        url = member_page_url(runtime.settings, signing_secret(runtime), member_id, runtime.now())
        click.echo(f"A member's own page ({name}, no password: the link is the key): {url}")
