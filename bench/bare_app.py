"""The ceiling for bench.webhooks: a bare Flask endpoint under the same gunicorn settings, answering 200.

It reads the body (as any receiver must) and does nothing else: no signature, no database.
"""

from __future__ import annotations

from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/zoom/webhook")
    def webhook():
        request.get_data()
        return jsonify({"status": "stored"})

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    return app
