"""What a handler gets besides the event: the open session, the settings and the current time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from zoombot.config import Settings


@dataclass(frozen=True)
class Context:
    session: Session
    settings: Settings
    now: datetime
