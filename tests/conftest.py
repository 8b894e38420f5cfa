"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when ZOOMBOT_DATABASE_URL
names one), the Flask app and client, signed Zoom deliveries from recorded fixtures, a real SMTP server.

PostgreSQL runs get a database of their own (created and dropped here), so two suites can run at once
against one server without touching each other.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import time
import uuid as uuid_module
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from webhooks.signature import sign
from zoombot.config import load_settings
from zoombot.db import Database, normalize_url
from zoombot.migrate import upgrade
from zoombot.models import Base
from zoombot.runtime import Runtime

FIXTURES = Path(__file__).parent / "fixtures" / "zoom"
WEBHOOK_SECRET = "test-webhook-secret-token"


def _postgres_url() -> str | None:
    url = os.environ.get("ZOOMBOT_DATABASE_URL", "")
    return url if url.startswith(("postgresql", "postgres:")) else None


LOCAL_POSTGRES = os.environ.get("ZOOMBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _scratch_postgres_database(server_url: str):
    """A fresh, migrated PostgreSQL database on that server; dropped when the generator is closed."""
    base = make_url(normalize_url(server_url))
    name = f"zoombot_test_{os.getpid()}_{uuid_module.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    upgrade(db)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _emptied(postgres_url: str) -> str:
    engine = create_engine(postgres_url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return postgres_url


@pytest.fixture(scope="session")
def database_template(tmp_path_factory) -> str:
    """A migrated database for the whole run: a SQLite file to copy, or a fresh PostgreSQL database."""
    server_url = _postgres_url()
    if server_url is None:
        path = tmp_path_factory.mktemp("template") / "template.db"
        db = Database(f"sqlite:///{path}")
        upgrade(db)
        db.dispose()
        yield str(path)
        return
    yield from _scratch_postgres_database(server_url)


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """A clean database for this test."""
    if database_template.startswith("postgresql"):
        return _emptied(database_template)
    path = tmp_path / "zoombot.db"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def postgres_template(database_template: str) -> str:
    """The run's PostgreSQL database: the suite's own on a PostgreSQL run, else one on the local server."""
    if database_template.startswith("postgresql"):
        yield database_template
        return
    yield from _scratch_postgres_database(LOCAL_POSTGRES)


@pytest.fixture
def postgres_url(postgres_template: str) -> str:
    """A clean PostgreSQL database for this test whatever the suite runs on: for what only PostgreSQL
    does (the webhook group commit), so that it is tested in every run."""
    return _emptied(postgres_template)


@pytest.fixture
def make_settings(database_url: str) -> Callable[..., Any]:
    def factory(**sections: dict[str, Any]):
        overrides: dict[str, dict[str, Any]] = {
            "database": {"url": database_url},
            "zoom": {"webhook_secret_token": WEBHOOK_SECRET},
            "web": {"secret_key": "test-secret-key"},
        }
        for section, values in sections.items():
            overrides.setdefault(section, {}).update(values)
        return load_settings(path=None, environ={}, overrides=overrides)
    return factory


class Clock:
    """A clock tests drive by hand (never sleep)."""

    def __init__(self, now: datetime):
        self.current = now

    def __call__(self) -> datetime:
        return self.current

    def set(self, when: datetime) -> None:
        self.current = when


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 10, 14, 2, 0, tzinfo=timezone.utc))


@pytest.fixture
def runtime(make_settings, clock) -> Runtime:
    rt = Runtime.from_settings(make_settings())
    rt.clock = clock
    yield rt
    rt.db.dispose()


@pytest.fixture
def pg_runtime(make_settings, postgres_url, clock) -> Runtime:
    """A runtime on PostgreSQL whatever the suite runs on (see postgres_url)."""
    rt = Runtime.from_settings(make_settings(database={"url": postgres_url}))
    rt.clock = clock
    yield rt
    rt.db.dispose()


@pytest.fixture
def app(runtime):
    from zoombot.app import create_app

    return create_app(runtime=runtime, test_config={"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def zoom_event(name: str, *, event_ts: int | None = None, **fields: Any) -> dict[str, Any]:
    """A recorded payload with fields replaced: `meeting_<key>` for the meeting object, others for the
    participant. `event_ts` defaults to the time of the action, so distinct actions are distinct events."""
    body = copy.deepcopy(load_fixture(name))
    obj = body["payload"]["object"]
    for key, value in fields.items():
        if key.startswith("meeting_"):
            obj[key[len("meeting_"):]] = value
        else:
            obj["participant"][key] = value
    if event_ts is None:
        source = obj.get("participant", {}) if "participant" in obj else obj
        when = next((source[k] for k in ("join_time", "leave_time", "date_time", "end_time", "start_time")
                     if source.get(k)), None)
        if when:
            event_ts = int(datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp() * 1000)
    if event_ts is not None:
        body["event_ts"] = event_ts
    return body


def signed_headers(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"x-zm-request-timestamp": ts, "x-zm-signature": sign(secret, ts, body),
            "content-type": "application/json"}


@pytest.fixture
def post_event(client):
    """Sign and POST a Zoom event (dict or raw bytes) to the real endpoint."""
    def post(body: dict[str, Any] | bytes, **kwargs: Any):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return client.post("/zoom/webhook", data=raw, headers=signed_headers(raw, **kwargs))
    return post


@pytest.fixture
def zoombot_cli(runtime, tmp_path, monkeypatch):
    """`zoombot_cli(toml)` -> `invoke(*args, input=None)`: the real `zoombot` command against this
    test's database, through a config file holding `[database] url` and `toml`; `invoke.config` is the
    file, for tests that add to it. ZOOMBOT_* variables are cleared so the file alone decides."""
    from click.testing import CliRunner

    from zoombot.cli import main

    for key in [k for k in os.environ if k.startswith("ZOOMBOT_")]:
        monkeypatch.delenv(key)
    path = tmp_path / "config.toml"

    def make(toml: str = ""):
        path.write_text(f'[database]\nurl = "{runtime.settings.database.url}"\n{toml}', encoding="utf-8")
        runner = CliRunner()

        def invoke(*args: str, input: str | None = None):
            return runner.invoke(main, ["--config", str(path), *args], input=input, catch_exceptions=False)
        invoke.config = path
        return invoke
    return make


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
