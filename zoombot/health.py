"""Liveness and readiness for load balancers and orchestrators; Prometheus metrics."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
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
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
