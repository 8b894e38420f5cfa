"""Structured logs: one JSON object per line, with personal data and secrets masked before writing.

Log lines travel to places staff do not control (journald, log shippers), so a filter on the handler
masks anything shaped like an e-mail address and every configured secret (Zoom tokens, SMTP and
database passwords, the session key), whatever logger wrote it, exception text included. Code should
still never log names or addresses; this is the net under that rule.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import IO, Iterable

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from zoombot.config import Settings
from zoombot.db import normalize_url
from zoombot.retention import EMAIL

MASK = "[masked]"
_HANDLER_FLAG = "_zoombot_handler"


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value the settings hold (the database password included), longest first."""
    values = [settings.zoom.client_secret, settings.zoom.webhook_secret_token, settings.mail.password,
              settings.web.secret_key]
    try:
        values.append(make_url(normalize_url(settings.database.url)).password or "")
    except ArgumentError:  # an unparsable URL has no password to hide; the database layer reports it
        pass
    return sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return EMAIL.sub(MASK, text)


class ScrubFilter(logging.Filter):
    """Renders each record's message once, masked; exception text is masked by the formatter."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage(), self.secrets)
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info), self.secrets)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secrets = tuple(secrets)

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return mask(super().formatException(ei), self.secrets)


def configure(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Install zoombot's handler on the root logger (replacing one installed before, so building the
    app twice does not double every line). `[log] format`: `json` (default) or `text`."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_FLAG, False):
            root.removeHandler(handler)
    secrets = secrets_of(settings)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_FLAG, True)
    handler.addFilter(ScrubFilter(secrets))
    handler.setFormatter(JsonFormatter(secrets) if settings.log.format == "json" else TextFormatter(secrets))
    root.addHandler(handler)
    root.setLevel(settings.log.level)
    for chatty in ("alembic", "apscheduler"):  # schema checks and every job run chatter at INFO
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    return handler
