"""`zoombot db upgrade`."""
import click

from zoombot.commands import pass_runtime
from zoombot.migrate import pending
from zoombot.migrate import upgrade as apply_migrations


@click.group("db")
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@pass_runtime(check_schema=False)
def upgrade(runtime) -> None:
    """Apply every migration not yet applied (safe to run again)."""
    missing = pending(runtime.db)
    apply_migrations(runtime.db)
    click.echo(f"applied {', '.join(missing)}: the database is up to date" if missing
               else "the database was already up to date")
