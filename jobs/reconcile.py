"""Job: reconcile ended meetings with Zoom's participant report, `[zoom] report_delay_minutes` after the end.

A thin shell over `zoombot.zoom.reconcile`. Without Zoom API credentials it does nothing and says so once in the
log; everything else keeps working. Any number of schedulers may run: a lease row lets one of them at a time
call Zoom (storage would be idempotent anyway, but Zoom's report endpoints are rate-limited). A batch is
bounded, and a Zoom rate limit ends it: the rest waits for the next run.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import delete, update

from zoombot.runtime import Runtime
from zoombot.store.db import insert_ignoring_conflict, rows_changed
from zoombot.store.models import Lease
from zoombot.zoom.client import ZoomClient, ZoomNotConfigured
from zoombot.zoom.reconcile import due_meetings, reconcile_instance

log = logging.getLogger(__name__)

NAME = "reconcile"
#: Meetings reconciled per run at most (the job runs every few minutes).
BATCH = 20
#: How long a run may hold the lease before another scheduler may take over (a crashed holder).
LEASE = timedelta(minutes=15)
_HOLDER = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
_warned_unconfigured = False


def run(runtime: Runtime) -> int:
    """Reconcile the meeting instances whose report is due; returns how many were attempted."""
    global _warned_unconfigured
    settings = runtime.settings.zoom
    try:
        client = ZoomClient.from_settings(settings)
    except ZoomNotConfigured:
        if not _warned_unconfigured:
            log.info("Zoom API credentials are not configured: reconciliation with Zoom reports is off")
            _warned_unconfigured = True
        return 0
    try:
        with runtime.db.begin() as session:
            due = [
                (m.uuid, m.zoom_meeting_id)
                for m in due_meetings(session, runtime.now(), timedelta(minutes=settings.report_delay_minutes))
            ][:BATCH]
        if not due or not _acquire(runtime):
            return 0
        try:
            attempted = 0
            for meeting_uuid, zoom_meeting_id in due:
                outcome = reconcile_instance(runtime, client, meeting_uuid, zoom_meeting_id)
                attempted += 1
                if outcome.error is not None and outcome.error.status == 429:
                    log.warning("Zoom rate limit reached: %d meeting(s) left for a later run", len(due) - attempted)
                    break
            return attempted
        finally:
            _release(runtime)
    finally:
        client.close()


def _acquire(runtime: Runtime) -> bool:
    now = runtime.now()
    with runtime.db.begin() as session:
        if (
            insert_ignoring_conflict(
                session, Lease, {"name": NAME, "holder": _HOLDER, "expires_at": now + LEASE}, ["name"]
            )
            is not None
        ):
            return True
        taken = rows_changed(
            session,
            update(Lease)
            .where(Lease.name == NAME, Lease.expires_at <= now)
            .values(holder=_HOLDER, expires_at=now + LEASE),
        )
        return taken == 1


def _release(runtime: Runtime) -> None:
    with runtime.db.begin() as session:
        session.execute(delete(Lease).where(Lease.name == NAME, Lease.holder == _HOLDER))
