"""What an operator checks first: is Zoom reaching us, is anything stuck, did the jobs run.

One read-only snapshot from the database, shared by the staff status page and the `/metrics` collector,
so both always tell the same story whichever worker or scheduler process did the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zoombot.core.plurals import plural
from zoombot.runtime import Runtime
from zoombot.store.models import DeadlineDigest, JobStatus, OutboxMessage, ZoomEvent

FAILED_SHOWN = 50


@dataclass(frozen=True)
class FailedEvent:
    id: int
    event: str
    received_at: datetime
    meeting_uuid: str | None
    error: str


@dataclass(frozen=True)
class FailedMessage:
    id: int
    kind: str
    due_at: datetime
    attempts: int
    last_error: str


@dataclass(frozen=True)
class Job:
    name: str
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_ok: bool | None
    last_error: str | None
    runs: int
    failures: int


@dataclass(frozen=True)
class Snapshot:
    now: datetime
    last_webhook_at: datetime | None
    events_by_status: dict[str, int]
    failed_events: list[FailedEvent]
    outbox_by_status: dict[str, int]
    outbox_due: int
    failed_messages: list[FailedMessage]
    jobs: list[Job]
    redacted_events: int
    zoom_api_configured: bool
    webhook_secret_configured: bool
    database_backend: str
    schema_revision: str
    schema_up_to_date: bool
    version: str
    retention: str = ""
    problems: list[str] = field(default_factory=list)


def _version() -> str:
    try:
        return version("zoombot")
    except PackageNotFoundError:
        return "unknown"


def outbox_counts(session: Session) -> dict[str, int]:
    return dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())


def event_counts(session: Session) -> dict[str, int]:
    return dict(session.execute(select(ZoomEvent.status, func.count()).group_by(ZoomEvent.status)).all())


def last_webhook_at(session: Session) -> datetime | None:
    return session.scalar(select(func.max(ZoomEvent.received_at)).where(ZoomEvent.source == "webhook"))


def jobs(session: Session) -> list[Job]:
    return [
        Job(j.name, j.last_started_at, j.last_finished_at, j.last_ok, j.last_error, j.runs, j.failures)
        for j in session.scalars(select(JobStatus).order_by(JobStatus.name))
    ]


def schema(runtime: Runtime) -> tuple[str, bool]:
    from zoombot.store.migrate import pending

    with runtime.db.engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return (", ".join(heads) or "none"), not pending(runtime.db)


def snapshot(runtime: Runtime) -> Snapshot:
    now = runtime.now()
    settings = runtime.settings
    with runtime.db.begin() as session:
        events = event_counts(session)
        failed = [
            FailedEvent(e.id, e.event, e.received_at, e.meeting_uuid, e.error or "")
            for e in session.scalars(
                select(ZoomEvent).where(ZoomEvent.status == "failed").order_by(ZoomEvent.id.desc()).limit(FAILED_SHOWN)
            )
        ]
        outbox = outbox_counts(session)
        due = (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "pending", OutboxMessage.due_at <= now)
            )
            or 0
        )
        failed_messages = [
            FailedMessage(m.id, m.kind, m.due_at, m.attempts, m.last_error or "")
            for m in session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status == "failed")
                .order_by(OutboxMessage.id.desc())
                .limit(FAILED_SHOWN)
            )
        ]
        job_list = jobs(session)
        last = last_webhook_at(session)
        redacted = (
            session.scalar(select(func.count()).select_from(ZoomEvent).where(ZoomEvent.redacted_at.is_not(None))) or 0
        )
        # the deadline digest keeps its own rows (one per day and recipient), so its failures are not the outbox's
        refused = (DeadlineDigest.status.in_(("pending", "failed")), DeadlineDigest.last_error.is_not(None))
        undelivered = (
            session.scalar(select(func.count()).select_from(DeadlineDigest).where(*refused)) or 0,
            session.scalar(
                select(DeadlineDigest.last_error).where(*refused).order_by(DeadlineDigest.id.desc()).limit(1)
            ),
        )
    revision, up_to_date = schema(runtime)
    engine = runtime.db.engine
    server = ".".join(str(part) for part in (engine.dialect.server_version_info or ()))
    problems = []
    if not settings.zoom.webhook_secret_token:
        problems.append("No Zoom webhook secret token is configured: every real delivery is refused.")
    if not up_to_date:
        problems.append("The database schema is behind: run `zoombot db upgrade`.")
    if events.get("failed"):
        problems.append(f"{plural(events['failed'], 'Zoom event')} could not be processed and wait for review.")
    if outbox.get("failed"):
        problems.append(f"{plural(outbox['failed'], 'message')} could not be sent.")
    if undelivered[0]:
        problems.append(
            f"{plural(undelivered[0], 'deadline digest')} to staff could not be sent ({undelivered[1]}); "
            "each is tried again on the digest's next runs."
        )
    problems.extend(f"Job {j.name} failed on its last run." for j in job_list if j.last_ok is False)
    retention = (
        f"on: personal data stripped {settings.retention.days} days after a settled, exported meeting"
        if settings.retention.enabled
        else "off"
    )
    return Snapshot(
        now=now,
        last_webhook_at=last,
        events_by_status=events,
        failed_events=failed,
        outbox_by_status=outbox,
        outbox_due=due,
        failed_messages=failed_messages,
        jobs=job_list,
        redacted_events=redacted,
        zoom_api_configured=settings.zoom.api_configured,
        webhook_secret_configured=bool(settings.zoom.webhook_secret_token),
        database_backend=f"{engine.dialect.name} {server}".strip(),
        schema_revision=revision,
        schema_up_to_date=up_to_date,
        version=_version(),
        retention=retention,
        problems=problems,
    )
