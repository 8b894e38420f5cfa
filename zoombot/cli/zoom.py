"""`zoombot zoom sync`, `zoombot zoom reconcile` and `zoombot attendance backfill`: the commands that call
Zoom's REST API. Without API credentials each says so in one line and exits non-zero."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select

from zoombot.cli import pass_runtime
from zoombot.cli.hours import DateParam
from zoombot.core.digits import is_digits
from zoombot.core.times import parse_time
from zoombot.runtime import Runtime
from zoombot.store.models import Community, Meeting
from zoombot.zoom.client import ZoomClient, ZoomError, ZoomNotConfigured
from zoombot.zoom.reconcile import due_meetings, reconcile_instance
from zoombot.zoom.sync import sync_community


@contextlib.contextmanager
def zoom_client(runtime: Runtime) -> Iterator[ZoomClient]:
    """A configured client, or one clear line and a non-zero exit."""
    try:
        client = ZoomClient.from_settings(runtime.settings.zoom)
    except ZoomNotConfigured as exc:
        raise click.ClickException(str(exc)) from None
    try:
        yield client
    finally:
        client.close()


@click.group("zoom")
def zoom() -> None:
    """Communities' Zoom meetings and Zoom's reports."""


@zoom.command("sync")
@click.option("--community", "community_name", default=None, help="Only this community (by name).")
@pass_runtime
def sync(runtime: Runtime, community_name: str | None) -> None:
    """Refresh each community's meeting from Zoom: join link, moved and deleted occurrences."""
    failed = 0
    with zoom_client(runtime) as client:
        with runtime.db.begin() as session:
            query = (
                select(Community.id, Community.name, Community.zoom_meeting_id)
                .where(Community.zoom_meeting_id.is_not(None))
                .order_by(Community.name)
            )
            if community_name is not None:
                query = query.where(Community.name == community_name)
            targets = session.execute(query).all()
        if community_name is not None and not targets:
            raise click.ClickException(f"no community named {community_name!r} with a Zoom meeting")
        for community_id, name, meeting_id in targets:
            assert meeting_id is not None  # the query keeps only communities with a Zoom meeting
            try:
                meeting = client.get_meeting(meeting_id)
            except ZoomError as exc:
                if exc.status == 429:
                    raise click.ClickException(f"{exc}; run again later") from None
                click.echo(f"{name}: meeting {meeting_id} could not be read: {exc}", err=True)
                failed += 1
                continue
            with runtime.db.begin() as session:
                community = session.get(Community, community_id)
                assert community is not None  # listed above, and nothing deletes a community
                result = sync_community(session, community, meeting, runtime.now())
            changes = [
                f"{n} {what}"
                for n, what in ((result.moved, "moved"), (result.cancelled, "cancelled"), (result.linked, "linked"))
                if n
            ]
            if result.join_url_changed:
                changes.append("join link updated")
            click.echo(f"{name}: {', '.join(changes) if changes else 'up to date'}")
    if failed:
        raise click.ClickException(f"{failed} of {len(targets)} communities could not be synced")
    if not targets:
        click.echo("no community has a Zoom meeting")


@zoom.command("reconcile")
@pass_runtime
def reconcile(runtime: Runtime) -> None:
    """Reconcile every ended meeting whose report is due now (what the scheduled job does)."""
    delay = timedelta(minutes=runtime.settings.zoom.report_delay_minutes)
    with zoom_client(runtime) as client:
        with runtime.db.begin() as session:
            due = [(m.uuid, m.zoom_meeting_id) for m in due_meetings(session, runtime.now(), delay)]
        outcomes = [reconcile_instance(runtime, client, uuid, meeting_id) for uuid, meeting_id in due]
    for outcome in outcomes:
        click.echo(
            f"{outcome.meeting_uuid}: {outcome.status}"
            + (
                f", {outcome.stored} new report rows, {outcome.discrepancies} discrepancies"
                if outcome.status == "done"
                else f" ({outcome.error})"
            )
        )
    if not outcomes:
        click.echo("no meeting is due for reconciliation")
    if any(o.status == "error" for o in outcomes):
        raise click.ClickException("some reports could not be fetched; they are retried later")


@click.command("backfill")
@click.option("--meeting-id", "meeting_id", required=True, help="The Zoom meeting id (number).")
@click.option("--from", "date_from", type=DateParam(), default=None, help="First session date (inclusive).")
@click.option("--to", "date_to", type=DateParam(), default=None, help="Last session date (inclusive).")
@click.option("--force", is_flag=True, help="Import again instances already reconciled.")
@pass_runtime
def backfill(runtime: Runtime, meeting_id: str, date_from: date | None, date_to: date | None, force: bool) -> None:
    """Import past instances of a meeting from Zoom's reports (resumable: reconciled instances are skipped)."""
    meeting_id = meeting_id.strip().replace(" ", "")
    if not is_digits(meeting_id):
        raise click.ClickException(f"--meeting-id must be a Zoom meeting number, got {meeting_id!r}")
    if date_from and date_to and date_from > date_to:
        raise click.ClickException("--from is after --to")
    with zoom_client(runtime) as client:
        with runtime.db.begin() as session:
            zone_name = session.scalar(select(Community.timezone).where(Community.zoom_meeting_id == meeting_id))
        zone = ZoneInfo(zone_name or runtime.settings.schedule.timezone)
        try:
            listed = client.past_instances(meeting_id)
        except ZoomError as exc:
            raise click.ClickException(str(exc)) from None
        instances = {}
        for item in listed:
            start = parse_time(item.get("start_time"))
            if not item.get("uuid") or start is None:
                continue
            local_day = start.astimezone(zone).date()
            if (date_from and local_day < date_from) or (date_to and local_day > date_to):
                continue
            instances[str(item["uuid"])] = (start, item)
        ordered = sorted(instances.items(), key=lambda pair: pair[1][0])
        with runtime.db.begin() as session:
            done = (
                set(
                    session.scalars(
                        select(Meeting.uuid).where(Meeting.uuid.in_(list(instances)), Meeting.report_status == "done")
                    )
                )
                if instances
                else set()
            )
        todo = [(uuid, item) for uuid, (_, item) in ordered if force or uuid not in done]
        skipped = len(ordered) - len(todo)
        counts = {"done": 0, "unavailable": 0, "error": 0}
        new_rows = 0
        stopped = None
        with click.progressbar(
            todo, label="Importing instances", show_pos=True, item_show_func=lambda entry: None
        ) as bar:
            for uuid, item in bar:
                outcome = reconcile_instance(runtime, client, uuid, meeting_id, instance=item)
                counts[outcome.status] += 1
                new_rows += outcome.stored
                if outcome.error is not None and outcome.error.status == 429:
                    stopped = outcome.error
                    break
    click.echo(
        f"{len(ordered)} instances in range, {skipped} already reconciled (skipped), "
        f"{counts['done']} imported, {counts['unavailable']} without a report, {counts['error']} failed; "
        f"{new_rows} new report rows"
    )
    if stopped is not None:
        raise click.ClickException(f"{stopped}; run the same command later to resume")
    if counts["error"]:
        raise click.ClickException(f"{counts['error']} instances failed; run the same command again to resume")
