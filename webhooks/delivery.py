"""Store a verified event and dispatch it, in one transaction, so a 200 means it is durable.

A handler that cannot process an authentic event must not make Zoom give up on it (a 4xx is final)
nor retry forever (a 5xx): the event is kept, marked `failed` with the reason, for staff review. That
includes the database refusing what the handler wrote for what it holds (a DataError: a value too long
for its column, text it cannot hold): Zoom's redeliveries would be refused the same way. The handler
runs inside a savepoint, so its partial work is undone and the event row stays. Any other database
failure (unreachable, locked, a connection lost) propagates, so the caller answers 503 and Zoom redelivers.
"""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.exc import DataError, DBAPIError

from webhooks.context import Context
from webhooks.event import Event
from webhooks.participant_events import problem
from webhooks.router import Router
from webhooks.store import store_event, store_while_meeting_open
from zoombot.runtime import Runtime
from zoombot.store.models import ZoomEvent

log = logging.getLogger(__name__)


def deliver(runtime: Runtime, router: Router, event: Event) -> str:
    """'stored', 'duplicate', 'ignored' (no handler) or 'failed' (kept for review).

    Most deliveries are participant events of a meeting in progress, which need nothing but storing:
    they take a one-statement hot path; everything else (and anything the hot path declines) the
    general one.
    """
    now = runtime.now()
    if router.store_only_while_open(event.name) and problem(event) is None:
        if store_while_meeting_open(runtime.db, event, now=now):
            return "stored"
    with runtime.db.begin() as session:
        handled = router.handles(event.name)
        event_id = store_event(session, event, now=now, status="processed" if handled else "ignored")
        if event_id is None:
            return "duplicate"
        if not handled:
            return "ignored"
        try:
            with session.begin_nested():
                router.dispatch(event, Context(session, runtime.settings, now))
        except DataError as exc:
            reason = _data_error_reason(exc)
        except DBAPIError:
            raise
        except Exception as exc:  # noqa: BLE001 - kept for staff review, see module docstring
            reason = f"{type(exc).__name__}: {exc}"[:500]
        else:
            return "stored"
        session.execute(update(ZoomEvent).where(ZoomEvent.id == event_id).values(status="failed", error=reason))
        log.warning("zoom event %s id=%s kept unprocessed: %s", event.name, event_id, reason.split(":")[0])
        return "failed"


def _data_error_reason(exc: DataError) -> str:
    """The driver's class and primary message ("StringDataRightTruncation: value too long for type character
    varying(100)"): not SQLAlchemy's text, which carries the statement."""
    original = exc.orig
    diag = getattr(original, "diag", None)
    message = getattr(diag, "message_primary", None) or str(original).split("\n")[0]
    return f"{type(original).__name__}: {message}"[:500]
