"""POST /zoom/webhook: read bytes, verify, parse, store, dispatch (contract section 4)."""
from __future__ import annotations

import json
import logging
import time

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

from webhooks.event import BadPayload, Event
from webhooks.delivery import deliver
from webhooks.routes import router
from webhooks.signature import InvalidSignature, url_validation_answer, verify
from zoombot import metrics

MAX_BODY_BYTES = 1024 * 1024
log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__)


@bp.post("/zoom/webhook")
def zoom_webhook():
    runtime = current_app.extensions["zoombot"]
    body = _read_body()
    if body is None:
        return _refuse(413, "too_large", "body over 1 MiB")
    try:
        secret = runtime.webhook_secret
        verify(body, signature=request.headers.get("x-zm-signature"),
               timestamp=request.headers.get("x-zm-request-timestamp"), secret=secret, now=time.time(),
               tolerance_seconds=runtime.settings.zoom.timestamp_tolerance_seconds)
    except InvalidSignature as exc:
        return _refuse(401, exc.reason, "signature or timestamp invalid")
    except SQLAlchemyError:
        return _unavailable()
    try:
        event = Event.from_body(body)
    except BadPayload as exc:
        return _refuse(400, "bad_payload", str(exc))
    if event.name == "endpoint.url_validation":
        token = event.payload.get("plainToken")
        if not isinstance(token, str) or not token:
            return _refuse(400, "bad_payload", "url_validation without plainToken")
        metrics.deliveries.labels(outcome="validated").inc()
        return jsonify(url_validation_answer(secret, token))
    started = time.perf_counter()
    try:
        outcome = deliver(runtime, router, event)
    except (DBAPIError, SQLAlchemyError):
        log.exception("database unavailable while storing a zoom event")
        return _unavailable()
    metrics.handler_seconds.labels(event=event.name if router.handles(event.name) else "other").observe(
        time.perf_counter() - started)
    metrics.deliveries.labels(outcome=outcome).inc()
    return Response(_ANSWERS[outcome], mimetype="application/json")


# The four answers to a verified delivery, serialised once: this is the busiest response zoombot sends.
_ANSWERS = {outcome: json.dumps({"status": outcome}).encode() + b"\n"
            for outcome in ("stored", "duplicate", "ignored", "failed")}


def _read_body() -> bytes | None:
    """The raw body, or None when it is over the limit. Read to the end in pieces: one read() may return
    less than is there (chunked transfer has no Content-Length, and a stream capped at the limit stops
    at it silently, which would look like a complete but truncated body)."""
    declared = request.content_length
    if declared is not None and declared > MAX_BODY_BYTES:
        return None
    wanted = MAX_BODY_BYTES + 1 if declared is None else declared
    chunks, size = [], 0
    try:
        while size < wanted and (chunk := request.stream.read(wanted - size)):
            size += len(chunk)
            chunks.append(chunk)
    except RequestEntityTooLarge:
        return None
    return None if size > MAX_BODY_BYTES else b"".join(chunks)


def _refuse(status: int, reason: str, message: str):
    metrics.refusals.labels(reason=reason).inc()
    return jsonify({"error": message}), status


def _unavailable():
    metrics.refusals.labels(reason="database_unavailable").inc()
    response = jsonify({"error": "database unavailable, retry later"})
    response.headers["Retry-After"] = "60"
    return response, 503
