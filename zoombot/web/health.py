"""Liveness and readiness for load balancers and orchestrators; Prometheus metrics."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    try:
        current_app.extensions["zoombot"].db.ping()
    except SQLAlchemyError:
        return jsonify({"status": "database unavailable"}), 503
    return jsonify({"status": "ready"})


@bp.get("/metrics")
def metrics():
    from zoombot.metrics import exposition

    return Response(exposition(current_app.extensions["zoombot"]), mimetype=CONTENT_TYPE_LATEST)
