"""The house's import contract, read from the source (like import-linter, without another tool to install):
the pure core imports no I/O and reads no clock, and every shell imports only the layers below it.

core   <- store <- zoom, mail <- web, webhooks, jobs <- cli, app (the composition roots)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STDLIB_IO = {"socket", "smtplib", "ssl", "subprocess", "urllib.request", "http.client", "sqlite3", "shutil", "tempfile"}
#: What each part may not import (a prefix matches its submodules).
FORBIDDEN = {
    "zoombot/core": {
        "sqlalchemy",
        "alembic",
        "flask",
        "werkzeug.serving",
        "requests",
        "jinja2",
        "psycopg",
        "click",
        "apscheduler",
        "prometheus_client",
        "gunicorn",
        "zoombot.store",
        "zoombot.zoom",
        "zoombot.mail",
        "zoombot.web",
        "zoombot.cli",
        "zoombot.runtime",
        "zoombot.config",
        "zoombot.app",
        "zoombot.metrics",
        "zoombot.logging_setup",
        "zoombot.demo",
        "webhooks",
        "jobs",
        *STDLIB_IO,
    },
    "zoombot/store": {
        "flask",
        "requests",
        "jinja2",
        "smtplib",
        "click",
        "zoombot.zoom",
        "zoombot.mail",
        "zoombot.web",
        "zoombot.cli",
        "zoombot.app",
        "webhooks",
        "jobs",
    },
    "zoombot/zoom": {
        "flask",
        "jinja2",
        "smtplib",
        "click",
        "zoombot.mail",
        "zoombot.web",
        "zoombot.cli",
        "zoombot.app",
        "webhooks",
        "jobs",
    },
    "zoombot/mail": {
        "flask",
        "requests",
        "click",
        "zoombot.zoom",
        "zoombot.web",
        "zoombot.cli",
        "zoombot.app",
        "webhooks",
        "jobs",
    },
    "zoombot/web": {"requests", "click", "zoombot.cli", "jobs"},
    "webhooks": {
        "requests",
        "smtplib",
        "jinja2",
        "click",
        "zoombot.mail",
        "zoombot.zoom",
        "zoombot.web",
        "zoombot.cli",
        "jobs",
    },
    "jobs": {"flask", "click", "zoombot.web", "zoombot.cli", "webhooks"},
}
#: Reading the clock: the core is handed `now`, so its results are reproducible and testable.
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


def imports_of(path: Path) -> set[str]:
    """Every module the file imports at run time (imports under `if TYPE_CHECKING:` are types only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def sources(part: str) -> list[Path]:
    return sorted(p for p in (ROOT / part).rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_each_part_imports_only_what_it_may(part):
    broken = []
    for path in sources(part):
        for name in imports_of(path):
            for banned in FORBIDDEN[part]:
                if name == banned or name.startswith(banned + "."):
                    broken.append(f"{path.relative_to(ROOT)} imports {name}")
    assert broken == []


def test_the_core_reads_no_clock():
    calls = []
    for path in sources("zoombot/core"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in CLOCK_CALLS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"datetime", "date", "time"}
            ):
                calls.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.value.id}.{node.func.attr}()")
    assert calls == []


def test_the_contract_can_fail(tmp_path, monkeypatch):
    """The checks read real imports: a core module that imported SQLAlchemy would be caught."""
    fake = tmp_path / "zoombot" / "core"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("from sqlalchemy import select\nfrom datetime import datetime\nx = datetime.now()\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert "sqlalchemy.select" in imports_of(fake / "bad.py")
    with pytest.raises(AssertionError):
        test_each_part_imports_only_what_it_may("zoombot/core")
    with pytest.raises(AssertionError):
        test_the_core_reads_no_clock()
