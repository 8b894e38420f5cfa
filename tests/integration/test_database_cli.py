"""`zoombot db upgrade` on a new database, then again: it says what it applied, and then that nothing was left."""
from click.testing import CliRunner
from sqlalchemy import inspect

from zoombot.cli import main
from zoombot.db import Database


def test_upgrade_says_what_it_applied_then_that_nothing_was_left(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray ./config.toml
    url = f"sqlite:///{tmp_path / 'new.db'}"

    def upgrade():
        result = CliRunner().invoke(main, ["db", "upgrade"], env={"ZOOMBOT_DATABASE_URL": url, "ZOOMBOT_CONFIG": ""})
        assert result.exit_code == 0, result.output
        return result.stdout

    assert upgrade() == "applied 0004: the database is up to date\n"
    assert upgrade() == "the database was already up to date\n"
    db = Database(url)
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert {"zoom_events", "meetings", "hours_records", "alembic_version"} <= tables
    finally:
        db.dispose()
