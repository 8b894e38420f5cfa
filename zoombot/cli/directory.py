"""`zoombot community add|edit|list`, `zoombot members import`, `zoombot staff create`: the directory's shell."""

from __future__ import annotations

import sys
from datetime import timedelta

import click
from sqlalchemy import func, select

from zoombot.cli import pass_runtime
from zoombot.core.join_link import join_details
from zoombot.core.plurals import plural
from zoombot.core.schedule import occurrences
from zoombot.store import directory
from zoombot.store.models import Community, Membership
from zoombot.store.replanning import cadence_of


@click.group("community")
def community() -> None:
    """Communities of Practice: one Zoom meeting, a schedule and a facilitator each."""


@community.command("add")
@click.argument("name")
@click.option("--zoom-meeting-id", default=None, help="The community's recurring Zoom meeting number.")
@click.option("--facilitator", required=True, help="The facilitator's e-mail address.")
@click.option("--start", required=True, help='First meeting, local wall time: "YYYY-MM-DDTHH:MM".')
@click.option("--duration", required=True, type=int, help="Scheduled length in minutes.")
@click.option("--rrule", default=None, help='Recurrence, e.g. "FREQ=MONTHLY;BYDAY=2TU" (none: a single meeting).')
@click.option("--timezone", default=None, help="IANA zone of --start (default: [schedule] timezone).")
@click.option("--audience", default=None)
@click.option("--region", default=None)
@click.option("--join-url", default=None, help="The link members click (default: https://zoom.us/j/<meeting id>).")
@click.option("--passcode", default=None, help="The meeting passcode, shown to members as text.")
@click.option("--create-zoom-meeting", is_flag=True, help="Create the meeting in Zoom (needs API credentials).")
@pass_runtime
def add(
    runtime,
    name,
    zoom_meeting_id,
    facilitator,
    start,
    duration,
    rrule,
    timezone,
    audience,
    region,
    join_url,
    passcode,
    create_zoom_meeting,
) -> None:
    """Add a community (the facilitator becomes a member with the facilitator role)."""
    settings = runtime.settings
    try:
        spec = directory.community_spec(
            name=name,
            zoom_meeting_id=zoom_meeting_id,
            facilitator=facilitator,
            start=start,
            duration=duration,
            rrule=rrule,
            timezone=timezone,
            audience=audience,
            region=region,
            default_timezone=settings.schedule.timezone,
            create_zoom_meeting=create_zoom_meeting,
            join_url=join_url,
            passcode=passcode,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    client = None
    if create_zoom_meeting:
        from zoombot.zoom.client import ZoomClient, ZoomNotConfigured

        try:
            client = ZoomClient.from_settings(settings.zoom)
        except ZoomNotConfigured as exc:
            raise click.ClickException(f"cannot create the Zoom meeting: {exc}") from None
    try:
        with runtime.db.begin() as session:
            created = directory.add_community(session, spec)
            if client is not None:
                from zoombot.zoom.client import ZoomError
                from zoombot.zoom.sync import create_zoom_meeting as create_in_zoom

                try:
                    create_in_zoom(session, created, client, user_id=settings.zoom.user_id, now=runtime.now())
                except ZoomError as exc:
                    raise click.ClickException(f"Zoom did not create the meeting, nothing stored: {exc}") from None
            summary = (
                created.id,
                created.name,
                created.zoom_meeting_id,
                join_details(
                    zoom_meeting_id=created.zoom_meeting_id, join_url=created.join_url, passcode=created.passcode
                ),
            )
    except directory.DirectoryError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if client is not None:
            client.close()
    community_id, community_name, meeting_id, join = summary
    click.echo(f"added community {community_id} {community_name!r} (Zoom meeting {meeting_id})")
    _echo_join(join)


def _echo_join(join) -> None:
    if join.url:
        click.echo(f"join link: {join.url}" + (f" (passcode {join.passcode})" if join.passcode else ""))


@community.command("edit")
@click.argument("name")
@click.option("--name", "new_name", default=None, help="A new name.")
@click.option("--zoom-meeting-id", default=None)
@click.option("--facilitator", default=None, help="A new facilitator (the previous one stays a member).")
@click.option("--start", default=None, help='First meeting, local wall time: "YYYY-MM-DDTHH:MM" (moves the series).')
@click.option("--duration", default=None, type=int, help="Scheduled length in minutes.")
@click.option("--rrule", default=None, help='Recurrence ("" for a single meeting).')
@click.option("--timezone", default=None, help="IANA zone of --start.")
@click.option("--audience", default=None)
@click.option("--region", default=None)
@click.option("--join-url", default=None, help='The link members click ("" for the standard Zoom link).')
@click.option("--passcode", default=None, help='The meeting passcode ("" for none).')
@pass_runtime
def edit(
    runtime,
    name,
    new_name,
    zoom_meeting_id,
    facilitator,
    start,
    duration,
    rrule,
    timezone,
    audience,
    region,
    join_url,
    passcode,
) -> None:
    """Change what `community add` set; upcoming meetings follow at once (members holding an invitation get
    an update with a higher SEQUENCE, or a cancellation for a meeting the new schedule drops)."""
    given = {
        "name": new_name,
        "zoom_meeting_id": zoom_meeting_id,
        "facilitator": facilitator,
        "start": start,
        "duration": duration,
        "rrule": rrule,
        "timezone": timezone,
        "audience": audience,
        "region": region,
        "join_url": join_url,
        "passcode": passcode,
    }
    changes = {key: value for key, value in given.items() if value is not None}
    if not changes:
        raise click.ClickException("nothing to change: give at least one option (see --help)")
    now = runtime.now()
    horizon = now + timedelta(days=runtime.settings.schedule.horizon_days)
    try:
        with runtime.db.begin() as session:
            group = directory.find_community(session, name)
            outcome = directory.edit_community(
                session, group, changes, now=now, horizon=horizon, default_timezone=runtime.settings.schedule.timezone
            )
            shown_name = group.name
            join = join_details(zoom_meeting_id=group.zoom_meeting_id, join_url=group.join_url, passcode=group.passcode)
    except (ValueError, directory.DirectoryError) as exc:
        raise click.ClickException(str(exc)) from None
    if not outcome.changed:
        click.echo(f"community {shown_name!r} already had these settings: nothing changed")
        return
    fields = ", ".join(directory.EDITABLE[name] for name in outcome.changed)
    click.echo(f"updated community {shown_name!r}: {fields}")
    r = outcome.replanned
    if r.moved or r.cancelled or r.created:
        click.echo(f"upcoming meetings: {r.moved} moved, {r.cancelled} cancelled, {r.created} newly planned")
    if outcome.announced:
        click.echo(f"{plural(outcome.announced, 'upcoming meeting')} will carry the new details")
    if {"join_url", "passcode", "zoom_meeting_id"} & set(outcome.changed):
        _echo_join(join)


@community.command("list")
@pass_runtime
def list_communities(runtime) -> None:
    """Every community with its Zoom meeting, next meeting and number of members."""
    now = runtime.now()
    with runtime.db.begin() as session:
        counts = dict(
            session.execute(
                select(Membership.community_id, func.count())
                .where(Membership.unsubscribed_at.is_(None))
                .group_by(Membership.community_id)
            ).all()
        )
        rows = session.scalars(select(Community).order_by(Community.name)).all()
    if not rows:
        click.echo("no communities yet: add one with `zoombot community add`")
        return
    click.echo(f"{'id':>4}  {'name':<36} {'zoom meeting':<13} {'next meeting':<28} members")
    for c in rows:
        upcoming = occurrences(cadence_of(c), now, now + timedelta(days=800))
        nxt = upcoming[0].local_start.strftime("%Y-%m-%d %H:%M %Z") if upcoming else "none scheduled"
        demo = " (demo data)" if c.is_demo and "(demo)" not in c.name else ""
        click.echo(f"{c.id:>4}  {c.name + demo:<36} {c.zoom_meeting_id or '-':<13} {nxt:<28} {counts.get(c.id, 0)}")


@click.group("members")
def members() -> None:
    """Members of the communities (name, e-mail, registry id)."""


@members.command("import")
@click.argument("csv_file", type=click.File("rb"))
@pass_runtime
def import_members(runtime, csv_file) -> None:
    """Load FILE.csv (header name,email,registry_id,community[,role]); re-importing updates, never duplicates."""
    try:
        text = directory.decode_csv(csv_file.read())
        with runtime.db.begin() as session:
            plan = directory.plan_import(
                text,
                communities=directory.community_lookup(session),
                registry_owners=directory.registry_owners(session),
                roles=runtime.settings.community.role_names,
                registry_id_pattern=runtime.settings.registry.registry_id_pattern,
            )
            result = directory.apply_import(session, plan)
    except directory.HeaderError as exc:
        raise click.ClickException(f"{csv_file.name}: {exc}; nothing loaded") from None
    for error in plan.errors:
        click.echo(f"{csv_file.name}: {error}", err=True)
    summary = (
        f"loaded {result.loaded}, updated {result.updated}, rejected {len(plan.errors)} ({result.unchanged} unchanged)"
    )
    if plan.errors:
        click.echo(summary, err=True)
        sys.exit(1)
    click.echo(summary)


@click.group("staff")
def staff() -> None:
    """Logins to the staff web UI."""


@staff.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(directory.STAFF_ROLES),
    default=None,
    help="staff (sees everything) or facilitator (their communities). Default: staff.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
@pass_runtime
def create_staff(runtime, email, role, password_stdin) -> None:
    """Create a login, or reset the password of an existing one."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with runtime.db.begin() as session:
            user, created = directory.set_staff_user(session, email, password, role=role)
            shown = (user.email, user.role)
            facilitates = directory.facilitated_communities(session, user.email)
    except directory.DirectoryError as exc:
        raise click.ClickException(str(exc)) from None
    if created:
        click.echo(f"created {shown[1]} login {shown[0]}")
    else:
        click.echo(f"{shown[0]} already had a login: password reset (role {shown[1]})")
    if shown[1] == "facilitator" and not facilitates:
        click.echo(
            f"warning: {shown[0]} facilitates no community, so this login sees nothing yet: make the member "
            "with this e-mail a facilitator or co-facilitator (members import, or the community page)",
            err=True,
        )
