"""Template filters: instants in a community's time zone, durations as h:mm, hours as numbers, counted nouns,
stored names in words."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask

from zoombot.core.ledger import clock, words
from zoombot.core.plurals import plural


def local(value: datetime | None, tz: str, fmt: str | None = None) -> str:
    """An aware instant in the zone `tz` (a community's): by default date, time and the zone's
    abbreviation ('2026-10-13 18:30 EDT'), else as `fmt` says."""
    if value is None:
        return ""
    shown = value.astimezone(ZoneInfo(tz))
    return shown.strftime(fmt) if fmt else f"{shown.strftime('%Y-%m-%d %H:%M')} {shown.tzname()}"


def hours(value: Decimal | float | int | None) -> str:
    return f"{Decimal(value or 0):.2f}"


def init_app(app: Flask) -> None:
    app.add_template_filter(local, "local")
    app.add_template_filter(clock, "hmm")
    app.add_template_filter(words, "words")
    app.add_template_filter(hours, "hours")
    app.add_template_filter(plural, "plural")
