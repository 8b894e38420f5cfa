"""`zoombot mail preview COMMUNITY [--at DATE] [--output DIR]`: a meeting's mail as .eml files, sent to nobody."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import click

from zoombot.cli import pass_runtime
from zoombot.core.plurals import plural
from zoombot.mail import preview as mail_preview
from zoombot.runtime import signing_secret
from zoombot.store import directory
from zoombot.web.staff.formatting import local


@click.group("mail")
def mail() -> None:
    """The mail zoombot sends."""


@mail.command("preview")
@click.argument("community_name", metavar="COMMUNITY")
@click.option("--at", "day", default=None, help="The meeting on this local date (YYYY-MM-DD); default: the next one.")
@click.option(
    "--output",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder for the .eml files (default: ./mail-preview/<community>-<date>).",
)
@pass_runtime
def preview(runtime, community_name: str, day: str | None, output: str | None) -> None:
    """Render every message of a meeting (calendar files included) as .eml files; sends and marks nothing."""
    try:
        on = date.fromisoformat(day) if day else None
    except ValueError:
        raise click.ClickException(f"--at must be a date as YYYY-MM-DD, got {day!r}") from None
    now = runtime.now()
    secret = signing_secret(runtime)
    try:
        with mail_preview.throwaway_session(runtime.db) as session:
            community = directory.find_community(session, community_name)
            occurrence = mail_preview.occurrence_on(session, community, on, now)
            found = mail_preview.previews(session, runtime.settings, secret, occurrence, now)
            name, tz, start = community.name, community.timezone, occurrence.start
    except (directory.DirectoryError, mail_preview.PreviewError) as exc:
        raise click.ClickException(str(exc)) from None
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "community"
    folder = Path(output) if output else Path("mail-preview") / f"{slug}-{local(start, tz, '%Y-%m-%d')}"
    mail_preview.write(found, folder)
    click.echo(f"{name}, {local(start, tz)}: {plural(len(found), 'message')} written to {folder}/ (nothing sent)")
    for index, item in enumerate(found, start=1):
        when = local(item.due_at, tz) if item.due_at else mail_preview.CONDITIONAL[item.kind]
        click.echo(f"  {mail_preview.file_stem(index, item)}.eml  {item.kind:<20} {item.recipient:<32} {when}")
