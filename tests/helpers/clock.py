"""A clock tests drive by hand."""

from __future__ import annotations

from datetime import datetime


class Clock:
    """A clock tests drive by hand (never sleep)."""

    def __init__(self, now: datetime):
        self.current = now

    def __call__(self) -> datetime:
        return self.current

    def set(self, when: datetime) -> None:
        self.current = when
