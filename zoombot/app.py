"""create_app(): the composition root. Wires settings, the database, blueprints and logging."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSessionInterface

from zoombot import logging_setup
from zoombot.config import ConfigError, Settings, load_settings, local_base_url_warning
from zoombot.runtime import Runtime
from zoombot.web import security_headers


class CookieSessionsForPeople(SecureCookieSessionInterface):
    """Sessions for the pages people use; machine endpoints (Zoom's webhook, probes, metrics) get none,
    which spares every webhook delivery the cookie work."""

    def open_session(self, app: Flask, request: Request):
        if request.path.startswith(MACHINE_PATHS):
            return None  # Flask then uses a null session, which refuses to be written
        return super().open_session(app, request)


MACHINE_PATHS = ("/zoom/", "/healthz", "/readyz", "/metrics")
log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, *, runtime: Runtime | None = None, test_config: Mapping[str, Any] | None = None
) -> Flask:
    """Build the web app. Under gunicorn: `gunicorn "zoombot.app:create_app()"`."""
    if runtime is None:
        try:
            runtime = Runtime.from_settings(settings or load_settings())
        except ConfigError as exc:  # under gunicorn: one clear line, not a traceback per worker
            raise SystemExit(f"zoombot: {exc}") from None
    settings = runtime.settings
    logging_setup.configure(settings)
    if warning := local_base_url_warning(settings.web):
        log.warning(warning)
    app = Flask(
        __name__,
        template_folder="web/staff/templates",
        static_folder="web/staff/static",
        static_url_path="/staff/static",
    )
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
    if settings.web.proxy_fix:  # trust X-Forwarded-* from exactly that many proxies, never from clients
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.web.proxy_fix
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    app.extensions["zoombot"] = runtime
    app.session_interface = CookieSessionsForPeople()
    security_headers.init_app(app)

    from webhooks.endpoint import WebhookEndpoint
    from zoombot.web.health import bp as health_bp

    app.register_blueprint(health_bp)

    from zoombot.web import staff

    staff.init_app(app)

    from zoombot.web.status import bp as status_bp

    app.register_blueprint(status_bp)

    from zoombot.web import outbox as _outbox_views  # noqa: F401 - its routes are on the agendas blueprint
    from zoombot.web.agendas import bp as agendas_bp
    from zoombot.web.closures import bp as closure_bp
    from zoombot.web.member_page import bp as member_page_bp
    from zoombot.web.resources import bp as submissions_bp
    from zoombot.web.unsubscribe import bp as unsubscribe_bp
    from zoombot.web.verify import bp as verify_bp

    app.register_blueprint(agendas_bp)
    app.register_blueprint(submissions_bp)
    app.register_blueprint(unsubscribe_bp)
    app.register_blueprint(closure_bp)
    app.register_blueprint(member_page_bp)
    app.register_blueprint(verify_bp)
    # POST /zoom/webhook without Flask (see there)
    app.wsgi_app = WebhookEndpoint(  # type: ignore[method-assign]  # as ProxyFix above
        app.wsgi_app, runtime, propagate_exceptions=app.testing
    )
    return app


def signed_webhook_poster(runtime: Runtime) -> Callable[[bytes], tuple[int, dict]]:
    """POST bodies to the real /zoom/webhook in process, signed as Zoom signs them (the demo's playback)."""
    from webhooks.signature import sign

    client = create_app(runtime=runtime).test_client()
    secret = runtime.webhook_secret

    def post(raw: bytes) -> tuple[int, dict]:
        timestamp = str(int(time.time()))
        response = client.post(
            "/zoom/webhook",
            data=raw,
            headers={
                "content-type": "application/json",
                "x-zm-request-timestamp": timestamp,
                "x-zm-signature": sign(secret, timestamp, raw),
            },
        )
        return response.status_code, response.get_json(silent=True) or {}

    return post
