"""The sending job: claim a due message, commit the claim, hand it to SMTP, record the outcome.

One message at a time, each in its own short transactions, so a claim never waits on SMTP while holding
a lock, and two scheduler processes (or threads) never send the same row (see `zoombot.store.outbox`).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta
from email.message import EmailMessage

from jinja2 import TemplateError
from sqlalchemy.orm import Session

from jobs.base import safe_error
from zoombot import metrics
from zoombot.mail.context import compose
from zoombot.mail.sending import Mailer, MailFailure, PermanentFailure, TemporaryFailure
from zoombot.runtime import Runtime, signing_secret
from zoombot.store import outbox
from zoombot.store.models import OutboxMessage

log = logging.getLogger("zoombot.jobs.sending")

#: At most this many messages per run; the next tick carries on.
BATCH = 500


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease(runtime: Runtime) -> timedelta:
    """Long enough for one SMTP conversation, with room to spare."""
    return timedelta(seconds=5 * runtime.settings.mail.timeout_seconds + 60)


def _claimed(session: Session, row_id: int) -> OutboxMessage:
    """The row this worker claimed; LookupError if it is gone (nothing deletes a claimed row)."""
    row = session.get(OutboxMessage, row_id)
    if row is None:
        raise LookupError(f"outbox message {row_id} was claimed but no longer exists")
    return row


def send_due(runtime: Runtime, *, worker: str | None = None, limit: int = BATCH) -> dict[str, int]:
    worker = worker or worker_name()
    secret = signing_secret(runtime)
    counts = {"sent": 0, "skipped": 0, "deferred": 0, "retrying": 0, "failed": 0}
    with runtime.db.begin() as session:
        outbox.release_expired_claims(session, runtime.now())
        outbox.expire(session, runtime.now())
    with Mailer(runtime.settings.mail) as mailer:
        for _ in range(limit):
            now = runtime.now()
            with runtime.db.begin() as session:
                row_id = outbox.claim_next(session, worker, now, lease(runtime))
            if row_id is None:
                break
            built: EmailMessage | outbox.Skip | outbox.Defer | MailFailure
            try:
                with runtime.db.begin() as session:
                    row = _claimed(session, row_id)
                    kind = row.kind
                    built = compose(session, runtime.settings, secret, row, now)
            except (ValueError, TemplateError) as exc:
                # Bad data (an address a calendar file cannot carry) never improves; a broken override
                # template does once the operator fixes it.
                built = (
                    PermanentFailure(f"cannot build the message: {safe_error(exc)}")
                    if isinstance(exc, ValueError)
                    else TemporaryFailure(f"template error: {safe_error(exc)}")
                )
            if isinstance(built, outbox.Skip):
                with runtime.db.begin() as session:
                    outbox.mark_skipped(session, row_id, worker, built.reason)
                counts["skipped"] += 1
                continue
            if isinstance(built, outbox.Defer):
                with runtime.db.begin() as session:
                    outbox.defer(session, row_id, worker, built.until, built.reason)
                counts["deferred"] += 1
                continue
            try:
                if isinstance(built, MailFailure):
                    raise built
                mailer.send(built)
            except MailFailure as exc:
                with runtime.db.begin() as session:
                    row = _claimed(session, row_id)
                    status = outbox.mark_failed_attempt(
                        session, row, worker, runtime.now(), str(exc), permanent=isinstance(exc, PermanentFailure)
                    )
                if status == "failed":
                    metrics.outbox_failed.labels(kind=kind).inc()
                    counts["failed"] += 1
                    log.warning("outbox message %s (%s) failed for good: %s", row_id, kind, exc)
                else:
                    metrics.outbox_retried.labels(kind=kind).inc()
                    counts["retrying"] += 1
                    log.info("outbox message %s (%s) will be retried: %s", row_id, kind, exc)
                continue
            with runtime.db.begin() as session:
                outbox.mark_sent(session, row_id, worker, runtime.now(), built["Message-ID"])
            metrics.outbox_sent.labels(kind=kind).inc()
            counts["sent"] += 1
    return counts
