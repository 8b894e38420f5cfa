"""create_app(): the composition root. Wires settings, the database, blueprints and logging."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Mapping

from flask import Flask

from zoombot.config import Settings, load_settings
from zoombot.runtime import Runtime


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None,
               test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web app. Under gunicorn: `gunicorn "zoombot.app:create_app()"`."""
    if runtime is None:
        runtime = Runtime.from_settings(settings or load_settings())
    settings = runtime.settings
    logging.basicConfig(level=settings.log.level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__, template_folder="staff/templates", static_folder="staff/static",
                static_url_path="/staff/static")
    https = settings.web.base_url.startswith("https://")
    app.config.update(
        SECRET_KEY=settings.web.secret_key or runtime.instance_secret("web_secret_key"),
        MAX_CONTENT_LENGTH=1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        PREFERRED_URL_SCHEME="https" if https else "http",
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["zoombot"] = runtime

    from webhooks.blueprint import bp as webhooks_bp
    from zoombot.health import bp as health_bp

    app.register_blueprint(webhooks_bp)
    app.register_blueprint(health_bp)
    return app
