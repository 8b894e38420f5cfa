"""What every part of a running zoombot shares: settings, the database and the clock."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from zoombot.config import Settings
from zoombot.store.db import Database, insert_ignoring_conflict
from zoombot.store.models import InstanceSecret


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Callable[[], datetime] = field(default=system_clock)
    _secrets: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(
            settings=settings,
            db=Database(
                settings.database.url,
                pool_size=settings.database.pool_size,
                max_overflow=settings.database.max_overflow,
            ),
        )

    def now(self) -> datetime:
        return self.clock()

    def instance_secret(self, name: str) -> str:
        """A secret generated once per installation (shared by every worker through the database)."""
        if name not in self._secrets:
            with self.db.begin() as session:
                insert_ignoring_conflict(
                    session, InstanceSecret, {"name": name, "value": secrets.token_hex(32)}, ["name"]
                )
                # there now: inserted just above, or first by another worker (whose insert won the race)
                self._secrets[name] = session.scalars(
                    select(InstanceSecret.value).where(InstanceSecret.name == name)
                ).one()
        return self._secrets[name]

    @property
    def webhook_secret(self) -> str:
        """The configured Zoom secret token; without one, a local token nobody outside knows (the demo
        signs with it), so an unconfigured endpoint refuses every real request instead of accepting all."""
        return self.settings.zoom.webhook_secret_token or self.instance_secret("webhook_secret_token")


def signing_secret(runtime: Runtime) -> str:
    """The secret the web app signs sessions and member links with (`[web] secret_key`, else a generated one
    kept in the database), so links made by the jobs verify in the app."""
    return runtime.settings.web.secret_key or runtime.instance_secret("web_secret_key")
