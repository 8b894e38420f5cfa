"""The naive receiver for bench.webhooks: what a first attempt at a Zoom webhook looks like, under the same
gunicorn settings. Flask, the HMAC check, then one SQLAlchemy INSERT into zoom_events and a commit per
request (a redelivery does nothing, as a unique key decides). No batching, no handlers, no meeting rows:
a floor that zoombot, which does all of that, should beat."""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import UTC, datetime

from flask import Flask, abort, jsonify, request
from sqlalchemy.dialects import postgresql, sqlite

from webhooks.signature import InvalidSignature, verify
from zoombot.store.db import make_engine
from zoombot.store.models import ZoomEvent


def create_app() -> Flask:
    app = Flask(__name__)
    engine = make_engine(os.environ["ZOOMBOT_DATABASE_URL"])
    secret = os.environ["ZOOMBOT_ZOOM_WEBHOOK_SECRET_TOKEN"]
    # built once, executed with a parameter dict: the idiomatic Core form (building .values(...) per
    # request costs SQLAlchemy a cache-key walk over the values, half the naive receiver's CPU)
    insert = (
        (sqlite if engine.dialect.name == "sqlite" else postgresql)
        .insert(ZoomEvent)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )

    @app.post("/zoom/webhook")
    def webhook():
        body = request.get_data()
        try:
            verify(
                body,
                signature=request.headers.get("x-zm-signature"),
                timestamp=request.headers.get("x-zm-request-timestamp"),
                secret=secret,
                now=time.time(),
                tolerance_seconds=5400,
            )
        except InvalidSignature:
            abort(401)
        event = json.loads(body)
        obj = event.get("payload", {}).get("object", {})
        with engine.begin() as conn:
            conn.execute(
                insert,
                {
                    "dedupe_key": hashlib.sha256(body).hexdigest(),
                    "event": event["event"],
                    "event_ts": event["event_ts"],
                    "source": "webhook",
                    "received_at": datetime.now(UTC),
                    "account_id": event["payload"]["account_id"],
                    "meeting_id": obj.get("id"),
                    "meeting_uuid": obj.get("uuid"),
                    "body": event,
                    "status": "received",
                },
            )
        return jsonify({"status": "stored"})

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    return app
