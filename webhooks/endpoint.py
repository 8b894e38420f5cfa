"""POST /zoom/webhook: read bytes, verify, parse, store, dispatch (contract section 4), as a plain WSGI
callable in front of the Flask app.

Why not a Flask view: this is the busiest request zoombot answers, and it needs nothing Flask and Werkzeug
do for every request (request context, URL map, session interface, Request and Response objects, header
parsing into structures, teardown hooks). Measured under wrk (bench/webhooks.py), that work cost the
worker about as much CPU as everything the webhook itself does. So the app's WSGI callable answers this
one path itself and hands every other request to Flask unchanged.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from webhooks.delivery import deliver
from webhooks.event import BadPayload, Event
from webhooks.routes import router
from webhooks.signature import InvalidSignature, url_validation_answer, verify
from zoombot import metrics
from zoombot.core.security_headers import HEADERS as SECURITY_HEADERS
from zoombot.runtime import Runtime

PATH = "/zoom/webhook"
MAX_BODY_BYTES = 1024 * 1024
log = logging.getLogger(__name__)

Answer = tuple[str, list[tuple[str, str]], bytes]


class WebhookEndpoint:
    """WSGI middleware: POST /zoom/webhook is answered here, everything else by `app`."""

    def __init__(self, app: Callable, runtime: Runtime, *, propagate_exceptions: bool = False):
        self.app = app
        self.runtime = runtime
        self.tolerance = runtime.settings.zoom.timestamp_tolerance_seconds
        self.propagate_exceptions = propagate_exceptions  # tests see the error itself, as with Flask's

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self.app(environ, start_response)
        try:
            status, headers, body = self.answer(environ)
        except Exception:
            if self.propagate_exceptions:
                raise
            # a bug, not an outage: logged through zoombot's logging (which masks personal data, unlike
            # the server's own error log) and answered 500, as Flask would
            log.exception("unexpected error answering a zoom webhook")
            status, headers, body = _json("500 INTERNAL SERVER ERROR", {"error": "internal error"})
        headers.append(("Content-Length", str(len(body))))
        headers.extend(SECURITY_HEADERS)
        start_response(status, headers)
        return [body]

    def answer(self, environ: dict[str, Any]) -> Answer:
        if environ.get("REQUEST_METHOD") != "POST":
            return _json("405 METHOD NOT ALLOWED", {"error": "POST only"}, [("Allow", "POST")])
        body = read_body(environ)
        if body is None:
            return _refuse("413 REQUEST ENTITY TOO LARGE", "too_large", "body over 1 MiB")
        try:
            secret = self.runtime.webhook_secret
            verify(
                body,
                signature=environ.get("HTTP_X_ZM_SIGNATURE"),
                timestamp=environ.get("HTTP_X_ZM_REQUEST_TIMESTAMP"),
                secret=secret,
                now=time.time(),
                tolerance_seconds=self.tolerance,
            )
        except InvalidSignature as exc:
            return _refuse("401 UNAUTHORIZED", exc.reason, "signature or timestamp invalid")
        except SQLAlchemyError:  # the generated secret is read from the database
            return _unavailable()
        try:
            event = Event.from_body(body)
        except BadPayload as exc:
            return _refuse("400 BAD REQUEST", "bad_payload", str(exc))
        if event.name == "endpoint.url_validation":
            return _validation_answer(secret, event)
        started = time.perf_counter()
        try:
            outcome = deliver(self.runtime, router, event)
        except SQLAlchemyError:  # a data error inside a handler is not one: see webhooks.delivery
            log.exception("database unavailable while storing a zoom event")
            return _unavailable()
        _HANDLER_SECONDS.get(event.name, _OTHER_EVENTS).observe(time.perf_counter() - started)
        _DELIVERIES[outcome].inc()
        return "200 OK", [("Content-Type", "application/json")], _ANSWERS[outcome]


def read_body(environ: dict[str, Any]) -> bytes | None:
    """The raw body, or None when it is over the limit: one limit whether the client sent a Content-Length
    or a chunked body (read to its end, at most one byte past the limit). Read in pieces: one read() may
    return less than is there."""
    stream = environ["wsgi.input"]
    try:
        declared = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        declared = -1
    if declared > MAX_BODY_BYTES:
        return None
    if declared < 0 and not environ.get("wsgi.input_terminated"):
        return b""  # WSGI: without a length, only a terminated stream may be read
    wanted = MAX_BODY_BYTES + 1 if declared < 0 else declared
    chunks, size = [], 0
    while size < wanted and (chunk := stream.read(wanted - size)):
        size += len(chunk)
        chunks.append(chunk)
    return None if size > MAX_BODY_BYTES else b"".join(chunks)


def _validation_answer(secret: str, event: Event) -> Answer:
    token = event.payload.get("plainToken")
    if not isinstance(token, str) or not token or not token.isascii():  # Zoom's are short ASCII strings
        return _refuse("400 BAD REQUEST", "bad_payload", "url_validation without an ASCII plainToken")
    _DELIVERIES["validated"].inc()
    return _json("200 OK", url_validation_answer(secret, token))


def _json(status: str, value: Any, headers: list[tuple[str, str]] | None = None) -> Answer:
    return status, [("Content-Type", "application/json"), *(headers or [])], json.dumps(value).encode() + b"\n"


def _refuse(status: str, reason: str, message: str) -> Answer:
    metrics.refusals.labels(reason=reason).inc()
    return _json(status, {"error": message})


def _unavailable() -> Answer:
    metrics.refusals.labels(reason="database_unavailable").inc()
    return _json("503 SERVICE UNAVAILABLE", {"error": "database unavailable, retry later"}, [("Retry-After", "60")])


# The answers to a verified delivery and their metrics, made once: this is the busiest response zoombot sends.
_OUTCOMES = ("stored", "duplicate", "ignored", "failed")
_ANSWERS = {outcome: json.dumps({"status": outcome}).encode() + b"\n" for outcome in _OUTCOMES}
_DELIVERIES = {outcome: metrics.deliveries.labels(outcome=outcome) for outcome in (*_OUTCOMES, "validated")}
_HANDLER_SECONDS = {name: metrics.handler_seconds.labels(event=name) for name in router.event_names}
_OTHER_EVENTS = metrics.handler_seconds.labels(event="other")
