"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when ZOOMBOT_DATABASE_URL
names one), the Flask app and client, signed Zoom deliveries from recorded fixtures, a real SMTP server.

PostgreSQL runs get a database of their own (created and dropped here), so two suites can run at once
against one server without touching each other.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.clock import Clock
from tests.helpers.databases import LOCAL_POSTGRES, emptied, postgres_url_from_env, scratch_postgres_database
from tests.helpers.zoom_events import WEBHOOK_SECRET, signed_headers
from zoombot.config import load_settings
from zoombot.runtime import Runtime
from zoombot.store.db import Database
from zoombot.store.migrate import upgrade


@pytest.fixture(scope="session")
def database_template(tmp_path_factory) -> str:
    """A migrated database for the whole run: a SQLite file to copy, or a fresh PostgreSQL database."""
    server_url = postgres_url_from_env()
    if server_url is None:
        path = tmp_path_factory.mktemp("template") / "template.db"
        db = Database(f"sqlite:///{path}")
        upgrade(db)
        db.dispose()
        yield str(path)
        return
    yield from scratch_postgres_database(server_url)


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """A clean database for this test."""
    if database_template.startswith("postgresql"):
        return emptied(database_template)
    path = tmp_path / "zoombot.store.db"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def postgres_template(database_template: str) -> str:
    """The run's PostgreSQL database: the suite's own on a PostgreSQL run, else one on the local server."""
    if database_template.startswith("postgresql"):
        yield database_template
        return
    yield from scratch_postgres_database(LOCAL_POSTGRES)


@pytest.fixture
def postgres_url(postgres_template: str) -> str:
    """A clean PostgreSQL database for this test whatever the suite runs on: for what only PostgreSQL
    does (the webhook group commit), so that it is tested in every run."""
    return emptied(postgres_template)


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


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 10, 14, 2, 0, tzinfo=UTC))


@pytest.fixture
def runtime(make_settings, clock) -> Runtime:
    rt = Runtime.from_settings(make_settings())
    rt.clock = clock
    yield rt
    rt.db.dispose()


@pytest.fixture
def make_runtime(make_settings, clock):
    """`make_runtime(**sections)`: another runtime on this test's clock, its settings overridden like
    make_settings' (another database, [web] keys...); each is closed after the test."""
    made: list[Runtime] = []

    def factory(**sections: dict[str, Any]) -> Runtime:
        rt = Runtime.from_settings(make_settings(**sections))
        rt.clock = clock
        made.append(rt)
        return rt

    yield factory
    for rt in made:
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

    from zoombot.cli.main import main

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


#: Fixtures that reach a database, a server or a browser: a test using none of them is in the unit tier.
OUTSIDE = {"database_template", "postgres_template", "tmp_path_factory"}


def pytest_collection_modifyitems(items):
    for item in items:
        markers = {m.name for m in item.iter_markers()}
        if not (OUTSIDE & set(getattr(item, "fixturenames", ()))) and not markers & {"browser", "slow"}:
            item.add_marker(pytest.mark.unit)
