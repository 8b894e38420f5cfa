"""`zoombot attendance show UUID` and `zoombot attendance rebuild`: attendance live from stored events."""

from __future__ import annotations

import json

import click
from sqlalchemy import select

from zoombot.cli import pass_runtime
from zoombot.core import attendance as attendance_core
from zoombot.store import meetings, rebuild_workers, rules_process
from zoombot.store.models import Meeting


@click.group("attendance")
def attendance() -> None:
    """Attendance computed from the stored Zoom events."""


@attendance.command("show")
@click.argument("meeting_uuid")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_runtime
def show(runtime, meeting_uuid: str, fmt: str) -> None:
    """Each participant's merged intervals and attended seconds for one meeting instance."""
    with runtime.db.begin() as session:
        meeting = session.scalar(select(Meeting).where(Meeting.uuid == meeting_uuid))
        if meeting is None:
            raise click.ClickException(f"no meeting instance with uuid {meeting_uuid}")
        held = meeting.session
        merges = meetings.decisions_of(session, [held.id])[held.id].merges if held else {}
        result = attendance_core.compute(
            meetings.signals(session, meeting.uuid), until=meetings.until_for(meeting, runtime.now()), merges=merges
        )
    people = sorted(result.people.values(), key=lambda p: (p.name.casefold(), p.key))
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "meeting_uuid": meeting.uuid,
                    "meeting_id": meeting.zoom_meeting_id,
                    "status": meeting.status,
                    "session_id": held.id if held else None,
                    "live": [[a.isoformat(), b.isoformat()] for a, b in result.live],
                    "participants": [
                        {
                            "key": p.key,
                            "name": p.name,
                            "email": p.email or None,
                            "devices": p.devices,
                            "is_host": p.is_host,
                            "incomplete": p.incomplete,
                            "attended_seconds": p.attended_seconds,
                            "intervals": [
                                {"start": a.isoformat(), "end": b.isoformat(), "source": s} for a, b, s in p.intervals
                            ],
                        }
                        for p in people
                    ],
                },
                indent=2,
            )
        )
        return
    click.echo(
        f"meeting {meeting.zoom_meeting_id} {meeting.uuid} ({meeting.status}), "
        f"live {result.live_seconds} s" + (f", session {held.id} ({held.local_date})" if held else "")
    )
    for p in people:
        spans = ", ".join(f"{a:%H:%M:%S}-{b:%H:%M:%S}" for a, b, _ in p.intervals) or "-"
        click.echo(f"{p.name or p.key:<30} {p.attended_seconds:>6} s  {spans}")


@attendance.command("rebuild")
@click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    help="Processes, on PostgreSQL: the rebuild split by community, each process in its own transaction.",
)
@pass_runtime
def rebuild(runtime, workers: int) -> None:
    """Re-derive meetings, sessions, participants and undecided credit lines from the stored events."""
    failures: list[tuple[int, str]] = []
    if workers > 1:
        try:
            count, failures = rebuild_workers.rebuild(runtime.db.url, runtime.settings, runtime.now(), workers)
        except rebuild_workers.WorkersRefused as exc:
            raise click.ClickException(str(exc)) from None
    else:
        with runtime.db.begin() as session:
            count = rules_process.rebuild(session, runtime.db.url, runtime.settings, runtime.now(), failures=failures)
    click.echo(f"rebuilt {count} meeting instances from stored events")
    if failures:
        raise click.ClickException(
            f"{len(failures)} sessions were left as they were, the database refused their "
            f"data: session ids {', '.join(str(sid) for sid, _ in failures)} "
            f"({', '.join(sorted({error for _, error in failures}))})"
        )
