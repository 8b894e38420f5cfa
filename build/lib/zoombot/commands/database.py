"""`zoombot db upgrade`."""
import click

from zoombot.commands import pass_runtime
from zoombot.migrate import upgrade as apply_migrations


@click.group("db")
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@pass_runtime(check_schema=False)
def upgrade(runtime) -> None:
    """Apply every migration not yet applied (safe to run again)."""
    apply_migrations(runtime.db)
    click.echo("database is up to date")
