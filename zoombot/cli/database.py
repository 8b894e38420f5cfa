"""`zoombot db upgrade`."""

import click

from zoombot.cli import pass_runtime
from zoombot.store import rules_process
from zoombot.store.migrate import REBUILD_AFTER, pending
from zoombot.store.migrate import upgrade as apply_migrations


@click.group("db")
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@pass_runtime(check_schema=False)
def upgrade(runtime) -> None:
    """Apply every migration not yet applied (safe to run again)."""
    missing = pending(runtime.db)
    apply_migrations(runtime.db, default_timezone=runtime.settings.schedule.timezone)
    click.echo(
        f"applied {', '.join(missing)}: the database is up to date"
        if missing
        else "the database was already up to date"
    )
    if REBUILD_AFTER & set(missing):  # derived tables changed shape: re-derive them from the stored events
        with runtime.db.begin() as session:
            count = rules_process.rebuild(session, runtime.db.url, runtime.settings, runtime.now())
        if count:
            click.echo(f"rebuilt attendance and credit lines of {count} meeting instances from stored events")
