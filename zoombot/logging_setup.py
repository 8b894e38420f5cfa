"""Structured logs: one JSON object per line, with personal data and secrets masked before writing.

Log lines travel to places staff do not control (journald, log shippers), so a filter on the handler
masks anything shaped like an e-mail address and every configured secret (Zoom tokens, SMTP and
database passwords, the session key), whatever logger wrote it, exception text included. Code should
still never log names or addresses; this is the net under that rule.

Database errors get a stricter net, since their text quotes the data of the row that failed: the engines
hide bound parameters (zoombot.store.db), and a traceback shows a database error as its class, SQLSTATE and the
names of the table, column and constraint involved, never the server's message. PostgreSQL's messages
quote values ("Failing row contains (…, Ana Ruiz, …)", "invalid input syntax for type …: "…"").
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from zoombot.config import Settings
from zoombot.core.privacy import mask_emails, mask_values
from zoombot.store.db import normalize_url

MASK = "[masked]"
_HANDLER_FLAG = "_zoombot_handler"


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value the settings hold (the database password included), longest first."""
    values = [
        settings.zoom.client_secret,
        settings.zoom.webhook_secret_token,
        settings.mail.password,
        settings.web.secret_key,
    ]
    try:
        values.append(make_url(normalize_url(settings.database.url)).password or "")
    except ArgumentError:  # an unparsable URL has no password to hide; the database layer reports it
        pass
    return sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    return mask_emails(mask_values(text, secrets, MASK), MASK)


class ScrubFilter(logging.Filter):
    """Renders each record's message once, masked; exception text is masked by the formatter."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage(), self.secrets)
        record.args = None
        return True


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"
_DIAGNOSTICS = ("schema_name", "table_name", "column_name", "datatype_name", "constraint_name")


def format_exception(exc: BaseException) -> str:
    """The traceback text of `exc` and its chain, laid out as Python lays it out, with each database error
    reduced to what names no data (see the module docstring)."""
    blocks: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        stack = traceback.format_tb(current.__traceback__) if current.__traceback__ else []
        header = ["Traceback (most recent call last):\n"] if stack else []
        blocks.append("".join(header + stack) + _describe(current) + "\n")
        if current.__cause__ is not None:
            blocks.append(_CAUSE)
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            blocks.append(_CONTEXT)
            current = current.__context__
        else:
            current = None
    return "".join(reversed(blocks)).rstrip("\n")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError):
        statement = " ".join(str(exc.statement or "").split())
        statement = statement if len(statement) <= 500 else statement[:500] + " …"
        return f"{_name(exc)}: ({_name(exc.orig)}) {_database_facts(exc.orig)} [SQL: {statement}]"
    if _is_driver_error(exc):
        return f"{_name(exc)}: {_database_facts(exc)}"
    return "".join(traceback.format_exception_only(type(exc), exc)).rstrip("\n")


def _name(exc: BaseException | None) -> str:
    kind = type(exc)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _is_driver_error(exc: BaseException) -> bool:
    return type(exc).__module__.partition(".")[0] in ("psycopg", "sqlite3")


def _database_facts(exc: BaseException | None) -> str:
    """psycopg: the SQLSTATE and the names in its diagnostics. sqlite3: its one-line message, which names
    tables and columns but never quotes a value ("NOT NULL constraint failed: participants.identity_key")."""
    diag = getattr(exc, "diag", None)
    if diag is None:
        text = str(exc).splitlines()
        return text[0] if text and type(exc).__module__ == "sqlite3" else "(message withheld)"
    facts = [f"SQLSTATE {getattr(exc, 'sqlstate', None) or '?'}"]
    facts += [
        f"{field.removesuffix('_name')} {value}" for field in _DIAGNOSTICS if (value := getattr(diag, field, None))
    ]
    return ", ".join(facts)


class _ExceptionFormatting:
    """formatException for both formatters: database errors reduced, then e-mails and secrets masked."""

    secrets: tuple[str, ...]

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        _type, value, _tb = ei
        text = format_exception(value) if value is not None else "".join(traceback.format_exception(*ei))
        return mask(text, self.secrets)


class JsonFormatter(_ExceptionFormatting, logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(_ExceptionFormatting, logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.secrets = tuple(secrets)


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
